"""The OpenID provider's signing keys: fetched (discovery or a file), cached, refreshed in bounds.

The bounds are what keep an attacker from steering confid's network use: whatever tokens
arrive, keys are fetched at most once per `min_interval` (a token naming an unknown `kid`
waits for at most one fetch, shared by every request that arrives meanwhile), a fetch never
takes longer than `timeout`, and a request never waits longer than that for one. Keys older
than `max_age` are refreshed in the background while the cached ones keep serving. When a
fetch fails the last good keys stay in use.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx2 as httpx
from jwt import PyJWK
from jwt.exceptions import PyJWTError

from app.domain.errors import IdentityUnavailable

log = logging.getLogger("confid.identity")

# The JWS algorithms confid accepts, and the only key shapes that can sign them. HMAC and
# `none` are absent on purpose: a public key must never become a shared secret.
ALGORITHMS = frozenset({"RS256", "ES256", "EdDSA"})
_PUBLIC_MEMBERS = {"RSA": ("n", "e"), "EC": ("crv", "x", "y"), "OKP": ("crv", "x")}
MAX_DOCUMENT_BYTES = 1 << 20
MAX_KEYS = 100


class KeySourceError(Exception):
    """The keys could not be fetched or read; the message says where and why."""


class KeySource(Protocol):
    """Where a JWKS document comes from."""

    description: str

    async def fetch(self) -> Any:
        """The JWKS document (parsed JSON); KeySourceError when it cannot be had."""
        ...


def _json(body: bytes, where: str) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise KeySourceError(f"{where} is not JSON: {exc}") from None


@dataclass
class JwksFile:
    """A JWKS JSON file (CONFID_OIDC_JWKS_FILE), for sites that cannot reach the provider."""

    path: Path
    description: str = ""

    def __post_init__(self) -> None:
        self.description = f"the JWKS file {self.path}"

    async def fetch(self) -> Any:
        try:
            body = await asyncio.to_thread(self.path.read_bytes)
        except OSError as exc:
            raise KeySourceError(f"cannot read {self.description}: {exc}") from None
        return _json(body, self.description)


@dataclass
class Discovery:
    """The provider's discovery document, then the `jwks_uri` it names (OpenID Discovery)."""

    issuer: str
    timeout: float
    description: str = ""
    jwks_uri: str | None = None

    def __post_init__(self) -> None:
        self.description = f"the keys of {self.issuer}"

    async def fetch(self) -> Any:
        async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False) as client:
            if self.jwks_uri is None:
                self.jwks_uri = await self._discover(client)
            try:
                return await _get_json(client, self.jwks_uri)
            except KeySourceError:
                self.jwks_uri = None  # the provider may have moved it: re-read discovery
                raise

    async def _discover(self, client: httpx.AsyncClient) -> str:
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        document = await _get_json(client, url)
        if not isinstance(document, dict):
            raise KeySourceError(f"{url} is not a JSON object")
        if document.get("issuer") != self.issuer:
            # OpenID Connect Discovery 1.0, section 4.3: they must be identical.
            raise KeySourceError(
                f"{url} names the issuer {document.get('issuer')!r}, not {self.issuer!r}"
            )
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri:
            raise KeySourceError(f"{url} has no jwks_uri")
        if urlsplit(jwks_uri).scheme != urlsplit(self.issuer).scheme:
            raise KeySourceError(f"{url} names a jwks_uri of another scheme: {jwks_uri}")
        return jwks_uri


