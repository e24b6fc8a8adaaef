"""Sends department events to the intake HTTP API (POST /v1/events), as each department's system would.

Events go in CloudEvents structured mode, batched per department (the department is named in the source) under
that department's bearer token. A 400 rejects the whole batch: the events it names are dropped and the rest are
sent again, as a department fixing its batch would. 503 and 409 are retried after Retry-After (bounded).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from services.simulator.departments import department_of
from services.simulator.pacing import Pacer

log = logging.getLogger(__name__)

BATCH = "application/cloudevents-batch+json"
STRUCTURED = "application/cloudevents+json"
MAX_BATCH = 1_000
_RETRIED = (409, 429, 502, 503, 504)


@dataclass(frozen=True)
class Rejection:
    """An event the intake refused as invalid (HTTP 400), and why."""

    id: str | None
    field: str
    reason: str


@dataclass
class DeliveryReport:
    """What happened to the events handed to the client."""

    sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)
    """Events refused whole, by reason: an HTTP status (401, 403, 413, ...) or "no token"."""
    failed: int = 0
    """Events still undelivered when the retries ran out."""
    retries: int = 0

    def add(self, other: DeliveryReport) -> None:
        self.sent += other.sent
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        self.refused += other.refused
        self.failed += other.failed
        self.retries += other.retries

    def lines(self) -> list[str]:
        rejected_ids = len({r.id for r in self.rejected})
        out = [f"sent {self.sent:,}: accepted {self.accepted:,}, duplicates {self.duplicates:,}, "
               f"rejected {rejected_ids:,}, refused {sum(self.refused.values()):,}, failed {self.failed:,} "
               f"({self.retries:,} retries)"]
        out += [f"  refused ({reason}): {n:,}" for reason, n in sorted(self.refused.items())]
        out += [f"  rejected {reason}: {n:,}" for reason, n in Counter(
            f"{r.field}: {r.reason}" for r in self.rejected).most_common(5)]
        return out


def retry_delay(retry_after: str | None, attempt: int, ceiling: float, now: float | None = None) -> float:
    """Seconds to wait before retry number `attempt` (1-based): Retry-After (seconds or HTTP date) when given,
    else exponential backoff from half a second; never more than `ceiling`."""
    delay = 0.5 * 2.0 ** (attempt - 1)
    if retry_after:
        value = retry_after.strip()
        if value.isdigit():
            delay = float(value)
        else:
            try:
                moment = email.utils.parsedate_to_datetime(value)
                delay = moment.timestamp() - (time.time() if now is None else now)
            except (TypeError, ValueError):
                pass
    return max(0.0, min(delay, ceiling))


def rejections(body: Any, batch: Sequence[dict[str, Any]]) -> dict[int, list[Rejection]]:
    """The rejected events of a 400 answer, by index in the batch; errors naming no index blame every event."""
    errors = body.get("errors") if isinstance(body, dict) else None
    found: dict[int, list[Rejection]] = {}
    for error in errors if isinstance(errors, list) else []:
        if not isinstance(error, dict):
            continue
        index = error.get("index")
        indexes = [index] if isinstance(index, int) and 0 <= index < len(batch) else range(len(batch))
        for i in indexes:
            found.setdefault(i, []).append(Rejection(batch[i].get("id"), str(error.get("field", "")),
                                                     str(error.get("reason", ""))))
    return found or {i: [Rejection(e.get("id"), "", "rejected without a reason")] for i, e in enumerate(batch)}


def accepted_counts(body: Any, batch_size: int) -> tuple[int, int]:
    """(accepted, duplicates) of a 202 answer."""
    if not isinstance(body, dict):
        return batch_size, 0
    statuses = [e.get("status") for e in body.get("events", []) if isinstance(e, dict)]
    accepted = body.get("accepted", statuses.count("accepted") if statuses else batch_size)
    duplicates = body.get("duplicates", statuses.count("duplicate"))
    return int(accepted), int(duplicates)


class IntakeClient:
    """A department-side client of the intake API; the caller owns the aiohttp session."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, tokens: Mapping[str, str], *,
                 max_batch: int = MAX_BATCH, attempts: int = 5, max_wait: float = 30.0,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self._session = session
        self._url = base_url.rstrip("/") + "/v1/events"
        self._tokens = dict(tokens)
        self._max_batch = max(1, min(max_batch, MAX_BATCH))
        self._attempts = attempts
        self._max_wait = max_wait
        self._sleep = sleep

    async def send_batch(self, department: str, events: Sequence[dict[str, Any]]) -> DeliveryReport:
        """Send `events` of one department in batches of at most max_batch."""
        report = DeliveryReport()
        for start in range(0, len(events), self._max_batch):
            report.add(await self._post(department, list(events[start:start + self._max_batch]), batch=True))
        return report

    async def send_event(self, department: str, event: dict[str, Any]) -> DeliveryReport:
        """Send one event as application/cloudevents+json."""
        return await self._post(department, [event], batch=False)

    async def deliver(self, events: Iterable[dict[str, Any]], pacer: Pacer, *, linger: float = 0.2,
                      batch: bool = True) -> DeliveryReport:
        """Send a stream at the pacer's rate: per department, a batch goes when full or `linger` seconds old.

        Each department has one request in flight at a time, so its events arrive in the order given.
        """
        report = DeliveryReport()
        loop = asyncio.get_running_loop()
        buffers: dict[str, list[dict[str, Any]]] = {}
        opened: dict[str, float] = {}
        in_flight: dict[str, asyncio.Task[DeliveryReport]] = {}

        async def flush(department: str) -> None:
            previous = in_flight.pop(department, None)
            if previous is not None:
                report.add(await previous)
            chunk = buffers.pop(department)
            opened.pop(department)
            send = self.send_batch(department, chunk) if batch else self._one_by_one(department, chunk)
            in_flight[department] = asyncio.create_task(send)

        for event in events:
            await pacer.take()
            department = department_of(event)
            buffers.setdefault(department, []).append(event)
            opened.setdefault(department, loop.time())
            for name in [d for d in buffers if len(buffers[d]) >= self._max_batch or
                         loop.time() - opened[d] >= linger]:
                await flush(name)
        for name in list(buffers):
            await flush(name)
        for task in in_flight.values():
            report.add(await task)
        return report

    async def _one_by_one(self, department: str, events: Sequence[dict[str, Any]]) -> DeliveryReport:
        report = DeliveryReport()
        for event in events:
            report.add(await self.send_event(department, event))
        return report

    async def _post(self, department: str, events: list[dict[str, Any]], batch: bool) -> DeliveryReport:
        report = DeliveryReport(sent=len(events))
        token = self._tokens.get(department)
        if token is None:
            report.refused["no token"] += len(events)
            return report
        headers = {"Authorization": f"Bearer {token}", "Content-Type": BATCH if batch else STRUCTURED}
        resent = False
        attempt = 0
        while events:
            attempt += 1
            body = json.dumps(events if batch else events[0])
            try:
                async with self._session.post(self._url, data=body, headers=headers) as response:
                    status, retry_after = response.status, response.headers.get("Retry-After")
                    answer = await _json(response)
            except (aiohttp.ClientError, TimeoutError) as exc:
                status, retry_after, answer = 0, None, {"error": str(exc)}
            if status == 202:
                accepted, duplicates = accepted_counts(answer, len(events))
                report.accepted += accepted
                report.duplicates += duplicates
                return report
            if status == 400 and not resent:
                bad = rejections(answer, events)
                report.rejected += [r for i in sorted(bad) for r in bad[i]]
                events = [e for i, e in enumerate(events) if i not in bad]
                resent, attempt = True, 0
                continue
            if status == 413 and batch and len(events) > 1:
                half = len(events) // 2
                for part in (events[:half], events[half:]):
                    inner = await self._post(department, part, batch)
                    inner.sent = 0
                    report.add(inner)
                return report
            if (status == 0 or status in _RETRIED) and attempt < self._attempts:
                report.retries += 1
                await self._sleep(retry_delay(retry_after, attempt, self._max_wait))
                continue
            if status == 0 or status in _RETRIED:
                log.warning("intake unavailable for %s after %d attempts (%s)", department, attempt,
                            f"HTTP {status}" if status else "no connection")
                report.failed += len(events)
            else:
                log.warning("intake refused %d %s events: HTTP %d %s", len(events), department, status, answer)
                report.refused[str(status)] += len(events)
            return report
        return report


async def _json(response: aiohttp.ClientResponse) -> Any:
    text = await response.text()
    try:
        return json.loads(text) if text else None
    except ValueError:
        return {"text": text[:200]}
