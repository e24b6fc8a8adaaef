"""Casework against the real Kafka broker and Redis: tasks from assist.tasks into district queues, claims and
decisions through the HTTP API, decisions on assist.decisions, leases, scope, escalation.

Each desk uses Redis DB 11 (flushed, never DB 0), its own consumer group started at the topic ends, and only
looks at records of its own task ids.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from aiohttp.test_utils import TestClient, TestServer

from services.casework.adapters.rebuild import declare_built
from services.casework.adapters.task_feed import TaskFeed, tasks_consumer
from services.casework.adapters.web import build_app
from services.casework.disclosing import IdentityVault
from services.casework.domain.scope import Staff, staff
from services.casework.wiring import CaseworkParts, casework_parts
from services.casework.worker import timers
from services.core.codec import Contract, decode_record, encode_record
from services.core.kafka import commit_group_at_end
from services.core.settings import Settings, load_settings
from services.core.topics import APPLICATION_ANSWERS, DECISIONS, TASKS
from services.outcomes.region import RegionOutcomes

CASEWORK_DB = urlunsplit(urlsplit(load_settings().redis_url)._replace(path="/11"))
"""The stack's Redis (ASSIST_REDIS_URL), database 11."""
ALICE = staff("alice", "caseworker", ["110105"])
BOB = staff("bob", "caseworker", ["110108"])
CAROL = staff("carol", "caseworker", ["510107"])
SUE = staff("sue", "supervisor", region="110000")
PASSWORD = "a long test password"


