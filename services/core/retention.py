"""Retention windows (docs/retention.md): how far back a purge may remove, from a window in days and the least the
law or the record requires. Pure: the clock is the caller's."""

from __future__ import annotations

import datetime as dt

DAY_MS = 86_400_000


class RetentionRefused(ValueError):
    """A window shorter than what must be kept; the message names the setting."""


def cutoff_ms(now: dt.datetime, days: int, minimum_days: int, setting: str) -> int:
    """Epoch milliseconds before which records may go: `days` before `now`. RetentionRefused naming `setting`
    when `days` is shorter than `minimum_days` (a purge then removes nothing)."""
    if days < minimum_days:
        raise RetentionRefused(f"{setting}: at least {minimum_days} days must be kept, not {days}")
    return int(now.timestamp() * 1000) - days * DAY_MS
