"""The audit data one request reads, collected while it resolves and written as ONE
access-log record at its end — however many fields, aliases or nested lists read it."""

from __future__ import annotations

LISTED_MAX = 20  # values of one filter listed in a record; the rest are counted


class AuditReads:
    """What a request resolved from the audit trail, by field, with the filters used."""

    def __init__(self) -> None:
        self._parts: dict[str, dict[str, list[str]]] = {}
        self._times: dict[str, int] = {}

    def add(self, what: str, details: dict[str, str]) -> None:
        """Note one resolution of `what` (e.g. `conferenceIdHistory`) with its filters."""
        self._times[what] = self._times.get(what, 0) + 1
        part = self._parts.setdefault(what, {})
        for key, value in details.items():
            values = part.setdefault(key, [])
            if value not in values:
                values.append(value)

    def __bool__(self) -> bool:
        return bool(self._parts)

    def record(self) -> tuple[str, dict[str, str]]:
        """(what, details) of the one record: the fields read, comma-separated, and their
        filters (prefixed with the field when the request read several)."""
        several = len(self._parts) > 1
        details: dict[str, str] = {}
        for what, part in sorted(self._parts.items()):
            prefix = f"{what}." if several else ""
            for key, values in part.items():
                shown = ", ".join(values[:LISTED_MAX])
                if len(values) > LISTED_MAX:
                    shown += f" and {len(values) - LISTED_MAX} more"
                details[prefix + key] = shown
            if self._times[what] > 1:
                details[prefix + "times"] = str(self._times[what])
        return ", ".join(sorted(self._parts)), details
