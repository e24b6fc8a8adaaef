"""Casework takes a risk warning's corrected deadline: matching publishes a VISIT or PHONE_CHECK task id again
(change REVISED, no offer and so no revision number, reason "Due date moved: ...") when a report dated earlier
arrived after the warning went out, and may publish it twice. Against the real broker and Redis, through the live
feed and through a rebuild from the topics: the revision takes the next number and moves the task's due time and
queue score (an escalated task stays with the supervisor, out of the due set); the same record again changes
nothing (one revision entry, one audit entry, counted as a duplicate); the console says the due date moved (for a
verification revised with its amount kept too); the rebuilt board equals the live one."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from services.casework.domain.ordering import queue_score
from tests.integration.casework.test_casework import SUE, task_record
from tests.integration.casework.test_casework_recovery import snapshot
from tests.integration.casework.test_casework_revisions import board, page, revised, settled

__all__ = ["board"]  # the fixture, used by name


def moved(warning: dict[str, Any], due_at: dt.datetime, priority: int) -> dict[str, Any]:
    """The warning as matching publishes it again with its deadline corrected: same ids, change REVISED."""
    again = copy.deepcopy(warning)
    day = (due_at - dt.timedelta(days=2)).date().isoformat()
    again.update(change="REVISED", due_at=due_at, priority=priority,
                 created_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
                 reason=f"Due date moved: the score reached tier red with the reports of {day} (one arrived late). "
                        f"{warning['reason']}")
    return again


def due_ms(record: dict[str, Any]) -> int:
    return int(record["due_at"].timestamp() * 1000)


async def test_warning_with_a_moved_deadline_is_revised_once_however_often_it_is_published_and_rebuilds_the_same(
        board):
    desk, dora, home = board.desk, board.dora, board.home
    redis, keys = desk.parts.redis, desk.parts.keys
    warning = task_record(home, priority=60, due_in=dt.timedelta(hours=72), kind="VISIT")
    warning["reason"] = "Visit the household: its risk score reached tier red."
    await desk.publish(warning)
    await desk.queued(dora, {warning["task_id"]})
    task_id = warning["task_id"]
    assert await redis.zscore(keys.due, task_id) == due_ms(warning)

    earlier = moved(warning, warning["due_at"] - dt.timedelta(hours=30), priority=75)
    await desk.publish(earlier)
    body = await settled(desk, dora, warning, lambda p: p["change"] == "REVISED")
    assert [(r["number"], r["change"]) for r in body["revisions"]] == [(1, "REVISED")]
    assert body["revisions"][0]["reason"] == earlier["reason"]
    assert body["status"] == "QUEUED" and body["priority"] == 75
    assert await redis.zscore(keys.due, task_id) == due_ms(earlier)
    assert await redis.zscore(keys.queue(f"d:{home}"), task_id) == queue_score(75, due_ms(earlier))

    # The same record again (matching re-sent it after a crash), then a task of the same household published
    # after it on the same partition: once that one is in, the repeated record was taken in too.
    after = task_record(home, priority=10, kind="PHONE_CHECK")
    after["household_id"] = warning["household_id"]
    await desk.publish(earlier, after)
    await desk.queued(dora, {after["task_id"]})
    body = await page(desk, dora, warning)
    assert [(r["number"], r["change"]) for r in body["revisions"]] == [(1, "REVISED")]
    assert [e["action"] for e in body["audit"]] == ["RECEIVED", "REVISED"]
    fields = await redis.hgetall(keys.task(task_id))
    assert (fields["rev"], fields["due"], fields["priority"]) == ("1", str(due_ms(earlier)), "75")
    assert await redis.zscore(keys.due, task_id) == due_ms(earlier)
    assert await redis.zscore(keys.queue(f"d:{home}"), task_id) == queue_score(75, due_ms(earlier))
    counted = {outcome: desk.parts.metrics.registry.get_sample_value(
        "assist_casework_tasks_taken_in_total", {"outcome": outcome}) for outcome in ("new", "revised", "duplicate")}
    assert counted == {"new": 2, "revised": 1, "duplicate": 1}, counted
    html = await (await desk.client.get(f"/console/tasks/{task_id}?lang=en", headers=desk.auth(dora))).text()
    assert earlier["reason"] in html and "<td>Due date moved</td>" in html and "<h3>Due date moved ·" in html
    assert "Amount revised" not in html and "Explanation before" not in html  # a warning has no offer

    await desk.outbox_empty()
    ids = [task_id, after["task_id"]]
    before = await snapshot(desk, ids)
    revisions_before = await redis.xrange(keys.revisions(task_id))
    page_before = await page(desk, dora, warning)
    await desk.halt()

    await redis.flushdb()
    report = await desk.parts.rebuilder(desk.settings.kafka_bootstrap).ensure_built()
    assert report is not None and report.inconsistent == 0
    after_rebuild = await snapshot(desk, ids)
    for one in ids:  # the topic holds other runs' tasks too: compare these tasks, each where it stands
        assert after_rebuild[one] == before[one], one
    assert f"d:{home}" in after_rebuild["queues"]
    assert await redis.xrange(keys.revisions(task_id)) == revisions_before and len(revisions_before) == 1
    assert await page(desk, dora, warning) == page_before


async def test_escalated_warning_with_a_moved_deadline_stays_with_the_supervisor_out_of_the_due_set_live_and_rebuilt(
        board):
    desk, dora, home = board.desk, board.dora, board.home
    redis, keys = desk.parts.redis, desk.parts.keys
    region = f"r:{home[:2]}0000"
    warning = task_record(home, priority=45, due_in=-dt.timedelta(hours=1), kind="PHONE_CHECK")
    await desk.publish(warning)
    await desk.queued(SUE, {warning["task_id"]})
    assert (await settled(desk, SUE, warning, lambda p: p["escalated"]))["escalated"]
    earlier = moved(warning, warning["due_at"] - dt.timedelta(hours=20), priority=65)
    await desk.publish(earlier, earlier)
    await settled(desk, dora, warning, lambda p: p["change"] == "REVISED")
    await desk.outbox_empty()
    task_id = warning["task_id"]
    before = await snapshot(desk, [task_id])
    fields = before[task_id]["hash"]
    assert (fields["status"], fields["escalated"], fields["queue"], fields["rev"]) == ("QUEUED", "1", region, "1")
    assert before[task_id]["in"] == {keys.queue(region): queue_score(65, due_ms(earlier))}
    await desk.halt()

    await redis.flushdb()
    report = await desk.parts.rebuilder(desk.settings.kafka_bootstrap).ensure_built()
    assert report is not None and report.inconsistent == 0
    assert (await snapshot(desk, [task_id]))[task_id] == before[task_id]
    assert len(await redis.xrange(keys.revisions(task_id))) == 1


async def test_verification_revised_with_its_amount_kept_reads_due_date_moved_on_the_console(board):
    desk, dora, home = board.desk, board.dora, board.home
    task = task_record(home, priority=50)
    await desk.publish(task)
    await desk.queued(dora, {task["task_id"]})
    kept = revised(task, 1, task["offer"]["amount_fen"], priority=70)
    kept["due_at"] = task["due_at"] - dt.timedelta(hours=24)
    kept["offer"]["revision"]["reason"] = "Due date moved: the household qualified from an earlier day."
    await desk.publish(kept)
    body = await settled(desk, dora, task, lambda p: p["change"] == "REVISED")
    assert [r["number"] for r in body["revisions"]] == [1] and body["offer"]["amount_fen"] == 200_000
    html = await (await desk.client.get(f"/console/tasks/{task['task_id']}?lang=en",
                                        headers=desk.auth(dora))).text()
    assert "<td>Due date moved</td>" in html and "<h3>Due date moved ·" in html
    assert "<td>Amount revised</td>" not in html and "<h3>Amount revised" not in html
    assert "¥2,000.00 → ¥2,000.00" not in html
    assert "Explanation before" in html  # an offer's explanations are still shown side by side
