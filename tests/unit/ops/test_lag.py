"""Consumer lag as the lag exporter computes it, and the figures the demo reads back from Prometheus."""

from __future__ import annotations

import pytest

from services.demo.live_figures import Figures, describe, samples, started_by_the_stack
from services.operations.exporter import OffsetsReading
from services.operations.lag import GroupPosition, Offsets, positions, watched


def test_lag_is_what_the_group_has_not_committed_and_never_negative() -> None:
    assert GroupPosition("g", "t", 0, committed=3, end=10).lag == 7
    assert GroupPosition("g", "t", 0, committed=10, end=10).lag == 0
    assert GroupPosition("g", "t", 0, committed=12, end=10).lag == 0  # end read a moment before the commit


def test_positions_leave_out_partitions_without_a_position_or_an_end() -> None:
    found = positions("g", {("t", 0): 4, ("t", 1): -1, ("gone", 0): 2}, {("t", 0): 9, ("t", 1): 5})
    assert found == [GroupPosition("g", "t", 0, 4, 9)]


def test_watched_groups_are_those_with_a_platform_prefix() -> None:
    assert watched(["assist-casework", "other", "assist-casework", "probe-1"], ("assist-",)) == ["assist-casework"]
    assert watched(["b", "a"], ()) == ["a", "b"]


def test_a_reading_exports_end_committed_and_lag_per_partition() -> None:
    reading = OffsetsReading(Offsets({("assist.tasks", 3): 10}, (GroupPosition("assist-casework", "assist.tasks",
                                                                                 3, 4, 10),)), 0.01)
    families = {f.name: f for f in reading.collect()}
    lag = families["assist_kafka_consumer_lag_messages"].samples
    assert [(s.labels, s.value) for s in lag] == [
        ({"group": "assist-casework", "topic": "assist.tasks", "partition": "3"}, 6)]
    assert families["assist_kafka_partition_end_offset"].samples[0].value == 10
    assert families["assist_kafka_offsets_up"].samples[0].value == 1


def test_a_failed_reading_says_so_and_exports_no_stale_offsets() -> None:
    families = {f.name: f for f in OffsetsReading(None, 10.0).collect()}
    assert families["assist_kafka_offsets_up"].samples[0].value == 0
    assert "assist_kafka_consumer_lag_messages" not in families


def test_instant_query_answers_become_samples_and_a_refusal_is_an_error() -> None:
    answer = {"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {"tier": "basic"}, "value": [1.0, "74"]}]}}
    assert samples(answer) == [({"tier": "basic"}, 74.0)]
    with pytest.raises(ValueError, match="bad_data"):
        samples({"status": "error", "error": "bad_data"})


def test_the_demo_prints_each_figure_with_its_labels_and_only_its_own_groups() -> None:
    lines = describe(Figures("http://127.0.0.1:9090", {
        "events_written": [({}, 500.0)], "peak_events_per_second": [({}, 42.5)],
        "offers_by_tier": [({"tier": "special"}, 3.0), ({"tier": "basic"}, 7.0)],
        "lag_by_group": [({"group": "assist-matching-demo-1"}, 5.0), ({"group": "assist-casework-x"}, 9.0)],
    }), "demo-1")
    text = "\n".join(lines)
    assert "events onto assist.events in the last 5 minutes (HTTP and Kafka): 500; peak 42.5 a second" in text
    assert "offers by tier: basic 7, special 3" in text
    assert "assist-matching-demo-1 5" in text and "assist-casework-x" not in text
    assert "http://127.0.0.1:9090/alerts" in text


def test_only_the_stacks_own_prometheus_gives_the_demo_its_figures(tmp_path) -> None:
    assert started_by_the_stack(str(tmp_path / "prometheus" / "prometheus.yml"), tmp_path)
    assert not started_by_the_stack("/etc/prometheus/prometheus.yml", tmp_path)
    assert not started_by_the_stack("", tmp_path)
