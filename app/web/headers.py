"""Security headers for the pages confid serves: a Content-Security-Policy of its own origin,
plus the configured OpenID provider's origin where the browser sign-in must reach it."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit


def _directives(connect: str, style: str) -> str:
    # Scripts, styles, fonts, workers and requests: confid's own origin only. `data:` images
    # and fonts are inline bytes, never a fetch. The sign-in (oidc-client-ts) fetches the
    # provider's discovery document and calls its token endpoint (code exchange and silent
    # renewal by refresh token): that origin is added to connect-src, and nothing else.
    # Renewal uses no iframe, so frames stay forbidden; the redirect to the provider's login
    # page is a top-level navigation, which the CSP does not govern.
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            f"style-src {style}",
            "img-src 'self' data:",
            "font-src 'self' data:",
            f"connect-src {connect}",
            "worker-src 'self'",
            "frame-src 'none'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )


@dataclass(frozen=True, slots=True)
class PagePolicies:
    """The CSP of each page: the admin page, and GraphiQL (whose editor, Monaco, adds
    <style> elements at run time, hence 'unsafe-inline' for styles on that page alone)."""

    admin: str
    graphiql: str

    @classmethod
    def for_sign_in(cls, issuer: str | None = None) -> PagePolicies:
        """Policies that let the pages reach `issuer`'s origin (None: confid's own only)."""
        connect = "'self'" if issuer is None else f"'self' {origin_of(issuer)}"
        return cls(
            admin=_directives(connect, "'self'"),
            graphiql=_directives(connect, "'self' 'unsafe-inline'"),
        )


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of an absolute http(s) URL, as a CSP source expression."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an absolute http(s) URL: {url!r}")
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{parts.scheme}://{host}{port}"


SELF_ONLY = PagePolicies.for_sign_in(None)
ADMIN_CSP = SELF_ONLY.admin
GRAPHIQL_CSP = SELF_ONLY.graphiql


def page_headers(csp: str) -> dict[str, str]:
    """Headers for an HTML page: its CSP, no sniffing, no referrer, no caching of the shell."""
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }
