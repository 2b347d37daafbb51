"""A database wrapper that stops "the process" at its n-th write: every write after the
armed count raises `ProcessDied`, a BaseException that no `except Exception` catches,
so nothing after that point runs -- as when a process is killed."""

from __future__ import annotations

from typing import Any

WRITES = {
    "insert_one", "insert_many", "update_one", "update_many", "delete_one", "delete_many",
    "find_one_and_update", "replace_one",
}  # fmt: skip


class ProcessDied(BaseException):
    """Stands for the process dying: nothing after this point runs, no cleanup either."""


class Killer:
    """Counts writes; once armed, the `at`-th write from then on dies before it lands."""

    def __init__(self) -> None:
        self.writes = 0
        self.at: int | None = None
        self.dead = False
        self.last: str | None = None

    def arm(self, at: int) -> None:
        self.writes, self.at, self.dead = 0, at, False

    def check(self, what: str) -> None:
        if self.dead:
            raise ProcessDied(f"already dead, {what}")
        self.writes += 1
        if self.at is not None and self.writes == self.at:
            self.dead = True
            self.last = what
            raise ProcessDied(f"killed at write {self.at}: {what}")


class _Collection:
    def __init__(self, name: str, collection: Any, killer: Killer) -> None:
        self._name, self._collection, self._killer = name, collection, killer

    def __getattr__(self, attribute: str) -> Any:
        target = getattr(self._collection, attribute)
        if attribute not in WRITES:
            return target

        async def call(*args: Any, **kwargs: Any) -> Any:
            self._killer.check(f"{self._name}.{attribute}")
            return await target(*args, **kwargs)

        return call


class KillableDatabase:
    """Wraps either driver's database; writes go through the killer."""

    def __init__(self, database: Any, killer: Killer) -> None:
        self._database, self.killer = database, killer

    def get_collection(self, name: str) -> _Collection:
        return _Collection(name, self._database.get_collection(name), self.killer)

    async def command(self, *args: Any, **kwargs: Any) -> Any:
        return await self._database.command(*args, **kwargs)
