"""What a command shows: Rich tables for people, stable JSON for scripts, progress on stderr.

Rich writes colour and cursor codes only to a terminal (and honours NO_COLOR), so piped
output is plain text. With `--json`, stdout carries exactly one JSON document.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any, Protocol

from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

#: Width for tables written to a pipe or a file (a terminal uses its own width).
PIPE_WIDTH = 200

Cell = str | int | None


def _console(stream: IO[str]) -> Console:
    width = None
    if not stream.isatty() and "COLUMNS" not in os.environ:
        width = PIPE_WIDTH
    return Console(
        file=stream, width=width, markup=False, emoji=False, highlight=False, soft_wrap=True
    )


def text(value: Cell) -> Text:
    """A table cell: plain text (never Rich markup, whatever a name or reason contains)."""
    return Text("—" if value is None or value == "" else str(value))


def when(timestamp: str | None) -> str | None:
    """A DateTime for a table: to the second, still UTC (`--json` keeps the milliseconds)."""
    if not timestamp:
        return timestamp
    return timestamp[:19].replace("T", " ") + "Z"


class Tracker(Protocol):
    """Reports how far a long piece of work has got."""

    def advance(self, amount: int = 1) -> None: ...

    def set_total(self, total: int | None) -> None: ...


class _RichTracker:
    def __init__(self, progress: Progress, description: str, total: int | None) -> None:
        self._progress = progress
        self._task = progress.add_task(description, total=total)

    def advance(self, amount: int = 1) -> None:
        self._progress.advance(self._task, amount)

    def set_total(self, total: int | None) -> None:
        self._progress.update(self._task, total=total)


class _PlainTracker:
    """One line on stderr each time `every` more units are done, and a last one at the end
    if any was written (work done within the first `every` units stays quiet)."""

    def __init__(
        self, description: str, total: int | None, every: int, unit: str, stream: IO[str]
    ) -> None:
        self.description = description
        self.total = total
        self.unit = unit
        self.every = max(every, 1)
        self.done = 0
        self._reported = 0
        self._stream = stream

    def advance(self, amount: int = 1) -> None:
        self.done += amount
        if self.done // self.every > self._reported // self.every:
            self.report()

    def set_total(self, total: int | None) -> None:
        self.total = total

    def report(self) -> None:
        self._reported = self.done
        of = f"/{self.total}" if self.total is not None else ""
        print(f"{self.description}: {self.done}{of} {self.unit}", file=self._stream, flush=True)

    def finish(self) -> None:
        if 0 < self._reported < self.done:
            self.report()


class Output:
    """Where a command's results, notes and progress go, for one invocation."""

    def __init__(self, json_mode: bool = False) -> None:
        self.json_mode = json_mode
        self.out = _console(sys.stdout)
        self.err = _console(sys.stderr)

    # -- results ------------------------------------------------------------------------

    def emit(self, document: Any) -> None:
        """Write `document` as JSON to stdout (keys in the order the server sent them)."""
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def line(self, message: str = "") -> None:
        self.out.print(Text(message))

    def note(self, message: str) -> None:
        """A remark for the person, on stderr so it never mixes with data."""
        self.err.print(Text(message))

    def table(
        self,
        columns: Sequence[str],
        rows: Sequence[Sequence[Cell]],
        *,
        title: str | None = None,
        caption: str | None = None,
        wrap: Sequence[str] = ("Name", "Bridge", "Actor", "Reason", "Detail", "Filters", "User"),
    ) -> None:
        """Rows under `columns`; only the columns named in `wrap` are wrapped when narrow."""
        table = Table(
            *columns,
            title=title,
            caption=caption,
            box=box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
            padding=(0, 1, 0, 0),
            title_justify="left",
            caption_justify="left",
        )
        for column in table.columns:
            # Ids, emails and times are copied whole; only free text may wrap.
            column.no_wrap = column.header not in wrap
            column.overflow = "fold"
        for row in rows:
            table.add_row(*(text(cell) for cell in row))
        self.out.print(table)

    def fields(self, pairs: Sequence[tuple[str, Cell]], *, title: str | None = None) -> None:
        """A two-column sheet: one record, one field a line."""
        table = Table(
            box=None, show_header=False, title=title, title_justify="left", pad_edge=False
        )
        table.add_column(style="bold", no_wrap=True)
        table.add_column(overflow="fold")
        for name, value in pairs:
            table.add_row(Text(name), text(value))
        self.out.print(table)

    # -- progress -----------------------------------------------------------------------

    @contextmanager
    def progress(
        self, description: str, unit: str, *, total: int | None = None, every: int = 1
    ) -> Iterator[Tracker]:
        """A live bar on a terminal (stderr); otherwise a plain line on stderr per `every`
        units: `description: done/total unit`."""
        if self.err.is_terminal:
            counter = DownloadColumn() if unit == "bytes" else MofNCompleteColumn()
            columns = (
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                counter,
                TimeElapsedColumn(),
            )
            with Progress(*columns, console=self.err, transient=True) as progress:
                yield _RichTracker(progress, description, total)
            return
        tracker = _PlainTracker(description, total, every, unit, sys.stderr)
        yield tracker
        tracker.finish()
