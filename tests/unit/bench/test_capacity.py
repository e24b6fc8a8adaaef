"""The capacity plan's derivation: each figure from the measured results by its formula."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from bench.capacity import derive, measured, read_results
from bench.capacity_inputs import HEADROOM, MONITORED, UTILISATION


def figures(m: dict[str, object]) -> dict[str, float | None]:
    return {f.name: f.value for f in derive(m)}


def test_workers_come_from_the_design_rate_and_the_measured_rate_per_worker() -> None:
    got = figures({"worker_events_per_second": 1000})
    design = got["design rate"]
    peak = got["coincident peak"]
    assert design is not None and peak is not None and design == peak * HEADROOM
    assert got["matching workers"] == math.ceil(design / (1000 * UTILISATION))


def test_partitions_are_a_power_of_two_with_room_for_four_times_the_workers_and_at_least_64() -> None:
    few = figures({"worker_events_per_second": 1_000_000})
    assert few["household partitions"] == 64
    many = figures({"worker_events_per_second": 100})
    workers = many["matching workers"]
    assert workers is not None
    partitions = many["household partitions"]
    assert partitions is not None and partitions >= 4 * workers and math.log2(partitions).is_integer()


def test_a_missing_measurement_gives_no_figure_and_says_what_it_needs() -> None:
    plan = {f.name: f for f in derive({})}
    assert plan["matching workers"].value is None
    assert plan["RocksDB, all workers"].formula == "needs footprint.json"
    assert plan["national re-evaluation"].value is None


def test_the_national_re_evaluation_scales_the_measured_seconds_per_person() -> None:
    got = figures({"reevaluation_persons": 1_000_000, "reevaluation_seconds": 0.2,
                   "reevaluation_all_policies_seconds": 0.5, "columns_bytes_per_person": 100.0})
    assert got["national re-evaluation, one rule"] == 0.2 / 1_000_000 * MONITORED
    assert got["national re-evaluation, every re-evaluation policy"] == 0.5 / 1_000_000 * MONITORED
    assert got["population columns in memory"] == 100.0 * MONITORED / 1e9


def test_measured_takes_the_largest_catalogue_and_ratios_per_event_from_the_footprint() -> None:
    m = measured({
        "matching": {"matching_10_events_per_second": 900, "matching_1000_events_per_second": 800},
        "footprint": {"matching": {"events": 1000, "rocksdb_bytes_per_person_after_events": 300.0,
                                   "topics_on_disk": {"assist.offers": {"records": 250, "bytes": 250_000,
                                                                        "bytes_per_record": 1000.0},
                                                      "changelog households-changelog": {
                                                          "records": 2000, "bytes": 400_000,
                                                          "bytes_per_record": 200.0}}}}})
    assert (m["worker_events_per_second"], m["worker_policies"]) == (800, 1000)
    assert m["offers_per_event"] == 0.25
    assert m["offer_bytes"] == 1000.0
    assert m["changelog_bytes_per_event"] == 400.0
    assert m["tasks_per_event"] is None


def test_the_newest_result_of_a_benchmark_is_read_whatever_its_variant_name(tmp_path: Path) -> None:
    older, newer = tmp_path / "matching.json", tmp_path / "matching-after.json"
    older.write_text(json.dumps({"matching_10_events_per_second": 800}))
    newer.write_text(json.dumps({"matching_10_events_per_second": 5000}))
    os.utime(older, (1_000_000, 1_000_000))
    (tmp_path / "matching-profile-after.txt").write_text("not a result")
    (tmp_path / "matchingx.json").write_text("{}")
    found = read_results(tmp_path)
    assert found["matching"] == {"matching_10_events_per_second": 5000}
    assert found["files"]["matching"] == "matching-after.json"
    assert measured(found)["worker_rate_from"] == "matching-after.json"


def test_a_re_evaluation_run_at_several_sizes_is_read_at_its_largest() -> None:
    m = measured({"reevaluation": {"sizes": {"1M": {"persons": 1_000_000, "reevaluation_seconds": 0.01},
                                             "10M": {"persons": 10_000_000, "reevaluation_seconds": 0.2}}}})
    assert (m["reevaluation_persons"], m["reevaluation_seconds"]) == (10_000_000, 0.2)


def test_records_per_event_are_counted_against_what_assist_events_gained_in_the_same_run() -> None:
    m = measured({"footprint": {"matching": {"events": 1000, "topics_on_disk": {
        "assist.events": {"records": 2000, "bytes": 700_000, "bytes_per_record": 350.0},
        "assist.offers": {"records": 500, "bytes": 900_000, "bytes_per_record": 1800.0}}}}})
    assert m["offers_per_event"] == 0.25


def test_a_worker_s_speed_comes_from_the_newest_single_worker_run(tmp_path: Path) -> None:
    single, group = tmp_path / "matching-workers-1.json", tmp_path / "matching-workers-2.json"
    single.write_text(json.dumps({"workers": 1, "matching_10_events_per_second": 340}))
    group.write_text(json.dumps({"workers": 2, "matching_10_events_per_second": 600}))
    os.utime(single, (1_000_000, 1_000_000))
    (tmp_path / "matching-before-short.json").write_text(json.dumps({"workers": 1, "matching_10_events_per_second": 9}))
    assert measured(read_results(tmp_path))["worker_events_per_second"] == 340
