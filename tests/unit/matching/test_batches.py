"""The household agent's batches: each changed household written once per batch under the message that changed it;
a batch that fails is not acked; the partition count of the household topics is a setting."""

from __future__ import annotations

from typing import Any

import pytest
from faust.streams import current_event
from faust.types.tuples import ConsumerMessage, Message

from services.core.topics import PARTITIONS_SETTING, household_partitions
from services.matching.adapters.batches import handling, withheld
from services.matching.adapters.faust_stores import CachedHouseholds, TableHouseholds


class RecordingTable(dict[bytes, Any]):
    """A table that notes which message was current at each write (faust's store picks its partition by it)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[tuple[bytes, Any]] = []

    def __setitem__(self, key: bytes, value: Any) -> None:
        self.writes.append((key, current_event()))
        super().__setitem__(key, value)


class Event:
    def __init__(self, offset: int):
        self.message = ConsumerMessage("assist.matching.households", 3, offset, 0.0, 0, [], b"k", b"v", None)


class Consumer:
    def __init__(self) -> None:
        self.acked: list[int] = []

    def ack(self, message: Message) -> bool:
        self.acked.append(message.offset)
        return True


def test_each_changed_household_is_written_once_per_batch_under_the_last_message_that_changed_it() -> None:
    table = RecordingTable()
    households = CachedHouseholds(TableHouseholds(table))  # type: ignore[arg-type]
    first, second, third = Event(1), Event(2), Event(3)
    with handling(first):
        households.put(b"h1", {"state": 1})
    with handling(second):
        households.put(b"h2", {"state": 2})
    with handling(third):
        households.put(b"h1", {"state": 3})
    assert table.writes == []
    assert households.get(b"h1") == {"state": 3}
    assert sorted(s["state"] for s in households.stored()) == [2, 3]
    assert households.write_back() == 2
    assert sorted((k, e.message.offset) for k, e in table.writes) == [(b"h1", 3), (b"h2", 2)]
    assert table == {b"h1": {"state": 3}, b"h2": {"state": 2}}
    assert households.write_back() == 0


def test_a_household_read_once_is_served_from_memory_until_a_rebalance() -> None:
    table = RecordingTable()
    table[b"h1"] = {"state": 1}
    households = CachedHouseholds(TableHouseholds(table))  # type: ignore[arg-type]
    assert households.get(b"h1") == {"state": 1}
    dict.__setitem__(table, b"h1", {"state": "written by the partition's next owner"})
    assert households.get(b"h1") == {"state": 1}
    households.forget_cached()
    assert households.get(b"h1") == {"state": "written by the partition's next owner"}


def test_a_batch_that_fails_is_not_acked_and_one_that_completes_is() -> None:
    consumer = Consumer()
    failed = [Event(10), Event(11)]
    with pytest.raises(RuntimeError), withheld(failed):
        raise RuntimeError("Kafka does not answer")
    completed = [Event(12)]
    with withheld(completed):
        pass
    for event in failed + completed:  # what take_events does when the agent asks for the next batch
        event.message.ack(consumer)  # type: ignore[arg-type]
    assert consumer.acked == [12]


def test_the_partition_count_of_household_topics_is_a_setting_refused_when_not_a_whole_number() -> None:
    assert household_partitions({}) == 8
    assert household_partitions({PARTITIONS_SETTING: "64"}) == 64
    for bad in ("0", "many", "-8"):
        with pytest.raises(ValueError, match=PARTITIONS_SETTING):
            household_partitions({PARTITIONS_SETTING: bad})
