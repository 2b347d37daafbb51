"""The browser side of confid: the admin page at `/` and self-hosted GraphiQL."""

from __future__ import annotations

from app.web.graphiql import graphiql_html, graphiql_response
from app.web.routes import web_routes

__all__ = ["graphiql_html", "graphiql_response", "web_routes"]
