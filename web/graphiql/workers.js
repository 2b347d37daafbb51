// Monaco's language workers, served from confid's own origin (never a blob: or a CDN).
// Imported first by main.js: the environment must exist before any editor is created.
const base = new URL(".", import.meta.url);

globalThis.MonacoEnvironment = {
  getWorker(_workerId, label) {
    const name = label === "graphql" ? "graphql" : label === "json" ? "json" : "editor";
    return new Worker(new URL(`${name}.worker.js`, base), { name: `confid-${name}` });
  },
};
