"""Loopback stand-ins for the SMS gateway and the SMTP server that fail a seeded share of what they are sent,
and count what they really delivered by idempotency key (SMS) and Message-ID (e-mail)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiosmtpd import smtp as aiosmtpd_smtp

from tests.faults.processes import free_port


@dataclass
class Deliveries:
    """What reached people: first acceptances per key; `repeats` are sends of a key already delivered."""

    delivered: Counter[str] = field(default_factory=Counter)
    failed: int = 0

    def accept(self, key: str) -> None:
        self.delivered[key] += 1

    @property
    def twice(self) -> int:
        return sum(n - 1 for n in self.delivered.values() if n > 1)


@dataclass
class FlakySmsGateway:
    """The documented gateway contract (2xx accepted; a repeated idempotency_key is accepted without sending
    again), answering 503 to a seeded `failure_rate` of requests. `delay` holds each request before it answers."""

    failure_rate: float = 0.0
    seed: int = 1
    delay: float = 0.0
    port: int = field(default_factory=free_port)
    sent: Deliveries = field(default_factory=Deliveries)
    repeats: int = 0
    _runner: web.AppRunner | None = None

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/sms"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/sms", self._receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def _receive(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        if self._rng.random() < self.failure_rate:
            self.sent.failed += 1
            return web.json_response({"error": "try later"}, status=503)
        key = str(body["idempotency_key"])
        if key in self.sent.delivered:
            self.repeats += 1  # the gateway drops it: nothing reaches the phone again
        else:
            self.sent.accept(key)
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.json_response({"id": key}, status=202)


class _Handler:
    def __init__(self, server: FlakyMailServer):
        self._server = server

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        if self._server.draw():
            self._server.sent.failed += 1
            return "451 4.3.0 try again later"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self._server.sent.accept(str(message["Message-ID"]).strip("<>").split("@")[0])
        if self._server.delay:
            await asyncio.sleep(self._server.delay)
        return "250 OK"


@dataclass
class FlakyMailServer:
    """A real SMTP server (aiosmtpd) answering 451 to a seeded `failure_rate` of messages; it counts delivered
    messages by the notification id in their Message-ID (SMTP has no idempotency: each acceptance is a delivery)."""

    failure_rate: float = 0.0
    seed: int = 2
    delay: float = 0.0
    port: int = field(default_factory=free_port)
    sent: Deliveries = field(default_factory=Deliveries)
    _server: asyncio.Server | None = None

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def draw(self) -> bool:
        return self._rng.random() < self.failure_rate

    async def start(self) -> None:
        handler = _Handler(self)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: aiosmtpd_smtp.SMTP(handler, hostname="faults-smtp"),
                                                "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server:
            self._server.close()
            await self._server.wait_closed()
