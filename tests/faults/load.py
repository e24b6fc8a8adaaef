"""Steady request load on intake: one new event per slot at a fixed rate, bounded in count and time."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

import aiohttp

from tests.conftest import discharge
from tests.faults.records import Seeded

SINGLE = "application/cloudevents+json"
CONNECTIONS = 1000
"""Above rate x intake's publish timeout (100/s x 5 s), so no request waits for a connection on this side."""


@dataclass
class Answer:
    event_id: str
    sent: float
    answered: float
    status: int
    """0 when no answer came (connection refused or the client's timeout)."""
    retry_after: str | None


@dataclass
class SteadyLoad:
    url: str
    headers: dict[str, str]
    rate: int
    seeded: Seeded
    answers: list[Answer] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, most_seconds: float) -> None:
        """Send until stop() or `most_seconds`, whichever first; then wait for the answers still due."""
        headers = {**self.headers, "Content-Type": SINGLE}
        timeout = aiohttp.ClientTimeout(total=20)
        connector = aiohttp.TCPConnector(limit=CONNECTIONS)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            pending: set[asyncio.Task[None]] = set()
            start = time.monotonic()
            for slot in range(int(self.rate * most_seconds)):
                if self._stop.is_set():
                    break
                await asyncio.sleep(max(0.0, start + slot / self.rate - time.monotonic()))
                event = discharge(subject=self.seeded.resident_id(), event_id=f"e-{self.seeded.label}-{slot:06d}")
                task = asyncio.create_task(self._send(session, headers, event))
                pending.add(task)
                task.add_done_callback(pending.discard)
            if pending:
                await asyncio.wait(pending, timeout=30)

    def stop(self) -> None:
        self._stop.set()

    async def _send(self, session: aiohttp.ClientSession, headers: dict[str, str], event: dict[str, object]) -> None:
        sent = time.monotonic()
        try:
            async with session.post(f"{self.url}/v1/events", data=json.dumps(event), headers=headers) as response:
                await response.read()
                status, retry_after = response.status, response.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError):
            status, retry_after = 0, None
        self.answers.append(Answer(str(event["id"]), sent, time.monotonic(), status, retry_after))

    def accepted_since(self, moment: float) -> bool:
        return any(a.status == 202 and a.sent >= moment for a in self.answers)