async def _get_json(client: httpx.AsyncClient, url: str) -> Any:
    """GET a JSON document of at most MAX_DOCUMENT_BYTES."""
    try:
        async with client.stream("GET", url, headers={"Accept": "application/json"}) as response:
            if response.status_code != 200:
                raise KeySourceError(f"{url} answered HTTP {response.status_code}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise KeySourceError(f"{url} is larger than {MAX_DOCUMENT_BYTES} bytes")
    except httpx.HTTPError as exc:
        raise KeySourceError(f"cannot fetch {url}: {type(exc).__name__}: {exc}") from None
    return _json(bytes(body), url)


@dataclass(frozen=True)
class KeySet:
    """Usable verification keys by `kid` (keys without a `kid` under "")."""

    by_kid: Mapping[str, tuple[PyJWK, ...]] = field(default_factory=dict)

    def __len__(self) -> int:
        return sum(len(keys) for keys in self.by_kid.values())

    def find(self, kid: str | None, alg: str) -> PyJWK | None:
        """The key for this `kid` and algorithm; without a `kid`, the only key that fits."""
        if kid is not None:
            return next((k for k in self.by_kid.get(kid, ()) if k.algorithm_name == alg), None)
        fits = [k for keys in self.by_kid.values() for k in keys if k.algorithm_name == alg]
        return fits[0] if len(fits) == 1 else None

    @classmethod
    def parse(cls, document: Any, where: str) -> KeySet:
        """The signing keys of a JWKS document; keys confid cannot use are left out."""
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise KeySourceError(f"{where} is not a JWKS (an object with a `keys` list)")
        by_kid: dict[str, list[PyJWK]] = {}
        for entry in document["keys"][:MAX_KEYS]:
            key = _public_key(entry)
            if key is not None:
                kid = entry.get("kid")
                by_kid.setdefault(kid if isinstance(kid, str) else "", []).append(key)
        return cls({kid: tuple(keys) for kid, keys in by_kid.items()})


def _public_key(entry: Any) -> PyJWK | None:
    """A verification key from one JWK, built from its public members only."""
    if not isinstance(entry, dict):
        return None
    kty = entry.get("kty")
    members = _PUBLIC_MEMBERS.get(kty) if isinstance(kty, str) else None
    if members is None or entry.get("use", "sig") != "sig":
        return None  # symmetric (`oct`) keys above all are never accepted
    alg = entry.get("alg")
    if alg is not None and alg not in ALGORITHMS:
        return None
    public = {"kty": kty, **{m: entry.get(m) for m in members}}
    if alg is not None:
        public["alg"] = alg
    try:
        key = PyJWK(public)
    except (PyJWTError, ValueError, TypeError):
        return None
    return key if key.algorithm_name in ALGORITHMS else None


class KeyCache:
    """The provider's current keys, with bounded, shared, rate-limited refreshes."""

    def __init__(
        self,
        source: KeySource,
        *,
        min_interval: float,
        max_age: float,
        timeout: float,
        monotonic: Callable[[], float] = time.monotonic,
        keys: KeySet | None = None,
    ) -> None:
        self.source = source
        self._min_interval = min_interval
        self._max_age = max_age
        self._timeout = timeout
        self._monotonic = monotonic
        self._keys = keys or KeySet()
        self._loaded_at: float | None = monotonic() if keys is not None else None
        self._attempted_at: float | None = self._loaded_at
        self._task: asyncio.Task[None] | None = None
        self.fetches = 0  # attempts so far (for logs and tests)

    @property
    def keys(self) -> KeySet:
        return self._keys

    async def key_for(self, kid: str | None, alg: str) -> PyJWK | None:
        """The key that verifies a token with this header; None when there is none.

        IdentityUnavailable when no keys have ever been loaded and a fetch just failed.
        """
        key = self._keys.find(kid, alg)
        if key is not None:
            if self._loaded_at is None or self._monotonic() - self._loaded_at >= self._max_age:
                self._refresh()  # in the background: the cached key serves meanwhile
            return key
        task = self._refresh()  # None when a fetch ran less than min_interval ago
        if task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), self._timeout)
            key = self._keys.find(kid, alg)
        if key is None and self._loaded_at is None:
            raise IdentityUnavailable(
                "The identity provider's signing keys could not be fetched; try again shortly."
            )
        return key

    def start(self) -> None:
        """Fetch the keys now, in the background (start-up)."""
        self._refresh()

    async def settled(self) -> None:
        """Wait for a fetch in flight, if any (tests and shutdown)."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _refresh(self) -> asyncio.Task[None] | None:
        """The fetch in flight, or a new one if none ran within min_interval."""
        if self._task is not None and not self._task.done():
            return self._task
        now = self._monotonic()
        if self._attempted_at is not None and now - self._attempted_at < self._min_interval:
            return None
        self._attempted_at = now
        self._task = asyncio.get_running_loop().create_task(self._load())
        return self._task

    async def _load(self) -> None:
        self.fetches += 1
        where = self.source.description
        try:
            async with asyncio.timeout(self._timeout):
                document = await self.source.fetch()
            keys = KeySet.parse(document, where)
        except (KeySourceError, TimeoutError) as exc:
            log.warning(
                "cannot refresh %s (keeping %d known keys): %s",
                where,
                len(self._keys),
                exc or "timed out",
            )
            return
        except Exception:
            log.exception("cannot refresh %s (keeping %d known keys)", where, len(self._keys))
            return
        if not keys:
            log.warning(
                "%s holds no usable signing key (%s); keeping %d known keys",
                where,
                ", ".join(sorted(ALGORITHMS)),
                len(self._keys),
            )
            return
        self._keys = keys
        self._loaded_at = self._monotonic()
        log.info("loaded %d signing keys from %s", len(keys), where)
