"""The key cache's bounds: one shared fetch per interval whatever the tokens say, timeouts,
last good keys kept, and only public RS256/ES256/EdDSA keys ever used."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest

from app.domain.errors import IdentityUnavailable
from app.services.jwks import KeyCache, KeySet, KeySourceError
from tests.support.idp import SigningKey


@dataclass
class Clock:
    now: float = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Source:
    """An in-memory JWKS that counts fetches; `gate` holds a fetch until the test opens it."""

    keys: list[dict[str, Any]]
    fetches: int = 0
    failing: bool = False
    gate: asyncio.Event | None = None
    description: str = "the test keys"

    async def fetch(self) -> Any:
        self.fetches += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.failing:
            raise KeySourceError("the provider is down")
        return {"keys": list(self.keys)}


@dataclass
class Setup:
    clock: Clock = field(default_factory=Clock)
    rsa: SigningKey = field(default_factory=lambda: SigningKey.generate("RS256", "k1"))

    def cache(self, source: Source, **options: Any) -> KeyCache:
        bounds = {"min_interval": 60.0, "max_age": 3600.0, "timeout": 5.0, **options}
        return KeyCache(source, monotonic=self.clock, **bounds)


async def test_unknown_kids_cause_one_shared_fetch_per_interval() -> None:
    setup = Setup()
    source = Source([setup.rsa.jwk(private=False)])
    cache = setup.cache(source)
    assert await cache.key_for("k1", "RS256") is not None
    assert source.fetches == 1
    # A flood of tokens naming keys nobody publishes, all at once and one after another.
    found = await asyncio.gather(*(cache.key_for(f"evil-{n}", "RS256") for n in range(50)))
    for n in range(50):
        found.append(await cache.key_for(f"again-{n}", "RS256"))
    assert found == [None] * 100
    assert source.fetches == 1, "an unknown kid fetched keys again within the interval"
    setup.clock.now += 60
    assert await cache.key_for("evil-late", "RS256") is None
    assert await cache.key_for("evil-later", "RS256") is None
    assert source.fetches == 2, "after the interval, one refetch (not one per token)"


async def test_concurrent_requests_share_the_fetch_in_flight() -> None:
    setup = Setup()
    source = Source([setup.rsa.jwk(private=False)], gate=asyncio.Event())
    cache = setup.cache(source)
    waiting = [asyncio.create_task(cache.key_for("k1", "RS256")) for _ in range(20)]
    for _ in range(10):  # let every request reach the fetch
        await asyncio.sleep(0)
    assert source.fetches == 1
    source.gate.set()  # type: ignore[union-attr]
    assert all(k is not None for k in await asyncio.gather(*waiting))
    assert source.fetches == 1


async def test_a_rotated_key_is_found_after_the_interval() -> None:
    setup = Setup()
    new = SigningKey.generate("RS256", "k2")
    source = Source([setup.rsa.jwk(private=False)])
    cache = setup.cache(source)
    assert await cache.key_for("k1", "RS256") is not None
    source.keys = [new.jwk(private=False), setup.rsa.jwk(private=False)]
    assert await cache.key_for("k2", "RS256") is None  # published too soon after a fetch
    setup.clock.now += 61
    assert await cache.key_for("k2", "RS256") is not None
    assert source.fetches == 2


async def test_old_keys_refresh_in_the_background_and_retired_keys_go() -> None:
    setup = Setup()
    source = Source([setup.rsa.jwk(private=False)])
    cache = setup.cache(source, max_age=600.0)
    assert await cache.key_for("k1", "RS256") is not None
    source.keys = [SigningKey.generate("ES256", "k2").jwk(private=False)]  # k1 retired
    setup.clock.now += 601
    assert await cache.key_for("k1", "RS256") is not None  # served while refreshing
    await cache.settled()
    assert source.fetches == 2
    assert await cache.key_for("k1", "RS256") is None
    assert await cache.key_for("k2", "ES256") is not None


async def test_a_failing_provider_keeps_the_last_good_keys() -> None:
    setup = Setup()
    source = Source([setup.rsa.jwk(private=False)])
    cache = setup.cache(source, max_age=600.0)
    assert await cache.key_for("k1", "RS256") is not None
    source.failing = True
    setup.clock.now += 601
    assert await cache.key_for("k1", "RS256") is not None
    await cache.settled()
    assert source.fetches == 2
    assert await cache.key_for("k1", "RS256") is not None


async def test_no_keys_ever_is_unavailable_not_an_invalid_token() -> None:
    setup = Setup()
    source = Source([], failing=True)
    cache = setup.cache(source)
    with pytest.raises(IdentityUnavailable):
        await cache.key_for("k1", "RS256")
    with pytest.raises(IdentityUnavailable):
        await cache.key_for("k1", "RS256")  # rate-limited: no second fetch
    assert source.fetches == 1


async def test_a_hanging_provider_is_cut_off_by_the_timeout() -> None:
    setup = Setup()
    source = Source([setup.rsa.jwk(private=False)], gate=asyncio.Event())  # never opened
    cache = setup.cache(source, timeout=0.05)
    with pytest.raises(IdentityUnavailable):
        await cache.key_for("k1", "RS256")
    await cache.settled()  # the fetch itself gave up too
    assert source.fetches == 1


def test_only_public_signing_keys_of_accepted_algorithms_are_kept() -> None:
    rsa, ec, ed = (SigningKey.generate(a, a) for a in ("RS256", "ES256", "EdDSA"))
    private_rsa = rsa.jwk(private=True)
    assert "d" in private_rsa
    keys = KeySet.parse(
        {
            "keys": [
                private_rsa,  # published by mistake with its private half
                ec.jwk(private=False),
                ed.jwk(private=False),
                {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac", "alg": "HS256"},
                {**rsa.jwk(private=False), "kid": "ps", "alg": "PS256"},
                {**rsa.jwk(private=False), "kid": "enc", "use": "enc"},
                {"kty": "RSA", "kid": "broken", "n": "AQAB"},
                "not a key",
            ]
        },
        "test",
    )
    assert sorted(keys.by_kid) == ["ES256", "EdDSA", "RS256"]
    public = keys.find("RS256", "RS256")
    assert public is not None and not hasattr(public.key, "private_numbers")
    assert keys.find("hmac", "HS256") is None
    assert keys.find("RS256", "ES256") is None, "a key verifies only under its own algorithm"
    assert keys.find(None, "EdDSA") is not None  # no kid: the only key that fits


@pytest.mark.parametrize("document", [None, [], {"keys": "x"}, {"nokeys": []}])
def test_a_document_that_is_not_a_jwks_is_an_error(document: Any) -> None:
    with pytest.raises(KeySourceError):
        KeySet.parse(document, "test")
