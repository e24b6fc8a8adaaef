"""Casework recovers from the record: a wiped Redis is rebuilt from assist.tasks and assist.decisions exactly,
and a crash between Redis and Kafka loses no decision (the outbox is sent again)."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from typing import Any

from services.casework.adapters.outbox import OutboxPublisher
from services.casework.adapters.records import decision_from_outbox
from services.casework.domain.scope import staff
from services.core.codec import encode_record
from services.core.topics import DECISIONS
from tests.integration.casework.test_casework import (
    ALICE,
    PASSWORD,
    SUE,
    Desk,
    about,
    decisions_of,
    open_desk,
    task_record,
)


def unused_districts() -> tuple[str, str]:
    """Two districts of region 11 that neither the synthetic population nor other runs use, so the rebuilt
    listing can be compared row for row whatever history is on the topics."""
    first = random.randrange(119_000, 119_998, 2)
    return str(first), str(first + 1)


async def snapshot(desk: Desk, task_ids: list[str]) -> dict[str, Any]:
    """Everything Redis holds about these tasks: hashes, audit streams and every sorted set they are in."""
    redis, keys = desk.parts.redis, desk.parts.keys
    sorted_sets = [k async for k in redis.scan_iter(match=f"{keys.prefix}:*", _type="zset")]
    state: dict[str, Any] = {}
    for task_id in task_ids:
        memberships = {}
        for key in sorted_sets:
            score = await redis.zscore(key, task_id)
            if score is not None:
                memberships[key] = score
        state[task_id] = {"hash": await redis.hgetall(keys.task(task_id)),
                          "audit": await redis.xrange(keys.audit(task_id)), "in": memberships}
    state["queues"] = await redis.smembers(keys.queues)
    return state


async def act(desk: Desk, member, task: dict[str, Any], command: str, body: dict[str, Any] | None = None) -> None:
    status, answer = await desk.call("POST", f"/api/v1/tasks/{task['task_id']}/{command}", member, body)
    assert status == 200, (command, answer)


async def test_wiped_redis_is_rebuilt_from_the_topics_with_the_same_queues_and_states(tmp_path):
    home, other = unused_districts()
    dora, eve = staff("dora", "caseworker", [home]), staff("eve", "caseworker", [other])
    async with open_desk(tmp_path) as desk:
        desk.parts.staff.add(dora, PASSWORD)
        desk.parts.staff.add(eve, PASSWORD)
        queued = task_record(home, priority=90)
        claimed = task_record(home, priority=70)
        approved = task_record(home, priority=60)
        rejected = task_record(home, priority=50)
        informed = task_record(home, priority=40)
        released = task_record(home, priority=30)
        reassigned = task_record(home, priority=80)
        escalated = task_record(home, priority=65, due_in=-dt.timedelta(minutes=5))
        tasks = [queued, claimed, approved, rejected, informed, released, reassigned, escalated]
        await desk.publish(*tasks)
        await desk.queued(SUE, {t["task_id"] for t in tasks})
        for _ in range(100):  # the escalation timer ticks every 0.2 s
            if (await desk.queued(SUE, {escalated["task_id"]}))[0]["escalated"]:
                break
            await asyncio.sleep(0.1)
        for task in (claimed, approved, rejected, informed, released):
            await act(desk, dora, task, "claim")
        await act(desk, dora, approved, "decide", {"action": "approve"})
        await act(desk, dora, rejected, "decide", {"action": "reject", "reason": "Income above the line"})
        await act(desk, dora, informed, "decide", {"action": "request_information", "reason": "Payslips"})
        await act(desk, dora, released, "unclaim")
        await act(desk, SUE, reassigned, "reassign", {"caseworker": "eve", "reason": "Knows the family"})
        await act(desk, eve, reassigned, "claim")
        await act(desk, SUE, escalated, "claim")
        await desk.outbox_empty()
        ids = [t["task_id"] for t in tasks]
        before = await snapshot(desk, ids)
        open_ids = set(ids) - {approved["task_id"], rejected["task_id"]}
        listing_before = await desk.queued(SUE, open_ids, query=f"state=all&district={home},{other}")
        assert before[escalated["task_id"]]["hash"]["queue"] == "r:110000"
        await desk.halt()

        await desk.parts.redis.flushdb()
        status, _ = await desk.call("POST", f"/api/v1/tasks/{queued['task_id']}/claim", dora)
        assert status == 503  # nothing changes until the view is rebuilt
        report = await desk.parts.rebuilder(desk.settings.kafka_bootstrap).ensure_built()  # as a worker starts

        assert report is not None and report.inconsistent == 0
        after = await snapshot(desk, ids)
        for task_id in ids:
            assert after[task_id] == before[task_id], task_id
        assert before["queues"] <= after["queues"]
        assert await desk.queued(SUE, open_ids, query=f"state=all&district={home},{other}") == listing_before
        status, body = await desk.call("POST", f"/api/v1/tasks/{claimed['task_id']}/claim", eve)
        assert status == 404
        status, body = await desk.call("POST", f"/api/v1/tasks/{claimed['task_id']}/decide", dora,
                                       {"action": "approve"})
        assert status == 200, body  # the lease survived the rebuild
        assert await desk.parts.rebuilder(desk.settings.kafka_bootstrap).ensure_built() is None


async def test_decisions_left_in_the_outbox_by_a_crash_are_all_published_later(tmp_path, probe):
    decisions = await probe(DECISIONS.name)
    async with open_desk(tmp_path, publishing=False) as desk:  # the publisher is down: the "crash"
        tasks = [task_record() for _ in range(5)]
        await desk.publish(*tasks)
        await desk.queued(ALICE, {t["task_id"] for t in tasks})
        for task in tasks:
            await act(desk, ALICE, task, "claim")
            await act(desk, ALICE, task, "decide", {"action": "approve"})
        ids = [t["task_id"] for t in tasks]
        assert await decisions.collect(about(*ids), 1, timeout=1.5) == []  # nothing reached Kafka
        pending = await desk.parts.redis.xrange(desk.parts.keys.outbox)
        assert len(pending) == 10

        # A publisher that sent the first half and died before it could delete them from the outbox:
        producer = desk.parts.producer
        for _, fields in pending[:5]:
            key, value, headers = decision_from_outbox(fields)
            await producer.send_and_wait(DECISIONS.name, encode_record(desk.parts.contract, "decision", value),
                                         key=key.encode(), headers=headers)

        restarted = OutboxPublisher(desk.parts.redis, desk.parts.keys, producer, desk.parts.contract,
                                    desk.parts.metrics)
        stop = asyncio.Event()
        running = asyncio.create_task(restarted.run(stop, block_ms=100))
        try:
            await desk.outbox_empty()
        finally:
            stop.set()
            await running

        published = decisions_of(desk, await decisions.collect(about(*ids), 15))
        audit_ids = set()
        for task_id in ids:
            entries = await desk.parts.redis.xrange(desk.parts.keys.audit(task_id))
            audit_ids |= {e["decision"] for _, e in entries if e["decision"]}
        assert {d["decision_id"] for d in published} == audit_ids  # every transition, none invented
        assert len(published) == 15  # five were sent twice, with the same ids: consumers keep one of each
        for task_id in ids:
            mine = [d["action"] for d in published if d["task_id"] == task_id]
            assert mine[-1] == "APPROVED" and set(mine) == {"CLAIMED", "APPROVED"}
