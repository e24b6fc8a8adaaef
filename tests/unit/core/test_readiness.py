"""Readiness: a consumer partition is stalled when records wait and its position has not moved for a while; the
endpoint names every failing check; `stack status` reads the answers."""

from __future__ import annotations

import asyncio
import json

from aiohttp.test_utils import TestClient, TestServer

from services.core.process import Health, health_app
from services.core.readiness import Readiness, Seen, stalled
from services.operations.service_status import Process, status_lines, why_not


def test_a_partition_with_records_waiting_and_no_progress_for_the_stall_time_is_stalled() -> None:
    seen, found = stalled({}, {("t", 0): (5, 9)}, now=100.0, stall_seconds=60)
    assert seen == {("t", 0): Seen(5, 100.0)} and found == []
    seen, found = stalled(seen, {("t", 0): (5, 9)}, now=161.0, stall_seconds=60)
    assert found == ["t/0 has not moved for 61 s with 4 records waiting"]


def test_a_moving_partition_or_one_with_nothing_waiting_is_not_stalled() -> None:
    seen, _ = stalled({}, {("t", 0): (5, 9), ("t", 1): (3, 3), ("t", 2): (0, None)}, now=0.0, stall_seconds=60)
    seen, found = stalled(seen, {("t", 0): (6, 9), ("t", 1): (3, 3), ("t", 2): (0, None)}, now=100.0,
                          stall_seconds=60)
    assert found == []
    assert seen[("t", 0)] == Seen(6, 100.0) and seen[("t", 1)] == Seen(3, 100.0)


def test_a_partition_idle_for_longer_than_the_stall_time_is_not_stalled_when_its_next_record_arrives() -> None:
    seen, _ = stalled({}, {("t", 0): (3, 3)}, now=0.0, stall_seconds=60)
    seen, _ = stalled(seen, {("t", 0): (3, 3)}, now=500.0, stall_seconds=60)
    seen, found = stalled(seen, {("t", 0): (3, 4)}, now=505.0, stall_seconds=60)
    assert found == []
    seen, found = stalled(seen, {("t", 0): (3, 4)}, now=561.0, stall_seconds=60)
    assert found == ["t/0 has not moved for 61 s with 1 records waiting"]


async def test_readyz_answers_503_naming_each_failing_check_and_200_when_all_pass() -> None:
    state = {"redis": "Redis does not answer (ConnectionError)"}

    async def redis() -> str | None:
        return state.get("redis")

    async def slow() -> str | None:
        await asyncio.sleep(5)
        return None

    app = health_app(Health(), readiness=Readiness({"redis": redis, "kafka": slow}, check_seconds=0.2))
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        answer = await client.get("/readyz")
        assert answer.status == 503
        assert (await answer.json())["checks"] == {"redis": "Redis does not answer (ConnectionError)",
                                                   "kafka": "no answer within 0 s"}
    fine = health_app(Health(), readiness=Readiness({"redis": redis}))
    state.clear()
    async with TestClient(TestServer(fine, host="127.0.0.1")) as client:
        answer = await client.get("/readyz")
        assert answer.status == 200 and (await answer.json()) == {"status": "ready", "checks": {"redis": "ok"}}
        assert (await client.get("/healthz")).status == 200


def test_without_readiness_checks_there_is_no_readyz() -> None:
    app = health_app(Health())
    assert {r.resource.canonical for r in app.router.routes() if r.resource} == {"/healthz"}  # GET and HEAD


def test_stack_status_says_live_ready_or_why_not_for_each_process() -> None:
    answers = {"http://127.0.0.1:1/healthz": (200, '{"status": "ok"}'),
               "http://127.0.0.1:1/readyz": (503, json.dumps({"status": "not ready", "checks": {
                   "kafka": "ok", "consumer": "no partitions assigned (yet)"}})),
               "http://127.0.0.1:2/healthz": (200, '{"status": "ok"}'),
               "http://127.0.0.1:3/healthz": (503, '{"status": "failing", "reason": "x died: KeyError"}')}
    lines = status_lines([Process("intake-raw", 1, True), Process("matching", 2, False),
                          Process("casework", 3, False), Process("citizen-api", 4, False)],
                         probe=lambda url: answers.get(url, (0, "")))
    assert lines == ["intake-raw    live, not ready (consumer: no partitions assigned (yet)) (http://127.0.0.1:1)",
                     "matching      live (http://127.0.0.1:2)",
                     "casework      failing (x died: KeyError) (http://127.0.0.1:3)",
                     "citizen-api   not running (http://127.0.0.1:4)"]
    assert why_not("not json") == "not json"
