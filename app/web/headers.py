"""Security headers for the pages confid serves: a Content-Security-Policy of its own origin."""

from __future__ import annotations

# Scripts, styles, fonts, workers and requests: confid's own origin only. `data:` images
# and fonts are inline bytes, never a fetch. Monaco (GraphiQL's editor) adds <style>
# elements at run time, hence 'unsafe-inline' for styles on that page alone.
_COMMON = (
    "default-src 'self'",
    "script-src 'self'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
)

ADMIN_CSP = "; ".join((*_COMMON, "style-src 'self'"))
GRAPHIQL_CSP = "; ".join((*_COMMON, "style-src 'self' 'unsafe-inline'"))


def page_headers(csp: str) -> dict[str, str]:
    """Headers for an HTML page: its CSP, no sniffing, no referrer, no caching of the shell."""
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }
