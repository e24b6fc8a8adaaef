"""Casework acts on matching's revisions and withdrawals (change REVISED / WITHDRAWN under the same task id) and on
exit reviews, against the real broker and Redis: the task is updated in place with an "amount revised" entry and
both explanations, a withdrawn task leaves every queue and refuses decisions, older or repeated publications and
anything after a withdrawal but a higher-numbered reinstatement change nothing, and a rebuild from the topics
gives the same board as live consumption."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from services.casework.domain.scope import Staff, staff
from tests.integration.casework.test_casework import PASSWORD, SUE, Desk, open_desk, task_record
from tests.integration.casework.test_casework_recovery import act, snapshot, unused_districts


def revised(task: dict[str, Any], number: int, amount: int, priority: int | None = None,
            change: str = "REVISED") -> dict[str, Any]:
    """The task as matching publishes it again: the offer's new amount and explanation, the revision block."""
    again = copy.deepcopy(task)
    offer = again["offer"]
    previous_amount = offer["amount_fen"]
    previous = offer["explanation"]
    offer["amount_fen"] = None if change == "WITHDRAWN" else amount
    if change == "WITHDRAWN":
        offer["explanation"] = {**previous, "summary": "Not eligible: income 300000 is above the line 145000.",
                                "computation": None, "eligible": False, "conditions": [
                                    {**previous["conditions"][0], "values": "300000 < 145000", "holds": False}]}
    else:
        offer["explanation"] = {**previous, "summary": f"Income now {amount} fen below the line.",
                                "computation": f"(145000 - 0) * 2 members = {amount} fen", "eligible": True}
    reason = ("Withdrawn: income above the local line" if change == "WITHDRAWN"
              else f"Amount revised from {previous_amount / 100:.2f} to {amount / 100:.2f} yuan (income 45000 -> 0).")
    offer["change"] = change
    offer["revision"] = {"number": number, "previous_amount_fen": previous_amount,
                         "previous_summary": previous["summary"], "previous_computation": previous["computation"],
                         "reason": reason, "changed_facts": [
                             "member.monthly_income_fen 45000 -> 300000" if change == "WITHDRAWN"
                             else "member.monthly_income_fen 45000 -> 0"],
                         "received": False}
    again["change"] = change
    again["reason"] = reason if change == "WITHDRAWN" else f"Verify the revised amount: {reason}"
    again["created_at"] = dt.datetime.now(dt.UTC).replace(microsecond=0)
    if priority is not None:
        again["priority"] = priority
        offer["priority"] = priority
    return again


def review_record(district: str) -> dict[str, Any]:
    task = task_record(district, kind="REVIEW")
    task["risk_tier"] = None
    task["reason"] = "Review 最低生活保障, received by the household: income above the review threshold."
    task["review"] = {
        "policy_id": "subsistence_allowance", "policy_name": "最低生活保障", "amount_fen": 160_000,
        "explanation": {"policy_id": "subsistence_allowance", "policy_version": "2026.1", "legal_basis": "第九条",
                        "eligible": False, "facts": {"household.monthly_income_per_person_fen": "300000"},
                        "conditions": [{"expression": "household.monthly_income_per_person_fen < "
                                                      "local.subsistence_line_fen",
                                        "values": "300000 < 145000", "holds": False}],
                        "computation": None, "summary": "Income above the review threshold."},
        "reasons": ["review threshold: income per person 300000 fen >= 1.5 x line 145000 fen"]}
    return task


@dataclass
class Board:
    desk: Desk
    dora: Staff
    home: str


@pytest.fixture
async def board(tmp_path: Path) -> AsyncIterator[Board]:
    """A desk with a caseworker of a district no other run uses."""
    home, _ = unused_districts()
    dora = staff("dora", "caseworker", [home])
    async with open_desk(tmp_path) as desk:
        desk.parts.staff.add(dora, PASSWORD)
        yield Board(desk, dora, home)


async def page(desk: Desk, member, task: dict[str, Any]) -> dict[str, Any]:
    status, body = await desk.call("GET", f"/api/v1/tasks/{task['task_id']}", member)
    assert status == 200, body
    return body


