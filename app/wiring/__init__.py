"""Wiring: building every part of one app from settings — the one place where parts are
composed (no service builds or patches another).

- `loaders`   what the settings name: the tokens, the signing keys, the mail server
- `services`  every repository and service over one database (`build_services`, `Parts`)
- `identity`  the authenticator (static tokens, OpenID Connect)
- `limits`    the API's rate limits, query-cost ceiling and websocket limits
"""

from app.wiring.identity import build_authenticator
from app.wiring.limits import build_api_limits, build_live_policy
from app.wiring.loaders import StartupError, load_tokens
from app.wiring.services import Parts, build_services, build_vitals

__all__ = [
    "Parts",
    "StartupError",
    "build_api_limits",
    "build_authenticator",
    "build_live_policy",
    "build_services",
    "build_vitals",
    "load_tokens",
]
