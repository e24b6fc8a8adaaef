"""Intake's duplicate guard while Redis is stopped, started again and wiped: 503 during the outage, every
request answered once Redis answers again, and no event published twice after a wipe."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from redis import Redis

from services.core.settings import Settings
from tests.conftest import discharge
from tests.integration.conftest import Api

STACK = Path(__file__).resolve().parents[2] / "deploy" / "local" / "stack.sh"
SINGLE = "application/cloudevents+json"
AT_ONCE = 40

pytestmark = pytest.mark.outage


def stop_redis(settings: Settings) -> None:
    with contextlib.suppress(Exception):  # redis-py raises when the connection closes under it; Redis is gone
        Redis.from_url(settings.redis_url, socket_timeout=5).shutdown(nosave=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and answers(settings):
        time.sleep(0.1)
    assert not answers(settings), "Redis did not stop"


def start_redis() -> None:
    subprocess.run(["bash", str(STACK), "up"], check=True, capture_output=True, timeout=180)


def answers(settings: Settings) -> bool:
    try:
        return bool(Redis.from_url(settings.redis_url, socket_timeout=1).ping())
    except Exception:
        return False


async def post_all(api: Api, events: list[dict[str, Any]]) -> list[tuple[int, str | None]]:
    """All at once, as requests pile up in an outage; (HTTP status, event status) per event."""
    headers = {**api.auth("health"), "Content-Type": SINGLE}

    async def one(event: dict[str, Any]) -> tuple[int, str | None]:
        response = await api.client.post("/v1/events", data=json.dumps(event), headers=headers)
        body = await response.json(content_type=None)
        listed = body.get("events") if isinstance(body, dict) else None
        return response.status, listed[0]["status"] if listed else None
    return list(await asyncio.gather(*(one(e) for e in events)))


async def until_accepted(api: Api, event: dict[str, Any], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if (await post_all(api, [event]))[0][0] == 202:
            return True
        await asyncio.sleep(0.2)
    return False


def batch(label: str) -> list[dict[str, Any]]:
    return [discharge(event_id=f"e-{label}-{n:03d}-{time.time_ns()}") for n in range(AT_ONCE)]


async def test_requests_during_a_redis_outage_are_refused_and_accepted_after_it(api, settings):
    assert {s for s, _ in await post_all(api, batch("before"))} == {202}
    await asyncio.to_thread(stop_redis, settings)
    try:
        during = await post_all(api, batch("during"))
    finally:
        await asyncio.to_thread(start_redis)
    assert {s for s, _ in during} == {503}
    assert await until_accepted(api, discharge(), 30)
    after = await post_all(api, batch("after"))
    assert Counter(s for s, _ in after) == {202: AT_ONCE}


async def test_requests_arriving_the_moment_redis_is_back_are_all_answered(api, settings):
    assert {s for s, _ in await post_all(api, batch("before"))} == {202}  # the pool holds live connections now
    # Stopped and started without intake's loop running in between, so its pooled connections cannot notice the
    # server went away before they are used again: as for requests that arrive the moment Redis is back.
    stop_redis(settings)
    start_redis()
    after = await post_all(api, batch("after"))
    assert Counter(s for s, _ in after) == {202: AT_ONCE}


async def test_every_request_after_a_wipe_is_answered(api, settings):
    assert {s for s, _ in await post_all(api, batch("before-wipe"))} == {202}
    Redis.from_url(settings.redis_url).flushall()  # the scripts are gone with the data
    after = await post_all(api, batch("after-wipe"))
    assert Counter(s for s, _ in after) == {202: AT_ONCE}
