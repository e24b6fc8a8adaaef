"""Open-loop load and its latency figures (pure): send times fixed before the run, percentiles, and whether a rate
was sustained.

An open-loop generator sends at the times it planned, whether or not earlier requests were answered, so a stall of
the system under test shows as latency instead of silently lowering the offered rate (coordinated omission).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def send_times(rate: float, seconds: float, start: float) -> list[float]:
    """Evenly spaced send times: `rate` per second for `seconds` from `start` (round(rate × seconds) of them)."""
    if rate <= 0 or seconds <= 0:
        raise ValueError("an open-loop schedule needs a positive rate and duration")
    count = round(rate * seconds)
    return [start + i / rate for i in range(count)]


def ticks(times: Sequence[float], tick: float) -> list[tuple[float, list[int]]]:
    """The indexes of `times` grouped by the tick they fall in, each group sent at its tick's start (or at its
    first time when that is later). A tick of 0 sends every time on its own."""
    if tick <= 0:
        return [(t, [i]) for i, t in enumerate(times)]
    groups: list[tuple[float, list[int]]] = []
    current = -math.inf
    for i, t in enumerate(times):
        slot = math.floor(t / tick) * tick
        if slot != current:
            groups.append((max(slot, t), []))
            current = slot
        groups[-1][1].append(i)
    return groups


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of ascending `sorted_values` (p in 0..100): the smallest value with at least p % of
    the values at or below it."""
    if not sorted_values:
        raise ValueError("no values to take a percentile of")
    if not 0 <= p <= 100:
        raise ValueError("a percentile is between 0 and 100")
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass(frozen=True)
class Latency:
    """p50, p99 and max of one set of latencies, in milliseconds; count 0 when nothing was measured."""

    count: int
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None

    @classmethod
    def of(cls, seconds: Iterable[float]) -> Latency:
        values = sorted(seconds)
        if not values:
            return cls(0, None, None, None)
        return cls(len(values), round(percentile(values, 50) * 1000, 1), round(percentile(values, 99) * 1000, 1),
                   round(values[-1] * 1000, 1))


@dataclass(frozen=True)
class Verdict:
    sustained: bool
    why: str


def sustained(planned: int, accepted: int, send_lag_p99_s: float, offer_p99_ms: float | None,
              backlog_seconds: float, *, ceiling_ms: float = 1000.0, drain_s: float = 5.0) -> Verdict:
    """Whether the system kept up with an offered rate: (almost) every event accepted, the generator on schedule,
    the end-to-end p99 under `ceiling_ms` (a queue that grows through the run pushes p99 into seconds) and the
    backlog gone within `drain_s` of the last send."""
    if accepted < 0.99 * planned:
        return Verdict(False, f"intake accepted {accepted} of {planned}")
    if send_lag_p99_s > 0.5:
        return Verdict(False, f"requests left {send_lag_p99_s:.2f} s late (p99): the sender fell behind")
    if offer_p99_ms is None:
        return Verdict(False, "no offer came back")
    if offer_p99_ms > ceiling_ms:
        return Verdict(False, f"p99 {offer_p99_ms:.0f} ms > {ceiling_ms:.0f} ms: a queue grew during the run")
    if backlog_seconds > drain_s:
        return Verdict(False, f"matching needed {backlog_seconds:.1f} s after the last send to catch up")
    return Verdict(True, "kept up")


def next_rate(done: Sequence[tuple[float, bool]], fixed: Sequence[float], ceiling: float,
              extra: int = 4) -> float | None:
    """The rate to run after `done` ((rate, sustained) in the order run): first every `fixed` rate; then double
    while every rate was sustained, up to `ceiling`; once a rate was not, halve the gap between the highest
    sustained rate and the lowest rate above it that was not, until the gap is within 20 % (or 25/s); at most
    `extra` runs after the fixed ones. None when done."""
    if len(done) < len(fixed):
        return fixed[len(done)]
    if len(done) >= len(fixed) + extra:
        return None
    kept = max((r for r, ok in done if ok), default=0.0)
    above = [r for r, ok in done if not ok and r > kept]
    if not above:
        doubled = max(r for r, _ in done) * 2
        return doubled if doubled <= ceiling else None
    lowest_failed = min(above)
    if lowest_failed - kept <= max(25.0, 0.2 * kept):
        return None
    return float(round((kept + lowest_failed) / 2 / 5) * 5)
