"""What the households table keeps per household: its state and what the last messages sent.

Why the sent records are kept: faust writes a table's changelog as soon as the agent sets a key, but publishes
the records an agent sends only when the source offset is committed. After a crash in between, the state is
recovered already updated (events applied, offers pending) while the records never left. The replayed message
is recognised by its position (topic, partition, offset) and the same records are sent again, with the same
ids, so nothing is lost and consumers keep one of each.

What a message sent is kept until the group has committed past the message, never for a time: a worker that comes
back after a long outage may store the household again (another uncommitted message of it, from another topic)
before the message comes again, and a clock would have dropped what it must send again.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from services.core.codec import Contract, encode_record
from services.core.topics import MATCHING_MEMBERSHIP
from services.matching.domain.household.state import HouseholdState, from_dict, to_dict
from services.matching.handler import Result

SENT_KEPT_MAX = 64
"""What the last messages sent, per household, at most (the oldest go first): a bound for a group that commits
nothing for long."""

CAUSE_HEADER = "assist_cause"
Committed = Callable[[str, int], "int | None"]
"""The group's committed offset (the next to read) on a topic's partition, None when not known."""


def _nothing_committed(topic: str, partition: int) -> int | None:
    return None

Record = tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]
"""topic, key, value, headers"""


def message_id(message: Any) -> str:
    return f"{message.topic}:{message.partition}:{message.offset}"


@dataclass
class StoredHousehold:
    state: HouseholdState | None
    sent: dict[str, list[Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, raw: dict[str, Any] | None) -> StoredHousehold:
        if not raw:
            return cls(None)
        return cls(from_dict(raw["state"]), dict(raw.get("sent", {})))

    def replayed(self, message: Any) -> list[Record] | None:
        """The records a message sent the first time it was processed, or None when it is new."""
        entry = self.sent.get(message_id(message))
        return None if entry is None else [_decode(r) for r in entry[1]]

    def outgoing(self, contract: Contract, result: Result, cause: str | None = None) -> list[Record]:
        """Encoded offers and tasks of `result`, plus membership changes when the composition changed. `cause`:
        the id of the change event whose handling made them (header assist_cause), which may differ from an
        offer's trigger_event_id: a need decided again at a later report keeps the need's event as its trigger."""
        caused = [(CAUSE_HEADER, cause.encode())] if cause is not None else []
        records: list[Record] = [
            (o.topic, o.key.encode(), encode_record(contract, o.record, o.value),
             [("assist_record", o.record.encode()), ("assist_id", o.id.encode()), *caused])
            for o in result.outputs
        ]
        if result.state is not None:
            records += [(MATCHING_MEMBERSHIP.name, person.encode(), household, [])
                        for person, household in self._membership_changes(result.state)]
        return records

    def store(self, state: HouseholdState, message: Any, records: Iterable[Record],
              committed: Committed = _nothing_committed) -> dict[str, Any]:
        """The stored form: `state`, and what the messages not committed yet sent (this one's `records` too)."""
        now = time.time()
        kept = {k: v for k, v in self.sent.items() if not _is_committed(k, committed)}
        encoded = [_encode(r) for r in records]
        if encoded:
            kept[message_id(message)] = [now, encoded]
        if len(kept) > SENT_KEPT_MAX:
            kept = dict(sorted(kept.items(), key=lambda kv: kv[1][0])[-SENT_KEPT_MAX:])
        return {"state": to_dict(state), "sent": kept}

    def _membership_changes(self, new: HouseholdState) -> list[tuple[str, bytes | None]]:
        before = set(self.state.members) if self.state else set()
        after = set(new.members)
        household = new.household_id.encode()
        return [(p, household) for p in sorted(after - before)] + [(p, None) for p in sorted(before - after)]


def _is_committed(kept_id: str, committed: Committed) -> bool:
    topic, partition, offset = kept_id.rsplit(":", 2)
    next_to_read = committed(topic, int(partition))
    return next_to_read is not None and int(offset) < next_to_read


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _encode(record: Record) -> list[Any]:
    topic, key, value, headers = record
    return [topic, None if key is None else _b64(key), None if value is None else _b64(value),
            [[k, _b64(v)] for k, v in headers]]


def _decode(row: list[Any]) -> Record:
    topic, key, value, headers = row
    return (topic, None if key is None else base64.b64decode(key), None if value is None else base64.b64decode(value),
            [(k, base64.b64decode(v)) for k, v in headers])
