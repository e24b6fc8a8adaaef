"""Which tasks a purge may remove: closed ones past the window, never an open one; windows shorter than what must
be kept are refused naming the setting."""

from __future__ import annotations

import datetime as dt

import pytest

from services.casework.domain.retention import purgeable
from services.core.retention import DAY_MS, RetentionRefused, cutoff_ms

NOW = dt.datetime(2031, 6, 1, tzinfo=dt.UTC)


def test_the_cutoff_is_the_window_before_now() -> None:
    cutoff = cutoff_ms(NOW, 1826, 365, "ASSIST_DECIDED_TASK_RETENTION_DAYS")
    assert cutoff == int(NOW.timestamp() * 1000) - 1826 * DAY_MS


def test_a_window_shorter_than_the_least_kept_is_refused_naming_the_setting() -> None:
    with pytest.raises(RetentionRefused, match=r"^ASSIST_DISCLOSURE_RETENTION_DAYS: at least 1095 days"):
        cutoff_ms(NOW, 30, 1095, "ASSIST_DISCLOSURE_RETENTION_DAYS")


@pytest.mark.parametrize(("status", "expected"), [("APPROVED", True), ("REJECTED", True), ("WITHDRAWN", True),
                                                  ("QUEUED", False), ("CLAIMED", False), ("LOST", False)])
def test_only_closed_tasks_past_the_cutoff_are_purgeable(status: str, expected: bool) -> None:
    assert purgeable(status, 1_000, 2_000) is expected
    assert purgeable(status, 3_000, 2_000) is False  # within the window
    assert purgeable(status, 0, 2_000) is False  # no known closing time: kept
