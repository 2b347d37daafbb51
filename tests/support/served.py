"""A served confid: `python -m app` under uvicorn in a subprocess on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2 as httpx

from tests.support.api import ROOT, write_tokens

# For load tests: buckets no burst of theirs can empty (still metered).
VAST_RATE_LIMITS = {
    f"CONFID_RATE_LIMIT_{role.upper()}": "1000000/1000000"
    for role in ("admin", "helpdesk", "auditor")
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running_confid(
    folder: Path, log_path: Path | None = None, *, port: int | None = None, **env: str
) -> Iterator[str]:
    """Start `python -m app` on the embedded store (these tests change its data, so never a
    shared server's); yield its base URL once /readyz answers; stop it after. `port` is for
    tests that must know the URL before the server starts (an OpenID redirect URI)."""
    port = port or free_port()
    log_path = log_path or folder / f"confid-{port}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("w")
    inherited = {
        k: v for k, v in os.environ.items() if not k.startswith("CONFID_") and k != "MONGODB_URL"
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app"],
        cwd=ROOT,
        env={
            **inherited,
            "CONFID_HOST": "127.0.0.1",
            "CONFID_PORT": str(port),
            "CONFID_TOKENS_FILE": str(write_tokens(folder / "tokens.toml")),
            **env,
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"confid exited: {log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"confid did not become ready in 60 s: {log_path.read_text()}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
