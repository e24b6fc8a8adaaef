"""The matching worker under the consume-loop rule: poison messages between valid ones land on assist.matching.dlq
with their reason and position, the valid ones are matched, the agents keep running; and a worker whose agent
dies anyway answers 503 on /healthz, then exits non-zero."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from aiokafka import ConsumerRecord

from services.core.codec import encode_event, encode_record, header
from services.core.kafka import durable_producer
from services.core.process import EXIT_TASK_DIED
from services.core.topics import EVENTS, MATCHING_DLQ, REGISTRY, TASKS
from services.matching.adapters.agent_failures import FAULT_HEADER, TEST_FAULTS
from tests.integration.every_service.loop_probes import each_once, from_position, health, produce
from tests.integration.matching.matching_harness import BOOTSTRAP, CONTRACT, MatchingWorker, household, member, publish
from tests.integration.matching.test_matching import job_lost
from tests.integration.matching.test_matching import worker as matching_worker

worker = matching_worker  # the fixture: a worker started at the topics' ends


def ids(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class FaultyWorker(MatchingWorker):
    """A worker with the documented test hook on (agent_failures.py)."""

    def env(self) -> dict[str, str]:
        return {**super().env(), TEST_FAULTS: "1"}




async def test_poison_messages_go_to_the_matching_dead_letters_and_the_valid_ones_are_matched(worker, probe,
                                                                                             settings):
    dlq, tasks = await probe(MATCHING_DLQ.name), await probe(TASKS.name)
    first, second = ids("h"), ids("h")
    earner1, earner2 = ids("p"), ids("p")
    await publish(registry=[household(first, [member(earner1, "1979-05-05", 200_000)]),
                            household(second, [member(earner2, "1981-03-03", 200_000)])])
    good = job_lost(earner1, 200_000)
    value, headers = encode_event(CONTRACT, good)
    garbage_id, year_one_id = str(uuid.uuid4()), str(uuid.uuid4())
    others = [(k, v) for k, v in headers if k != "ce_id"]
    year_one = [(k, b"0001-01-01T00:00:00+01:00" if k == "ce_time" else v) for k, v in others]
    positions = await produce(settings, EVENTS.name, [
        (earner1.encode(), value, headers),
        (earner1.encode(), b"\xff\xff garbage", [("ce_id", garbage_id.encode()), *others]),
        (earner1.encode(), None, headers),  # a tombstone
        (earner2.encode(), value, [("ce_id", year_one_id.encode()), *year_one]),
    ])
    [garbled_registry] = await produce(settings, REGISTRY.name, [(b"h-garbled", b"\x02\x00\xff", [])])
    # Events are dead-lettered where the household agent read them (re-keyed by household), so found by id.
    at_position = from_position(positions[2], garbled_registry)

    def identity(r: ConsumerRecord[bytes, bytes]) -> tuple[str, str | None] | None:
        if at_position(r):
            return "source", header(r.headers, "dlq_source_topic")
        return ("id", header(r.headers, "ce_id")) if header(r.headers, "ce_id") in (garbage_id, year_one_id) else None

    dead = await each_once(dlq, identity, 4, timeout=60)
    missing = {("id", garbage_id), ("id", year_one_id), ("source", EVENTS.name), ("source", REGISTRY.name)} - set(dead)
    assert not missing, f"no dead letter for {missing} within 60 s; worker log:\n{worker.log.read_text()[-4000:]}"
    by_id = {i: r for (kind, i), r in dead.items() if kind == "id"}
    letters = {t: r for (kind, t), r in dead.items() if kind == "source"}
    garbage, year_one_letter = by_id[garbage_id], by_id[year_one_id]
    assert garbage.value == b"\xff\xff garbage" and "data" in header(garbage.headers, "dlq_reason")
    assert header(year_one_letter.headers, "dlq_reason")
    assert "needs the person id as its key and a value" in header(letters[EVENTS.name].headers, "dlq_reason")
    assert header(letters[REGISTRY.name].headers, "dlq_reason")
    assert header(letters[REGISTRY.name].headers, "dlq_at")

    await publish(events=[job_lost(earner2, 200_000)])  # after the poison
    for hid in (first, second):
        assert await tasks.collect(lambda r, h=hid: r.key == h.encode() and b"subsistence_allowance" in r.value, 1)
    assert worker.alive()
    assert health(worker.port) == (200, {"status": "ok"})
    assert 'assist_matching_dead_lettered_total{reason="invalid"}' in worker.metrics()


async def test_worker_whose_agent_dies_answers_503_then_exits_non_zero(tmp_path: Path):
    w = FaultyWorker(tmp_path)
    await w.publish_catalogue()
    await w.start_at_topic_ends()
    w.start()
    try:
        await w.wait_ready()
        assert health(w.port) == (200, {"status": "ok"})
        hid = ids("h")
        record = household(hid, [member(ids("p"), "1980-01-01")])
        await produce_registry(hid, encode_record(CONTRACT, "household", record))
        loop = asyncio.get_running_loop()
        answers = []
        deadline = loop.time() + 60
        while w.alive() and loop.time() < deadline:
            answers.append(await asyncio.to_thread(health, w.port))
            await asyncio.sleep(0.1)
        assert w.process is not None
        code = await asyncio.to_thread(w.process.wait, 30)
    finally:
        w.stop()
    text = w.log.read_text()
    assert code == EXIT_TASK_DIED, text[-3000:]
    assert (503, {"status": "failing", "reason": "agent keep_household_state died: InjectedFault"}) in answers
    assert "agent keep_household_state died: InjectedFault" in text


async def produce_registry(hid: str, value: bytes) -> None:
    producer = durable_producer(BOOTSTRAP, "test-fault")
    await producer.start()
    try:
        await producer.send_and_wait(REGISTRY.name, value, key=hid.encode(), headers=[(FAULT_HEADER, b"agent-dies")])
    finally:
        await producer.stop()

