"""Applying on a resident's behalf from casework, against the real broker and Redis: the application.submitted
CloudEvent is on assist.events with the caseworker as applied_by; matching's ApplicationAnswer on
assist.applications.answers shows on the task page of that resident; bad input is refused naming the field; a
rebuild brings the applications back."""

from __future__ import annotations

from services.core.codec import decode_event
from services.core.topics import EVENTS
from tests.integration.casework.applications_harness import (
    answer_record,
    application_contract,
    publish_answers,
    publish_catalogue,
)
from tests.integration.casework.test_casework import ALICE, BOB, open_desk, task_record
from tests.integration.notification.test_notification_recovery import until


async def test_a_caseworker_applies_for_the_resident_and_sees_the_answer_on_the_task(settings, tmp_path, probe):
    events = await probe(EVENTS.name)
    contract = application_contract(tmp_path)
    catalogue = await publish_catalogue(settings)
    async with open_desk(tmp_path, catalogue=catalogue, contract=contract) as desk:
        task = task_record("110105")
        await desk.publish(task)
        await desk.queued(ALICE, {task["task_id"]})
        status, made = await desk.call("POST", f"/api/v1/tasks/{task['task_id']}/applications", ALICE,
                                       {"policy_id": "medical_assistance"})
        assert status == 201, made
        [record] = await events.collect(lambda r: r.key == task["person_id"].encode(), 1)
        event = decode_event(contract, record.value, record.headers)
        assert (event.id, event.type, event.subject, event.source) == (
            made["application_id"], "application.submitted", task["person_id"], "/civil_affairs/casework-console")
        assert event.data == {"policy_id": "medical_assistance", "channel": "CASEWORKER", "applied_by": "alice"}
        status, page = await desk.call("GET", f"/api/v1/tasks/{task['task_id']}", ALICE)
        assert [(a["application_id"], a["outcome"]) for a in page["applications"]] == [(event.id, "WAITING")]

        await publish_answers(settings, answer_record(
            event.id, task["person_id"], task["household_id"], "NOT_ELIGIBLE", applied_by="alice",
            policy_id="medical_assistance", reasons=["no medical expense was settled in the last 12 months"]))

        async def answered() -> bool:
            _, body = await desk.call("GET", f"/api/v1/tasks/{task['task_id']}", ALICE)
            return body["applications"][0]["outcome"] == "NOT_ELIGIBLE"
        await until(answered, 20, "the answer on the task")
        html = await (await desk.client.get(f"/console/tasks/{task['task_id']}?lang=en",
                                            headers=desk.auth(ALICE))).text()
        assert "Not eligible, because: no medical expense was settled in the last 12 months" in html
        assert 'id="apply"' in html and 'value="subsistence_allowance"' in html
        _, before = await desk.call("GET", f"/api/v1/tasks/{task['task_id']}", ALICE)

        await desk.halt()
        await desk.parts.redis.flushdb()
        await desk.parts.rebuilder(desk.settings.kafka_bootstrap).ensure_built()
        _, after = await desk.call("GET", f"/api/v1/tasks/{task['task_id']}", ALICE)
        assert after["applications"] == before["applications"]


async def test_bad_applications_are_refused_naming_the_field_and_publish_nothing(settings, tmp_path, probe):
    events = await probe(EVENTS.name)
    catalogue = await publish_catalogue(settings)
    async with open_desk(tmp_path, catalogue=catalogue, contract=application_contract(tmp_path)) as desk:
        task, household_task = task_record("110105"), task_record("110105", kind="VISIT")
        household_task["person_id"] = None
        await desk.publish(task, household_task)
        await desk.queued(ALICE, {task["task_id"], household_task["task_id"]})
        path = f"/api/v1/tasks/{task['task_id']}/applications"
        status, problem = await desk.call("POST", path, ALICE, {"policy_id": "free_money"})
        assert (status, problem["code"]) == (404, "unknown_policy") and problem["title"].startswith("policy_id:")
        status, problem = await desk.call("POST", path, ALICE, {})
        assert (status, problem["code"]) == (400, "policy") and "policy_id" in problem["title"]
        status, problem = await desk.call("POST", path, ALICE, {"policy_id": "Free Money"})
        assert (status, problem["code"]) == (400, "policy")
        status, problem = await desk.call("POST", f"/api/v1/tasks/{household_task['task_id']}/applications", ALICE,
                                          {"policy_id": "subsistence_allowance"})
        assert (status, problem["code"]) == (400, "no_person") and problem["title"].startswith("person_id:")
        status, _ = await desk.call("POST", path, BOB, {"policy_id": "subsistence_allowance"})
        assert status == 404  # another district's task is not revealed
        assert await events.collect(lambda r: r.key == task["person_id"].encode(), 1, timeout=2.0) == []


async def test_without_a_catalogue_applying_waits_for_one(tmp_path):
    async with open_desk(tmp_path, catalogue="no-such-catalogue", contract=application_contract(tmp_path)) as desk:
        task = task_record("110105")
        await desk.publish(task)
        await desk.queued(ALICE, {task["task_id"]})
        response = await desk.client.post(f"/api/v1/tasks/{task['task_id']}/applications",
                                          json={"policy_id": "subsistence_allowance"}, headers=desk.auth(ALICE))
        problem = await response.json()
        assert response.status == 503 and problem["code"] == "no_catalogue" and response.headers["Retry-After"]
        html = await (await desk.client.get(f"/console/tasks/{task['task_id']}?lang=en",
                                            headers=desk.auth(ALICE))).text()
        assert "The list of programmes is not available" in html
