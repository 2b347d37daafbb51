"""An installed confid is whole: a wheel built from this checkout, installed into a fresh
virtualenv and run from elsewhere, serves the admin page and the self-hosted GraphiQL
offline, and its `confid` command finds its operations."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx2 as httpx
import pytest

from app.web.paths import BUILD_DIR
from tests.support.api import ROOT, TOKENS, write_tokens
from tests.support.served import free_port

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
        check=True,
    )
    (built,) = out.glob("confid-*.whl")
    return built


def test_the_wheel_carries_the_pages_the_build_and_the_operations(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "app/web/admin/index.html" in names and "app/web/admin/app.js" in names
    operations = {n for n in names if n.startswith("app/operations/")}
    assert len(operations) == len(list((ROOT / "graphql" / "operations").glob("*.graphql")))
    if (BUILD_DIR / "manifest.json").is_file():  # built by scripts/test when Node.js is here
        assert "app/web/static/build/manifest.json" in names
        assert "app/web/static/build/graphiql/graphiql.js" in names


def test_a_fresh_install_serves_everything_offline(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         str(wheel)],
        check=True,
    )  # fmt: skip
    port = free_port()
    env = {
        "PATH": f"{venv / 'bin'}:{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
        "CONFID_PORT": str(port),
        "CONFID_TOKENS_FILE": str(write_tokens(tmp_path / "tokens.toml")),
        "CONFID_DEMO_USERS": "10",
    }
    # Run from an empty folder: nothing of this checkout is on the path.
    log_path = tmp_path / "confid.log"
    log = log_path.open("wb")
    server = subprocess.Popen(
        [str(python), "-m", "app"], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log_path.read_text()
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the installed confid did not start"
            time.sleep(0.2)
        page = httpx.get(f"{base}/")
        assert page.status_code == 200 and "confid" in page.text
        assert httpx.get(f"{base}/static/admin/app.js").status_code == 200
        graphiql = httpx.get(f"{base}/graphql", headers={"Accept": "text/html"})
        assert graphiql.status_code == 200
        if (BUILD_DIR / "manifest.json").is_file():
            assert "/static/build/graphiql/graphiql.js" in graphiql.text  # not a CDN
            assert "cdn." not in graphiql.text and "unpkg" not in graphiql.text
            assert httpx.get(f"{base}/static/build/graphiql/graphiql.js").status_code == 200
        token = tmp_path / "admin.token"
        token.write_text(TOKENS["admin"])
        ran = subprocess.run(
            [str(venv / "bin" / "confid"), "--url", base, "--token-file", str(token), "--json",
             "whoami"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert ran.returncode == 0, ran.stderr
        assert json.loads(ran.stdout)["viewer"]["name"] == "admin-1"
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def test_every_imported_distribution_is_declared() -> None:
    """A package imported by app/ must be a declared dependency, not a lucky transitive one."""
    import ast
    import re
    import tomllib
    from importlib.metadata import packages_distributions

    def normal(name: str) -> str:  # PEP 503: case, `-`, `_` and `.` do not matter
        return re.sub(r"[-_.]+", "-", name).lower()

    declared = {
        normal(entry.split(">")[0].split("<")[0].split("=")[0].split("[")[0].strip())
        for entry in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    }
    imported: set[str] = set()
    for path in (ROOT / "app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    owners = packages_distributions()
    third_party = {m for m in imported if m not in sys.stdlib_module_names and m != "app"}
    undeclared = {
        m: owners.get(m) for m in third_party
        if not {normal(d) for d in owners.get(m, [])} & declared
    }  # fmt: skip
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"
