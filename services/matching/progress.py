"""How far the worker's agents got on each partition they read, so a partition that stops moving while messages
wait on it is seen: as metrics (lag, age of the oldest waiting message, stalled), on /healthz and on /readyz.

faust-streaming has open reports of streams that slowly stop processing one partition with no error logged
(faust-streaming/faust #175, #640) and of offsets committed wrongly around gaps (#606); the fault suite saw a
partition of assist.matching.households stop committing after a SIGKILL and restart, with 474 messages waiting and
nothing logged. The consumer's own position moves on as it fetches into the stream's buffer, so a partition's
position here is what faust *committed* there (what it published the records of), else what the agents noted as
processed; the highwater says what waits. A partition whose position does not move while messages wait is
stalled whether processing or committing stopped.

Not every such pause is a stop. The worker's agents share one fetcher, which hands an agent's records over only as
its buffer takes them: under a backlog a busy agent (the household agent loading the registry) holds back the
others' partitions, and one partition's records can sit behind thousands of others'. Such a partition moves once the
worker gets through what waits before it; a stopped one never does. So a partition is stalled when nothing on the
worker moved for the stall time, or when it waited longer than STARVED_FACTOR times what the worker needs, at the
rate it moved over the stall time, for the most it had waiting during that wait (once the backlog is through, a
stopped partition is the one thing left not moving, and the first rule finds it). With the stall time alone, the
worker of a clean fault-suite run of 100,000 events stopped itself five times on such pauses of 30 s."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from services.core.readiness import STALL_SECONDS, Seen, stalled
from services.matching.metrics import MatchingMetrics

Partition = tuple[str, int]
STARVED_FACTOR = 2.0
"""How much longer than the worker's time for its whole backlog a partition may wait behind the others."""


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
    _positions: dict[Partition, int] = field(default_factory=dict)
    _moves: list[tuple[float, int]] = field(default_factory=list)
    """(when, records the worker's positions moved by since the observation before), over the last stall time."""
    _backlog: dict[Partition, int] = field(default_factory=dict)
    """The most records waiting on the worker during each partition's present wait (records arriving meanwhile
    may be handed over before the partition's own)."""

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
        `stall_seconds`, or for longer than the worker needs for its backlog while it moves on others: see the
        module's docstring). A partition with neither is not judged yet."""
        now = self.clock()
        assigned = sorted(tp for tp in set(assigned) if tp in committed or tp in self.processed)
        positions = {tp: (committed[tp] if tp in committed else self.processed[tp], highwater(tp))
                     for tp in assigned}
        # The time without progress counts while messages wait, not while a partition is idle: a partition idle
        # for longer than the stall time was judged stalled the moment its next message arrived.
        idle = {tp for tp, (position, high) in positions.items() if high is None or high <= position}
        previous = {tp: seen for tp, seen in self._seen.items() if tp not in idle}
        self._seen, _ = stalled(previous, positions, now, self.stall_seconds)
        waiting = {tp: max(0, (high if high is not None else position) - position)
                   for tp, (position, high) in positions.items()}
        rate = self._rate(now, {tp: position for tp, (position, _) in positions.items()})
        total = sum(waiting.values())
        self._backlog = {tp: max(self._backlog.get(tp, 0), total) if self._seen[tp].since < now else total
                         for tp in assigned}
        ages = {tp: now - self._seen[tp].since if waiting[tp] else 0.0 for tp in assigned}
        judged = [tp for tp in assigned if waiting[tp] and ages[tp] >= self._allowed(rate, self._backlog[tp])]
        self._stalled = [f"{tp[0]}/{tp[1]} has not moved for {ages[tp]:.0f} s with {waiting[tp]} records waiting"
                         for tp in judged]
        metrics = self.metrics
        for tp in self._labelled - set(assigned):
            for gauge in (metrics.partition_lag, metrics.oldest_waiting_age, metrics.partition_stalled):
                gauge.remove(*map(str, tp))
        self._labelled = set(assigned)
        for tp in assigned:
            labels = (tp[0], str(tp[1]))
            metrics.partition_lag.labels(*labels).set(waiting[tp])
            metrics.oldest_waiting_age.labels(*labels).set(ages[tp])
            metrics.partition_stalled.labels(*labels).set(1 if tp in judged else 0)
        return list(self._stalled)

    def _rate(self, now: float, positions: dict[Partition, int]) -> float:
        """Records per second the worker's positions moved by over the last stall time (0: none moved)."""
        moved = sum(max(0, p - self._positions[tp]) for tp, p in positions.items() if tp in self._positions)
        self._positions = positions
        self._moves = [(t, n) for t, n in self._moves if now - t < self.stall_seconds]
        if moved:
            self._moves.append((now, moved))
        return sum(n for _, n in self._moves) / max(self.stall_seconds, 1.0)

    def _allowed(self, rate: float, backlog: int) -> float:
        """How long a partition may wait without moving: the stall time when nothing on the worker moves, else
        STARVED_FACTOR times what the worker needs at `rate` for the most it had waiting during that wait."""
        return max(self.stall_seconds, STARVED_FACTOR * backlog / rate) if rate else self.stall_seconds

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
        self._positions.clear()
        self._backlog.clear()


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
