"""Where a request's time goes: pyinstrument over confid (or the ceiling) driven in process.

    python -m bench.profile --snapshot FILE [--scenario a] [--requests N] [--target confid]

Requests go straight to the ASGI app (no sockets, no uvicorn: that part is the same for
confid and the ceiling), `--concurrency` at a time, as the load generator sends them. The
report groups sampled self time by owner (the nearest frame outside the standard library,
so `copy.deepcopy` called by mongomock counts as mongomock) and lists the top functions.
pyinstrument is optional: `pip install pyinstrument` into .venv first.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import sysconfig
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mongomock_motor import AsyncMongoMockClient
from starlette.applications import Starlette

from app.main import create_app
from app.settings import Settings
from app.store.database import Database
from bench.ceiling import create_ceiling, token_hashes
from bench.dataset import ROOT, Snapshot, load_snapshot_file, restore, write_tokens_file
from bench.scenarios import SCENARIOS, Scenario

ASGIApp = Callable[
    [dict[str, Any], Callable[[], Awaitable[dict[str, Any]]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]
_STDLIB = sysconfig.get_paths()["stdlib"]
_OWNERS = (
    ("/graphql/", "graphql-core"),
    ("/strawberry/", "strawberry"),
    ("/starlette/", "starlette"),
    ("/mongomock_motor/", "mongomock-motor"),
    ("/mongomock/", "mongomock"),
    ("/sentinels/", "mongomock"),
    ("/pymongo/", "pymongo/bson"),
    ("/bson/", "pymongo/bson"),
    ("/cross_web/", "strawberry"),
    ("/uvicorn/", "uvicorn"),
    ("/pyinstrument/", "profiler"),
)


def owner_of(path: str | None) -> str | None:
    """Which library or confid layer a source file belongs to (None: standard library)."""
    if not path:
        return None
    app_dir = str(ROOT / "app") + "/"
    if path.startswith(app_dir):
        return "confid " + path[len(app_dir) :].split("/")[0].removesuffix(".py")
    if path.startswith(str(ROOT / "bench")):
        return "bench driver"
    for marker, name in _OWNERS:
        if marker in path:
            return name
    if path.startswith(_STDLIB) or path.startswith("<"):
        return None
    return "other: " + Path(path).name


async def _request(app: ASGIApp, path: str, body: bytes, token: str) -> tuple[int, bytes]:
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"user-agent", b"confid-bench/1"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def drive(
    app: ASGIApp,
    scenario: Scenario,
    target: str,
    user_ids: list[str],
    token: str,
    requests: int,
    concurrency: int,
) -> float:
    """Send `requests` requests, `concurrency` at a time; return the seconds taken."""
    path = "/graphql" if target == "confid" else scenario.ceiling_path
    make = scenario.confid_body if target == "confid" else scenario.ceiling_body
    bodies = [make(u).encode() for u in user_ids]
    counter = iter(range(requests))

    async def worker() -> None:
        for n in counter:
            status, _ = await _request(app, path, bodies[n % len(bodies)], token)
            if status != 200:
                raise RuntimeError(f"{target} answered {status}")

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - began


def _label(frame: Any) -> str:
    path = str(frame.file_path).split("site-packages/")[-1].replace(str(ROOT) + "/", "")
    return f"{frame.function} ({path}:{frame.line_no})"


@dataclass(slots=True)
class Tally:
    """Sampled self time, grouped three ways."""

    by_owner: Counter[str] = field(default_factory=Counter)
    by_function: Counter[str] = field(default_factory=Counter)
    by_confid_site: Counter[str] = field(default_factory=Counter)


def _walk(frame: Any, owner: str, label: str, site: str, tally: Tally) -> None:
    """Add each frame's self time to its owner, its function (a synthetic leaf: its
    parent's) and the innermost confid function below which it ran."""
    real = bool(frame.file_path) and not frame.is_synthetic
    here = (owner_of(frame.file_path) or owner) if real else owner
    name = _label(frame) if real else label
    if real and here.startswith("confid "):
        site = f"{here.removeprefix('confid ')}: {frame.function}"
    self_time = frame.time - sum(child.time for child in frame.children)
    if self_time > 0:
        tally.by_owner[here] += self_time
        tally.by_function[name] += self_time
        tally.by_confid_site[site] += self_time
    for child in frame.children:
        _walk(child, here, name, site, tally)


