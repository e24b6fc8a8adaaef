"""A partition that stops moving while messages wait on it is seen: lag, age of the oldest waiting message,
stalled; an idle partition with nothing waiting is not stalled."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from services.matching.metrics import MatchingMetrics
from services.matching.progress import PartitionProgress, RecoveryProgress

INBOX = ("assist.matching.households", 3)
IDLE = ("assist.matching.households", 4)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def sample(metrics: MatchingMetrics, name: str, tp: tuple[str, int]) -> float | None:
    return metrics.registry.get_sample_value(name, {"topic": tp[0], "partition": str(tp[1])})


def test_a_partition_with_waiting_messages_that_does_not_move_is_stalled_after_the_stall_time() -> None:
    clock, metrics = Clock(), MatchingMetrics(CollectorRegistry())
    progress = PartitionProgress(metrics, stall_seconds=120, clock=clock)
    highwaters = {INBOX: 5_000, IDLE: 40}
    progress.note(*INBOX, 1_490)
    progress.note(*IDLE, 39)
    assert progress.observe([INBOX, IDLE], highwaters.get, {}) == []
    clock.now += 60
    progress.observe([INBOX, IDLE], highwaters.get, {})
    assert sample(metrics, "assist_matching_partition_lag_messages", INBOX) == 3_509
    assert sample(metrics, "assist_matching_oldest_unprocessed_age_seconds", INBOX) == 60
    assert sample(metrics, "assist_matching_partition_stalled", INBOX) == 0
    clock.now += 61
    stalled = progress.observe([INBOX, IDLE], highwaters.get, {})
    assert stalled == ["assist.matching.households/3 has not moved for 121 s with 3509 records waiting"]
    assert sample(metrics, "assist_matching_partition_stalled", INBOX) == 1
    assert sample(metrics, "assist_matching_partition_stalled", IDLE) == 0
    assert sample(metrics, "assist_matching_oldest_unprocessed_age_seconds", IDLE) == 0


def test_progress_clears_the_stall_and_a_revoked_partition_leaves_the_metrics() -> None:
    clock, metrics = Clock(), MatchingMetrics(CollectorRegistry())
    progress = PartitionProgress(metrics, stall_seconds=120, clock=clock)
    progress.observe([INBOX], {INBOX: 10}.get, {INBOX: 2})
    clock.now += 200
    assert progress.observe([INBOX], {INBOX: 10}.get, {INBOX: 2})
    assert progress.observe([INBOX], {INBOX: 10}.get, {INBOX: 10}) == []
    progress.note(*INBOX, 9)
    assert progress.observe([INBOX], {INBOX: 10}.get, {}) == []
    assert sample(metrics, "assist_matching_partition_lag_messages", INBOX) == 0
    progress.observe([], {}.get, {})
    assert sample(metrics, "assist_matching_partition_lag_messages", INBOX) is None


def test_a_partition_that_processes_but_does_not_commit_is_stalled_too() -> None:
    clock, metrics = Clock(), MatchingMetrics(CollectorRegistry())
    progress = PartitionProgress(metrics, stall_seconds=120, clock=clock)
    for step in range(30):
        progress.note(*INBOX, 969 + step * 16)  # processing goes on
        progress.observe([INBOX], {INBOX: 1_443}.get, {INBOX: 969})  # the commit stays
        clock.now += 5
    assert progress.stalled == ["assist.matching.households/3 has not moved for 145 s with 474 records waiting"]


def test_a_partition_nothing_is_known_of_yet_is_not_judged() -> None:
    progress = PartitionProgress(MatchingMetrics(CollectorRegistry()), stall_seconds=0, clock=Clock())
    assert progress.observe([IDLE], {IDLE: 5_000}.get, {}) == []


def test_a_first_message_that_never_finishes_counts_as_waiting() -> None:
    clock = Clock()
    progress = PartitionProgress(MatchingMetrics(CollectorRegistry()), stall_seconds=120, clock=clock)
    progress.taken(*INBOX, 0)
    progress.observe([INBOX], {INBOX: 4}.get, {})
    clock.now += 130
    assert progress.observe([INBOX], {INBOX: 4}.get, {}) == [
        "assist.matching.households/3 has not moved for 130 s with 4 records waiting"]


def test_a_partition_idle_for_long_is_not_stalled_the_moment_a_message_arrives() -> None:
    clock, metrics = Clock(), MatchingMetrics(CollectorRegistry())
    progress = PartitionProgress(metrics, stall_seconds=120, clock=clock)
    highwaters = {IDLE: 40}
    progress.note(*IDLE, 39)
    assert progress.observe([IDLE], highwaters.get, {}) == []
    clock.now += 600  # nothing arrives for ten minutes
    assert progress.observe([IDLE], highwaters.get, {}) == []
    highwaters[IDLE] = 43  # then three messages do, and the next observation sees them waiting
    clock.now += 5
    assert progress.observe([IDLE], highwaters.get, {}) == []
    assert sample(metrics, "assist_matching_oldest_unprocessed_age_seconds", IDLE) == 5
    clock.now += 120
    assert progress.observe([IDLE], highwaters.get, {}) == [
        "assist.matching.households/4 has not moved for 125 s with 3 records waiting"]


def test_a_table_recovery_that_does_not_move_is_stalled_after_the_stall_time() -> None:
    clock = Clock()
    recovery = RecoveryProgress(stall_seconds=120, clock=clock)
    assert recovery.observe(10) is None
    clock.now += 100
    assert recovery.observe(500) is None
    clock.now += 119
    assert recovery.observe(500) is None
    clock.now += 1
    assert recovery.observe(500) == "table recovery has not moved for 120 s"


def test_a_finished_recovery_counts_again_from_the_next_one() -> None:
    clock = Clock()
    recovery = RecoveryProgress(stall_seconds=120, clock=clock)
    recovery.observe(500)
    clock.now += 200
    recovery.finished()
    assert recovery.observe(500) is None


def test_a_partition_held_behind_the_workers_backlog_is_not_stalled_while_the_worker_gets_through_it() -> None:
    clock, metrics = Clock(), MatchingMetrics(CollectorRegistry())
    progress = PartitionProgress(metrics, stall_seconds=30, clock=clock)
    busy, held = ("assist.matching.households", 1), ("assist.events", 2)
    highwaters = {busy: 20_000, held: 400}
    committed = {busy: 0, held: 100}
    for _ in range(12):  # 60 s: the busy partition moves 250 records/s, the held one waits behind it
        assert progress.observe([busy, held], highwaters.get, committed) == []
        clock.now += 5
        committed[busy] += 1_250
    assert sample(metrics, "assist_matching_oldest_unprocessed_age_seconds", held) == 55
    assert sample(metrics, "assist_matching_partition_stalled", held) == 0


def test_a_partition_that_stays_still_once_the_rest_of_the_backlog_is_through_is_stalled() -> None:
    clock, metrics = Clock(), MatchingMetrics(CollectorRegistry())
    progress = PartitionProgress(metrics, stall_seconds=30, clock=clock)
    busy, stuck = ("assist.matching.households", 1), ("assist.matching.households", 2)
    highwaters = {busy: 2_000, stuck: 3_609}
    committed = {busy: 0, stuck: 100}
    found: list[str] = []
    started = clock.now
    for _ in range(60):  # the busy partition drains in 40 s, then only the stuck one waits
        found = progress.observe([busy, stuck], highwaters.get, committed)
        if found:
            break
        clock.now += 5
        committed[busy] = min(2_000, committed[busy] + 250)
    waited = clock.now - started
    assert found == [f"assist.matching.households/2 has not moved for {waited:.0f} s with 3509 records waiting"]
    assert 40 + 30 <= waited <= 120
    assert sample(metrics, "assist_matching_partition_stalled", stuck) == 1
    assert sample(metrics, "assist_matching_partition_stalled", busy) == 0


def test_a_partition_held_behind_records_that_arrived_after_its_wait_began_is_not_stalled() -> None:
    clock, metrics = Clock(), MatchingMetrics(CollectorRegistry())
    progress = PartitionProgress(metrics, stall_seconds=30, clock=clock)
    flood, held = ("assist.events", 1), ("assist.matching.households", 4)
    highwaters = {flood: 10, held: 112}
    committed = {flood: 0, held: 100}
    assert progress.observe([flood, held], highwaters.get, committed) == []
    for _ in range(12):  # 10,000 events arrive at once and are routed at 200/s while the 12 records wait
        clock.now += 5
        highwaters[flood] = 10_010
        committed[flood] += 1_000
        assert progress.observe([flood, held], highwaters.get, committed) == []
    assert sample(metrics, "assist_matching_oldest_unprocessed_age_seconds", held) == 60