def task_record(district: str = "110105", priority: int = 70, due_in: dt.timedelta = dt.timedelta(hours=48),
                kind: str = "VERIFY_ELIGIBILITY", policy_id: str = "subsistence_allowance") -> dict[str, Any]:
    """A caseworker task as matching publishes it, carrying an offer with its explanation."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    suffix = uuid.uuid4().hex[:12]
    household, person = f"h-test-{suffix}", f"p-test-{suffix}"
    offer = {
        "offer_id": f"o-test-{suffix}", "household_id": household, "person_id": None, "policy_id": policy_id,
        "policy_name": "最低生活保障", "tier": "basic", "benefit_period": "2026-11", "amount_fen": 145_000 * 2 - 90_000,
        "amount_period": "MONTHLY", "route": "VERIFICATION", "district": district, "priority": priority,
        "created_at": now, "trigger_event_id": f"e-test-{suffix}",
        "explanation": {
            "policy_id": policy_id, "policy_version": "2026.1", "legal_basis": "《社会救助暂行办法》第九条",
            "eligible": True, "facts": {"household.monthly_income_per_person_fen": "45000",
                                        "local.subsistence_line_fen": "145000"},
            "conditions": [{"expression": "household.monthly_income_per_person_fen < local.subsistence_line_fen",
                            "values": "45000 < 145000", "holds": True},
                           {"expression": "household.financial_assets_fen <= 6 * local.subsistence_line_fen",
                            "values": "0 <= 870000", "holds": True}],
            "computation": "(145000 - 45000) * 2 members = 200000 fen", "summary": "Income below the local line."},
    }
    return {
        "task_id": f"t-test-{suffix}", "kind": kind, "household_id": household, "person_id": person,
        "district": district, "priority": priority, "due_at": now + due_in, "reason": "Verify before offering.",
        "offer": offer if kind == "VERIFY_ELIGIBILITY" else None, "risk_tier": None if kind == "VERIFY_ELIGIBILITY"
        else "red", "evidence_event_ids": [f"e-test-{suffix}", f"e-test-{suffix}-2"], "created_at": now,
    }


@dataclass
class Desk:
    """A casework deployment of one test: worker loops in this process and the HTTP API on a free port."""

    parts: CaseworkParts
    settings: Settings
    client: TestClient
    stop: asyncio.Event
    loops: list[asyncio.Task[None]] = field(default_factory=list)

    def auth(self, member: Staff) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.parts.tokens.issue(member)}"}

    async def call(self, method: str, path: str, member: Staff, body: dict[str, Any] | None = None
                   ) -> tuple[int, Any]:
        response = await self.client.request(method, path, json=body, headers=self.auth(member))
        return response.status, await response.json()

    async def publish(self, *records: dict[str, Any]) -> None:
        producer = self.parts.producer
        assert producer is not None
        for record in records:
            await producer.send_and_wait(TASKS.name, encode_record(self.parts.contract, "caseworker_task", record),
                                         key=record["household_id"].encode())

    async def queued(self, member: Staff, task_ids: set[str], timeout: float = 20.0, query: str = "state=all"
                     ) -> list[dict[str, Any]]:
        """The listing once every one of `task_ids` is in it (only those rows, in queue order)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            status, body = await self.call("GET", f"/api/v1/tasks?limit=200&{query}", member)
            assert status == 200, body
            rows = [row for row in body["tasks"] if row["task_id"] in task_ids]
            if {row["task_id"] for row in rows} == task_ids or loop.time() > deadline:
                return rows
            await asyncio.sleep(0.1)

    async def outbox_empty(self, timeout: float = 20.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            left = await self.parts.redis.xlen(self.parts.keys.outbox)
            if not left or loop.time() > deadline:
                break
            await asyncio.sleep(0.05)
        assert left == 0

    async def halt(self) -> None:
        """Stop the worker loops (the API keeps serving)."""
        self.stop.set()
        await asyncio.gather(*self.loops)
        self.loops.clear()


@asynccontextmanager
async def open_desk(tmp_path: Path, lease_seconds: int = 30, publishing: bool = True, tick: float = 0.2,
                    clock: Callable[[], float] | None = None, catalogue: str | None = None,
                    contract: Contract | None = None, vault: IdentityVault | None = None,
                    outcomes: RegionOutcomes | None = None) -> AsyncIterator[Desk]:
    settings = replace(load_settings(), redis_url=CASEWORK_DB, lease_seconds=lease_seconds, data_dir=tmp_path)
    if catalogue is not None:
        settings = replace(settings, matching_catalogue=catalogue)
    group = f"assist-casework-test-{uuid.uuid4().hex[:8]}"
    await commit_group_at_end(settings.kafka_bootstrap, group, (TASKS, APPLICATION_ANSWERS))
    options: dict[str, Any] = {"clock": clock} if clock else {}
    if contract is not None:
        options["contract"] = contract
    async with casework_parts(settings, staff_file=tmp_path / "staff.json", **options) as parts:
        await parts.redis.flushdb()
        await declare_built(parts.redis, parts.keys)
        for member in (ALICE, BOB, CAROL, SUE):
            parts.staff.add(member, PASSWORD)
        consumer = tasks_consumer(settings.kafka_bootstrap, group)
        await consumer.start()
        stop = asyncio.Event()
        feed = TaskFeed(consumer, parts.board, parts.contract, parts.metrics, answers=parts.applications)
        loops = [asyncio.create_task(feed.run(stop)),
                 asyncio.create_task(timers(parts.casework, parts.rebuilder(settings.kafka_bootstrap), stop, tick))]
        if publishing:
            loops.append(asyncio.create_task(parts.publisher().run(stop, block_ms=100)))
        app = build_app(parts.casework, parts.tokens, parts.staff, parts.metrics, settings.staff_token_key,
                        parts.redis.ping, applying=parts.applying,
                        disclosing=parts.disclosing(vault) if vault is not None else None, outcomes=outcomes)
        try:
            async with TestClient(TestServer(app, host="127.0.0.1")) as client:
                desk = Desk(parts, settings, client, stop, loops)
                yield desk
                await desk.halt()
        finally:
            stop.set()
            await asyncio.gather(*loops, return_exceptions=True)
            await consumer.stop()


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    async with open_desk(tmp_path) as d:
        yield d


def decisions_of(desk: Desk, records: list[Any]) -> list[dict[str, Any]]:
    return [decode_record(desk.parts.contract, "decision", r.value) for r in records]


def about(*task_ids: str) -> Callable[[Any], bool]:
    wanted = {t.encode() for t in task_ids}
    return lambda r: any(t in r.value for t in wanted)


# ---- tasks into queues -------------------------------------------------------------------------------------------

async def test_tasks_on_the_topic_are_queued_in_their_district_by_priority_then_deadline(desk):
    late_urgent = task_record(priority=90, due_in=dt.timedelta(hours=30))
    early_urgent = task_record(priority=90, due_in=dt.timedelta(hours=10))
    normal = task_record(priority=50, due_in=dt.timedelta(hours=1))
    elsewhere = task_record(district="110108", priority=99)
    await desk.publish(normal, late_urgent, early_urgent, elsewhere, normal)  # `normal` delivered twice
    ids = {t["task_id"] for t in (normal, late_urgent, early_urgent)}
    rows = await desk.queued(ALICE, ids)
    assert [r["task_id"] for r in rows] == [early_urgent["task_id"], late_urgent["task_id"], normal["task_id"]]
    assert [r["band"] for r in rows] == ["urgent", "urgent", "normal"]
    assert rows[0]["policy_id"] == "subsistence_allowance" and rows[0]["status"] == "QUEUED"
    assert [r["task_id"] for r in await desk.queued(BOB, {elsewhere["task_id"]})] == [elsewhere["task_id"]]
    audit = await desk.parts.redis.xrange(desk.parts.keys.audit(normal["task_id"]))
    assert [e["action"] for _, e in audit] == ["RECEIVED"]  # taken in once


async def test_queue_filters_by_band_deadline_state_and_policy(desk):
    urgent = task_record(priority=85, due_in=dt.timedelta(hours=2))
    low = task_record(priority=20, due_in=dt.timedelta(hours=100), policy_id="medical_assistance")
    await desk.publish(urgent, low)
    ids = {urgent["task_id"], low["task_id"]}
    await desk.queued(ALICE, ids)
    assert {r["task_id"] for r in await desk.queued(ALICE, ids, 1, "band=urgent")} == {urgent["task_id"]}
    assert {r["task_id"] for r in await desk.queued(ALICE, ids, 1, "sla=due-soon")} == {urgent["task_id"]}
    assert {r["task_id"] for r in await desk.queued(ALICE, ids, 1, "sla=ok")} == {low["task_id"]}
    assert {r["task_id"] for r in await desk.queued(ALICE, ids, 1, "policy=medical_assistance")} == {low["task_id"]}
    soon = quote((dt.datetime.now(dt.UTC) + dt.timedelta(hours=5)).isoformat())
    assert {r["task_id"] for r in await desk.queued(ALICE, ids, 1, f"due_before={soon}")} == {urgent["task_id"]}
    status, body = await desk.call("GET", "/api/v1/tasks?band=extreme", ALICE)
    assert status == 400 and body["code"] == "filter"


# ---- claims and decisions ----------------------------------------------------------------------------------------

async def test_claim_publishes_claimed_and_a_second_claim_is_a_conflict(desk, probe):
    decisions = await probe(DECISIONS.name)
    task = task_record()
    await desk.publish(task)
    await desk.queued(ALICE, {task["task_id"]})
    status, body = await desk.call("POST", f"/api/v1/tasks/{task['task_id']}/claim", ALICE)
    assert status == 200, body
    assert [t["action"] for t in body["transitions"]] == ["CLAIMED"] and body["lease_until"]
    status, body = await desk.call("POST", f"/api/v1/tasks/{task['task_id']}/claim", SUE)
    assert (status, body["code"], body["holder"]) == (409, "held", "alice")
    status, _ = await desk.call("POST", f"/api/v1/tasks/{task['task_id']}/claim", ALICE)
    assert status == 409
    [claimed] = decisions_of(desk, await decisions.collect(about(task["task_id"]), 1))
    assert claimed["action"] == "CLAIMED" and claimed["actor"] == "alice"
    assert claimed["task_id"] == task["task_id"] and claimed["household_id"] == task["household_id"]
    assert (await decisions.collect(about(task["task_id"]), 1, timeout=1.0)) == []  # the 409s published nothing


async def test_expired_lease_returns_the_task_to_its_queue_and_publishes_lease_expired(tmp_path, probe):
    decisions = await probe(DECISIONS.name)
    async with open_desk(tmp_path, lease_seconds=1) as desk:
        task = task_record()
        await desk.publish(task)
        await desk.queued(ALICE, {task["task_id"]})
        status, _ = await desk.call("POST", f"/api/v1/tasks/{task['task_id']}/claim", ALICE)
        assert status == 200
        records = decisions_of(desk, await decisions.collect(about(task["task_id"]), 2, timeout=15))
        assert [(d["action"], d["actor"]) for d in records] == [("CLAIMED", "alice"), ("LEASE_EXPIRED", "system")]
        [row] = await desk.queued(ALICE, {task["task_id"]}, query="state=queued")
        assert row["status"] == "QUEUED" and row["holder"] is None
        status, body = await desk.call("POST", f"/api/v1/tasks/{task['task_id']}/decide", ALICE,
                                       {"action": "approve"})
        assert (status, body["code"]) == (409, "not_holder")
        status, _ = await desk.call("POST", f"/api/v1/tasks/{task['task_id']}/claim", BOB)
        assert status == 404


async def test_rejection_without_a_reason_is_refused_and_changes_nothing(desk):
    task = task_record()
    await desk.publish(task)
    await desk.queued(ALICE, {task["task_id"]})
    await desk.call("POST", f"/api/v1/tasks/{task['task_id']}/claim", ALICE)
    for body in ({"action": "reject"}, {"action": "reject", "reason": "   "}):
        status, problem = await desk.call("POST", f"/api/v1/tasks/{task['task_id']}/decide", ALICE, body)
        assert (status, problem["code"]) == (400, "reason")
    status, problem = await desk.call("POST", f"/api/v1/tasks/{task['task_id']}/decide", ALICE, {"action": "nod"})
    assert status == 400
    status, page = await desk.call("GET", f"/api/v1/tasks/{task['task_id']}", ALICE)
    assert page["status"] == "CLAIMED" and [e["action"] for e in page["audit"]] == ["RECEIVED", "CLAIMED"]


async def test_approval_publishes_approved_with_the_offer_and_policy_and_leaves_the_queue(desk, probe):
    decisions = await probe(DECISIONS.name)
    task = task_record()
    await desk.publish(task)
    await desk.queued(ALICE, {task["task_id"]})
    await desk.call("POST", f"/api/v1/tasks/{task['task_id']}/claim", ALICE)
    status, body = await desk.call("POST", f"/api/v1/tasks/{task['task_id']}/decide", ALICE, {"action": "approve"})
    assert status == 200 and [t["action"] for t in body["transitions"]] == ["APPROVED"]
    records = decisions_of(desk, await decisions.collect(about(task["task_id"]), 2))
    approved = records[-1]
    assert approved["action"] == "APPROVED"
    assert approved["offer_id"] == task["offer"]["offer_id"] and approved["policy_id"] == "subsistence_allowance"
    assert (approved["household_id"], approved["person_id"], approved["district"], approved["actor"]) == (
        task["household_id"], task["person_id"], "110105", "alice")
    assert approved["decision_id"] == body["transitions"][0]["decision_id"]
    assert await desk.queued(ALICE, {task["task_id"]}, timeout=0.5, query="state=all") == []
    status, page = await desk.call("GET", f"/api/v1/tasks/{task['task_id']}", ALICE)
    assert page["status"] == "APPROVED" and page["decided_by"] == "alice"
    assert page["explanation"]["conditions"][0]["values"] == "45000 < 145000"
    assert page["evidence_event_ids"] == task["evidence_event_ids"]
    assert [e["action"] for e in page["audit"]] == ["RECEIVED", "CLAIMED", "APPROVED"]
    status, _ = await desk.call("POST", f"/api/v1/tasks/{task['task_id']}/claim", ALICE)
    assert status == 409


async def test_information_request_returns_the_task_to_the_queue_with_the_request_recorded(desk, probe):
    decisions = await probe(DECISIONS.name)
    task = task_record()
    await desk.publish(task)
    await desk.queued(ALICE, {task["task_id"]})
    await desk.call("POST", f"/api/v1/tasks/{task['task_id']}/claim", ALICE)
    status, _ = await desk.call("POST", f"/api/v1/tasks/{task['task_id']}/decide", ALICE,
                                {"action": "request_information", "reason": "Bank statements for October"})
    assert status == 200
    [row] = await desk.queued(ALICE, {task["task_id"]}, query="state=queued")
    assert row["information_requested_at"] is not None
    records = decisions_of(desk, await decisions.collect(about(task["task_id"]), 2))
    assert records[-1]["action"] == "INFORMATION_REQUESTED"
    assert records[-1]["reason"] == "Bank statements for October"


# ---- scope -------------------------------------------------------------------------------------------------------

async def test_caseworker_of_another_district_cannot_see_or_claim_a_task(desk):
    task = task_record(district="110105")
    await desk.publish(task)
    await desk.queued(ALICE, {task["task_id"]})
    for method, path in (("GET", ""), ("POST", "/claim"), ("POST", "/unclaim")):
        status, body = await desk.call(method, f"/api/v1/tasks/{task['task_id']}{path}", BOB)
        assert status == 404, (method, path, body)
    unknown = await desk.call("GET", "/api/v1/tasks/t-test-does-not-exist", BOB)
    assert unknown[0] == 404 and unknown[1]["title"] == body["title"]  # nothing tells the two apart
    assert await desk.queued(BOB, {task["task_id"]}, timeout=0.3) == []
    status, _ = await desk.call("POST", f"/api/v1/tasks/{task['task_id']}/reassign", ALICE, {"district": "110108"})
    assert status == 403


async def test_supervisor_sees_and_acts_across_the_region_but_not_beyond(desk):
    chaoyang, haidian, wuhou = task_record("110105"), task_record("110108"), task_record("510107")
    await desk.publish(chaoyang, haidian, wuhou)
    await desk.queued(CAROL, {wuhou["task_id"]})
    ids = {chaoyang["task_id"], haidian["task_id"], wuhou["task_id"]}
    rows = await desk.queued(SUE, ids, timeout=2)
    assert {r["task_id"] for r in rows} == {chaoyang["task_id"], haidian["task_id"]}
    status, _ = await desk.call("GET", f"/api/v1/tasks/{wuhou['task_id']}", SUE)
    assert status == 404
    status, _ = await desk.call("POST", f"/api/v1/tasks/{haidian['task_id']}/claim", SUE)
    assert status == 200
    status, overview = await desk.call("GET", "/api/v1/overview", SUE)
    assert status == 200 and overview["region"] == "110000"
    depth = {q["code"]: q for q in overview["queues"]}
    assert all(code.startswith("11") for code in depth)  # other tests' tasks may be there, never other regions
    assert depth["110105"]["queued"]["high"] >= 1 and depth["110108"]["claimed"]["high"] >= 1
    status, _ = await desk.call("GET", "/api/v1/overview", ALICE)
    assert status == 403
    status, _ = await desk.call("POST", f"/api/v1/tasks/{chaoyang['task_id']}/reassign", SUE, {"district": "510107"})
    assert status == 400


async def test_supervisor_reassigns_to_a_caseworker_who_alone_may_claim_it(desk, probe):
    decisions = await probe(DECISIONS.name)
    task = task_record("110105")
    await desk.publish(task)
    await desk.queued(ALICE, {task["task_id"]})
    status, body = await desk.call("POST", f"/api/v1/tasks/{task['task_id']}/reassign", SUE,
                                   {"caseworker": "bob", "reason": "Bob knows the family"})
    assert status == 200, body
    [row] = await desk.queued(BOB, {task["task_id"]})
    assert (row["district"], row["assignee"]) == ("110108", "bob")
    status, _ = await desk.call("GET", f"/api/v1/tasks/{task['task_id']}", ALICE)
    assert status == 404  # no longer in Alice's district
    status, _ = await desk.call("POST", f"/api/v1/tasks/{task['task_id']}/claim", BOB)
    assert status == 200
    records = decisions_of(desk, await decisions.collect(about(task["task_id"]), 2))
    assert [(d["action"], d["district"]) for d in records] == [("REASSIGNED", "110108"), ("CLAIMED", "110108")]
    status, body = await desk.call("POST", f"/api/v1/tasks/{task['task_id']}/reassign", SUE, {"caseworker": "nobody"})
    assert (status, body["code"]) == (400, "no_caseworker")


# ---- deadlines -----------------------------------------------------------------------------------------------------

async def test_breached_deadline_escalates_to_the_supervisor_queue_of_the_region(desk, probe):
    decisions = await probe(DECISIONS.name)
    overdue = task_record("110105", priority=60, due_in=-dt.timedelta(hours=1))
    on_time = task_record("110105", priority=60)
    await desk.publish(overdue, on_time)
    records = decisions_of(desk, await decisions.collect(about(overdue["task_id"]), 1))
    assert [(d["action"], d["actor"], d["district"]) for d in records] == [("ESCALATED", "system", "110105")]
    [row] = await desk.queued(SUE, {overdue["task_id"]})
    assert row["queue"] == "r:110000" and row["escalated"] and row["sla"] == "breached"
    assert await desk.queued(ALICE, {overdue["task_id"]}, timeout=0.3) == []
    status, body = await desk.call("POST", f"/api/v1/tasks/{overdue['task_id']}/claim", ALICE)
    assert (status, body["code"]) == (409, "escalated")
    status, overview = await desk.call("GET", "/api/v1/overview", SUE)
    assert overdue["task_id"] in {b["task_id"] for b in overview["breaches"]}
    assert on_time["task_id"] not in {b["task_id"] for b in overview["breaches"]}
    assert overview["breaches_by_district"]["110105"] >= 1
    await desk.call("POST", f"/api/v1/tasks/{overdue['task_id']}/reassign", SUE, {"caseworker": "alice"})
    status, _ = await desk.call("POST", f"/api/v1/tasks/{overdue['task_id']}/claim", ALICE)
    assert status == 200
    assert len(await decisions.collect(about(overdue["task_id"]), 2, timeout=3)) == 2  # escalated only once
    metrics = await (await desk.client.get("/metrics")).text()
    assert 'assist_casework_queue_depth{band="high",district="110105"}' in metrics


# ---- the console's session and the API's edges -------------------------------------------------------------------

async def test_api_refuses_missing_forged_and_cookie_requests_without_csrf(desk):
    response = await desk.client.get("/api/v1/tasks")
    assert response.status == 401
    response = await desk.client.get("/api/v1/tasks", headers={"Authorization": "Bearer not-a-token"})
    assert response.status == 401
    login = await desk.client.get("/login")
    csrf = login.cookies["casework_login"].value
    response = await desk.client.post("/login", data={"user": "alice", "password": PASSWORD, "csrf": csrf},
                                      allow_redirects=False)
    assert response.status == 303 and "casework_session" in response.cookies
    assert "HttpOnly" in response.headers["Set-Cookie"] or "httponly" in response.headers["Set-Cookie"].lower()
    status = (await desk.client.get("/api/v1/me")).status
    assert status == 200  # the session cookie is accepted
    response = await desk.client.post("/api/v1/tasks/next", json={})
    assert response.status == 403  # but a change by cookie needs the CSRF header
    openapi = await (await desk.client.get("/openapi.json")).json()
    assert "/api/v1/tasks/{task_id}/decide" in openapi["paths"]
    assert (await desk.client.get("/healthz")).status == 200
