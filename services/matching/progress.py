"""How far the worker's agents got on each partition they read, so a partition that stops moving while messages
wait on it is seen: as metrics (lag, age of the oldest waiting message, stalled), on /healthz and on /readyz.

faust-streaming has open reports of streams that slowly stop processing one partition with no error logged
(faust-streaming/faust #175, #640) and of offsets committed wrongly around gaps (#606); the fault suite saw a
partition of assist.matching.households stop committing after a SIGKILL and restart, with 474 messages waiting and
nothing logged. The consumer's own position moves on as it fetches into the stream's buffer, so a partition's
position here is what faust *committed* there (what it published the records of), else what the agents noted as
processed; the highwater says what waits. A partition whose position does not move while messages wait is
stalled whether processing or committing stopped."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from services.core.readiness import STALL_SECONDS, Seen, stalled
from services.matching.metrics import MatchingMetrics

Partition = tuple[str, int]


@dataclass
class PartitionProgress:
    metrics: MatchingMetrics
    stall_seconds: float = STALL_SECONDS
    clock: Callable[[], float] = time.monotonic
    processed: dict[Partition, int] = field(default_factory=dict)
    """The next offset to process per partition (the last one processed + 1)."""
    _seen: dict[Partition, Seen] = field(default_factory=dict)
    _stalled: list[str] = field(default_factory=list)
    _labelled: set[Partition] = field(default_factory=set)

    def taken(self, topic: str, partition: int, offset: int) -> None:
        """An agent took the message at `offset` from its stream: on a partition nothing is known of yet, that is
        where processing stands (so a first message that never finishes counts as waiting)."""
        self.processed.setdefault((topic, partition), offset)

    def note(self, topic: str, partition: int, offset: int) -> None:
        """An agent finished the message at `offset` (handled, dead-lettered or recognised as a replay)."""
        tp = (topic, partition)
        if offset + 1 > self.processed.get(tp, -1):
            self.processed[tp] = offset + 1

    def observe(self, assigned: Iterable[Partition], highwater: Callable[[Partition], int | None],
                committed: Mapping[Partition, int]) -> list[str]:
        """Compare each assigned partition's position (`committed` there, else processed) with its highwater;
        update the metrics; the partitions stalled (messages wait and the position has not moved for
        `stall_seconds`). A partition with neither is not judged yet."""
        now = self.clock()
        assigned = sorted(tp for tp in set(assigned) if tp in committed or tp in self.processed)
        positions = {tp: (committed[tp] if tp in committed else self.processed[tp], highwater(tp))
                     for tp in assigned}
        # The time without progress counts while messages wait, not while a partition is idle: a partition idle
        # for longer than the stall time was judged stalled the moment its next message arrived.
        idle = {tp for tp, (position, high) in positions.items() if high is None or high <= position}
        previous = {tp: seen for tp, seen in self._seen.items() if tp not in idle}
        self._seen, self._stalled = stalled(previous, positions, now, self.stall_seconds)
        metrics = self.metrics
        for tp in self._labelled - set(assigned):
            for gauge in (metrics.partition_lag, metrics.oldest_waiting_age, metrics.partition_stalled):
                gauge.remove(*map(str, tp))
        self._labelled = set(assigned)
        for tp, (position, high) in positions.items():
            waiting = max(0, (high if high is not None else position) - position)
            age = now - self._seen[tp].since if waiting else 0.0
            labels = (tp[0], str(tp[1]))
            metrics.partition_lag.labels(*labels).set(waiting)
            metrics.oldest_waiting_age.labels(*labels).set(age)
            metrics.partition_stalled.labels(*labels).set(1 if waiting and age >= self.stall_seconds else 0)
        return list(self._stalled)

    @property
    def stalled(self) -> list[str]:
        """Why partitions are stalled, as of the last observation (empty: none is)."""
        return list(self._stalled)

    def waiting_by_design(self) -> None:
        """The agents wait on purpose (for a catalogue, for tables to recover): nothing is judged, and the time
        without progress counts again from the next observation."""
        self._seen.clear()
        self._stalled = []

    def revoked(self, *args: object, **kwargs: object) -> None:
        """On a rebalance (a faust signal's receiver): positions start again from what was committed."""
        self.processed.clear()
        self._seen.clear()


@dataclass
class RecoveryProgress:
    """faust's table recovery (reading the changelogs after an assignment) that stops moving. The agents wait for
    it by design, so the partition check above does not judge anything meanwhile; the offsets recovered so far say
    whether it moves."""

    stall_seconds: float = STALL_SECONDS
    clock: Callable[[], float] = time.monotonic
    _since: tuple[int, float] | None = None

    def observe(self, recovered: int) -> str | None:
        """`recovered`: the changelog offsets read so far, summed; why recovery is stalled, else None."""
        now = self.clock()
        if self._since is None or self._since[0] != recovered:
            self._since = (recovered, now)
            return None
        waited = now - self._since[1]
        return f"table recovery has not moved for {waited:.0f} s" if waited >= self.stall_seconds else None

    def finished(self) -> None:
        self._since = None
