"""Queue order, priority bands and SLA states."""

from __future__ import annotations

import random

import pytest

from services.casework.domain.ordering import (
    DUE_SOON_MS,
    DUE_SPAN,
    PriorityBand,
    QueueFilter,
    SlaState,
    band_of,
    due_of_score,
    priority_of_score,
    queue_score,
    sla_state,
)

NOW = 1_795_000_000_000
HOUR = 3_600_000


def test_higher_priority_sorts_first_whatever_the_deadline():
    assert queue_score(90, NOW + 1000 * HOUR) < queue_score(89, NOW)


def test_equal_priority_sorts_by_earliest_deadline():
    assert queue_score(50, NOW) < queue_score(50, NOW + 1)


def test_score_order_is_priority_then_due_for_random_tasks():
    rng = random.Random(7)
    tasks = [(rng.randint(0, 100), NOW + rng.randint(-100 * HOUR, 100 * HOUR)) for _ in range(2000)]
    by_score = sorted(tasks, key=lambda t: queue_score(*t))
    assert by_score == sorted(tasks, key=lambda t: (-t[0], t[1]))


def test_score_is_exact_in_a_double_and_gives_back_priority_and_due():
    for priority in (0, 1, 50, 99, 100):
        for due in (0, NOW, DUE_SPAN - 1):
            score = float(queue_score(priority, due))
            assert score == queue_score(priority, due)
            assert priority_of_score(score) == priority
            assert due_of_score(score) == due


def test_out_of_range_priorities_are_clamped():
    assert queue_score(150, NOW) == queue_score(100, NOW)
    assert queue_score(-5, NOW) == queue_score(0, NOW)


@pytest.mark.parametrize(("priority", "band"), [
    (100, PriorityBand.URGENT), (80, PriorityBand.URGENT), (79, PriorityBand.HIGH), (60, PriorityBand.HIGH),
    (59, PriorityBand.NORMAL), (40, PriorityBand.NORMAL), (39, PriorityBand.LOW), (0, PriorityBand.LOW)])
def test_priority_bands_cover_zero_to_one_hundred(priority, band):
    assert band_of(priority) is band


def test_band_score_range_holds_exactly_its_priorities():
    for band in PriorityBand:
        low, high = band.score_range()
        for priority in range(101):
            inside = low <= queue_score(priority, NOW) <= high
            assert inside == (band_of(priority) is band)


def test_sla_states_around_the_deadline():
    due = NOW + 24 * HOUR
    assert sla_state(due, NOW) is SlaState.OK
    assert sla_state(due, due - DUE_SOON_MS) is SlaState.DUE_SOON
    assert sla_state(due, due) is SlaState.DUE_SOON
    assert sla_state(due, due + 1) is SlaState.BREACHED


@pytest.mark.parametrize("keep", [
    QueueFilter(), QueueFilter(band=PriorityBand.HIGH), QueueFilter(sla=SlaState.BREACHED),
    QueueFilter(sla=SlaState.DUE_SOON, band=PriorityBand.URGENT), QueueFilter(sla=SlaState.OK),
    QueueFilter(due_before_ms=NOW + 5 * HOUR), QueueFilter(due_before_ms=NOW - HOUR, sla=SlaState.DUE_SOON)])
def test_filter_score_ranges_hold_exactly_the_tasks_the_filter_keeps(keep):
    rng = random.Random(11)
    ranges = keep.score_ranges(NOW)
    assert ranges == sorted(ranges)
    for _ in range(3000):
        priority, due = rng.randint(0, 100), NOW + rng.randint(-48 * HOUR, 48 * HOUR)
        score = queue_score(priority, due)
        in_ranges = any(low <= score <= high for low, high in ranges)
        kept = keep.keeps_due(due, NOW) and (keep.band is None or band_of(priority) is keep.band)
        assert in_ranges == kept
