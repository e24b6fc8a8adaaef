"""The real intake app (real broker, real Redis) served on 127.0.0.1 from a thread of its own, for clients that
block (hypothesis examples, schemathesis) rather than share the test's event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from aiohttp import web

from services.core.settings import Settings
from services.intake.wiring import intake_parts

START_SECONDS = 60


@dataclass(frozen=True)
class ServedIntake:
    base_url: str
    tokens: dict[str, str]
    """One bearer token per department."""


@contextmanager
def served_intake(settings: Settings) -> Iterator[ServedIntake]:
    """Serve intake on a free loopback port until the block ends."""
    started = threading.Event()
    stop: asyncio.Event | None = None
    loop = asyncio.new_event_loop()
    found: dict[str, object] = {}

    async def run() -> None:
        nonlocal stop
        stop = asyncio.Event()
        async with intake_parts(settings) as parts:
            runner = web.AppRunner(parts.http_app(), access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = runner.addresses[0][1]
            found["served"] = ServedIntake(f"http://127.0.0.1:{port}",
                                           {d: parts.tokens.issue(d) for d in parts.contract.departments})
            started.set()
            try:
                await stop.wait()
            finally:
                await runner.cleanup()

    def thread_main() -> None:
        try:
            loop.run_until_complete(run())
        except BaseException as exc:  # reported to the test below
            found["error"] = exc
            started.set()

    thread = threading.Thread(target=thread_main, name="served-intake", daemon=True)
    thread.start()
    if not started.wait(START_SECONDS) or "error" in found:
        raise RuntimeError(f"intake did not start: {found.get('error')!r}")
    try:
        served = found["served"]
        assert isinstance(served, ServedIntake)
        yield served
    finally:
        assert stop is not None
        loop.call_soon_threadsafe(stop.set)
        thread.join(START_SECONDS)
        loop.close()
