"""How far the worker's agents got on each partition they read, so a partition that stops moving while messages
wait on it is seen: as metrics (lag, age of the oldest waiting message, stalled), on /healthz and on /readyz.

faust-streaming has open reports of streams that slowly stop processing one partition with no error logged
(faust-streaming/faust #175, #640) and of offsets committed wrongly around gaps (#606). The consumer's own
position moves on as it fetches into the stream's buffer, so the agents note what they *processed*, and the
highwater says what waits."""

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

    def note(self, topic: str, partition: int, offset: int) -> None:
        """An agent finished the message at `offset` (handled, dead-lettered or recognised as a replay)."""
        tp = (topic, partition)
        if offset + 1 > self.processed.get(tp, -1):
            self.processed[tp] = offset + 1

    def observe(self, assigned: Iterable[Partition], highwater: Callable[[Partition], int | None],
                fetched: Mapping[Partition, int]) -> list[str]:
        """Compare each assigned partition's processed offset with its highwater; update the metrics; the
        partitions stalled (messages wait and nothing was processed for `stall_seconds`). `fetched` is the
        consumer's position, used for a partition nothing was processed on since the worker started."""
        now = self.clock()
        assigned = sorted(set(assigned))
        positions = {tp: (self.processed.get(tp, fetched.get(tp, 0)), highwater(tp)) for tp in assigned}
        self._seen, self._stalled = stalled(self._seen, positions, now, self.stall_seconds)
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

    def revoked(self, *args: object, **kwargs: object) -> None:
        """On a rebalance (a faust signal's receiver): positions start again from what was committed."""
        self.processed.clear()
        self._seen.clear()
