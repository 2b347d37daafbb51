"""What live subscribers ask for: filters decided on one record in hand."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.models import Notification, NotificationKind, NotificationStatus


@dataclass(frozen=True, slots=True)
class NotificationFilter:
    """Which email records a subscriber wants; every field optional, combined with AND."""

    user_id: str | None = None
    kind: NotificationKind | None = None
    status: NotificationStatus | None = None

    def matches(self, note: Notification) -> bool:
        return (
            (self.user_id is None or note.user_id == self.user_id)
            and (self.kind is None or note.kind is self.kind)
            and (self.status is None or note.status is self.status)
        )

    def describe(self) -> dict[str, str]:
        """The filter in plain words, for the access log."""
        out: dict[str, str] = {}
        if self.user_id is not None:
            out["userId"] = self.user_id
        if self.kind is not None:
            out["kind"] = self.kind.value
        if self.status is not None:
            out["status"] = self.status.value
        return out
