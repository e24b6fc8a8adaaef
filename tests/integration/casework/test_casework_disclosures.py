"""Contact details on tasks, against the real broker and Redis: the identity vault runs in the casework API's process;
a caseworker who holds a task (or a supervisor of the region) chooses a purpose and sees only that purpose's fields
of the household's members, each disclosure on assist.disclosures first; refusals name the field; the details are
in no log line, no metric and no cacheable answer."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from prometheus_client import generate_latest
from redis.asyncio import Redis

from services.core.codec import decode_record
from services.core.settings import load_settings
from services.core.topics import DISCLOSURES
from services.vault.service import Vault
from services.vault.wiring import vault_parts
from tests.integration.casework.test_casework import ALICE, BOB, SUE, Desk, open_desk, task_record

FATHER_NAME, FATHER_PHONE, ADDRESS = "杨建国", "13812345678", "冕宁县城厢镇建设路 12 号"


@asynccontextmanager
async def identity_vault() -> AsyncIterator[Vault]:
    """The vault of one test: its own key prefix in the stack's Redis, removed afterwards."""
    settings = load_settings()
    prefix = f"test:vault:{uuid.uuid4().hex[:8]}"
    async with vault_parts(settings, prefix) as parts:
        try:
            yield parts.vault
        finally:
            raw = Redis.from_url(settings.redis_url)
            for key in await raw.keys(f"{prefix}:*"):
                await raw.delete(key)
            await raw.aclose()


async def household_known(vault: Vault, household: str) -> tuple[str, str]:
    """Two members of `household` in the vault: the father with a phone, the daughter without; their ids."""
    father, daughter = f"p-{household}-1", f"p-{household}-2"
    now = dt.datetime.now(dt.UTC)
    await vault.take_in({"person_id": father, "household_id": household, "name": FATHER_NAME, "address": ADDRESS,
                         "phone": FATHER_PHONE, "updated_at": now})
    await vault.take_in({"person_id": daughter, "household_id": household, "name": "杨小梅", "address": ADDRESS,
                         "phone": None, "updated_at": now})
    return father, daughter


async def disclose(desk: Desk, task_id: str, member, purpose: object) -> tuple[int, dict, dict[str, str]]:
    response = await desk.client.post(f"/api/v1/tasks/{task_id}/disclosures", json={"purpose": purpose},
                                      headers=desk.auth(member))
    return response.status, await response.json(), dict(response.headers)


def disclosure_count(desk: Desk, purpose: str, role: str) -> float:
    text = generate_latest(desk.parts.metrics.registry).decode()
    found = re.search(rf'assist_casework_disclosures_total{{purpose="{purpose}",role="{role}"}} ([0-9.]+)', text)
    return float(found.group(1)) if found else 0.0


