"""A seeded notification workload: people with SMS or e-mail (each also with the inbox), one offer each, and
what reached them according to assist.notifications and the providers."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from services.core.codec import decode_record
from services.core.topics import NOTIFICATIONS
from services.notification.domain.ids import notification_id
from tests.faults.records import CONTRACT, Seeded, publish_contacts, publish_offers, read_topic


@dataclass
class Workload:
    label: str
    contacts: list[dict[str, Any]]
    offers: list[dict[str, Any]]

    @classmethod
    def seeded(cls, seed: int, label: str, count: int) -> Workload:
        seeded = Seeded(seed, label)
        people = [f"p-{label}-{n:05d}" for n in range(count)]
        channels = [["SMS", "INBOX"] if n % 2 == 0 else ["EMAIL", "INBOX"] for n in range(count)]
        contacts = [seeded.contact(p, c) for p, c in zip(people, channels, strict=True)]
        offers = [seeded.offer(p, n) for n, p in enumerate(people)]
        return cls(label, contacts, offers)

    @property
    def offer_ids(self) -> set[str]:
        return {o["offer_id"] for o in self.offers}

    def first_channel_keys(self) -> dict[str, tuple[str, str]]:
        """notification id → (offer id, channel) of each offer's preferred channel."""
        people = {c["person_id"]: c["channels"][0] for c in self.contacts}
        keys = {}
        for offer in self.offers:
            channel = people[offer["person_id"]]
            keys[notification_id(offer["offer_id"], channel)] = (offer["offer_id"], channel)
        return keys

    async def publish_contacts(self, bootstrap: str, redis: Redis, prefix: str, timeout: float = 90) -> None:
        """Publish the contacts and wait until the worker stored them (an offer read first would go in person)."""
        await publish_contacts(bootstrap, self.contacts)
        keys = [f"{prefix}:contact:{c['person_id']}" for c in self.contacts]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await redis.exists(*keys) == len(keys):
                return
            await asyncio.sleep(0.2)
        raise AssertionError(f"the worker stored {await redis.exists(*keys)} of {len(keys)} contacts")

    async def publish_offers(self, bootstrap: str) -> None:
        await publish_offers(bootstrap, self.offers)


async def reached(bootstrap: str, offer_ids: set[str]) -> dict[str, set[str]]:
    """offer id → channels with a SENT status, for the given offers."""
    channels: dict[str, set[str]] = defaultdict(set)
    for record in await read_topic(bootstrap, NOTIFICATIONS.name):
        status = decode_record(CONTRACT, "notification_status", record.value or b"")
        if status["offer_id"] in offer_ids and status["status"] == "SENT":
            channels[status["offer_id"]].add(status["channel"])
    return channels


async def wait_reached(bootstrap: str, offer_ids: set[str], timeout: float, at_least: int | None = None
                       ) -> dict[str, set[str]]:
    """Poll assist.notifications until `at_least` (default all) offers reached someone, or `timeout`."""
    wanted = len(offer_ids) if at_least is None else at_least
    deadline = time.monotonic() + timeout
    found = await reached(bootstrap, offer_ids)
    while len(found) < wanted and time.monotonic() < deadline:
        await asyncio.sleep(1.0)
        found = await reached(bootstrap, offer_ids)
    return found
