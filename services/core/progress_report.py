"""How far a long command got: a progress bar (rich) on a terminal, plain lines when the output is not one.

    with progress_report("rebuilding the casework view", total=tasks, unit="tasks") as progress:
        for task in tasks:
            ...
            progress.advance()

Plain lines (a log file, CI, a pipe) come at most every `every_seconds` and once at the end, so a long run leaves a
bounded number of lines:  `rebuilding the casework view: 1,500 of 6,000 tasks (25 %), 310 tasks/s, 4.8 s`.
A total that is not known (None) gives counts and rates without a share. Both go to standard error by default, so
what a command prints on standard output stays its result.

Not services/matching/progress.py, which is how far the matching worker's agents got on each partition.
"""

from __future__ import annotations

import io
import logging
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import TextIO, TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

T = TypeVar("T")
EVERY_SECONDS = 5.0


class ProgressReport:
    """Progress of one piece of work, `done` of `total` `unit`s; use as a context manager (the end is reported)."""

    def __init__(self, what: str, total: int | None = None, unit: str = "items", stream: TextIO | None = None,
                 every_seconds: float = EVERY_SECONDS, terminal: bool | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.what, self.total, self.unit = what, total, unit
        self.done = 0
        self._stream = stream or sys.stderr
        self._every, self._clock = every_seconds, clock
        self._started = self._last = clock()
        self._terminal = _is_terminal(self._stream) if terminal is None else terminal
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._closed = False

    def __enter__(self) -> ProgressReport:
        if self._terminal:
            console = Console(file=self._stream, force_terminal=True)
            # What the command prints meanwhile is drawn above the bar when it goes to the same terminal, and left
            # where it goes otherwise (a result redirected to a file stays there).
            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn(self.unit), TimeElapsedColumn(), console=console,
                                 redirect_stdout=_is_terminal(sys.stdout))
            self._bar.start()
            self._task = self._bar.add_task(self.what, total=self.total)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close("stopped" if error is not None else "done")

    def advance(self, count: int = 1) -> None:
        """`count` more units done."""
        self.set(self.done + count)

    def set(self, done: int) -> None:
        """`done` units done in all (a count read from elsewhere)."""
        self.done = done
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=done)
            return
        now = self._clock()
        if now - self._last >= self._every:
            self._last = now
            self._write(self.line(now))

    def retotal(self, total: int | None) -> None:
        """The total became known or changed (a second phase of the same work)."""
        self.total = total
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, total=total)

    def close(self, outcome: str = "done") -> None:
        """Stop the bar, or write the last plain line, once."""
        if self._closed:
            return
        self._closed = True
        if self._bar is not None:
            self._bar.stop()
            return
        self._write(self.line(self._clock(), outcome))

    def line(self, now: float, outcome: str | None = None) -> str:
        """The plain line for the state at `now` (`outcome` for the last one)."""
        seconds = max(now - self._started, 0.0)
        rate = f"{self.done / seconds:,.0f} {self.unit}/s" if seconds > 0 else ""
        count = f"{self.done:,} of {self.total:,} {self.unit}" if self.total is not None else \
            f"{self.done:,} {self.unit}"
        share = f" ({100 * self.done / self.total:.0f} %)" if self.total else ""
        head = f"{self.what}: {outcome}, " if outcome else f"{self.what}: "
        return f"{head}{count}{share}" + (f", {rate}" if rate else "") + f", {seconds:.1f} s"

    def _write(self, text: str) -> None:
        self._stream.write(text + "\n")
        self._stream.flush()


def progress_report(what: str, total: int | None = None, unit: str = "items", stream: TextIO | None = None,
                    every_seconds: float = EVERY_SECONDS) -> ProgressReport:
    """A ProgressReport on standard error (or `stream`); a bar when it is a terminal."""
    return ProgressReport(what, total, unit, stream, every_seconds)


def counted(items: Iterable[T], progress: ProgressReport) -> Iterator[T]:
    """`items` as they are taken, each one counted on `progress` (for work that consumes an iterable)."""
    for item in items:
        yield item
        progress.advance()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class LoggedLines(io.StringIO):
    """A stream whose lines become INFO lines of `logger`: progress of work inside a service, whose output is its
    log (JSON lines or text), never a bar."""

    def __init__(self, logger: logging.Logger):
        super().__init__()
        self._logger = logger

    def write(self, text: str) -> int:
        for line in text.splitlines():
            if line.strip():
                self._logger.info("%s", line)
        return len(text)

    def isatty(self) -> bool:
        return False


def logged_progress(what: str, total: int | None, unit: str, logger: logging.Logger,
                    every_seconds: float = EVERY_SECONDS) -> ProgressReport:
    """A ProgressReport written as log lines of `logger` (plain lines at most every `every_seconds`, and the end)."""
    return ProgressReport(what, total, unit, LoggedLines(logger), every_seconds, terminal=False)
