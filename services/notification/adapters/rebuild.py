"""Rebuilds notification's Redis state from the record, as casework rebuilds its queues:

    <p>:built        present once the state was built: a rebuild, or a first start (which takes its consumer
                     group's positions as where the deployment began; they are kept in the marker)
    <p>:rebuilding   present while a rebuild runs; workers pause and the citizen API answers 503

Contacts and withdrawals of consent are read whole (assist.contacts and assist.consents are compacted), and so
are the disclosures of the data-use log;
assist.offers, assist.tasks and assist.decisions from where
the deployment began, through the same handlers as the live consumer. assist.notifications, read first, says what
was already delivered: after each record, the deliveries of its offer that were delivered are finished, their sends
marked sent and their inbox entries written again, so nothing is sent twice, an e-mail whose outcome may be unknown
is never sent again, and a revision read later finds the citizen told (a notice) exactly as the live worker did.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from services.core.application_views import RedisApplications, submissions
from services.core.codec import Contract, decode_record
from services.core.history import HistoryReader, RebuildLock, clear_view
from services.core.resident_applications import CITIZEN_PAGE_SOURCE
from services.core.topics import (
    APPLICATION_ANSWERS,
    CONSENTS,
    CONTACTS,
    DECISIONS,
    DISCLOSURES,
    EVENTS,
    NOTIFICATIONS,
    OFFERS,
    TASKS,
)
from services.notification.adapters.kafka_inbound import SCHEMAS, InboundConsumer
from services.notification.adapters.redis_citizen import RedisInbox
from services.notification.adapters.redis_jobs import RedisDeliveryJobs
from services.notification.delivery import Delivery
from services.notification.domain.contact import Channel
from services.notification.domain.delivered import by_notification, delivery_of
from services.notification.domain.ids import notification_id
from services.notification.domain.revisions import delivery_id
from services.notification.ports import ContactBook

log = logging.getLogger(__name__)
LOCK_SECONDS = 120
REPLAYED = (CONSENTS, CONTACTS, OFFERS, TASKS, DECISIONS, APPLICATION_ANSWERS, DISCLOSURES)
"""In this order: withdrawals of consent before the contacts they erase details of (so an erased detail is
never stored again, not even for a moment), contacts before the offers that need them, offers and tasks before
the decisions on them.
Disclosures (the data-use log) are read whole, like contacts: the log is the person's for as long as the topic
keeps it, not only since this deployment began."""


WHOLE = (CONSENTS, CONTACTS, DISCLOSURES)


class StoreRebuilding(RedisConnectionError):
    """Notification's Redis state is missing or being rebuilt: try again in a moment (the consumer reads its batch
    again, the citizen API answers 503 with Retry-After)."""


class RebuildRunning(Exception):
    """Another rebuild holds the lock."""


@dataclass(frozen=True)
class RebuildReport:
    records: int
    delivered: int
    inbox_items: int
    seconds: float


class StoreMarker:
    """The marker and lock keys, and where the deployment began (kept in the marker)."""

    def __init__(self, redis: Redis, prefix: str):
        self._redis = redis
        self.built, self.rebuilding = f"{prefix}:built", f"{prefix}:rebuilding"

    async def since(self) -> dict[TopicPartition, int] | None:
        """Where the deployment began, or None when the state is not built."""
        raw = await self._redis.get(self.built)
        if raw is None:
            return None
        positions: dict[str, int] = json.loads(raw).get("since", {})
        return {TopicPartition(k.rpartition(":")[0], int(k.rpartition(":")[2])): v for k, v in positions.items()}

    async def declare(self, since: dict[TopicPartition, int]) -> None:
        value = {"at": dt.datetime.now(dt.UTC).isoformat(),
                 "since": {f"{tp.topic}:{tp.partition}": offset for tp, offset in since.items()}}
        await self._redis.set(self.built, json.dumps(value))

    async def check_usable(self) -> None:
        """Raise StoreRebuilding while a rebuild runs."""
        if await self._redis.exists(self.rebuilding):
            raise StoreRebuilding("notification state is being rebuilt")

    async def check_built(self) -> None:
        """Raise StoreRebuilding when the state is missing or being rebuilt."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.exists(self.built)
            pipe.exists(self.rebuilding)
            built, rebuilding = await pipe.execute()
        if rebuilding or not built:
            raise StoreRebuilding("notification state is missing or being rebuilt")


