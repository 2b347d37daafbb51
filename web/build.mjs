// Bundles self-hosted GraphiQL (and Monaco's workers), the sign-in module (oidc-client-ts)
// and the admin page's chart and websocket client (Chart.js, graphql-ws) with esbuild into
// one folder (the rest of the admin page needs no build):
//   node build.mjs [OUTDIR]      (default: ../app/web/static/build)
// The output is built in a temporary folder and swapped in whole, so a half-finished build
// is never served. manifest.json names the files and a content hash for cache busting.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const outdir = resolve(process.argv[2] || join(here, "..", "app", "web", "static", "build"));
const staging = `${outdir}.tmp-${process.pid}`;
const target = join(staging, "graphiql");
const signinTarget = join(staging, "signin");
const adminTarget = join(staging, "admin");

const common = {
  bundle: true,
  minify: true,
  legalComments: "linked",
  target: ["es2022"],
  logLevel: "warning",
  define: { "process.env.NODE_ENV": '"production"' },
  absWorkingDir: here,
};

await rm(staging, { recursive: true, force: true });
await mkdir(target, { recursive: true });
await mkdir(signinTarget, { recursive: true });
await mkdir(adminTarget, { recursive: true });

// The page: one ES module and one stylesheet; fonts (Monaco's codicons) as separate files.
await esbuild.build({
  ...common,
  entryPoints: { graphiql: "graphiql/main.js" },
  outdir: target,
  format: "esm",
  splitting: false,
  loader: { ".ttf": "file", ".woff": "file", ".woff2": "file", ".svg": "dataurl" },
  assetNames: "[name]-[hash]",
});

// Monaco's workers: classic scripts, each self-contained.
await esbuild.build({
  ...common,
  entryPoints: {
    "editor.worker": "monaco-editor/esm/vs/editor/editor.worker.js",
    "json.worker": "monaco-editor/esm/vs/language/json/json.worker.js",
    "graphql.worker": "monaco-graphql/esm/graphql.worker.js",
  },
  outdir: target,
  format: "iife",
});

// The sign-in for the admin page: one ES module the page imports when the provider is
// configured (GraphiQL bundles the same source into its own module).
await esbuild.build({
  ...common,
  entryPoints: { signin: "signin/session.js" },
  outdir: signinTarget,
  format: "esm",
  splitting: false,
});

// The admin page's Activity view: Chart.js and graphql-ws as one ES module (the page
// itself needs no build; without this file it shows its tables only).
await esbuild.build({
  ...common,
  entryPoints: { vendor: "admin-vendor/vendor.js" },
  outdir: adminTarget,
  format: "esm",
  splitting: false,
});

const files = [
  ...(await readdir(target)).sort().map((name) => `graphiql/${name}`),
  ...(await readdir(signinTarget)).sort().map((name) => `signin/${name}`),
  ...(await readdir(adminTarget)).sort().map((name) => `admin/${name}`),
];
const hash = createHash("sha256");
for (const name of files) {
  hash.update(name);
  hash.update(await readFile(join(staging, name)));
}
const lock = JSON.parse(await readFile(join(here, "package-lock.json"), "utf8"));
const versions = Object.fromEntries(
  [
    "graphiql",
    "@graphiql/plugin-explorer",
    "@graphiql/react",
    "react",
    "monaco-editor",
    "oidc-client-ts",
    "chart.js",
    "graphql-ws",
  ].map(
    (name) => [name, lock.packages?.[`node_modules/${name}`]?.version ?? null],
  ),
);
const manifest = {
  version: hash.digest("hex").slice(0, 16),
  script: "graphiql/graphiql.js",
  stylesheet: "graphiql/graphiql.css",
  signin: "signin/signin.js",
  admin: "admin/vendor.js",
  packages: versions,
  files,
};
await writeFile(join(staging, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);

// Swap the finished build in.
const old = `${outdir}.old-${process.pid}`;
if (existsSync(outdir)) await rename(outdir, old);
await rename(staging, outdir);
await rm(old, { recursive: true, force: true });
console.log(
  `built GraphiQL ${versions.graphiql}, the sign-in (oidc-client-ts ${versions["oidc-client-ts"]}) ` +
    `and the admin page's chart (Chart.js ${versions["chart.js"]}) into ${outdir} (${files.length} files)`,
);
