"""`scripts/bench`: confid against its ceiling on loopback, plus the audit-chain costs.

1. Snapshot: confid's real demo seed (`CONFID_DEMO_USERS`, default 1,000) plus 10,000
   audit entries (`bench.dataset`), cached in `bench-results/.cache` while `app/` is
   unchanged.
2. Two server processes on free loopback ports, each loading the snapshot into its own
   embedded store: confid (`bench.server confid`) and the bare-Starlette ceiling
   (`bench.ceiling`). On a machine with 2+ cores the servers share core 1 and the load
   generator gets core 0; only one server is under load at a time.
3. Per scenario, `--rounds` alternating runs of confid then the ceiling (after one
   warm-up run each), `--duration` seconds each, with `wrk` (or the asyncio fallback);
   medians are reported, with the ratio's range over the rounds. Each server's peak RSS
   is reset before the scenario and read after it.
4. The chain check and `verify` memory (`bench.chain`), full verification at 100k and 1M
   entries and the offline verifier (`bench.verify`; 100k only with `--quick`), the
   subscription latency from append to delivery (`bench.live`), the analysis time of the
   worst documents under the token limit (`bench.analysis`), and with `--profile` a
   pyinstrument profile of scenarios (a) and (d) (`bench.profile`).
5. A table on stdout, and `bench-results/<timestamp>.json` + `.md`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.dataset import ROOT, Snapshot, snapshot, write_tokens_file
from bench.load import LoadResult, run_python, run_wrk, wrk_available
from bench.scenarios import SCENARIOS, Scenario

TARGETS = {"a": 0.85, "b": 0.7, "c": 0.7, "d": 0.6}  # issue #5: confid/ceiling throughput
SERVER_CPU = 1
LOAD_CPU = 0


@dataclass(slots=True)
class Server:
    """One benchmark server process."""

    kind: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def path_of(self) -> dict[str, str]:
        return {s.key: ("/graphql" if self.kind == "confid" else s.ceiling_path) for s in SCENARIOS}

    def status_mib(self, field: str) -> float | None:
        """VmRSS / VmHWM of the server process, in MiB."""
        try:
            text = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        for line in text.splitlines():
            if line.startswith(field + ":"):
                return round(int(line.split()[1]) / 1024, 1)
        return None

    def reset_peak(self) -> bool:
        """Reset the server's peak RSS (Linux clear_refs 5), so VmHWM covers what follows."""
        try:
            Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")
        except OSError:
            return False
        return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pin(pid: int, cpu: int) -> None:
    if (os.cpu_count() or 1) >= 2 and hasattr(os, "sched_setaffinity"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(pid, {cpu})


def start_server(
    kind: str, snap_file: Path, tokens: Path, key_file: Path, users: int, workdir: Path
) -> Server:
    """Spawn `python -m bench.server KIND` on a free loopback port."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFID_")}
    env.pop("MONGODB_URL", None)
    env.update(
        {
            "CONFID_DEMO_USERS": str(users),
            "CONFID_TOKENS_FILE": str(tokens),
            "CONFID_SIGNING_KEY_FILE": str(key_file),
            "CONFID_HOST": "127.0.0.1",
            "CONFID_PORT": str(port),
            "PYTHONPATH": str(ROOT),
            # Throughput under load, not the rate limits: buckets no run can empty (still
            # metered, so their cost per request is in the numbers).
            **{
                f"CONFID_RATE_LIMIT_{role}": "1000000000/1000000000"
                for role in ("ADMIN", "HELPDESK", "AUDITOR")
            },
        }
    )
    log = workdir / f"{kind}.log"
    command = [sys.executable, "-m", "bench.server", kind]
    command += ["--snapshot", str(snap_file), "--tokens", str(tokens), "--port", str(port)]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=sink, stderr=sink)
    _pin(process.pid, SERVER_CPU)
    return Server(kind, port, process, log)


def wait_ready(server: Server, timeout: float = 120.0) -> float:
    """Poll /healthz until it answers; return the seconds it took."""
    began = time.perf_counter()
    while time.perf_counter() - began < timeout:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.kind} exited:\n{server.log.read_text()[-3000:]}")
        with (
            contextlib.suppress(OSError, urllib.error.URLError),
            urllib.request.urlopen(server.url + "/healthz", timeout=2) as response,
        ):
            if response.status == 200:
                return time.perf_counter() - began
        time.sleep(0.2)
    raise RuntimeError(f"{server.kind} not ready after {timeout} s:\n{server.log.read_text()}")


def stop(server: Server) -> None:
    """SIGTERM (uvicorn shuts down gracefully), then SIGKILL if it lingers."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=5)


def post(server: Server, path: str, body: str, token: str) -> dict[str, Any]:
    """One request with urllib, for checks outside the measured runs."""
    request = urllib.request.Request(
        server.url + path,
        data=body.encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {token}",
            "User-Agent": "confid-bench/1",
        },
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        result: dict[str, Any] = json.loads(response.read())
    return result


def check_scenario(server: Server, scenario: Scenario, user_id: str, token: str) -> None:
    """Fail loudly when a target answers a scenario wrongly (wrk only sees status codes)."""
    make = scenario.confid_body if server.kind == "confid" else scenario.ceiling_body
    problem = scenario.check(post(server, server.path_of[scenario.key], make(user_id), token))
    if problem:
        raise RuntimeError(f"{server.kind} fails scenario ({scenario.key}): {problem}")


def rejected_since(server: Server, token: str, sequence: int) -> int:
    """REJECTED audit entries confid appended after `sequence` (refused resets under load)."""
    query = (
        "query($first: Int!) { auditEvents(outcome: REJECTED, first: $first) "
        "{ edges { node { sequence } } } }"
    )
    body = json.dumps({"query": query, "variables": {"first": 100}})
    data = post(server, "/graphql", body, token)["data"]["auditEvents"]["edges"]
    return sum(1 for e in data if e["node"]["sequence"] > sequence)


def load(
    server: Server,
    scenario: Scenario,
    bodies: list[str],
    token: str,
    seconds: float,
    args: argparse.Namespace,
    workdir: Path,
) -> LoadResult:
    path = server.path_of[scenario.key]
    if args.client == "wrk":
        return run_wrk(
            server.url,
            path,
            bodies,
            token,
            seconds=seconds,
            connections=args.connections,
            script_dir=workdir,
        )
    return run_python(
        server.url, path, bodies, token, seconds=seconds, connections=args.connections
    )


def _combine(results: list[LoadResult]) -> dict[str, Any]:
    """Median of each measure over the rounds (the rounds themselves are kept too)."""
    combined: dict[str, Any] = {}
    for name in ("rps", "p50_ms", "p90_ms", "p99_ms", "mean_ms"):
        combined[name] = statistics.median(getattr(r, name) for r in results)
    combined["max_ms"] = max(r.max_ms for r in results)
    combined["requests"] = sum(r.requests for r in results)
    combined["errors"] = sum(r.errors for r in results)
    combined["tool"] = results[0].tool
    combined["rounds"] = [r.to_dict() for r in results]
    return combined


def measure(
    servers: dict[str, Server],
    snap: Snapshot,
    token: str,
    args: argparse.Namespace,
    workdir: Path,
) -> list[dict[str, Any]]:
    """Every selected scenario: rounds of confid then the ceiling, after one warm-up each."""
    rows = []
    head_sequence = max(int(d["_id"]) for d in snap.docs["audit_events"])
    for scenario in SCENARIOS:
        if scenario.key not in args.scenarios:
            continue
        # (c) reads the users with a full page of history; (a), (b), (d) rotate through all
        # enabled users, so no two concurrent resets wait for the same user's lock.
        users = snap.hot_user_ids if scenario.key == "c" else snap.enabled_user_ids
        bodies = {
            "confid": [scenario.confid_body(u) for u in users],
            "ceiling": [scenario.ceiling_body(u) for u in users],
        }
        results: dict[str, list[LoadResult]] = {"confid": [], "ceiling": []}
        peaks: dict[str, float | None] = {}
        for kind in ("confid", "ceiling"):
            check_scenario(servers[kind], scenario, users[0], token)
            peaks[kind] = 0.0 if servers[kind].reset_peak() else None
        for round_number in range(args.rounds):
            for kind in ("confid", "ceiling"):
                server = servers[kind]
                if round_number == 0 and args.warmup > 0:
                    load(server, scenario, bodies[kind], token, args.warmup, args, workdir)
                result = load(server, scenario, bodies[kind], token, args.duration, args, workdir)
                results[kind].append(result)
                print(
                    f"  ({scenario.key}) round {round_number + 1} {kind:<7} {result.rps:8.1f} "
                    f"req/s  p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms  "
                    f"errors {result.errors}",
                    file=sys.stderr,
                    flush=True,
                )
        row: dict[str, Any] = {"scenario": scenario.key, "title": scenario.title}
        for kind in ("confid", "ceiling"):
            check_scenario(servers[kind], scenario, users[-1], token)
            row[kind] = _combine(results[kind])
            row[kind]["peak_rss_mib"] = (
                servers[kind].status_mib("VmHWM") if peaks[kind] is not None else None
            )
            row[kind]["rss_mib"] = servers[kind].status_mib("VmRSS")
        row["ratio"] = row["confid"]["rps"] / row["ceiling"]["rps"] if row["ceiling"]["rps"] else 0
        ratios = [
            c.rps / k.rps
            for c, k in zip(results["confid"], results["ceiling"], strict=True)
            if k.rps
        ]
        row["ratio_range"] = [min(ratios), max(ratios)] if ratios else None
        row["target"] = TARGETS[scenario.key]
        if scenario.writes:
            row["confid"]["rejected"] = rejected_since(servers["confid"], token, head_sequence)
        rows.append(row)
    return rows


def _git() -> dict[str, Any]:
    def run(*cmd: str) -> str:
        done = subprocess.run(["git", *cmd], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    return {"commit": run("rev-parse", "--short", "HEAD"), "dirty": bool(run("status", "-s"))}


def _load_average() -> str:
    """The 1/5/15-minute load average: other work on the machine skews every number."""
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "unknown"


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def environment(args: argparse.Namespace) -> dict[str, Any]:
    versions = {}
    for name in ("strawberry-graphql", "graphql-core", "starlette", "uvicorn", "mongomock",
                 "mongomock-motor", "uvloop", "httptools"):  # fmt: skip
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    wrk = ""
    if args.client == "wrk":
        done = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
        text = (done.stdout or done.stderr).strip()
        wrk = text.splitlines()[0].split(" [")[0] if text else ""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
        "load_generator": wrk or args.client,
        "connections": args.connections,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "rounds": args.rounds,
        "load_average": f"{args.load_at_start} at start, {_load_average()} at end",
        "git": _git(),
    }


def _fmt(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _share(value: float | None) -> str:
    """A difference of two peaks: below 1 MiB it is noise."""
    if value is None:
        return "n/a"
    return "< 1" if abs(value) < 1 else f"{value:,.1f}"


def markdown(result: dict[str, Any]) -> str:
    """The human-readable report (also what goes into the README)."""
    env, data = result["environment"], result["dataset"]
    lines = [
        f"# confid benchmark {result['timestamp']}",
        "",
        f"{env['cores']} cores ({env['cpu']}), Python {env['python']}, "
        f"{env['load_generator']} with {env['connections']} connections, "
        f"{env['rounds']} alternating round(s) of {env['duration_s']} s per target and scenario "
        f"after {env['warmup_s']} s warm-up (medians; ratio range over rounds in brackets); "
        f"load average {env['load_average']}; commit "
        f"{env['git']['commit']}{' (dirty)' if env['git']['dirty'] else ''}.",
        f"Embedded store: {data['users']} users, {data['audit_events']} audit entries, "
        f"{data['notifications']} notifications, {data['conference_ids']} registry entries.",
        "",
        "| scenario | confid req/s | p50 ms | p99 ms | ceiling req/s | p50 ms | p99 ms "
        "| confid/ceiling | target | confid peak RSS MiB | ceiling peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in result["scenarios"]:
        c, k = row["confid"], row["ceiling"]
        met = "met" if row["ratio"] >= row["target"] else "**not met**"
        low_high = row.get("ratio_range")
        spread = f"[{low_high[0]:.2f}-{low_high[1]:.2f}]" if low_high else ""
        lines.append(
            f"| ({row['scenario']}) {row['title']} | {_fmt(c['rps'])} | {_fmt(c['p50_ms'], 2)} | "
            f"{_fmt(c['p99_ms'], 2)} | {_fmt(k['rps'])} | {_fmt(k['p50_ms'], 2)} | "
            f"{_fmt(k['p99_ms'], 2)} | {row['ratio']:.2f} {spread} | ≥ {row['target']} ({met}) | "
            f"{_fmt(c['peak_rss_mib'])} | {_fmt(k['peak_rss_mib'])} |"
        )
    errors = {
        r["scenario"]: (r["confid"]["errors"], r["ceiling"]["errors"]) for r in result["scenarios"]
    }
    rejected = [
        r["confid"].get("rejected") for r in result["scenarios"] if "rejected" in r["confid"]
    ]
    servers = result["servers"]
    lines += [
        "",
        f"Errors (confid, ceiling) per scenario: {errors}."
        + (f" Resets refused under load (REJECTED entries): {rejected[0]}." if rejected else ""),
        f"Server RSS after start-up: confid {_fmt(servers['confid']['rss_after_start_mib'])} MiB,"
        f" ceiling {_fmt(servers['ceiling']['rss_after_start_mib'])} MiB; start-up peak: "
        f"confid {_fmt(servers['confid']['startup_peak_mib'])} MiB, "
        f"ceiling {_fmt(servers['ceiling']['startup_peak_mib'])} MiB.",
        f"Dataset: real seed of {data['users']} users took {data['seed_seconds']:.1f} s, "
        f"{data['extra_audit']} appends {data['append_seconds']:.1f} s"
        + (" (snapshot reused from cache)." if data["cached"] else "."),
    ]
    chain = result.get("chain")
    if chain:
        t = chain["throughput"]
        lines += [
            "",
            "## Audit chain",
            "",
            f"In memory, {t['entries']:,} entries: chain check (canonical encoding + SHA-256 + "
            f"links) **{t['chain_check_per_s']:,} entries/s** (target ≥ {t['target_per_s']:,}); "
            f"with the Ed25519 signature check that `verify` adds "
            f"{t['chain_check_with_signatures_per_s']:,}/s; encoding alone "
            f"{t['canonical_encoding_per_s']:,}/s; encoding + SHA-256 "
            f"{t['encoding_plus_sha256_per_s']:,}/s; decode from stored documents + signed check "
            f"{t['decode_plus_signed_check_per_s']:,}/s.",
            "",
            "| entries | verify s | verify peak RSS growth MiB | paged reads alone s "
            "| paged reads alone peak MiB | chain check's own MiB |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        for m in chain["verify_memory"]:
            lines.append(
                f"| {m['entries']:,} | {m['verify_seconds']} | "
                f"{_fmt(m.get('verify_peak_growth_mib'))} | {m.get('floor_seconds', 'n/a')} | "
                f"{_fmt(m.get('floor_peak_growth_mib'))} | {_share(m.get('confid_share_mib'))} |"
            )
    verification = result.get("verification")
    if verification:
        lines += [
            "",
            "## Full verification (fast: signatures only where no checkpoint vouches)",
            "",
            f"A signed checkpoint every {verification['checkpoint_every']:,} entries. In memory: "
            "`ChainVerifier` fed decoded entries; decoded: fed from stored documents (first "
            "100,000); offline: `verify_export` on a JSON Lines export file on disk.",
            "",
            "| entries | in memory entries/s | chain only (no keys) | decoded entries/s "
            "| offline entries/s | offline file MiB | target |",
            "|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for row in verification["verification"]:
            lines.append(
                f"| {row['entries']:,} | {row['in_memory_per_s']:,} "
                f"| {row.get('chain_only_per_s', 0):,} | {row['decoded_per_s']:,} "
                f"| {row['offline_per_s']:,} | {row['offline_file_mib']} "
                f"| ≥ {row['target_per_s']:,} |"
            )
    live = result.get("live")
    if live:
        lines += [
            "",
            "## Subscription latency (append to delivery over the websocket)",
            "",
            f"{live['events']} resets through one of two confid instances on one database; "
            f"tails poll every {live['poll_seconds']} s.",
            "",
            "| subscriber | p50 ms | p95 ms | max ms |",
            "|---|---:|---:|---:|",
        ]
        for key, name in (
            ("same_process", "on the instance that appended (woken by its append)"),
            ("other_process", "on the other instance (its tail's poll)"),
        ):
            row = live[key]
            lines.append(f"| {name} | {row['p50_ms']} | {row['p95_ms']} | {row['max_ms']} |")
    analysis = result.get("analysis")
    if analysis:
        lines += [
            "",
            "## Query analysis",
            "",
            "The worst documents that fit under the 2,000-token limit: parse excluded, best of "
            f"{analysis['repeat']}, uncached (a repeated document is not analysed again).",
            "",
            "| document | tokens | graphql-core rules ms | cost rule ms | whole validation ms "
            "| visits | confid answers |",
            "|---|---:|---:|---:|---:|---:|---|",
        ]
        for d in analysis["documents"]:
            lines.append(
                f"| {d['document']} | {d['tokens']:,} | {d['graphql_core_rules_ms']} | "
                f"{d['cost_rule_ms']} | {d['validation_total_ms']} | {d['visits']:,} | "
                f"{d['verdict']} |"
            )
        former = ", ".join(
            f"{c['levels']} levels {c['strawberry_validators_ms']} ms"
            for c in analysis["former_validators"]
        )
        lines += ["", f"Strawberry's former depth and alias validators on fan-out: {former}."]
    for text in result.get("profiles", []):
        lines += ["", "```", text, "```"]
    return "\n".join(lines) + "\n"


def _subprocess_json(command: list[str], timeout: float) -> Any:
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


@contextlib.contextmanager
def running(
    kinds: list[str], snap_file: Path, tokens: Path, key_file: Path, users: int, workdir: Path
) -> Iterator[dict[str, Server]]:
    """The servers, stopped however the block ends."""
    servers: dict[str, Server] = {}
    try:
        for kind in kinds:
            servers[kind] = start_server(kind, snap_file, tokens, key_file, users, workdir)
        yield servers
    finally:
        for server in servers.values():
            stop(server)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs (about 1.5 minutes)")
    parser.add_argument("--duration", type=float, help="seconds per measured run (default 6)")
    parser.add_argument("--warmup", type=float, help="warm-up seconds per target (default 2)")
    parser.add_argument("--rounds", type=int, help="alternating rounds per scenario (default 2)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--audit", type=int, default=10_000, help="audit entries added")
    parser.add_argument("--scenarios", default="abcd", help="subset, e.g. `ad`")
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--fresh", action="store_true", help="rebuild the cached snapshot")
    parser.add_argument("--no-chain", action="store_true", help="skip the audit-chain part")
    parser.add_argument("--no-analysis", action="store_true", help="skip the query analysis")
    parser.add_argument("--profile", action="store_true", help="pyinstrument (a) and (d)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results")
    args = parser.parse_args(argv)
    args.duration = args.duration or (3.0 if args.quick else 6.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if args.quick else 2.0)
    args.rounds = max(1, args.rounds or (1 if args.quick else 2))
    if args.client == "auto":
        args.client = "wrk" if wrk_available() else "python"
    if args.client == "wrk" and not wrk_available():
        parser.error("wrk is not installed (scripts/bench installs it with apt-get when it can)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.load_at_start = _load_average()
    stamp = time.strftime("%Y%m%dT%H%M%S")
    args.out.mkdir(parents=True, exist_ok=True)
    _pin(0, LOAD_CPU)  # this process, wrk and the fallback client; servers get SERVER_CPU
    print(
        f"confid bench: load generator {args.client}, {args.connections} connections",
        file=sys.stderr,
    )
    with tempfile.TemporaryDirectory(prefix="confid-bench-") as tmp:
        workdir = Path(tmp)
        began = time.perf_counter()
        cache = args.out / ".cache"
        snap, snap_file = asyncio.run(snapshot(args.users, args.audit, cache, workdir, args.fresh))
        print(
            f"dataset: {snap.counts()} ("
            + ("cached" if snap.cached else f"built in {time.perf_counter() - began:.1f} s")
            + f"; seed {snap.seed_seconds:.1f} s, appends {snap.append_seconds:.1f} s)",
            file=sys.stderr,
            flush=True,
        )
        tokens = workdir / "tokens.toml"
        token = write_tokens_file(tokens)
        key_file = workdir / "signing-key.pem"
        key_file.write_bytes(snap.signing_key_pem)
        servers_info: dict[str, Any] = {}
        kinds = ["confid", "ceiling"]
        with running(kinds, snap_file, tokens, key_file, args.users, workdir) as servers:
            for kind, server in servers.items():
                ready = wait_ready(server)
                servers_info[kind] = {
                    "ready_seconds": round(ready, 1),
                    "rss_after_start_mib": server.status_mib("VmRSS"),
                    "startup_peak_mib": server.status_mib("VmHWM"),
                }
            print(f"servers ready: {servers_info}", file=sys.stderr, flush=True)
            rows = measure(servers, snap, token, args, workdir)
        result: dict[str, Any] = {
            "timestamp": stamp,
            "environment": environment(args),
            "dataset": {
                **snap.counts(),
                "users": snap.users,
                "extra_audit": snap.extra_audit,
                "seed_seconds": round(snap.seed_seconds, 2),
                "append_seconds": round(snap.append_seconds, 2),
                "cached": snap.cached,
            },
            "servers": servers_info,
            "scenarios": rows,
        }
        if not args.no_chain:
            print("audit chain: throughput and verify memory ...", file=sys.stderr, flush=True)
            command = [sys.executable, "-m", "bench.chain", "--entries", "20000"]
            command += ["--sizes", "10000,40000"] + (["--no-floor"] if args.quick else [])
            result["chain"] = _subprocess_json(command, timeout=900)
            print("audit chain: full verification ...", file=sys.stderr, flush=True)
            sizes = "100000" if args.quick else "100000,1000000"
            command = [sys.executable, "-m", "bench.verify", "--sizes", sizes]
            result["verification"] = _subprocess_json(command, timeout=3600)
            print("subscription latency ...", file=sys.stderr, flush=True)
            events = "100" if args.quick else "300"
            command = [sys.executable, "-m", "bench.live", "--events", events]
            result["live"] = _subprocess_json(command, timeout=600)
        if not args.no_analysis:
            print("query analysis: worst documents ...", file=sys.stderr, flush=True)
            repeat = 5 if args.quick else 20
            command = [sys.executable, "-m", "bench.analysis", "--repeat", str(repeat)]
            result["analysis"] = {**_subprocess_json(command, timeout=600), "repeat": repeat}
        if args.profile:
            result["profiles"] = []
            for key, requests in (
                ("a", 500 if args.quick else 1000),
                ("d", 30 if args.quick else 60),
            ):
                if key not in args.scenarios:
                    continue
                for target in ("confid", "ceiling"):
                    command = [sys.executable, "-m", "bench.profile", "--snapshot", str(snap_file)]
                    command += ["--scenario", key, "--target", target, "--requests", str(requests)]
                    command += ["--out", str(args.out), "--stamp", stamp]
                    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
                    if done.returncode != 0:
                        print(done.stderr[-2000:], file=sys.stderr)
                        if "No module named 'pyinstrument'" in done.stderr:
                            print(
                                "--profile needs: .venv/bin/pip install pyinstrument",
                                file=sys.stderr,
                            )
                        continue
                    result["profiles"].append(done.stdout.strip())
    report = markdown(result)
    (args.out / f"{stamp}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (args.out / f"{stamp}.md").write_text(report, encoding="utf-8")
    print(report)
    print(f"written: {args.out / (stamp + '.json')} and .md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
