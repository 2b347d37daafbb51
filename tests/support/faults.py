"""Stopping a change between its named steps: the fault hook, and the stand-in for a process
that dies (`ProcessDied`, a BaseException that no `except Exception` catches)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.domain.access import Principal
from app.domain.models import RequestMeta, Role
from app.services.steps import Step

#: Who the tests that call the change service directly are.
META = RequestMeta(actor=Principal("admin-1", Role.ADMIN).actor, request_id="r1")


class ProcessDied(BaseException):
    """Stands for the process dying: nothing after this point runs, no cleanup either."""


@dataclass
class Fault:
    """The change path's fault hook (`create_app(..., fault=...)`): once `step` is set, the
    next change to reach it raises `error` there, once."""

    step: Step | None = None
    error: type[BaseException] = ProcessDied

    async def __call__(self, step: Step) -> None:
        if step is self.step:
            self.step = None  # fire once
            raise self.error(f"injected at {step.value}")


async def first_enabled(database: Any) -> dict[str, Any]:
    """The stored document of the first user with audio conferencing."""
    doc: dict[str, Any] = await database.get_collection("users").find_one(
        {"audio": {"$exists": True}}
    )
    return doc


async def first_disabled(database: Any) -> dict[str, Any]:
    """The stored document of the first user without audio conferencing."""
    doc: dict[str, Any] = await database.get_collection("users").find_one(
        {"audio": {"$exists": False}}
    )
    return doc