class Rebuilder:
    def __init__(self, redis: Redis, prefix: str, contract: Contract, bootstrap: str, inbound: InboundConsumer,
                 delivery: Delivery, jobs: RedisDeliveryJobs, contacts: ContactBook, inbox: RedisInbox,
                 applications: RedisApplications):
        self._redis, self._prefix, self._contract, self._bootstrap = redis, prefix, contract, bootstrap
        self._inbound, self._delivery, self._jobs = inbound, delivery, jobs
        self._contacts, self._inbox, self._applications = contacts, inbox, applications
        self.marker = StoreMarker(redis, prefix)

    async def rebuild(self, since: dict[TopicPartition, int], settle_seconds: float = 0.0) -> RebuildReport:
        """Rebuild from `since` (empty: from the beginning); RebuildRunning when another rebuild holds the lock.
        `settle_seconds` is left to other workers to pause (they do within a second of the marker going)."""
        started = time.monotonic()
        lock = RebuildLock(self._redis, self.marker.rebuilding, LOCK_SECONDS)
        if not await lock.take():
            raise RebuildRunning("a rebuild is already running")
        try:
            await self._redis.delete(self.marker.built)
            await asyncio.sleep(settle_seconds)
            async with HistoryReader(self._bootstrap, (*REPLAYED, NOTIFICATIONS, EVENTS),
                                     "assist-notification-rebuild") as reader:
                statuses = await self._statuses(reader)
                await self._clear()
                records = finished = inbox_items = 0
                for topic in REPLAYED:
                    async for record in reader.records(topic, None if topic in WHOLE else since):
                        await self._inbound.replay(record)
                        records += 1
                        offer_id = None if topic in WHOLE else self._offer_of(record)
                        if offer_id is not None:
                            done, items = await self._finish_delivered(offer_id, statuses)
                            finished, inbox_items = finished + done, inbox_items + items
                records += await self._submitted_applications(reader, since)
            await self.marker.declare(since)
        finally:
            await lock.release()
        seconds = time.monotonic() - started
        log.info("notification state rebuilt: %d records, %d deliveries already made, %d inbox items in %.1f s",
                 records, finished, inbox_items, seconds)
        return RebuildReport(records, finished, inbox_items, seconds)

    async def _statuses(self, reader: HistoryReader) -> dict[str, list[Mapping[str, Any]]]:
        statuses = []
        async for record in reader.records(NOTIFICATIONS):
            try:
                statuses.append(decode_record(self._contract, "notification_status", record.value or b""))
            except Exception:
                continue
        return by_notification(statuses)

    async def _submitted_applications(self, reader: HistoryReader, since: dict[TopicPartition, int]) -> int:
        """Applications made on the citizen page, from assist.events (the page kept them as it published them)."""
        found = 0
        async for application in submissions(reader, self._contract, CITIZEN_PAGE_SOURCE, since):
            await self._applications.submitted(application)
            found += 1
        return found

    def _offer_of(self, record: ConsumerRecord[bytes, bytes]) -> str | None:
        """The offer a replayed offer, task or decision is about (None when it is about none, or unreadable)."""
        try:
            value = decode_record(self._contract, SCHEMAS[record.topic], record.value or b"")
        except Exception:
            return None
        offer_id = (value.get("offer") or {}).get("offer_id") if record.topic == TASKS.name else value.get("offer_id")
        return str(offer_id) if offer_id else None

    async def _finish_delivered(self, offer_id: str, statuses: dict[str, list[Mapping[str, Any]]]
                                ) -> tuple[int, int]:
        """Finish the deliveries of `offer_id` (the offer and each revision notice) that were delivered."""
        finished = inbox_items = 0
        number = int(await self._redis.hget(f"{self._prefix}:chain:{offer_id}", "number") or 0)
        for job_id in (delivery_id(offer_id, n) for n in range(number + 1)):
            job = await self._jobs.load(job_id)
            if job is None or job.done:
                continue  # not this deployment's offer, not replayed, or finished already
            seen = delivery_of(s for c in Channel for s in statuses.get(notification_id(job_id, c.value), ()))
            for channel in seen.not_to_repeat({c.value: self._delivery.idempotent(c) for c in Channel}):
                await self._jobs.mark_unknown(notification_id(job_id, channel), dt.datetime.now(dt.UTC))
            for channel, at in seen.sent.items():
                await self._jobs.mark_sent(notification_id(job_id, channel), at)
            if not seen.final:
                continue
            contact = await self._contacts.get(job.recipient)
            state = self._delivery.plan(job, contact)
            if Channel.INBOX.value in seen.sent:
                message = self._delivery.message(job, state, contact)
                if message is not None:
                    key = notification_id(job_id, Channel.INBOX.value)
                    inbox_items += await self._inbox.restore(job.recipient, message, key, seen.sent["INBOX"])
            await self._jobs.finish(job_id, state, told=bool(seen.sent))
            finished += 1
        return finished, inbox_items

    async def _clear(self) -> None:
        await clear_view(self._redis, self._prefix, {self.marker.rebuilding})
