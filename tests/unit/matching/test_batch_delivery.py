"""A batch waits for what its agent buffered, not for an empty producer buffer that other agents keep filling."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from faust.transport.producer import ProducerBuffer

from services.matching.adapters.batches import delivered_so_far


class Client:
    """The aiokafka producer's part: flush waits for what was handed to it."""

    def __init__(self) -> None:
        self.flushes = 0

    async def flush(self) -> None:
        self.flushes += 1


async def _busy_buffer(sent: list[Any], pause: float = 0.0, refill: bool = True) -> ProducerBuffer:
    """faust's own buffer, sending in order, which another agent refills as it sends: it is never empty. A
    message that is a future (as faust's FutureMessage) is resolved once sent, as faust does on delivery; each send
    takes `pause` seconds (an event loop busy elsewhere)."""
    buffer = ProducerBuffer()
    buffer.app = SimpleNamespace(conf=SimpleNamespace(producer_threaded=False))  # type: ignore[assignment]

    async def send(message: Any) -> None:
        if refill and len(sent) < 100_000:
            buffer.put(1000 + len(sent))  # type: ignore[arg-type]  # another agent's changelog
        await asyncio.sleep(pause)
        sent.append(message)
        if isinstance(message, asyncio.Future):
            message.set_result(None)

    buffer._send_pending = send  # type: ignore[method-assign]  # what goes to the client, recorded
    buffer.put(999)  # type: ignore[arg-type]
    await buffer.start()
    return buffer


async def _stop(buffer: ProducerBuffer) -> None:
    while not buffer.pending.empty():
        buffer.pending.get_nowait()
    await buffer.stop()


async def test_a_batch_is_delivered_once_its_own_changelogs_were_sent_while_other_agents_keep_buffering() -> None:
    sent: list[int] = []
    buffer = await _busy_buffer(sent)
    try:
        ours = [asyncio.get_running_loop().create_future() for _ in range(5)]
        for message in ours:
            buffer.put(message)  # type: ignore[arg-type]  # this batch's table changelogs
        client = Client()
        await asyncio.wait_for(delivered_so_far(SimpleNamespace(buffer=buffer, _producer=client)), 5)
        assert all(m in sent for m in ours) and client.flushes == 1
    finally:
        await _stop(buffer)


async def test_a_batch_waits_for_its_changelogs_however_slowly_the_buffer_sends() -> None:
    sent: list[Any] = []
    buffer = await _busy_buffer(sent, pause=0.3, refill=False)  # faust's flush gives up on a send after 0.1 s
    try:
        ours = [asyncio.get_running_loop().create_future() for _ in range(3)]
        for message in ours:
            buffer.put(message)  # type: ignore[arg-type]
        await asyncio.wait_for(delivered_so_far(SimpleNamespace(buffer=buffer, _producer=Client())), 10)
        assert all(m.done() for m in ours), "the batch was acked before its changelogs were delivered"
    finally:
        await _stop(buffer)


async def test_faust_s_flush_waits_for_the_other_agents_too() -> None:
    sent: list[int] = []
    buffer = await _busy_buffer(sent)
    try:
        buffer.put(0)  # type: ignore[arg-type]
        flushing = asyncio.ensure_future(buffer.flush())
        for _ in range(10_000):  # until 2,000 messages were sent, ours among the first
            if len(sent) >= 2_000:
                break
            await asyncio.sleep(0.001)
        assert 0 in sent and not flushing.done(), "faust's flush returns only once the buffer is empty"
        await asyncio.wait_for(flushing, 30)  # the other agent stops refilling after 100,000 messages
        assert len(sent) >= 100_000
    finally:
        await _stop(buffer)
