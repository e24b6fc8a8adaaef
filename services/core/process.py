"""How the services' entry points run: until SIGINT or SIGTERM, serving HTTP when they have an app, and supervising
their long-lived tasks.

The rule for a long-lived task (a consume loop, a scheduler): it runs until the process is asked to stop. A task
that ends before that, with an exception or without, leaves the process unable to do its work, so the process
says so on its health endpoint (503 with the reason), logs it at ERROR, and exits non-zero within a few seconds
for its supervisor (systemd, Kubernetes, compose) to restart it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
import traceback
from collections.abc import Coroutine, Mapping
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from services.core.readiness import Readiness

log = logging.getLogger(__name__)

EXIT_TASK_DIED = 70  # EX_SOFTWARE: an internal error, the supervisor should restart the process
GRACE_SECONDS = 2.0
"""How long a failing process keeps answering 503 before it stops, so health checks see why."""
STOP_SECONDS = 5.0
"""How long the other tasks are given to stop after one failed; beyond that they are cancelled."""
HARD_EXIT_SECONDS = 20.0
"""After a failure the process exits by this time even when shutting down hangs."""


class Health:
    """What a process's health endpoint answers: 200 while every task runs, 503 with the reason once one died."""

    def __init__(self) -> None:
        self.failure: str | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None

    def fail(self, reason: str) -> None:
        if self.failure is None:
            self.failure = reason

    async def endpoint(self, request: web.Request) -> web.Response:
        if self.failure is None:
            return web.json_response({"status": "ok"})
        return web.json_response({"status": "failing", "reason": self.failure}, status=503)


def died(name: str, task: asyncio.Task[Any]) -> str:
    """Why a long-lived task is not running any more, without its message (which may quote data)."""
    if task.cancelled():
        return f"{name} was cancelled"
    exc = task.exception()
    return f"{name} ended unexpectedly" if exc is None else f"{name} died: {type(exc).__name__}"


def where(exc: BaseException | None) -> str:
    """The stack of `exc` without its message (messages may quote the data being handled)."""
    return "" if exc is None else "\n" + "".join(traceback.format_tb(exc.__traceback__)).rstrip()


def exit_hard_later(code: int, seconds: float = HARD_EXIT_SECONDS) -> None:
    """Exit with `code` after `seconds` whatever the event loop is doing (a shutdown stuck on a dead broker)."""
    timer = threading.Timer(seconds, os._exit, args=(code,))
    timer.daemon = True
    timer.start()


async def supervise(tasks: Mapping[str, Coroutine[Any, Any, None]], stop: asyncio.Event, health: Health,
                    grace_seconds: float = GRACE_SECONDS, stop_seconds: float = STOP_SECONDS,
                    hard_exit_seconds: float | None = HARD_EXIT_SECONDS) -> int:
    """Run `tasks` (by name) until the process is signalled or `stop` is set; return the exit code.

    Signalled: `stop` is set, the tasks finish (cancelled after `stop_seconds`), 0. A task ending first: health
    fails with the reason, ERROR is logged, after `grace_seconds` the others are stopped, EXIT_TASK_DIED (and the
    process exits by `hard_exit_seconds` even if shutting down hangs; None: no such deadline, for tests)."""
    running = {asyncio.create_task(coroutine, name=name): name for name, coroutine in tasks.items()}
    signalled = asyncio.create_task(until_signalled(stop))
    done, _ = await asyncio.wait([*running, signalled], return_when=asyncio.FIRST_COMPLETED)
    ended = [t for t in running if t in done]
    code = 0
    if ended and not stop.is_set():
        task = ended[0]
        reason = died(running[task], task)
        health.fail(reason)
        exc = None if task.cancelled() else task.exception()
        log.error("%s; the process exits with %d%s", reason, EXIT_TASK_DIED, where(exc))
        code = EXIT_TASK_DIED
        if hard_exit_seconds is not None:
            exit_hard_later(code, hard_exit_seconds)
        await asyncio.sleep(grace_seconds)
    stop.set()
    signalled.cancel()
    left = [t for t in running if not t.done()]
    if left:
        _, pending = await asyncio.wait(left, timeout=stop_seconds)
        for t in pending:
            t.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    for t in running:
        if t.done() and not t.cancelled() and t.exception() and code == 0:
            log.error("%s while stopping", died(running[t], t))
    return code


async def until_signalled(stop: asyncio.Event | None = None) -> None:
    """Return when the process is asked to stop (SIGINT or SIGTERM), or when `stop` is set."""
    done = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, done.set)
    await done.wait()


def health_app(health: Health, registry: CollectorRegistry | None = None,
               readiness: Readiness | None = None) -> web.Application:
    """A worker's small HTTP endpoint: /healthz (see Health), given a registry /metrics, and given readiness checks
    /readyz (services/core/readiness.py)."""
    app = web.Application()
    app.router.add_get("/healthz", health.endpoint)
    if readiness is not None:
        app.router.add_get("/readyz", readiness.endpoint)
    if registry is not None:
        async def metrics(request: web.Request) -> web.Response:
            return web.Response(body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})
        app.router.add_get("/metrics", metrics)
    return app


async def start_site(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Serve `app` on host:port (no access log: some paths carry tokens); clean the runner up when done."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


async def serve_until_signalled(app: web.Application, host: str, port: int, what: str) -> None:
    """Serve `app` on host:port until signalled, then close it."""
    runner = await start_site(app, host, port)
    log.info("%s on http://%s:%d", what, host, port)
    try:
        await until_signalled()
    finally:
        await runner.cleanup()