async def test_the_holder_sees_the_purposes_fields_recorded_first_and_refusals_name_the_field(
        tmp_path, probe, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    audit = await probe(DISCLOSURES.name)
    async with identity_vault() as vault, open_desk(tmp_path, vault=vault) as desk:
        task = task_record("110105")
        father, daughter = await household_known(vault, task["household_id"])
        await desk.publish(task)
        await desk.queued(ALICE, {task["task_id"]})
        tid = task["task_id"]

        status, problem, _ = await disclose(desk, tid, ALICE, "VISIT")
        assert (status, problem["code"], problem["field"]) == (409, "not_holder", "task_id")
        assert problem["title"] == "task_id: claim the task first: details are shown to the caseworker who holds it"
        assert (await desk.call("POST", f"/api/v1/tasks/{tid}/claim", ALICE))[0] == 200
        status, problem, _ = await disclose(desk, tid, ALICE, "LOOK")
        assert (status, problem["field"]) == (400, "purpose") and "VISIT, VERIFY, DELIVER_NOTICE" in problem["title"]
        status, problem, _ = await disclose(desk, tid, ALICE, None)
        assert (status, problem["field"]) == (400, "purpose")
        status, problem, _ = await disclose(desk, tid, BOB, "VISIT")
        assert status == 404  # another district's task is not revealed

        status, shown, headers = await disclose(desk, tid, ALICE, "VISIT")
        assert status == 200 and headers["Cache-Control"] == "no-store"
        assert (shown["purpose"], shown["fields"], shown["household_id"]) == (
            "VISIT", ["name", "address", "phone"], task["household_id"])
        assert shown["persons"] == [
            {"person_id": father, "name": FATHER_NAME, "address": ADDRESS, "phone": FATHER_PHONE},
            {"person_id": daughter, "name": "杨小梅", "address": ADDRESS}]
        [record] = await audit.collect(lambda r: r.key == task["household_id"].encode(), 1)
        recorded = decode_record(desk.parts.contract, "disclosure", record.value)
        assert (recorded["disclosure_id"], recorded["actor"], recorded["actor_role"], recorded["district"],
                recorded["task_id"], recorded["purpose"], recorded["person_ids"]) == (
            shown["disclosure_id"], "alice", "CASEWORKER", "110105", tid, "VISIT", [father, daughter])

        status, notice, _ = await disclose(desk, tid, ALICE, "DELIVER_NOTICE")
        assert status == 200 and all("phone" not in p for p in notice["persons"])
        status, shown, _ = await disclose(desk, tid, SUE, "VERIFY")  # a supervisor of the region, not holding it
        assert status == 200 and shown["persons"][0] == {"person_id": father, "name": FATHER_NAME,
                                                         "phone": FATHER_PHONE}
        assert (disclosure_count(desk, "VISIT", "CASEWORKER"), disclosure_count(desk, "DELIVER_NOTICE", "CASEWORKER"),
                disclosure_count(desk, "VERIFY", "SUPERVISOR")) == (1, 1, 1)

        assert (await desk.call("POST", f"/api/v1/tasks/{tid}/decide", ALICE, {"action": "approve"}))[0] == 200
        status, problem, _ = await disclose(desk, tid, SUE, "VISIT")
        assert (status, problem["code"], problem["field"]) == (409, "closed", "task_id")
        assert "the task is closed" in problem["title"]
        records = [record, *await audit.collect(lambda r: r.key == task["household_id"].encode(), 5, timeout=3)]
        assert len(records) == 3, "each disclosure is recorded once; refusals leave no record"

        scrape = await (await desk.client.get("/metrics")).text()
        for secret in (FATHER_NAME, FATHER_PHONE, ADDRESS, "杨小梅"):
            assert secret not in scrape and secret not in caplog.text
            assert secret.encode() not in b"".join(r.value for r in records)


async def test_the_console_offers_the_purposes_to_the_holder_and_shows_only_that_purposes_fields(tmp_path) -> None:
    async with identity_vault() as vault, open_desk(tmp_path, vault=vault) as desk:
        task, empty = task_record("110105"), task_record("110105")
        await household_known(vault, task["household_id"])
        await desk.publish(task, empty)
        await desk.queued(ALICE, {task["task_id"], empty["task_id"]})
        page = f"/console/tasks/{task['task_id']}"
        html = await (await desk.client.get(f"{page}?lang=en", headers=desk.auth(ALICE))).text()
        assert 'id="disclose-form"' not in html, "offered only to the caseworker who holds the task"
        refused = await desk.client.post(f"{page}/disclose?lang=en", data={"purpose": "VISIT"},
                                         headers=desk.auth(ALICE))
        assert refused.status == 409
        assert "The details cannot be shown: task_id: claim the task first" in await refused.text()
        chinese = await desk.client.post(f"{page}/disclose?lang=zh-CN", data={"purpose": "VISIT"},
                                         headers=desk.auth(ALICE))
        assert "不能显示联系信息: 请先认领该任务 · task_id: claim the task first" in await chinese.text()

        await desk.call("POST", f"/api/v1/tasks/{task['task_id']}/claim", ALICE)
        html = await (await desk.client.get(f"{page}?lang=en", headers=desk.auth(ALICE))).text()
        assert 'id="disclose-form"' in html and 'value="VISIT"' in html and "Deliver a notice" in html
        assert FATHER_NAME not in html
        shown = await desk.client.post(f"{page}/disclose?lang=en", data={"purpose": "VERIFY"},
                                       headers=desk.auth(ALICE))
        body = await shown.text()
        assert shown.status == 200 and shown.headers["Cache-Control"] == "no-store"
        assert FATHER_NAME in body and FATHER_PHONE in body and ADDRESS not in body
        assert "This disclosure is recorded · Verify" in body

        await desk.call("POST", f"/api/v1/tasks/{empty['task_id']}/claim", ALICE)
        none = await desk.client.post(f"/console/tasks/{empty['task_id']}/disclose", data={"purpose": "VISIT"},
                                      headers=desk.auth(ALICE))
        assert none.status == 404 and "household_id: the vault holds no details for this household yet" in \
            await none.text()


async def test_without_a_vault_asking_for_details_answers_503(tmp_path) -> None:
    async with open_desk(tmp_path) as desk:
        task = task_record("110105")
        await desk.publish(task)
        await desk.queued(ALICE, {task["task_id"]})
        status, problem, headers = await disclose(desk, task["task_id"], ALICE, "VISIT")
        assert status == 503 and problem["code"] == "unavailable" and headers["Retry-After"]



async def test_the_supervisor_sees_disclosures_per_member_of_staff_and_who_opens_households_their_work_does_not_explain(
        tmp_path) -> None:
    async with identity_vault() as vault, open_desk(tmp_path, vault=vault) as desk:
        browsed = [task_record("110105") for _ in range(10)]
        held, decided = task_record("110105"), task_record("110108")
        for task in (*browsed, held, decided):
            await household_known(vault, task["household_id"])
        await desk.publish(*browsed, held, decided)
        await desk.queued(ALICE, {t["task_id"] for t in (*browsed, held)})
        await desk.queued(BOB, {decided["task_id"]})
        for task in browsed:  # claim, look, let go: nothing of Alice's work explains these households
            await desk.call("POST", f"/api/v1/tasks/{task['task_id']}/claim", ALICE)
            assert (await disclose(desk, task["task_id"], ALICE, "VISIT"))[0] == 200
            await desk.call("POST", f"/api/v1/tasks/{task['task_id']}/unclaim", ALICE)
        await desk.call("POST", f"/api/v1/tasks/{held['task_id']}/claim", ALICE)
        assert (await disclose(desk, held["task_id"], ALICE, "VERIFY"))[0] == 200
        await desk.call("POST", f"/api/v1/tasks/{decided['task_id']}/claim", BOB)
        assert (await disclose(desk, decided["task_id"], BOB, "DELIVER_NOTICE"))[0] == 200
        await desk.call("POST", f"/api/v1/tasks/{decided['task_id']}/decide", BOB, {"action": "approve"})

        status, overview = await desk.call("GET", "/api/v1/overview", SUE)
        assert status == 200
        lines = {line["actor"]: line for line in overview["staff"]}
        assert set(lines) == {"alice", "bob", "sue"}, "the region's staff only (carol works in 510107)"
        assert {k: lines["alice"][k] for k in ("disclosures", "households", "explained_households", "browsing")} == {
            "disclosures": 11, "households": 11, "explained_households": 1, "browsing": True}
        assert lines["alice"]["by_purpose"] == {"VISIT": 10, "VERIFY": 1, "DELIVER_NOTICE": 0}
        assert (lines["bob"]["disclosures"], lines["bob"]["explained_households"], lines["bob"]["browsing"]) == (
            1, 1, False)
        assert lines["sue"]["disclosures"] == 0
        scrape = await (await desk.client.get("/metrics")).text()
        assert "assist_casework_staff_browsing 1.0" in scrape

        html = await (await desk.client.get("/console/overview?lang=en", headers=desk.auth(SUE))).text()
        assert 'data-actor="alice" class="browsing"' in html and "Browsing" in html
        assert 'data-actor="bob" class=""' in html
        status, _ = await desk.call("GET", "/api/v1/overview", ALICE)
        assert status == 403


async def test_when_the_audit_log_does_not_acknowledge_nothing_is_shown(tmp_path) -> None:
    settings = load_settings()
    prefix = f"test:vault:{uuid.uuid4().hex[:8]}"
    async with vault_parts(settings, prefix) as parts, open_desk(tmp_path, vault=parts.vault) as desk:
        task = task_record("110105")
        await household_known(parts.vault, task["household_id"])
        await desk.publish(task)
        await desk.queued(ALICE, {task["task_id"]})
        await desk.call("POST", f"/api/v1/tasks/{task['task_id']}/claim", ALICE)
        await parts.producer.stop()  # the audit topic can no longer be written
        status, problem, headers = await disclose(desk, task["task_id"], ALICE, "VISIT")
        assert (status, problem["code"]) == (503, "audit_unavailable") and headers["Retry-After"]
        assert FATHER_NAME not in json.dumps(problem, ensure_ascii=False)
        for key in await parts.redis.keys(f"{prefix}:*"):
            await parts.redis.delete(key)
