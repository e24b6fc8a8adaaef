"""The one place notification's dependencies are built and connected; __main__, the tests and the benchmark use it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiokafka import AIOKafkaProducer
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from services.core.application_views import RedisApplications
from services.core.codec import Contract, load_contract
from services.core.kafka import durable_producer
from services.core.resident_applications import CatalogueProgrammes
from services.core.settings import Settings
from services.notification.adapters.kafka_applications import KafkaApplicationLog
from services.notification.adapters.kafka_consents import KafkaConsentLog
from services.notification.adapters.kafka_inbound import (
    GROUP,
    InboundConsumer,
    inbound_consumer,
    inbound_dead_letters,
)
from services.notification.adapters.kafka_outbound import KafkaRecords
from services.notification.adapters.rebuild import Rebuilder, StoreMarker
from services.notification.adapters.redis_chains import RedisOfferChains
from services.notification.adapters.redis_citizen import RedisCitizenViews, RedisInbox, citizen_redis
from services.notification.adapters.redis_contacts import RedisContactBook
from services.notification.adapters.redis_data_use import RedisDataUse
from services.notification.adapters.redis_jobs import RedisDeliveryJobs
from services.notification.adapters.redis_offers import RedisOfferMemory
from services.notification.adapters.redis_reviews import RedisReviews
from services.notification.adapters.sms_gateway import SmsGateway
from services.notification.adapters.smtp_mail import SmtpMail
from services.notification.applications import ApplicationDesk
from services.notification.citizen import CitizenDesk
from services.notification.consent import ConsentDesk
from services.notification.data_use import DataUseDesk
from services.notification.delivery import SEND_TIMEOUT_SECONDS, Delivery
from services.notification.domain.link import Signer
from services.notification.metrics import NotificationMetrics
from services.notification.records import InboundRecords
from services.notification.recovery import Recovery
from services.notification.rendering import MessageTemplates
from services.notification.reviews import ReviewDesk
from services.notification.scheduler import Scheduler
from services.vault.domain.sealing import Keyring

KEY_PREFIX = "assist:notification"


@dataclass
class Worker:
    """The worker's parts: the consumer of the four input topics and the delivery scheduler."""

    inbound: InboundConsumer
    scheduler: Scheduler
    delivery: Delivery
    records: InboundRecords
    jobs: RedisDeliveryJobs
    metrics: NotificationMetrics
    contract: Contract
    redis: Redis
    recovery: Recovery
    rebuilder: Rebuilder

    async def run(self, stop: asyncio.Event) -> None:
        """Consume and deliver until `stop` is set."""
        await asyncio.gather(*self.loops(stop).values())

    def loops(self, stop: asyncio.Event) -> dict[str, Coroutine[Any, Any, None]]:
        """The worker's long-lived tasks by name, for the process to supervise."""
        return {"notification inputs": self.inbound.run(stop), "delivery scheduler": self.scheduler.run(stop),
                "state watch": self.recovery.run(stop)}


