"""Instants as MongoDB keeps them: UTC, cut to milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime


def test_iso_millis_cuts_like_mongodb() -> None:
    from app.domain.instants import iso_millis

    moment = datetime(2026, 11, 29, 8, 30, 0, 123999, tzinfo=UTC)
    assert iso_millis(moment) == "2026-11-29T08:30:00.123Z"
    assert iso_millis(moment.replace(tzinfo=None)) == "2026-11-29T08:30:00.123Z"
    from datetime import timedelta, timezone

    east = moment.astimezone(timezone(timedelta(hours=5, minutes=30)))
    assert iso_millis(east) == "2026-11-29T08:30:00.123Z"
