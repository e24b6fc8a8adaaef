"""The open-loop schedule, percentiles and the rate sweep of the latency benchmark."""

from __future__ import annotations

import pytest

from bench.open_loop import Latency, next_rate, percentile, send_times, sustained, ticks


def test_send_times_are_planned_evenly_from_the_start() -> None:
    times = send_times(4, 2, start=10.0)
    assert times == [10.0, 10.25, 10.5, 10.75, 11.0, 11.25, 11.5, 11.75]


def test_send_times_refuse_a_rate_of_zero() -> None:
    with pytest.raises(ValueError, match="positive rate"):
        send_times(0, 5, start=0.0)


def test_ticks_group_the_times_of_one_tick_and_keep_every_index_once() -> None:
    times = send_times(1000, 0.05, start=0.0)
    groups = ticks(times, 0.01)
    assert [len(indexes) for _, indexes in groups] == [10, 10, 10, 10, 10]
    assert sorted(i for _, indexes in groups for i in indexes) == list(range(50))
    assert [round(at, 6) for at, _ in groups] == [0.0, 0.01, 0.02, 0.03, 0.04]


def test_a_tick_never_sends_before_its_first_planned_time() -> None:
    groups = ticks([0.005, 0.025], 0.01)
    assert groups == [(0.005, [0]), (0.025, [1])]


def test_a_tick_of_zero_sends_each_event_alone() -> None:
    assert ticks([1.0, 1.0, 2.0], 0) == [(1.0, [0]), (1.0, [1]), (2.0, [2])]


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([7.0], 99) == 7.0


def test_percentile_of_two_values_p99_is_the_larger_one() -> None:
    assert percentile([1.0, 3.0], 99) == 3.0


def test_percentile_refuses_nothing_and_values_outside_0_to_100() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match="between 0 and 100"):
        percentile([1.0], 101)


def test_latency_figures_are_milliseconds_and_empty_when_nothing_came() -> None:
    assert Latency.of([0.010, 0.020, 0.030]) == Latency(3, 20.0, 30.0, 30.0)
    assert Latency.of([]) == Latency(0, None, None, None)


def test_a_rate_is_sustained_only_when_everything_kept_up() -> None:
    assert sustained(1000, 1000, 0.01, 40.0, 0.5).sustained
    assert not sustained(1000, 980, 0.01, 40.0, 0.5).sustained
    assert "sender fell behind" in sustained(1000, 1000, 0.8, 40.0, 0.5).why
    assert "queue grew" in sustained(1000, 1000, 0.01, 2500.0, 0.5).why
    assert "catch up" in sustained(1000, 1000, 0.01, 40.0, 12.0).why
    assert not sustained(1000, 1000, 0.01, None, 0.5).sustained


def test_the_sweep_runs_the_fixed_rates_then_doubles_while_sustained() -> None:
    fixed = [100.0, 500.0, 1000.0]
    assert next_rate([], fixed, 8000) == 100.0
    assert next_rate([(100, True)], fixed, 8000) == 500.0
    assert next_rate([(100, True), (500, True), (1000, True)], fixed, 8000) == 2000.0
    assert next_rate([(100, True), (500, True), (1000, True), (2000, True), (4000, True), (8000, True)],
                     fixed, 8000, extra=5) is None


def test_the_sweep_halves_the_gap_after_a_rate_not_sustained() -> None:
    fixed = [100.0, 500.0, 1000.0]
    done = [(100.0, True), (500.0, False), (1000.0, False)]
    assert next_rate(done, fixed, 8000) == 300.0
    assert next_rate([*done, (300.0, True)], fixed, 8000) == 400.0
    assert next_rate([*done, (300.0, True), (400.0, True)], fixed, 8000) == 450.0
    assert next_rate([*done, (300.0, True), (400.0, True), (450.0, True)], fixed, 8000) is None


def test_the_sweep_is_bounded_in_runs() -> None:
    done = [(100.0, False)]
    steps = 0
    while (rate := next_rate(done, [100.0], 8000, extra=4)) is not None:
        done.append((rate, False))
        steps += 1
    assert steps <= 4
    assert done[1][0] == 50.0
