"""Progress of long commands: plain lines at a bounded rate and a final line off a terminal, a rich bar on one."""

from __future__ import annotations

import io
import itertools
import logging

import pytest

from services.core.progress_report import ProgressReport, counted, logged_progress, progress_report


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_off_a_terminal_lines_come_at_most_every_interval_and_once_at_the_end() -> None:
    out, clock = io.StringIO(), Clock()
    with ProgressReport("sending events", 10_000, "events", out, every_seconds=5.0, terminal=False,
                        clock=clock) as progress:
        for _ in range(10_000):
            clock.now += 0.003  # 30 s in all
            progress.advance()
    *periodic, last = out.getvalue().splitlines()
    assert 5 <= len(periodic) <= 30 // 5
    seconds = [float(line.rsplit(", ", 1)[1].removesuffix(" s")) for line in periodic]
    assert all(later - earlier >= 4.95 for earlier, later in itertools.pairwise(seconds))
    lines = [*periodic, last]
    assert lines[0].startswith("sending events: 1,667 of 10,000 events (17 %), 333 events/s, 5.0 s")
    assert lines[-1] == "sending events: done, 10,000 of 10,000 events (100 %), 333 events/s, 30.0 s"


def test_a_command_that_takes_less_than_the_interval_writes_only_its_final_line() -> None:
    out, clock = io.StringIO(), Clock()
    with ProgressReport("rebuilding", 3, "tasks", out, terminal=False, clock=clock) as progress:
        progress.advance(3)
        clock.now += 0.5
    assert out.getvalue().splitlines() == ["rebuilding: done, 3 of 3 tasks (100 %), 6 tasks/s, 0.5 s"]


def test_an_unknown_total_gives_counts_and_a_failure_says_stopped() -> None:
    out, clock = io.StringIO(), Clock()
    with pytest.raises(RuntimeError), ProgressReport("downloading", None, "artifacts", out, terminal=False,
                                                     clock=clock) as progress:
        progress.set(12)
        clock.now += 2
        raise RuntimeError("broken pipe")
    assert out.getvalue().splitlines() == ["downloading: stopped, 12 artifacts, 6 artifacts/s, 2.0 s"]


def test_counted_items_advance_as_they_are_taken() -> None:
    out = io.StringIO()
    with ProgressReport("publishing", 4, "households", out, terminal=False) as progress:
        assert list(counted(["a", "b", "c", "d"], progress)) == ["a", "b", "c", "d"]
        assert progress.done == 4


def test_on_a_terminal_the_bar_is_drawn_by_rich_and_ends_at_the_total() -> None:
    out = io.StringIO()
    with ProgressReport("sending events", 50, "events", out, terminal=True) as progress:
        for _ in range(50):
            progress.advance()
        progress.retotal(60)
        progress.advance(10)
    text = out.getvalue()
    assert "sending events" in text and "60/60" in text and "\x1b[" in text  # drawn with terminal controls


def test_the_report_goes_to_standard_error_and_is_plain_there_when_it_is_not_a_terminal(capsys) -> None:
    with progress_report("benchmark", 2, "rounds") as progress:
        progress.advance(2)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("benchmark: done, 2 of 2 rounds (100 %)")


def test_progress_inside_a_service_becomes_its_log_lines_never_a_bar(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tests.progress")
    with (caplog.at_level(logging.INFO, logger="tests.progress"),
          logged_progress("re-evaluation commands", 2_000, "households", logger, every_seconds=3600) as progress):
        for _ in range(2_000):
            progress.advance()
    lines = [r.getMessage() for r in caplog.records if r.name == "tests.progress"]
    assert len(lines) == 1
    assert lines[0].startswith("re-evaluation commands: done, 2,000 of 2,000 households (100 %)")
