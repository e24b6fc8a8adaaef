"""The metrics the alert rules read that the services export for them: intake's answers by status code, and
casework's unclaimed tasks next to the queue depth."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.casework.test_casework import ALICE, Desk, open_desk, task_record
from tests.integration.conftest import Api


def sample(page: str, name: str, **labels: str) -> float:
    return sum(s.value for f in text_string_to_metric_families(page) for s in f.samples
               if s.name == name and labels.items() <= s.labels.items())


async def test_intake_counts_every_answer_by_its_status_code(api: Api) -> None:
    assert (await api.client.post("/v1/events", data="{}")).status == 401
    assert (await api.client.get("/no-such-page")).status == 404
    page = await (await api.client.get("/metrics")).text()
    assert sample(page, "assist_intake_http_responses_total", code="401") == 1
    assert sample(page, "assist_intake_http_responses_total", code="404") == 1


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    async with open_desk(tmp_path) as d:
        yield d


async def test_a_claimed_urgent_task_leaves_the_unclaimed_count_and_stays_in_the_depth(desk: Desk) -> None:
    task = task_record(priority=95)
    await desk.publish(task)
    await desk.queued(ALICE, {task["task_id"]})

    async def figures() -> tuple[float, float]:
        page = await (await desk.client.get("/metrics")).text()
        return (sample(page, "assist_casework_unclaimed_tasks", district="110105", band="urgent"),
                sample(page, "assist_casework_queue_depth", district="110105", band="urgent"))

    unclaimed, depth = await figures()
    assert unclaimed >= 1 and depth >= unclaimed
    status, _ = await desk.call("POST", f"/api/v1/tasks/{task['task_id']}/claim", ALICE)
    assert status == 200
    after_unclaimed, after_depth = await figures()
    assert (after_unclaimed, after_depth) == (unclaimed - 1, depth)
