"""How the services' entry points run: until SIGINT or SIGTERM, serving HTTP when they have an app."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

log = logging.getLogger(__name__)


async def until_signalled() -> None:
    """Return when the process is asked to stop (SIGINT or SIGTERM)."""
    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, done.set)
    await done.wait()


async def serve_until_signalled(app: web.Application, host: str, port: int, what: str) -> None:
    """Serve `app` on host:port until signalled, then close it. No access log: some paths carry tokens."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("%s on http://%s:%d", what, host, port)
    try:
        await until_signalled()
    finally:
        await runner.cleanup()
