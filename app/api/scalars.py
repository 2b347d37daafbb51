"""The `DateTime` scalar: ISO-8601 in UTC, millisecond precision, `Z` suffix."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from app.domain.instants import iso_millis

# Used through `scalar_overrides={datetime: DateTime}`: fields are typed `datetime`.
DateTime = strawberry.scalar(
    name="DateTime",
    description=(
        "An instant as an ISO-8601 string in UTC, e.g. `2026-11-29T08:30:00.000Z`. "
        "Inputs may carry any offset; an input without one is taken as UTC."
    ),
    serialize=lambda value: iso_millis(value),
    parse_value=lambda value: _parse(value),
)


def _parse(value: object) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("DateTime must be an ISO-8601 string such as 2026-11-29T08:30:00Z")
    try:
        parsed = datetime.fromisoformat(value)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError(
            f"DateTime must be an ISO-8601 string such as 2026-11-29T08:30:00Z, not {value!r}"
        ) from None
