"""How matching's agents take their streams: in batches (faust's `take_events`), each message still handled on its
own by the service, the batch's records sent together and awaited once, its household states written once.

Why: faust's per-message path (an ack, sensors and attached sends per event) tops out near 2,000 events/s with
one table write and one send on this machine, against about 15,700/s for batched iteration.

What a batch guarantees, so a crash at any point loses nothing:
- `take_events` acks a batch's messages when the agent asks for the next batch, so their offsets become
  committable only after the body finished: its records were delivered (acks=all) and the producer flushed,
  table changelogs included (`Outbox.deliver`).
- When the body raises or is cancelled instead, the batch's messages are marked as already acked *before*
  `take_events` would ack them (`withheld`), so their offsets are never committed and a restarted worker reads
  them again; the household state recognises what it has applied.

Why a table write inside a batch hung or failed before: faust finds a table key's partition, and the RocksDB store
its partition database, from the *current event*, a context variable set by the stream's own iteration, which
runs in another task than a `take_events` body; with none set, a write raises "Cannot modify table key from
outside of stream iteration" (faust-streaming/faust #497) and the agent dies with its passive drainer still
waiting on the buffer, so the stream looks hung. `handling(event)` sets the current event to the message being
handled, so table reads and writes go to that message's partition as in the per-message path. Sends are made
with `force=True` so they are not attached to that event's commit but sent at once and awaited per batch.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Awaitable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import faust
from faust.streams import _current_event

from services.matching.stored import Record

BATCH_MAX = 500
"""Messages per batch at most (a full buffer is handed over at once)."""
BATCH_WITHIN_SECONDS = 0.005
"""How long a batch waits to fill when messages arrive slower than the worker handles them (latency bound)."""


def batches(stream: Any) -> AsyncIterator[Sequence[Any]]:
    """The stream's events in batches (faust's StreamT does not declare take_events; its Stream has it)."""
    taking: AsyncIterator[Sequence[Any]] = stream.take_events(BATCH_MAX, BATCH_WITHIN_SECONDS)
    return taking


@contextmanager
def handling(event: Any) -> Iterator[None]:
    """Table reads and writes inside go to `event`'s partition, as in faust's per-message iteration."""
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


@contextmanager
def withheld(batch: Sequence[Any]) -> Iterator[None]:
    """If the body of a batch fails or is cancelled, none of its messages is acked (so none is committed)."""
    try:
        yield
    except BaseException:
        for event in batch:
            event.message.acked = True  # faust's consumer records an ack only for a message not yet marked
        raise


class Outbox:
    """A batch's records: sent as they come, without waiting for each delivery; `deliver` awaits them all."""

    def __init__(self, app: faust.App, topics: dict[str, faust.TopicT]):
        self._app = app
        self._topics = topics
        self._pending: list[Awaitable[Any]] = []

    async def send(self, records: Sequence[Record]) -> None:
        for topic_name, key, value, headers in records:
            sent = await self._topics[topic_name].send(key=key, value=value, headers=headers, force=True)
            self._pending.append(sent)

    async def deliver(self) -> None:
        """Every record sent is delivered, and what sits in faust's producer buffer (table changelogs) too."""
        pending, self._pending = self._pending, []
        if pending:
            await asyncio.gather(*pending)
        await delivered_so_far(self._app.producer)


async def delivered_so_far(producer: Any) -> None:
    """What faust's producer buffered until now (this batch's table changelogs) is delivered. Each buffered message
    is a future that faust resolves once the broker acknowledged it, so the batch waits for exactly those.

    Not faust's `flush` (nor its `flush_atmost`), for two reasons. They wait for a sign after each message sent with a
    timeout of 0.1 s and return when it passes, delivered or not: with the event loop busy in another agent's batch
    for longer than that, a batch was acked, and its offsets committed, before its changelogs left, and a worker
    killed then could leave a changelog without the batch's household writes, and the partition restored from it on
    another worker would lack events whose offsets were committed (unit test with a slow buffer; the large
    rebalance comparison of 2026-12-03 ended with 10 households lacking an event, which this would explain). And
    `flush` waits until the buffer is empty, which other agents keep refilling under a backlog (the router's
    partitions stood still for 36 s). The client's flush then covers what the buffer handed over before them."""
    buffer = producer.buffer
    buffered = [m for m in list(getattr(buffer.pending, "_queue", ())) if isinstance(m, asyncio.Future)]
    if buffered:
        await asyncio.gather(*buffered)
    client = getattr(producer, "_producer", None)  # the aiokafka producer: faust has no public handle on it
    if client is not None:
        await client.flush()
