"""Real stand-ins for the providers (an aiosmtpd SMTP server and an aiohttp SMS gateway, both with failures the
test controls), builders of contacts and offers, and a notification worker running in the test's event loop."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from typing import Any

from aiohttp import web
from aiosmtpd import smtp as aiosmtpd_smtp
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from services.core.codec import Contract, decode_record, encode_record, load_contract
from services.core.kafka import commit_group_at_end, durable_producer
from services.core.settings import Settings, load_settings
from services.core.topics import APPLICATION_ANSWERS, CONTACTS, DECISIONS, DISCLOSURES, OFFERS, TASKS
from services.notification.adapters.kafka_inbound import TOPICS
from services.notification.adapters.redis_contacts import RedisContactBook
from services.notification.wiring import Worker, worker
from services.vault.domain.sealing import Keyring
from tests.unit.notification.offers import NAMES_ZH

CONTRACT = load_contract()
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SmsGatewayStub:
    """An HTTP SMS gateway honouring the documented contract: 2xx accepted, a repeated idempotency_key is
    accepted again but not sent again. `fail_next` answers the next requests with an error status."""

    port: int = field(default_factory=free_port)
    requests: list[dict[str, Any]] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)
    fail_always: int | None = None
    delay: float = 0.0
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/sms"

    def delivered(self) -> list[dict[str, Any]]:
        """Messages actually sent to phones: first acceptance of each key."""
        return [r for r in self.requests if r["outcome"] == "accepted"]

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
        body = await request.json()
        status = self.failures.pop(0) if self.failures else self.fail_always
        seen = {r["idempotency_key"] for r in self.requests if r["outcome"] == "accepted"}
        outcome = f"failed {status}" if status else "duplicate" if body["idempotency_key"] in seen else "accepted"
        self.requests.append({**body, "outcome": outcome})
        if self.delay:  # taken, not yet answered: a client dying now leaves the outcome unknown to it
            await asyncio.sleep(self.delay)
        if status:
            return web.json_response({"error": "try later"}, status=status)
        return web.json_response({"id": body["idempotency_key"]}, status=202)


class _MailHandler:
    def __init__(self, server: MailServer):
        self._server = server

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        if self._server.failures:
            return self._server.failures.pop(0)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self._server.messages.append(message)
        if self._server.delay:  # taken, not yet answered
            await asyncio.sleep(self._server.delay)
        return "250 OK"


@dataclass
class MailServer:
    """A real SMTP server (aiosmtpd) keeping what it receives; `failures` are SMTP replies to give first."""

    port: int = field(default_factory=free_port)
    messages: list[EmailMessage] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    delay: float = 0.0
    _server: asyncio.Server | None = None

    async def start(self) -> None:
        handler = _MailHandler(self)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: aiosmtpd_smtp.SMTP(handler, hostname="test-smtp"),
                                                "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server:
            self._server.close()
            await self._server.wait_closed()

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@asynccontextmanager
async def providers() -> AsyncIterator[tuple[SmsGatewayStub, MailServer]]:
    gateway, mail = SmsGatewayStub(), MailServer()
    await gateway.start()
    await mail.start()
    try:
        yield gateway, mail
    finally:
        await gateway.stop()
        await mail.stop()


def notification_settings(base: Settings, gateway: SmsGatewayStub, mail: MailServer, **changes: Any) -> Settings:
    values: dict[str, Any] = {"sms_gateway_url": gateway.url, "smtp_host": "127.0.0.1", "smtp_port": mail.port,
                              "notification_retry_base_seconds": 0.05, "notification_max_attempts": 3,
                              "citizen_link_base": "http://citizen.test", "link_signing_key": "test-link-key"}
    values.update(changes)
    return replace(base, **values)


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def contact_record(person_id: str, channels: list[str], **fields: Any) -> dict[str, Any]:
    record = {"person_id": person_id, "phone": f"+86138{uuid.uuid4().int % 10**8:08d}",
              "email": f"{person_id}@mail.test", "channels": channels, "language": "zh_CN",
              "time_zone": "Asia/Shanghai", "quiet_from": None, "quiet_until": None, "opted_out_non_critical": False,
              "elderly_living_alone": False, "consented_at": NOW}
    record.update(fields)
    return record


def offer_record(person_id: str | None, policy_id: str = "employment_assistance", route: str = "AUTO_OFFER",
                 **fields: Any) -> dict[str, Any]:
    record = {
        "offer_id": unique("o-"), "household_id": unique("hh-"), "person_id": person_id, "policy_id": policy_id,
        "policy_name": policy_id.replace("_", " ").capitalize(), "tier": "specialised",
        "benefit_period": "2026-11", "amount_fen": 123_450, "amount_period": "MONTHLY", "route": route,
        "district": "510107", "priority": 45, "created_at": NOW, "trigger_event_id": unique("e-"),
        "explanation": {"policy_id": policy_id, "policy_version": "2026.1", "legal_basis": "Interim Measures, art. 9",
                        "eligible": True, "facts": {"income": "1000"},
                        "conditions": [{"expression": "member.monthly_income_fen < standard",
                                        "values": "1000 < 80000", "holds": True}],
                        "computation": None,
                        "summary": f"Eligible for {policy_id}: 1,234.50 yuan per month, offered directly.",
                        "policy_names": {"zh-CN": NAMES_ZH.get(policy_id, policy_id)}},
    }
    record.update(fields)
    return record


def verification_task(offer: dict[str, Any]) -> dict[str, Any]:
    return {"task_id": unique("t-"), "kind": "VERIFY_ELIGIBILITY", "household_id": offer["household_id"],
            "person_id": offer["person_id"], "district": offer["district"], "priority": offer["priority"],
            "due_at": NOW + dt.timedelta(days=10), "reason": "Verify before offering.", "offer": offer,
            "risk_tier": None, "evidence_event_ids": [], "created_at": NOW}


def disclosure_record(household_id: str, person_ids: list[str], purpose: str = "VISIT", actor: str = "cw-zhang",
                      role: str = "CASEWORKER", district: str = "513433") -> dict[str, Any]:
    """A disclosure as the identity vault records it on assist.disclosures."""
    fields = {"VISIT": ["name", "address", "phone"], "VERIFY": ["name", "phone"], "DELIVER_NOTICE": ["name", "address"]}
    return {"disclosure_id": unique("d-"), "actor": actor, "actor_role": role, "district": district,
            "task_id": unique("t-"), "household_id": household_id, "person_ids": person_ids, "purpose": purpose,
            "fields": fields[purpose], "at": dt.datetime.now(dt.UTC).replace(microsecond=0)}


def decision(offer: dict[str, Any], action: str, actor: str = "cw-1", **fields: Any) -> dict[str, Any]:
    value = {"decision_id": unique("d-"), "action": action, "task_id": None, "offer_id": offer["offer_id"],
             "household_id": offer["household_id"], "person_id": offer["person_id"],
             "policy_id": offer["policy_id"], "district": offer["district"], "actor": actor, "reason": None,
             "at": dt.datetime.now(dt.UTC)}
    value.update(fields)
    return value


async def publish(settings: Settings, items: list[tuple[str, dict[str, Any]]]) -> None:
    """Publish (topic, record) pairs in order, keyed as the platform keys them."""
    schemas = {CONTACTS.name: ("contact", "person_id"), OFFERS.name: ("offer", "household_id"),
               TASKS.name: ("caseworker_task", "household_id"), DECISIONS.name: ("decision", "household_id"),
               APPLICATION_ANSWERS.name: ("application_answer", "household_id"),
               DISCLOSURES.name: ("disclosure", "household_id")}
    producer = durable_producer(settings.kafka_bootstrap, "test-notification")
    await producer.start()
    try:
        for topic, value in items:
            schema, key = schemas[topic]
            await producer.send_and_wait(topic, encode_record(CONTRACT, schema, value), key=value[key].encode())
    finally:
        await producer.stop()


def status_of(record: Any) -> dict[str, Any]:
    return decode_record(CONTRACT, "notification_status", record.value)


@asynccontextmanager
async def running_worker(settings: Settings, prefix: str, group: str, contract: Contract | None = None
                         ) -> AsyncIterator[Worker]:
    """A worker in this event loop, reading only what is published after it was created."""
    await commit_group_at_end(settings.kafka_bootstrap, group, TOPICS)
    async with worker(settings, group, prefix, registry=CollectorRegistry(), contract=contract) as parts:
        stop = asyncio.Event()
        task = asyncio.create_task(parts.run(stop))
        try:
            yield parts
        finally:
            stop.set()
            await task


async def wait_for_contacts(redis: Redis, prefix: str, person_ids: list[str], timeout: float = 20) -> None:
    book = RedisContactBook(redis, prefix, Keyring.parse(load_settings().contact_keys))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if all([await book.get(p) for p in person_ids]):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("contacts were not stored in time")


async def forget_keys(redis: Redis, prefix: str) -> None:
    """Remove this test's keys (its own prefix only)."""
    async for key in redis.scan_iter(match=f"{prefix}:*", count=1000):
        await redis.delete(key)
