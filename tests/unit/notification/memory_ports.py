"""In-memory stand-ins for Delivery's ports, with the same contracts as the Redis and Kafka adapters, so the
service layer's crash and retry rules can be tested quickly. The integration tests use the real adapters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from services.notification.domain.attempts import ACCEPTED, SendResult
from services.notification.domain.contact import Channel, Contact, Language
from services.notification.domain.plan import DeliveryState
from services.notification.ports import Job, Message, SendClaim


class Clock:
    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class MemoryJobs:
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    due: dict[str, dt.datetime] = field(default_factory=dict)
    claims: dict[str, tuple[str, dt.datetime]] = field(default_factory=dict)

    async def add(self, offer: Mapping[str, Any], recipient: str, approved: bool, now: dt.datetime) -> bool:
        if offer["offer_id"] in self.jobs:
            return False
        self.jobs[offer["offer_id"]] = {"offer": dict(offer), "recipient": recipient, "approved": approved,
                                        "ready": now, "state": None, "done": False}
        self.due[offer["offer_id"]] = now
        return True

    async def claim_due(self, now: dt.datetime, limit: int, lease_seconds: float) -> list[str]:
        ids = [i for i, at in sorted(self.due.items(), key=lambda kv: kv[1]) if at <= now][:limit]
        for i in ids:
            self.due[i] = now + dt.timedelta(seconds=lease_seconds)
        return ids

    async def load(self, offer_id: str) -> Job | None:
        j = self.jobs.get(offer_id)
        return Job(offer_id, j["offer"], j["recipient"], j["approved"], j["ready"], j["state"], j["done"]) if j \
            else None

    async def save(self, offer_id: str, state: DeliveryState, due: dt.datetime,
                   ready_at: dt.datetime | None = None) -> None:
        self.jobs[offer_id]["state"] = state
        if ready_at is not None:
            self.jobs[offer_id]["ready"] = ready_at
        self.due[offer_id] = due

    async def finish(self, offer_id: str, state: DeliveryState, told: bool = False) -> None:
        self.jobs[offer_id].update(state=state, done=True, told=told)
        self.due.pop(offer_id, None)

    async def drop(self, offer_id: str) -> None:
        self.due.pop(offer_id, None)

    async def claim_send(self, notification_id: str, now: dt.datetime, stale_after_seconds: float) -> SendClaim:
        held = self.claims.get(notification_id)
        if held and held[0] in ("sent", "unknown"):
            return SendClaim(held[0])
        if held and (now - held[1]).total_seconds() < stale_after_seconds:
            return SendClaim.BUSY
        self.claims[notification_id] = ("sending", now)
        return SendClaim.STALE if held else SendClaim.FREE

    async def mark_sent(self, notification_id: str, now: dt.datetime) -> None:
        self.claims[notification_id] = ("sent", now)

    async def mark_unknown(self, notification_id: str, now: dt.datetime) -> None:
        self.claims[notification_id] = ("unknown", now)

    async def release_send(self, notification_id: str) -> None:
        self.claims.pop(notification_id, None)


@dataclass
class MemoryContacts:
    contacts: dict[str, Contact] = field(default_factory=dict)

    async def put(self, contact: Mapping[str, Any]) -> None:
        raise NotImplementedError

    async def forget(self, person_id: str) -> None:
        self.contacts.pop(person_id, None)

    async def get(self, person_id: str) -> Contact | None:
        return self.contacts.get(person_id)

    async def language(self, person_id: str) -> Language | None:
        contact = self.contacts.get(person_id)
        return contact.language if contact else None


@dataclass
class ScriptedSender:
    """Answers with the scripted results in turn, then accepts; records every message it was given."""

    channel: Channel
    idempotent: bool
    script: list[SendResult] = field(default_factory=list)
    sent: list[tuple[str, str]] = field(default_factory=list)

    async def send(self, address: str, message: Message, idempotency_key: str) -> SendResult:
        self.sent.append((address, idempotency_key))
        return self.script.pop(0) if self.script else ACCEPTED


@dataclass
class MemoryLogs:
    statuses: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)

    async def publish_statuses(self, statuses: Any) -> None:
        self.statuses.extend(statuses)

    async def publish_task(self, task: dict[str, Any]) -> None:
        self.tasks.append(task)

    async def append_decision(self, decision: dict[str, Any]) -> None:
        self.decisions.append(decision)

    def trail(self) -> list[tuple[str, str, int]]:
        return [(s["channel"], s["status"], s["attempt"]) for s in self.statuses]
