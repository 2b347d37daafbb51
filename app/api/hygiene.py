"""Headers on every API answer: no MIME sniffing and no caching for /graphql and /audit/*
(answers carry ids, audit data and tokens' names), and `WWW-Authenticate: Bearer` on every
401, whichever route refused."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_PREFIXES = ("/graphql", "/audit/")
BEARER_CHALLENGE = 'Bearer realm="confid"'


class ApiHeaders:
    """ASGI middleware adding the headers as the response starts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        api = path == "/graphql" or path.startswith(API_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if api:
                    headers["X-Content-Type-Options"] = "nosniff"
                    headers["Cache-Control"] = "no-store"
                if message["status"] == 401 and "www-authenticate" not in headers:
                    headers["WWW-Authenticate"] = BEARER_CHALLENGE
            await send(message)

        await self.app(scope, receive, send_with_headers)
