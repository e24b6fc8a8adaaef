"""Intake's duplicate guard while Redis is stopped, started again and wiped: 503 during the outage, every
request answered once Redis answers again, and no event published twice after a wipe."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from redis import Redis

from services.core.codec import header
from services.core.history import RebuildLock
from services.core.settings import Settings
from services.core.topics import EVENTS
from services.intake.adapters.redis_seen import WINDOW_BUILT, WINDOW_REBUILDING, seen_key
from services.intake.adapters.seen_window import RebuildRunning, WindowRebuilder
from tests.conftest import discharge
from tests.integration.conftest import Api

STACK = Path(__file__).resolve().parents[3] / "deploy" / "local" / "stack.sh"
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


async def test_events_resent_after_a_wipe_are_duplicates_and_not_published_again(api, settings, probe):
    sent = batch("before-wipe")
    assert {s for s, _ in await post_all(api, sent)} == {202}
    events = await probe(EVENTS.name)
    Redis.from_url(settings.redis_url).flushall()

    headers = {**api.auth("health"), "Content-Type": SINGLE}
    first = await api.client.post("/v1/events", data=json.dumps(sent[0]), headers=headers)
    assert first.status == 503  # the window is being rebuilt: a possible duplicate is never accepted
    assert int(first.headers["Retry-After"]) > 0
    assert await until_accepted(api, sent[0], 30)
    resent = await post_all(api, sent)
    assert Counter(resent) == {(202, "duplicate"): AT_ONCE}
    ids = {e["id"] for e in sent}
    assert await events.collect(lambda r: header(r.headers, "ce_id") in ids, 1, timeout=3) == []
    assert Counter(s for s, _ in await post_all(api, batch("after-wipe"))) == {202: AT_ONCE}


async def test_the_rebuild_command_remembers_every_event_of_the_window(api, settings):
    sent = batch("rebuild-command")
    assert {s for s, _ in await post_all(api, sent)} == {202}
    Redis.from_url(settings.redis_url).flushall()
    done = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "services.intake", "rebuild-seen"],
                                   capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "idempotency window rebuilt" in done.stdout
    assert Counter(await post_all(api, sent)) == {(202, "duplicate"): AT_ONCE}


async def test_only_one_process_rebuilds_the_window_at_a_time(parts, settings):
    lock = RebuildLock(parts.redis, WINDOW_REBUILDING, 30)
    assert await lock.take()
    try:
        with pytest.raises(RebuildRunning):
            await WindowRebuilder(parts.redis, settings.idempotency_window_seconds, settings.kafka_bootstrap).rebuild()
    finally:
        await lock.release()


async def test_the_rebuild_reads_only_the_window_and_remembers_each_event_for_what_is_left_of_it(parts, settings):
    window = 3600
    now_ms = int(time.time() * 1000)
    run = f"{time.time_ns()}"
    source = "/departments/health/his"
    written = {"old": now_ms - (window + 60) * 1000, "recent": now_ms - 600 * 1000}
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        for name, at in written.items():
            await producer.send_and_wait(EVENTS.name, b"{}", key=run.encode(), timestamp_ms=at,
                                         headers=[("ce_id", f"{name}-{run}".encode()), ("ce_source", source.encode())])
    finally:
        await producer.stop()
    await parts.redis.flushall()
    report = await WindowRebuilder(parts.redis, window, settings.kafka_bootstrap).rebuild()
    assert await parts.redis.exists(WINDOW_BUILT)
    assert not await parts.redis.exists(seen_key("health", source, f"old-{run}"))
    left = await parts.redis.ttl(seen_key("health", source, f"recent-{run}"))
    assert window - 600 - 30 <= left <= window - 600
    assert report.remembered >= 1
