"""The web routes: the admin page at `/`, its files, and the built GraphiQL assets."""

from __future__ import annotations

import logging
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from app.web.graphiql import report_build
from app.web.headers import ADMIN_CSP, page_headers
from app.web.paths import ADMIN_DIR, BUILD_DIR

log = logging.getLogger("confid.web")


class OptionalStaticFiles(StaticFiles):
    """Static files from a folder that may not exist (yet): absent means 404, not 500."""

    async def check_config(self) -> None:
        if self.directory is not None and not Path(self.directory).is_dir():
            return
        await super().check_config()


def web_routes(
    *, admin_dir: Path = ADMIN_DIR, build_dir: Path = BUILD_DIR, csp: str = ADMIN_CSP
) -> list[BaseRoute]:
    """Routes for `/` (the admin page, under `csp`), `/static/admin/*` and `/static/build/*`."""
    report_build(build_dir)
    index = admin_dir / "index.html"
    routes: list[BaseRoute] = [
        Mount("/static/build", app=OptionalStaticFiles(directory=build_dir, check_dir=False)),
    ]
    if not index.is_file():
        log.warning("the admin page is missing (%s): / redirects to /graphql", index)

        async def to_graphiql(request: Request) -> Response:
            return RedirectResponse("/graphql", status_code=307)

        return [Route("/", to_graphiql), *routes]

    async def admin_page(request: Request) -> Response:
        return FileResponse(index, media_type="text/html", headers=page_headers(csp))

    return [
        Route("/", admin_page, methods=["GET", "HEAD"]),
        Mount("/static/admin", app=StaticFiles(directory=admin_dir)),
        *routes,
    ]
