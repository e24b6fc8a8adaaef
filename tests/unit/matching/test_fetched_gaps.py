"""faust commits over a gap only where a fetch skipped offsets, never over messages fetched again after a seek.

The loop test runs faust's own fetch loop (Consumer.getmany and _drain_messages) and commit bookkeeping
(_new_offset) on a consumer that never connects: its fetch returns prepared records and its seek only says where
the next fetch starts, as the broker client would."""

from __future__ import annotations

import asyncio
from typing import Any

import faust
from aiokafka.structs import ConsumerRecord
from faust.types import TP

from services.matching.adapters.fetched_gaps import FetchedGaps, fetched_gaps
from services.matching.adapters.read_offsets import held_read_offsets

EVENTS = TP("assist.events", 0)
REGISTRY = TP("assist.registry", 0)


def test_a_fetch_that_skips_offsets_of_a_compacted_topic_has_gaps_there():
    gaps = FetchedGaps(frozenset({"assist.registry"}))
    assert gaps.fetched(("assist.registry", 0), [3, 4, 7, 8, 12]) == [(5, 6), (9, 11)]
    assert gaps.fetched(("assist.registry", 0), [15]) == [(13, 14)]


def test_a_seek_is_where_the_next_fetch_should_start():
    gaps = FetchedGaps(frozenset({"assist.registry"}))
    gaps.fetched(("assist.registry", 0), [20, 21])
    gaps.sought(("assist.registry", 0), 5)
    assert gaps.fetched(("assist.registry", 0), [8, 9]) == [(5, 7)]
    gaps.sought(("assist.registry", 0), None)
    assert gaps.fetched(("assist.registry", 0), [30]) == []


def test_records_fetched_again_below_the_last_one_are_no_gap():
    gaps = FetchedGaps(frozenset({"assist.registry"}))
    gaps.fetched(("assist.registry", 0), [10, 11, 12])
    assert gaps.fetched(("assist.registry", 0), [5, 6, 7, 12, 13]) == []


def test_a_topic_that_is_not_compacted_never_has_gaps():
    gaps = FetchedGaps(frozenset({"assist.registry"}))
    assert gaps.fetched(("assist.events", 0), [1, 5, 9]) == []


def test_a_rebalance_forgets_where_partitions_stood():
    gaps = FetchedGaps(frozenset({"assist.registry"}))
    gaps.fetched(("assist.registry", 0), [1])
    gaps.reset()
    assert gaps.fetched(("assist.registry", 0), [9]) == []


def record(tp: TP, offset: int) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(tp.topic, tp.partition, offset, 0, 0, b"k", b"v", None, 1, 1, [])


SEEK_BACK = [list(range(10, 15)), list(range(5, 15))]
"""The guard's seek back in the matching worker: the first fetch returns 10..14 (5..9 never reached the agent), the
agent holds 10 and seeks back to 5 while the rest of that fetch is still in the loop; the next fetch returns 5..14."""


def commits_while_handling(tp: TP, install: bool, fetched: list[list[int]] = SEEK_BACK,
                           seek_back: bool = True) -> list[tuple[int, int]]:
    """faust's fetch loop over the `fetched` offsets of `tp`, then the agent handles what it passed on, from 5 on
    in order; faust's commit timer runs after each ack and once more before the next message. Returns (handled,
    committed) after each."""
    async def run() -> list[tuple[int, int]]:
        app = faust.App(f"fetched-gaps-{install}", broker="kafka://127.0.0.1:1")
        consumer: Any = app.consumer
        fetches = [{tp: [record(tp, o) for o in offsets]} for offsets in fetched]
        stopped = asyncio.Event()

        async def fetch(active_partitions: Any, timeout: float) -> Any:
            if not fetches:
                stopped.set()
                return {}
            return fetches.pop(0)

        async def seek(partition: Any, offset: int) -> None:
            return None

        consumer._getmany = fetch
        consumer._seek = seek
        consumer._active_partitions = {tp}
        consumer.highwater = lambda partition: 15
        app.topics.acks_enabled_for = lambda topic: True  # type: ignore[method-assign]
        held = held_read_offsets(app)
        if install:
            fetched_gaps(app, frozenset({REGISTRY.topic}))
        consumer._committed_offset[tp] = 5
        delivered: list[int] = []

        async def callback(message: Any) -> None:
            if seek_back and message.offset == 10 and not delivered:
                held.hold(tp, 5)
                await consumer.seek(tp, 5)
            delivered.append(message.offset)

        consumer.callback = callback
        fetcher = type("Fetcher", (), {"_stopped": stopped})()
        await asyncio.wait_for(consumer._drain_messages(fetcher), 10)
        handled = delivered[delivered.index(5):]
        assert handled == sorted(set(handled))
        commits: list[tuple[int, int]] = []
        for offset in handled:
            consumer._acked[tp].append(offset)
            consumer._acked_index[tp].add(offset)
            for _ in range(2):
                new = consumer._new_offset(tp)
                if new is not None and consumer._should_commit(tp, new):
                    consumer._committed_offset[tp] = new
            commits.append((offset, consumer._committed_offset[tp]))
        return commits

    return asyncio.run(run())


def test_faust_alone_commits_past_messages_fetched_again_after_a_seek_back():
    commits = commits_while_handling(EVENTS, install=False)
    assert any(committed > handled + 1 for handled, committed in commits)


def test_with_fetched_gaps_faust_never_commits_past_what_was_handled():
    for tp in (EVENTS, REGISTRY):
        commits = commits_while_handling(tp, install=True)
        assert commits == [(offset, offset + 1) for offset in range(5, 15)], tp


def test_faust_commits_over_what_a_compacted_topic_no_longer_has():
    commits = commits_while_handling(REGISTRY, install=True, fetched=[[5, 6, 9, 10]], seek_back=False)
    assert commits == [(5, 6), (6, 7), (9, 10), (10, 11)]
