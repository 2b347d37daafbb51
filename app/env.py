"""Typed reading of environment variables: each reader names the variable in its refusal."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from pathlib import Path

from app.domain.addresses import Network

__all__ = ["Env", "Network", "SettingsError"]


class SettingsError(ValueError):
    """An environment variable has a value confid cannot use."""


class Env:
    """The variables of one process, read by type (blank counts as unset)."""

    def __init__(self, variables: Mapping[str, str]) -> None:
        self._variables = variables

    def raw(self, name: str) -> str:
        """The value as written, stripped ("" when unset)."""
        return self._variables.get(name, "").strip()

    def is_set(self, name: str) -> bool:
        return bool(self.raw(name))

    def text(self, name: str, default: str | None = None) -> str | None:
        return self.raw(name) or default

    def flag(self, name: str, default: bool) -> bool:
        raw = self.raw(name).lower()
        if not raw:
            return default
        if raw in {"1", "true", "yes", "on"}:
            return True
        if raw in {"0", "false", "no", "off"}:
            return False
        raise SettingsError(
            f"{name} must be 1/0, true/false, yes/no or on/off, not {self.raw(name)!r}"
        )

    def number(self, name: str, default: float, minimum: float) -> float:
        raw = self.raw(name)
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a number, not {raw!r}") from None
        if not value >= minimum:
            raise SettingsError(f"{name} must be at least {minimum}, not {raw!r}")
        return value

    def bounded(self, name: str, default: float, minimum: float, maximum: float) -> float:
        value = self.number(name, default, minimum)
        if value > maximum:
            raise SettingsError(f"{name} must be at most {maximum:g}, not {self.raw(name)!r}")
        return value

    def whole(self, name: str, default: int, minimum: int) -> int:
        value = self.number(name, default, minimum)
        if value != int(value):
            raise SettingsError(f"{name} must be a whole number, not {self.raw(name)!r}")
        return int(value)

    def port(self, name: str, default: int) -> int:
        port = self.number(name, default, 0)
        if port != int(port) or port > 65535:
            raise SettingsError(f"{name} must be a port number, not {self.raw(name)!r}")
        return int(port)

    def path(self, name: str) -> Path | None:
        raw = self.raw(name)
        return Path(raw) if raw else None

    def words(self, name: str) -> tuple[str, ...]:
        """A comma-separated list, blanks dropped."""
        return tuple(w.strip() for w in self.raw(name).split(",") if w.strip())

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        raw = self.raw(name).lower()
        if not raw:
            return default
        if raw not in choices:
            raise SettingsError(
                f"{name} must be one of {', '.join(choices)}, not {self.raw(name)!r}"
            )
        return raw

    def networks(self, name: str) -> tuple[Network, ...]:
        """A comma-separated list of addresses or CIDR networks (`10.0.0.0/8, ::1`)."""
        out: list[Network] = []
        for item in self.words(name):
            try:
                out.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise SettingsError(
                    f"{name} must list IP addresses or CIDR networks, not {item!r}"
                ) from None
        return tuple(out)
