"""Casework's /metrics against the real Redis: a scrape always answers, also while the task store does not."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from services.casework.adapters.web import build_app
from services.casework.wiring import casework_parts
from tests.integration.casework.test_casework import ALICE, Desk, open_desk, task_record


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    async with open_desk(tmp_path) as d:
        yield d


async def test_metrics_answer_while_the_task_store_does_not_and_say_it_is_unreachable(desk, tmp_path):
    task = task_record()
    await desk.publish(task)
    await desk.queued(ALICE, {task["task_id"]})  # a queue exists: a scrape has depths to read
    settings = replace(desk.settings, casework_redis_wait_seconds=0.2)
    async with casework_parts(settings, kafka=False, staff_file=tmp_path / "staff.json", max_connections=1) as parts:
        app = build_app(parts.casework, parts.tokens, parts.staff, parts.metrics, settings.staff_token_key,
                        parts.redis.ping)
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            answered = await client.get("/metrics")
            assert answered.status == 200
            assert "assist_casework_store_up 1.0" in await answered.text()
            held = await parts.redis.connection_pool.get_connection()  # every connection of the pool is busy
            try:
                await asyncio.sleep(1.2)  # past the cache of queue names: the scrape has to ask the store
                unreachable = await client.get("/metrics")
                assert unreachable.status == 200
                page = await unreachable.text()
                assert "assist_casework_store_up 0.0" in page
                assert "assist_casework_claims_total" in page  # what is known is still reported
            finally:
                await parts.redis.connection_pool.release(held)
            again = await client.get("/metrics")
            assert "assist_casework_store_up 1.0" in await again.text()
