"""Supervision of a process's long-lived tasks: a task that dies turns health to 503 with the reason and the
process's exit code non-zero; a stop asked for is a clean exit."""

from __future__ import annotations

import asyncio
import json

from aiohttp.test_utils import make_mocked_request

from services.core.process import EXIT_TASK_DIED, Health, supervise


async def looping(stop: asyncio.Event, stopped: list[str], name: str) -> None:
    await stop.wait()
    stopped.append(name)


async def answer(health: Health) -> tuple[int, dict[str, str]]:
    response = await health.endpoint(make_mocked_request("GET", "/healthz"))
    return response.status, json.loads(response.body)  # type: ignore[arg-type]


async def test_a_task_that_dies_fails_health_with_its_reason_stops_the_others_and_exits_non_zero():
    stop, health, stopped = asyncio.Event(), Health(), []
    seen_during_grace: list[tuple[int, dict[str, str]]] = []

    async def dies() -> None:
        await asyncio.sleep(0.05)
        raise KeyError("a value that must not be logged")

    async def watch() -> None:
        for _ in range(100):  # bounded: the task dies after 0.05 s
            if not health.ok:
                seen_during_grace.append(await answer(health))
                return
            await asyncio.sleep(0.01)

    watcher = asyncio.create_task(watch())
    code = await supervise({"feed": dies(), "scheduler": looping(stop, stopped, "scheduler")}, stop, health,
                           grace_seconds=0.2, stop_seconds=1, hard_exit_seconds=None)
    await watcher
    assert code == EXIT_TASK_DIED
    assert seen_during_grace == [(503, {"status": "failing", "reason": "feed died: KeyError"})]
    assert stopped == ["scheduler"]


async def test_a_task_that_returns_early_is_a_failure_too():
    stop, health = asyncio.Event(), Health()

    async def returns() -> None:
        return None

    assert await supervise({"loop": returns()}, stop, health, grace_seconds=0, hard_exit_seconds=None) != 0
    assert await answer(health) == (503, {"status": "failing", "reason": "loop ended unexpectedly"})


async def test_a_stop_asked_for_is_a_clean_exit_with_health_ok():
    stop, health, stopped = asyncio.Event(), Health(), []
    asyncio.get_running_loop().call_later(0.05, stop.set)
    assert await supervise({"a": looping(stop, stopped, "a"), "b": looping(stop, stopped, "b")}, stop, health,
                           hard_exit_seconds=None) == 0
    assert sorted(stopped) == ["a", "b"] and await answer(health) == (200, {"status": "ok"})


async def test_a_task_that_ignores_the_stop_is_cancelled_after_the_stop_time():
    stop, health = asyncio.Event(), Health()

    async def stubborn() -> None:
        await asyncio.sleep(60)

    asyncio.get_running_loop().call_later(0.05, stop.set)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await supervise({"stubborn": stubborn()}, stop, health, stop_seconds=0.2, hard_exit_seconds=None) == 0
    assert loop.time() - started < 2
