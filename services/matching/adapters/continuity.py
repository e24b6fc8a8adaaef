"""Every message of a partition reaches an agent once and in order, or the worker says so.

Why: in a graceful rebalance (a second worker joins and leaves) the fault suite saw faust-streaming pass over
messages: assist.events/4@304 and assist.matching.households/0@236 and @238 never reached an agent while the
offsets after them did, and faust committed past them (its consumer counts an offset it never delivered as done
when the ones after it are: the gap filling of faust-streaming/faust #606, replaced by fetched_gaps.py, and a commit
that may skip one offset after the committed one). Households ended without those events, and nothing was logged.

Where it comes from: during a rebalance faust resumes fetching a partition before it seeks it to the committed
offset, and its consumer drops a message whose offset is below the last one it passed on (its read offset), so
messages fetched again after the seek can be dropped. So nothing is handled while the worker rebalances (the
agents hold what comes then), and after it each agent admits a message only when it is the next one of its
partition (from what the group committed there). A message past the next one is held (never acked, so never
committed) and the consumer is sought back to the missing offset: the messages are fetched again and come in
order. One already handled (offset below the next) is acked without handling it again. On topics where a missing
offset is normal (compacted ones) nothing is checked. When the missing offset does not come back after a few
seeks, the worker stops, and its restart reads from the committed offset, which never passed a held message; only
an offset the broker no longer has (deleted by retention) is given up on, counted and logged: a number on a
dashboard, never silence.

Pure: the agents (faust_app.py) seek and ack; this decides.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Partition = tuple[str, int]

SEEK_ATTEMPTS = 2
"""Seeks back to one missing offset before the worker stops (its restart reads from the committed offset)."""
SEEK_PATIENCE_SECONDS = 5.0
"""How long the messages after a missing offset are held before seeking again."""


class Admission(enum.Enum):
    HANDLE = "handle"
    """The next message of its partition: handle it."""
    SEEN = "seen"
    """Handled before (fetched again after a seek or a rebalance): ack it, do not handle it again."""
    HOLD = "hold"
    """Past a missing offset: do not handle or ack it; it is fetched again after the seek."""


@dataclass(frozen=True)
class Verdict:
    admission: Admission
    seek_to: int | None = None
    """Where to seek the partition now (only with HOLD, once per attempt)."""
    missing: int | None = None
    """With HOLD after every seek: the offset that never came back (the agent stops the worker, or gives up on it
    with `give_up` when the broker no longer has it)."""


@dataclass
class _Missing:
    offset: int
    attempts: int
    since: float


@dataclass
class Continuity:
    """The next offset per partition of the topics `checked`, and the seeks back to a missing one."""

    checked: frozenset[str]
    clock: Callable[[], float] = time.monotonic
    attempts: int = SEEK_ATTEMPTS
    patience_seconds: float = SEEK_PATIENCE_SECONDS
    _next: dict[Partition, int] = field(default_factory=dict)
    _missing: dict[Partition, _Missing] = field(default_factory=dict)

    def admit(self, topic: str, partition: int, offset: int, committed: int | None) -> Verdict:
        """What to do with the message at `offset`; `committed`: where reading the partition starts (the group's
        committed offset there, else its earliest one), or None when not known (the first message sets it)."""
        if topic not in self.checked:
            return Verdict(Admission.HANDLE)
        tp = (topic, partition)
        expected = self._next.get(tp)
        if expected is None:
            expected = committed if committed is not None and committed >= 0 else offset
        if offset < expected:
            self._next[tp] = expected
            return Verdict(Admission.SEEN)
        if offset == expected:
            self._next[tp] = offset + 1
            self._missing.pop(tp, None)
            return Verdict(Admission.HANDLE)
        self._next[tp] = expected
        return self._gap(tp, expected, offset)

    def _gap(self, tp: Partition, expected: int, offset: int) -> Verdict:
        now = self.clock()
        missing = self._missing.get(tp)
        if missing is None or missing.offset != expected:
            self._missing[tp] = _Missing(expected, 1, now)
            return Verdict(Admission.HOLD, seek_to=expected)
        if now - missing.since < self.patience_seconds:
            return Verdict(Admission.HOLD)
        if missing.attempts < self.attempts:
            self._missing[tp] = _Missing(expected, missing.attempts + 1, now)
            return Verdict(Admission.HOLD, seek_to=expected)
        if missing.attempts == self.attempts:  # told once: the agent stops the worker or gives up on the offset
            self._missing[tp] = _Missing(expected, missing.attempts + 1, now)
            return Verdict(Admission.HOLD, missing=expected)
        return Verdict(Admission.HOLD)

    def give_up(self, topic: str, partition: int, earliest: int) -> int:
        """The broker keeps the partition from `earliest` on: a missing offset below it is gone for good; the
        partition goes on from there. How many offsets were given up on."""
        tp = (topic, partition)
        expected = self._next.get(tp)
        if expected is None or expected >= earliest:
            return 0
        self._next[tp] = earliest
        self._missing.pop(tp, None)
        return earliest - expected

    def reset(self, *args: object, **kwargs: object) -> None:
        """On a rebalance (a faust signal's receiver): where each partition stands comes from what was committed."""
        self._next.clear()
        self._missing.clear()