@asynccontextmanager
async def worker(settings: Settings, group: str = GROUP, prefix: str = KEY_PREFIX, concurrency: int = 32,
                 registry: CollectorRegistry | None = None,
                 send_timeout_seconds: float = SEND_TIMEOUT_SECONDS, contract: Contract | None = None
                 ) -> AsyncIterator[Worker]:
    """Connect to Kafka, Redis and the providers; disconnect on exit."""
    contract = contract or load_contract()
    metrics = NotificationMetrics(registry or CollectorRegistry())
    producer = durable_producer(settings.kafka_bootstrap, "assist-notification",
                                request_timeout_ms=int(settings.publish_timeout_seconds * 1000))
    consumer = inbound_consumer(settings.kafka_bootstrap, group)
    redis = Redis.from_url(settings.redis_url)
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency))
    smtp = SmtpMail(settings.smtp_host, settings.smtp_port, settings.smtp_sender, connections=max(4, concurrency // 4),
                    timeout_seconds=send_timeout_seconds)
    try:
        await producer.start()
        await consumer.start()
        kafka = KafkaRecords(producer, contract, settings.publish_timeout_seconds)
        jobs = RedisDeliveryJobs(redis, contract, prefix)
        contacts = RedisContactBook(redis, prefix, Keyring.parse(settings.contact_keys))
        views = RedisCitizenViews(redis, prefix)
        inbox = RedisInbox(redis, prefix)
        sms = SmsGateway(http, settings.sms_gateway_url, send_timeout_seconds)
        senders = {s.channel: s for s in (sms, smtp, inbox)}
        delivery = Delivery(jobs, contacts, senders, kafka, kafka, MessageTemplates(),
                            Signer(settings.link_signing_key), settings.citizen_link_base, metrics,
                            settings.notification_max_attempts, settings.notification_retry_base_seconds,
                            send_timeout_seconds)
        records = InboundRecords(contacts, RedisOfferMemory(redis, contract, prefix), jobs, views,
                                 RedisOfferChains(redis, contract, prefix), RedisApplications(redis, prefix),
                                 RedisDataUse(redis, prefix), reviews=RedisReviews(redis, prefix))
        marker = StoreMarker(redis, prefix)
        inbound = InboundConsumer(consumer, records, contract, metrics, inbound_dead_letters(producer, metrics),
                                  ready=marker.check_built)
        scheduler = Scheduler(delivery, jobs, metrics, concurrency)
        rebuilder = Rebuilder(redis, prefix, contract, settings.kafka_bootstrap, inbound, delivery, jobs, contacts,
                              inbox, RedisApplications(redis, prefix))
        recovery = Recovery(rebuilder, scheduler)
        await recovery.start(consumer)
        yield Worker(inbound, scheduler, delivery, records, jobs, metrics, contract, redis, recovery, rebuilder)
    finally:
        await smtp.close()
        await http.close()
        await consumer.stop()
        await producer.stop()
        await redis.aclose()


@dataclass
class Citizen:
    desk: CitizenDesk
    metrics: NotificationMetrics
    views: RedisCitizenViews
    inbox: RedisInbox
    contacts: RedisContactBook
    redis: Redis
    applications: ApplicationDesk
    application_store: RedisApplications
    data_use: DataUseDesk
    consent: ConsentDesk
    reviews: ReviewDesk
    producer: AIOKafkaProducer
    """For readiness: its client's metadata request says whether Kafka answers."""


@asynccontextmanager
async def citizen(settings: Settings, prefix: str = KEY_PREFIX, registry: CollectorRegistry | None = None,
                  contract: Contract | None = None) -> AsyncIterator[Citizen]:
    """The citizen API's parts: Redis for views, inbox and applications, a producer for assist.decisions and for
    applications onto assist.events, the programme list from assist.policies."""
    contract = contract or load_contract()
    metrics = NotificationMetrics(registry or CollectorRegistry())
    producer: AIOKafkaProducer = durable_producer(settings.kafka_bootstrap, "assist-citizen-api",
                                                  request_timeout_ms=int(settings.publish_timeout_seconds * 1000))
    redis = citizen_redis(settings.redis_url, settings.citizen_redis_connections, settings.citizen_redis_wait_seconds)
    try:
        await producer.start()
        views, inbox = RedisCitizenViews(redis, prefix), RedisInbox(redis, prefix)
        contacts = RedisContactBook(redis, prefix, Keyring.parse(settings.contact_keys))
        desk = CitizenDesk(views, inbox, contacts, KafkaRecords(producer, contract, settings.publish_timeout_seconds),
                           Signer(settings.link_signing_key), metrics, StoreMarker(redis, prefix).check_usable)
        store = RedisApplications(redis, prefix)
        applications = ApplicationDesk(
            CatalogueProgrammes(settings.kafka_bootstrap, contract, settings.matching_catalogue,
                                "assist-citizen-catalogue"),
            KafkaApplicationLog(producer, contract, settings.publish_timeout_seconds), store)
        data_use = DataUseDesk(views, RedisDataUse(redis, prefix), store, StoreMarker(redis, prefix).check_usable,
                               {t: et.department for t, et in contract.event_types.items()})
        consent = ConsentDesk(KafkaConsentLog(producer, contract, settings.publish_timeout_seconds), contacts)
        reviews = ReviewDesk(views, store, KafkaRecords(producer, contract, settings.publish_timeout_seconds),
                             RedisReviews(redis, prefix))
        yield Citizen(desk, metrics, views, inbox, contacts, redis, applications, store, data_use, consent, reviews,
                      producer)
    finally:
        await producer.stop()
        await redis.aclose()