async def settled(desk: Desk, member, task: dict[str, Any], wanted, timeout: float = 20.0) -> dict[str, Any]:
    """The task page once `wanted(page)` holds (the feed takes publications in asynchronously)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        body = await page(desk, member, task)
        if wanted(body) or loop.time() > deadline:
            return body
        await asyncio.sleep(0.1)


async def test_revised_task_keeps_its_claim_shows_the_new_amount_and_both_explanations(board):
    desk, dora, home = board.desk, board.dora, board.home
    claimed, queued = task_record(home, priority=60), task_record(home, priority=50)
    await desk.publish(claimed, queued)
    await desk.queued(dora, {claimed["task_id"], queued["task_id"]})
    await act(desk, dora, claimed, "claim")
    await desk.publish(revised(claimed, 1, 290_000), revised(queued, 1, 290_000, priority=95))

    body = await settled(desk, dora, claimed, lambda p: p["change"] == "REVISED")
    assert body["status"] == "CLAIMED" and body["holder"] == "dora"  # the claim stands
    assert body["offer"]["amount_fen"] == 290_000
    assert body["explanation"]["computation"] == "(145000 - 0) * 2 members = 290000 fen"
    [entry] = [e for e in body["audit"] if e["action"] == "REVISED"]
    assert entry["actor"] == "matching"
    assert entry["revision"]["previous_amount_fen"] == 200_000 and entry["revision"]["amount_fen"] == 290_000
    assert entry["revision"]["previous_summary"] == "Income below the local line."
    assert entry["revision"]["previous_computation"] == "(145000 - 45000) * 2 members = 200000 fen"
    assert entry["revision"]["changed_facts"] == ["member.monthly_income_fen 45000 -> 0"]
    assert [e["action"] for e in body["audit"]] == ["RECEIVED", "CLAIMED", "REVISED"]

    html = await (await desk.client.get(f"/console/tasks/{claimed['task_id']}?lang=en",
                                        headers=desk.auth(dora))).text()
    assert "Amount revised" in html and "¥2,000.00 → ¥2,900.00" in html
    assert "Income below the local line." in html and "Income now 290000 fen below the line." in html

    await settled(desk, dora, queued, lambda p: p["change"] == "REVISED")
    [row] = await desk.queued(dora, {queued["task_id"]}, query="state=queued")
    assert row["amount_fen"] == 290_000 and row["priority"] == 95 and row["band"] == "urgent"
    status, answer = await desk.call("POST", f"/api/v1/tasks/{claimed['task_id']}/decide", dora,
                                     {"action": "approve"})
    assert status == 200, answer  # the revised figure is what is approved


async def test_withdrawn_task_leaves_every_queue_and_its_holder_sees_it_withdrawn_and_cannot_decide(board):
    desk, dora, home = board.desk, board.dora, board.home
    claimed, queued = task_record(home, priority=90), task_record(home, priority=40)
    await desk.publish(claimed, queued)
    await desk.queued(dora, {claimed["task_id"], queued["task_id"]})
    await act(desk, dora, claimed, "claim")
    await desk.publish(revised(claimed, 1, 0, change="WITHDRAWN"), revised(queued, 1, 0, change="WITHDRAWN"))

    body = await settled(desk, dora, claimed, lambda p: p["status"] == "WITHDRAWN")
    assert body["status"] == "WITHDRAWN" and body["holder"] is None and body["sla"] == "withdrawn"
    [entry] = [e for e in body["audit"] if e["action"] == "WITHDRAWN"]
    assert entry["reason"] == "Withdrawn: income above the local line"
    assert entry["revision"]["held_by"] == "dora"
    await settled(desk, dora, queued, lambda p: p["status"] == "WITHDRAWN")
    assert await desk.queued(SUE, {claimed["task_id"], queued["task_id"]}, timeout=1.0) == []
    redis, keys = desk.parts.redis, desk.parts.keys
    for task in (claimed, queued):
        for key in (keys.queue(f"d:{home}"), keys.held(f"d:{home}"), keys.leases, keys.due):
            assert await redis.zscore(key, task["task_id"]) is None, key

    status, problem = await desk.call("POST", f"/api/v1/tasks/{claimed['task_id']}/decide", dora,
                                      {"action": "approve"})
    assert (status, problem["code"]) == (409, "withdrawn")
    assert "withdrawn" in problem["title"] and "income above the local line" in problem["title"]
    for command in ("claim", "unclaim"):
        status, problem = await desk.call("POST", f"/api/v1/tasks/{queued['task_id']}/{command}", dora)
        assert (status, problem["code"]) == (409, "withdrawn")
    html = await (await desk.client.get(f"/console/tasks/{claimed['task_id']}?lang=en",
                                        headers=desk.auth(dora))).text()
    assert "Matching withdrew this task" in html and "You had this task claimed" in html
    assert 'id="approve"' not in html and 'id="claim"' not in html


async def test_older_and_repeated_publications_never_regress_a_task(board):
    desk, dora, home = board.desk, board.dora, board.home
    task, other = task_record(home), task_record(home)
    second, first = revised(task, 2, 310_000), revised(task, 1, 250_000)
    # After a crash matching sends again what it sent: NEW, then revisions out of order and twice.
    await desk.publish(task, second, first, task, second)
    # After a withdrawal only a higher number that is not a withdrawal reopens the task (a reinstatement,
    # tests/integration/casework/test_casework_reinstatement.py): older, equal, another withdrawal or NEW
    # change nothing.
    await desk.publish(other, revised(other, 2, 0, change="WITHDRAWN"), revised(other, 1, 330_000),
                       revised(other, 2, 330_000), revised(other, 3, 0, change="WITHDRAWN"), other)
    body = await settled(desk, dora, task, lambda p: p["offer"]["amount_fen"] == 310_000)
    await settled(desk, dora, other, lambda p: p["status"] == "WITHDRAWN")
    await asyncio.sleep(1.0)  # the later records are taken in too
    body = await page(desk, dora, task)
    assert body["offer"]["amount_fen"] == 310_000 and [r["number"] for r in body["revisions"]] == [2]
    assert body["status"] == "QUEUED"
    assert [e["action"] for e in body["audit"]] == ["RECEIVED", "REVISED"]
    withdrawn = await page(desk, dora, other)
    assert withdrawn["status"] == "WITHDRAWN" and [r["change"] for r in withdrawn["revisions"]] == ["WITHDRAWN"]
    counted = {outcome: desk.parts.metrics.registry.get_sample_value(
        "assist_casework_tasks_taken_in_total", {"outcome": outcome}) for outcome in ("new", "revised", "duplicate")}
    assert counted == {"new": 2, "revised": 2, "duplicate": 7}, counted


async def test_review_task_shows_the_benefit_under_review_and_what_changed(board):
    desk, dora, home = board.desk, board.dora, board.home
    review = review_record(home)
    await desk.publish(review)
    [row] = await desk.queued(dora, {review["task_id"]})
    assert row["kind"] == "REVIEW"
    body = await page(desk, dora, review)
    assert body["review"]["policy_id"] == "subsistence_allowance" and body["review"]["amount_fen"] == 160_000
    html = await (await desk.client.get(f"/console/tasks/{review['task_id']}?lang=en",
                                        headers=desk.auth(dora))).text()
    assert "Under review" in html and "¥1,600.00" in html and "review threshold" in html
    assert "Income above the review threshold." in html  # the evaluation on the current facts
    ended = copy.deepcopy(review)
    ended.update(change="WITHDRAWN", reason="Review withdrawn for 最低生活保障: income back below the line.")
    await desk.publish(ended, ended)
    body = await settled(desk, dora, review, lambda p: p["status"] == "WITHDRAWN")
    assert [r["number"] for r in body["revisions"]] == [1]


async def test_rebuild_from_the_topics_gives_the_same_board_as_live_consumption(board):
    desk, dora, home = board.desk, board.dora, board.home
    claimed_then_revised = task_record(home, priority=70)
    claimed_then_withdrawn = task_record(home, priority=60)
    queued_revised_twice = task_record(home, priority=50)
    approved_then_revised = task_record(home, priority=45)
    withdrawn_first = task_record(home, priority=40)
    review = review_record(home)
    tasks = [claimed_then_revised, claimed_then_withdrawn, queued_revised_twice, approved_then_revised,
             withdrawn_first, review]
    await desk.publish(*tasks[:4], review)
    await desk.queued(dora, {t["task_id"] for t in (*tasks[:4], review)})
    for task in (claimed_then_revised, claimed_then_withdrawn, approved_then_revised):
        await act(desk, dora, task, "claim")
    await act(desk, dora, approved_then_revised, "decide", {"action": "approve"})
    await desk.publish(revised(claimed_then_revised, 1, 290_000, priority=85),
                       revised(claimed_then_withdrawn, 1, 0, change="WITHDRAWN"),
                       revised(queued_revised_twice, 2, 260_000), revised(queued_revised_twice, 1, 240_000),
                       revised(queued_revised_twice, 3, 280_000, priority=20),
                       revised(approved_then_revised, 1, 230_000),
                       revised(withdrawn_first, 1, 0, change="WITHDRAWN"), withdrawn_first)
    await settled(desk, dora, queued_revised_twice, lambda p: p["offer"]["amount_fen"] == 280_000)
    await settled(desk, dora, withdrawn_first, lambda p: p["status"] == "WITHDRAWN")
    await act(desk, dora, claimed_then_revised, "unclaim")  # a transition after a revision
    await desk.outbox_empty()
    ids = [t["task_id"] for t in tasks]
    before = await snapshot(desk, ids)
    revisions_before = {i: await desk.parts.redis.xrange(desk.parts.keys.revisions(i)) for i in ids}
    pages_before = [await page(desk, dora, t) for t in tasks]
    listing_before = await desk.queued(dora, set(ids) - {claimed_then_withdrawn["task_id"],
                                                         withdrawn_first["task_id"],
                                                         approved_then_revised["task_id"]})
    await desk.halt()

    await desk.parts.redis.flushdb()
    report = await desk.parts.rebuilder(desk.settings.kafka_bootstrap).ensure_built()
    assert report is not None and report.inconsistent == 0
    after = await snapshot(desk, ids)
    for task_id in ids:
        assert after[task_id] == before[task_id], task_id
        assert await desk.parts.redis.xrange(desk.parts.keys.revisions(task_id)) == revisions_before[task_id]
    assert [await page(desk, dora, t) for t in tasks] == pages_before
    assert await desk.queued(dora, {r["task_id"] for r in listing_before}) == listing_before
    assert before[approved_then_revised["task_id"]]["hash"]["status"] == "APPROVED"
    assert before[claimed_then_withdrawn["task_id"]]["hash"]["status"] == "WITHDRAWN"
