"""Casework takes a reinstatement: matching publishes a withdrawn task id again (change REVISED, a higher revision
number, reason "Offered again: ...") when the household qualifies again. Against the real broker and Redis, through
the live feed and through a rebuild from the topics: a task open when withdrawn is queued again (unclaimed, in its
queue with the new score, in the due set with the new deadline), claimable and approvable; a task decided before
the withdrawal stays decided; an escalated one stays with the supervisor; a withdrawal closes the chain again; the
rebuilt board equals the live one."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from services.casework.domain.ordering import queue_score
from tests.integration.casework.test_casework import SUE, task_record
from tests.integration.casework.test_casework_recovery import act, snapshot
from tests.integration.casework.test_casework_revisions import board, page, revised, settled

__all__ = ["board"]  # the fixture, used by name

OFFERED_AGAIN = "Offered again: income back below the local line (member.monthly_income_fen 300000 -> 0)."


def reinstated(task: dict[str, Any], number: int, amount: int, priority: int,
               due_in: dt.timedelta = dt.timedelta(hours=72)) -> dict[str, Any]:
    """The withdrawn task as matching publishes it again: the same ids, change REVISED, a fresh deadline and
    priority, no previous amount (the offer was withdrawn)."""
    again = revised(copy.deepcopy(task), number, amount, priority=priority)
    again["offer"]["revision"].update(previous_amount_fen=None, reason=OFFERED_AGAIN,
                                      previous_summary="Not eligible: income 300000 is above the line 145000.",
                                      previous_computation=None,
                                      changed_facts=["member.monthly_income_fen 300000 -> 0"])
    again["reason"] = f"Verify before offering again: {OFFERED_AGAIN}"
    again["due_at"] = dt.datetime.now(dt.UTC).replace(microsecond=0) + due_in
    return again


def due_ms(record: dict[str, Any]) -> int:
    return int(record["due_at"].timestamp() * 1000)


async def test_withdrawn_task_offered_again_is_queued_claimable_and_approvable_and_rebuilds_the_same(board):
    desk, dora, home = board.desk, board.dora, board.home
    redis, keys = desk.parts.redis, desk.parts.keys
    queued, claimed, decided, closed_again = (task_record(home, priority=p) for p in (50, 60, 70, 40))
    tasks = [queued, claimed, decided, closed_again]
    await desk.publish(*tasks)
    await desk.queued(dora, {t["task_id"] for t in tasks})
    await act(desk, dora, claimed, "claim")
    await act(desk, dora, decided, "claim")
    await act(desk, dora, decided, "decide", {"action": "approve"})
    await desk.publish(*(revised(t, 1, 0, change="WITHDRAWN") for t in tasks))
    for task in (queued, claimed, closed_again):
        await settled(desk, dora, task, lambda p: p["status"] == "WITHDRAWN")
    await settled(desk, dora, decided, lambda p: [r["change"] for r in p["revisions"]] == ["WITHDRAWN"])
    for task in (queued, claimed):
        assert await redis.zscore(keys.queue(f"d:{home}"), task["task_id"]) is None
        assert await redis.zscore(keys.due, task["task_id"]) is None

    again = {t["task_id"]: reinstated(t, 2, 310_000, priority=p)
             for t, p in ((queued, 95), (claimed, 85), (decided, 80), (closed_again, 75))}
    # A withdrawal after the withdrawal and an equal number change nothing; the higher REVISED reopens.
    await desk.publish(revised(queued, 1, 0, change="WITHDRAWN"), reinstated(queued, 1, 290_000, priority=10),
                       *again.values())
    await desk.publish(revised(closed_again, 3, 0, change="WITHDRAWN"), reinstated(closed_again, 3, 1, priority=1))

    for task in (queued, claimed):
        body = await settled(desk, dora, task, lambda p: p["status"] == "QUEUED")
        offer = again[task["task_id"]]
        assert body["status"] == "QUEUED" and body["holder"] is None and body["offer"]["amount_fen"] == 310_000
        assert body["change"] == "REVISED" and [(r["number"], r["change"]) for r in body["revisions"]] == [
            (1, "WITHDRAWN"), (2, "REVISED")]
        [entry] = [e for e in body["audit"] if e["action"] == "REVISED"]
        assert entry["reason"] == OFFERED_AGAIN and entry["revision"]["previous_amount_fen"] is None
        fields = await redis.hgetall(keys.task(task["task_id"]))
        assert (fields["holder"], fields["lease_until"], fields["claimed_at"]) == ("", "0", "0")
        assert await redis.zscore(keys.queue(f"d:{home}"), task["task_id"]) == queue_score(
            offer["priority"], due_ms(offer))
        assert await redis.zscore(keys.due, task["task_id"]) == due_ms(offer)
        assert await redis.zscore(keys.leases, task["task_id"]) is None
    claimed_page = await page(desk, dora, claimed)
    assert [e["action"] for e in claimed_page["audit"]] == ["RECEIVED", "CLAIMED", "WITHDRAWN", "UNCLAIMED",
                                                            "REVISED"]
    assert [e["revision"]["held_by"] for e in claimed_page["audit"] if e["action"] == "WITHDRAWN"] == ["dora"]
    assert [e["action"] for e in (await page(desk, dora, queued))["audit"]] == ["RECEIVED", "WITHDRAWN", "REVISED"]
    rows = await desk.queued(dora, {queued["task_id"], claimed["task_id"]}, query="state=queued")
    assert [r["task_id"] for r in rows] == [queued["task_id"], claimed["task_id"]]  # priority 95 before 85

    body = await settled(desk, dora, decided, lambda p: len(p["revisions"]) == 2)
    assert body["status"] == "APPROVED" and body["offer"]["amount_fen"] == 310_000
    assert await redis.zscore(keys.due, decided["task_id"]) is None
    body = await settled(desk, dora, closed_again, lambda p: len(p["revisions"]) == 3)
    assert body["status"] == "WITHDRAWN" and [r["change"] for r in body["revisions"]] == [
        "WITHDRAWN", "REVISED", "WITHDRAWN"]
    assert await redis.zscore(keys.due, closed_again["task_id"]) is None
    html = await (await desk.client.get(f"/console/tasks/{claimed['task_id']}?lang=en",
                                        headers=desk.auth(dora))).text()
    assert "Matching withdrew this task" not in html and 'id="claim"' in html
    assert "<td>Reinstated</td>" in html and "<h3>Reinstated ·" in html and "<td>Withdrawn</td>" in html

    await act(desk, dora, claimed, "claim")  # claimable again, and approvable
    await act(desk, dora, claimed, "decide", {"action": "approve"})
    assert (await page(desk, dora, claimed))["status"] == "APPROVED"
    await desk.outbox_empty()
    ids = [t["task_id"] for t in tasks]
    before = await snapshot(desk, ids)
    revisions_before = {i: await redis.xrange(keys.revisions(i)) for i in ids}
    pages_before = [await page(desk, dora, t) for t in tasks]
    await desk.halt()

    await redis.flushdb()
    report = await desk.parts.rebuilder(desk.settings.kafka_bootstrap).ensure_built()
    assert report is not None and report.inconsistent == 0
    after = await snapshot(desk, ids)
    for task_id in ids:
        assert after[task_id] == before[task_id], task_id
        assert await redis.xrange(keys.revisions(task_id)) == revisions_before[task_id], task_id
    assert [await page(desk, dora, t) for t in tasks] == pages_before
    assert [before[i]["hash"]["status"] for i in ids] == ["QUEUED", "APPROVED", "APPROVED", "WITHDRAWN"]


async def test_task_reinstated_while_claimed_comes_out_of_a_rebuild_queued_and_unclaimed(board):
    desk, dora, home = board.desk, board.dora, board.home
    redis, keys = desk.parts.redis, desk.parts.keys
    task = task_record(home, priority=55)
    await desk.publish(task)
    await desk.queued(dora, {task["task_id"]})
    await act(desk, dora, task, "claim")
    await desk.publish(revised(task, 1, 0, change="WITHDRAWN"), offered := reinstated(task, 2, 300_000, 65))
    await settled(desk, dora, task, lambda p: len(p["revisions"]) == 2)
    await desk.outbox_empty()
    before = await snapshot(desk, [task["task_id"]])
    revisions_before = await redis.xrange(keys.revisions(task["task_id"]))
    await desk.halt()

    await redis.flushdb()
    report = await desk.parts.rebuilder(desk.settings.kafka_bootstrap).ensure_built()
    assert report is not None and report.inconsistent == 0
    after = await snapshot(desk, [task["task_id"]])
    assert after[task["task_id"]] == before[task["task_id"]]
    assert await redis.xrange(keys.revisions(task["task_id"])) == revisions_before
    fields = after[task["task_id"]]["hash"]
    assert (fields["status"], fields["holder"], fields["lease_until"]) == ("QUEUED", "", "0")
    assert after[task["task_id"]]["in"] == {keys.queue(f"d:{home}"): queue_score(65, due_ms(offered)),
                                            keys.due: due_ms(offered)}


async def test_escalated_task_reinstated_stays_with_the_supervisor_out_of_the_due_set_live_and_rebuilt(board):
    desk, dora, home = board.desk, board.dora, board.home
    redis, keys = desk.parts.redis, desk.parts.keys
    region = f"r:{home[:2]}0000"
    task = task_record(home, priority=45, due_in=-dt.timedelta(hours=1))
    await desk.publish(task)
    await desk.queued(SUE, {task["task_id"]})
    assert (await settled(desk, SUE, task, lambda p: p["escalated"]))["escalated"]
    await desk.publish(revised(task, 1, 0, change="WITHDRAWN"), offered := reinstated(task, 2, 300_000, 65))
    await settled(desk, dora, task, lambda p: len(p["revisions"]) == 2)
    await desk.outbox_empty()
    before = await snapshot(desk, [task["task_id"]])
    fields = before[task["task_id"]]["hash"]
    assert (fields["status"], fields["escalated"], fields["queue"]) == ("QUEUED", "1", region)
    assert before[task["task_id"]]["in"] == {keys.queue(region): queue_score(65, due_ms(offered))}
    await desk.halt()

    await redis.flushdb()
    report = await desk.parts.rebuilder(desk.settings.kafka_bootstrap).ensure_built()
    assert report is not None and report.inconsistent == 0
    assert (await snapshot(desk, [task["task_id"]]))[task["task_id"]] == before[task["task_id"]]