def summarize(session: Any, requests: int, top: int = 15) -> str:
    """Self time per owner and the top functions, in ms per request."""
    root = session.root_frame()
    tally = Tally()
    if root is not None:
        _walk(root, "stdlib/event loop", "(root)", "(outside confid)", tally)
    by_owner, by_function = tally.by_owner, tally.by_function
    total = sum(by_owner.values()) or 1.0
    lines = [
        f"sampled {total:.2f} s over {requests} requests ({total / requests * 1000:.3f} ms/req)"
    ]
    lines.append("self time by owner (nearest non-stdlib frame):")
    for name, secs in by_owner.most_common():
        share = secs / total * 100
        lines.append(f"  {share:5.1f}%  {secs / requests * 1000:7.3f} ms/req  {name}")
    lines.append("time by innermost confid function (everything it called, libraries included):")
    for name, secs in tally.by_confid_site.most_common(top):
        share = secs / total * 100
        lines.append(f"  {share:5.1f}%  {secs / requests * 1000:7.3f} ms/req  {name}")
    lines.append(f"top {top} functions by self time:")
    for name, secs in by_function.most_common(top):
        lines.append(f"  {secs / total * 100:5.1f}%  {name}")
    return "\n".join(lines)


async def profile(
    snap: Snapshot,
    scenario: Scenario,
    target: str,
    requests: int,
    concurrency: int,
    out_dir: Path,
    stamp: str,
) -> str:
    """Profile one scenario against one target; write text and HTML; return the text."""
    from pyinstrument import Profiler  # optional: only this tool needs it

    database: Database = AsyncMongoMockClient()["confid"]
    await restore(database, snap)
    app: Starlette
    with tempfile.TemporaryDirectory(prefix="confid-profile-") as tmp:
        tokens, key_file = Path(tmp) / "tokens.toml", Path(tmp) / "signing-key.pem"
        token = write_tokens_file(tokens)
        key_file.write_bytes(snap.signing_key_pem)
        if target == "confid":
            env = {
                "CONFID_TOKENS_FILE": str(tokens),
                "CONFID_SIGNING_KEY_FILE": str(key_file),
                "CONFID_DEMO_USERS": str(snap.users),
            }
            app = create_app(Settings.from_env(env), database=database)
            await app.state.services.start()
        else:
            app = create_ceiling(database, token_hashes(tokens))
    users = snap.hot_user_ids if scenario.key == "c" else snap.enabled_user_ids
    await drive(app, scenario, target, users, token, min(50, requests), concurrency)  # warm
    profiler = Profiler(interval=0.0005, async_mode="disabled")
    profiler.start()
    seconds = await drive(app, scenario, target, users, token, requests, concurrency)
    session = profiler.stop()
    head = (
        f"profile of ({scenario.key}) {scenario.title} on {target}: {requests} requests, "
        f"concurrency {concurrency}, {requests / seconds:.0f} req/s in process under the "
        f"profiler"
    )
    text = head + "\n" + summarize(session, requests)
    base = out_dir / f"profile-{stamp}-{scenario.key}-{target}"
    base.with_suffix(".txt").write_text(
        text + "\n\n" + profiler.output_text(unicode=True, color=False), encoding="utf-8"
    )
    base.with_suffix(".html").write_text(profiler.output_html(), encoding="utf-8")
    return text


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.profile")
    parser.add_argument("--snapshot", type=Path, required=True)
    parser.add_argument("--scenario", choices=[s.key for s in SCENARIOS], default="a")
    parser.add_argument("--target", choices=["confid", "ceiling"], default="confid")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results")
    parser.add_argument("--stamp", default=time.strftime("%Y%m%dT%H%M%S"))
    args = parser.parse_args()
    scenario = next(s for s in SCENARIOS if s.key == args.scenario)
    args.out.mkdir(parents=True, exist_ok=True)
    snap = load_snapshot_file(args.snapshot)
    text = asyncio.run(
        profile(snap, scenario, args.target, args.requests, args.concurrency, args.out, args.stamp)
    )
    print(text, file=sys.stdout)


if __name__ == "__main__":
    main()
