"""Instants as confid stores and prints them: UTC, cut to milliseconds (MongoDB's precision)."""

from __future__ import annotations

from datetime import UTC, datetime


def to_millis_utc(moment: datetime) -> datetime:
    """The form a timestamp has after a MongoDB round trip: UTC, cut to milliseconds."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def iso_millis(moment: datetime) -> str:
    """ISO-8601 UTC with exactly three fractional digits and a Z."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    elif moment.utcoffset():
        moment = moment.astimezone(UTC)
    # isoformat cuts (never rounds) to milliseconds, as MongoDB stores them.
    return moment.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"
