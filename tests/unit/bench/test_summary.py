"""The one table of `./run bench all`: each benchmark's headline figures from its JSON result."""

from __future__ import annotations

from bench.summary import MISSING, headlines, table


def test_matching_rows_name_each_catalogue_size_next_to_the_passthrough() -> None:
    result = {"passthrough_events_per_second": 20000, "matching_10_events_per_second": 5000,
              "matching_10_vs_passthrough": 0.25, "matching_1000_events_per_second": 4000,
              "matching_1000_vs_passthrough": 0.2, "per_event_cost_1000_vs_10": 1.25}
    rows = headlines("matching", result)
    assert rows[0] == ("matching", "10 policies, events/s per worker", "5,000", "passthrough 20,000 (ratio 0.250)")
    assert rows[1][1] == "1000 policies, events/s per worker"
    assert rows[2] == ("matching", "per event cost 1000 vs 10", "1.250", "target <= 1.5")


def test_a_figure_missing_from_a_result_shows_as_missing_instead_of_failing() -> None:
    rows = headlines("intake", {"http_batches_events_per_second": 9000})
    assert rows[0][2] == "9,000"
    assert MISSING in rows[0][3]
    assert rows[1][2] == MISSING


def test_a_result_of_another_shape_gives_one_row_saying_it_is_unreadable() -> None:
    assert headlines("notification", ["not", "a", "mapping"]) == [
        ("notification", "result", MISSING, "unreadable (AttributeError)")]


def test_casework_has_a_row_per_publishing_mode() -> None:
    rows = headlines("casework", [{"publishing": False, "ops_per_second": 3000, "claimers": 50, "problem_count": 0},
                                  {"publishing": True, "ops_per_second": 2500, "claimers": 50, "problem_count": 0}])
    assert [r[1] for r in rows] == ["claim+decide ops/s, publishing off", "claim+decide ops/s, publishing on"]


def test_latency_rows_give_each_rate_and_the_verdict_at_half_capacity() -> None:
    result = {"rates": [{"rate": 100.0, "sustained": True,
                         "offer_from_202": {"p50_ms": 8.0, "p99_ms": 20.0, "max_ms": 30.0},
                         "task_in_casework_from_202": {"p50_ms": 12.0, "p99_ms": 40.0, "max_ms": 45.0}}],
              "capacity_events_per_second": 100.0, "half_capacity_offer_p99_ms": 20.0,
              "half_capacity_task_p99_ms": 40.0, "target_met": True}
    rows = headlines("latency", result)
    assert rows[0][1:] == ("100/s: 202 → offer p50/p99/max ms", "8.0/20.0/30.0", "task 12.0/40.0/45.0; kept up")
    assert rows[1][3].endswith("target met: yes")


def test_the_table_aligns_its_columns_under_a_header() -> None:
    lines = table([("oracle", "disagreements", "0", ""), ("latency", "highest sustained rate", "1,000", "x")])
    assert lines[0].startswith("benchmark")
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert lines[2].index("0") == lines[3].index("1,000") + len("1,000") - 1
