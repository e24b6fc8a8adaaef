"""Notification throughput through the local SMTP server and HTTP SMS gateway, next to a raw loop sending the
same messages to the same servers in the same run.

    ./run bench notification [--offers 2000] [--concurrency 32]

1. the development SMTP server and SMS sink (python -m services.notification dev-gateways, here in-process on
   free ports) receive everything;
2. pipeline: a notification worker process; --offers contacts (half prefer SMS, half e-mail) are published to
   assist.contacts and stored, then --offers offers to assist.offers; the clock runs from the first offer
   published to the last SENT status read back from assist.notifications;
3. raw: the same messages, already rendered, sent straight to the same servers: a plain loop one at a time, and
   with --concurrency in flight through the same channel adapters (no Kafka, no Redis, no retries).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import aiosmtplib
from aiokafka import AIOKafkaConsumer, TopicPartition
from redis.asyncio import Redis

from services.core.codec import decode_record, encode_record, load_contract
from services.core.kafka import commit_group_at_end, durable_producer
from services.core.progress_report import ProgressReport, progress_report
from services.core.settings import Settings, load_settings
from services.core.topics import CONTACTS, NOTIFICATIONS, OFFERS
from services.notification.adapters.dev_gateways import start_sms_sink, start_smtp
from services.notification.adapters.kafka_inbound import TOPICS
from services.notification.adapters.sms_gateway import SmsGateway
from services.notification.adapters.smtp_mail import SmtpMail, compose_mail
from services.notification.domain.contact import Language
from services.notification.domain.ids import notification_id
from services.notification.domain.link import Signer
from services.notification.ports import ChannelSender, Message
from services.notification.rendering import MessageTemplates

CONTRACT = load_contract()
SMTP_PORT, SMS_PORT = 18025, 18090


def people_and_offers(n: int, run: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    now = dt.datetime.now(dt.UTC)
    contacts, offers = [], []
    for i in range(n):
        person = f"p{run}{i:07d}"
        channels = ["SMS", "EMAIL"] if i % 2 == 0 else ["EMAIL", "SMS"]
        contacts.append({"person_id": person, "phone": f"+86139{i:08d}", "email": f"{person}@bench.test",
                         "channels": channels, "language": "zh_CN" if i % 3 else "en", "time_zone": "Asia/Shanghai",
                         "quiet_from": None, "quiet_until": None, "opted_out_non_critical": False,
                         "elderly_living_alone": False, "consented_at": now})
        offers.append({
            "offer_id": f"o-{run}{i:07d}", "household_id": f"hh-{run}{i:07d}", "person_id": person,
            "policy_id": "employment_assistance", "policy_name": "Employment assistance", "tier": "specialised",
            "benefit_period": "2026-11", "amount_fen": 60_000 + i, "amount_period": "MONTHLY", "route": "AUTO_OFFER",
            "district": "510107", "priority": 45, "created_at": now, "trigger_event_id": None,
            "explanation": {"policy_id": "employment_assistance", "policy_version": "2026.1", "legal_basis": "Art. 9",
                            "eligible": True, "facts": {}, "conditions": [], "computation": None,
                            "summary": "Eligible for employment assistance, offered directly."}})
    return contacts, offers


async def publish(settings: Settings, topic: str, schema: str, key: str, records: list[dict[str, Any]]) -> None:
    producer = durable_producer(settings.kafka_bootstrap, "bench-notification")
    await producer.start()
    try:
        pending = [await producer.send(topic, encode_record(CONTRACT, schema, r), key=r[key].encode())
                   for r in records]
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def statuses_at_end(settings: Settings) -> AIOKafkaConsumer:
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False)
    await consumer.start()
    partitions = [TopicPartition(NOTIFICATIONS.name, p) for p in range(NOTIFICATIONS.partitions)]
    consumer.assign(partitions)
    await consumer.seek_to_end(*partitions)
    for tp in partitions:
        await consumer.position(tp)
    return consumer


async def until_sent(consumer: AIOKafkaConsumer, offer_ids: set[str], within: float,
                     progress: ProgressReport) -> float:
    """Seconds until every offer has a SENT status (monotonic clock time of the last one)."""
    waiting = set(offer_ids)
    deadline = time.monotonic() + within
    while waiting and time.monotonic() < deadline:
        for records in (await consumer.getmany(timeout_ms=200)).values():
            for r in records:
                status = decode_record(CONTRACT, "notification_status", r.value)
                if status["status"] == "SENT":
                    waiting.discard(status["offer_id"])
        progress.set(len(offer_ids) - len(waiting))
    if waiting:
        raise RuntimeError(f"{len(waiting)} offers not sent within {within} s")
    return time.monotonic()


async def until_contacts_stored(redis: Redis, prefix: str, n: int, progress: ProgressReport,
                                within: float = 120) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        keys = [k async for k in redis.scan_iter(match=f"{prefix}:contact:*", count=5000)]
        progress.set(min(len(keys), n))
        if len(keys) >= n:
            return
        await asyncio.sleep(0.2)
    raise RuntimeError("contacts were not stored in time")


async def pipeline(settings: Settings, contacts: list[dict[str, Any]], offers: list[dict[str, Any]],
                   concurrency: int, log: Path) -> float:
    group, prefix = f"bench-notification-{uuid.uuid4().hex[:8]}", f"bench:notification:{uuid.uuid4().hex[:8]}"
    await commit_group_at_end(settings.kafka_bootstrap, group, TOPICS)
    env = {**os.environ, "ASSIST_SMS_GATEWAY_URL": settings.sms_gateway_url, "ASSIST_SMTP_PORT": str(SMTP_PORT)}
    lines = log.open("wb")  # one line per notification sent: kept out of the terminal
    worker = await asyncio.to_thread(subprocess.Popen, [
        sys.executable, "-m", "services.notification", "worker", "--group", group, "--key-prefix", prefix,
        "--metrics-port", "0", "--concurrency", str(concurrency)], env=env, stdout=lines, stderr=subprocess.STDOUT)
    redis = Redis.from_url(settings.redis_url)
    try:
        await publish(settings, CONTACTS.name, "contact", "person_id", contacts)
        with progress_report("contacts stored", len(contacts), "contacts") as progress:
            await until_contacts_stored(redis, prefix, len(contacts), progress)
        consumer = await statuses_at_end(settings)
        try:
            started = time.monotonic()
            await publish(settings, OFFERS.name, "offer", "household_id", offers)
            with progress_report("pipeline", len(offers), "offers sent") as progress:
                finished = await until_sent(consumer, {o["offer_id"] for o in offers}, 600, progress)
        finally:
            await consumer.stop()
    finally:
        worker.terminate()
        await asyncio.to_thread(worker.wait, 60)
        lines.close()
        async for key in redis.scan_iter(match=f"{prefix}:*", count=5000):
            await redis.delete(key)
        await redis.aclose()
    return len(offers) / (finished - started)


def rendered(contacts: list[dict[str, Any]], offers: list[dict[str, Any]],
             settings: Settings) -> list[tuple[str, str, Message, str]]:
    """(channel, address, message, idempotency key) for each offer's first channel, as the worker renders them."""
    templates, signer, now = MessageTemplates(), Signer(settings.link_signing_key), dt.datetime.now(dt.UTC)
    out = []
    for contact, offer in zip(contacts, offers, strict=True):
        channel, language = contact["channels"][0], Language(contact["language"])
        link = f"{settings.citizen_link_base}/c/{signer.link_token(contact['person_id'], offer['offer_id'], now)}"
        message = templates.render(offer, language, link, now + dt.timedelta(days=30), False,
                                   ZoneInfo("Asia/Shanghai"))
        address = contact["phone"] if channel == "SMS" else contact["email"]
        out.append((channel, address, message, notification_id(offer["offer_id"], f"raw-{channel}")))
    return out


async def raw_loop(settings: Settings, messages: list[tuple[str, str, Message, str]],
                   progress: ProgressReport) -> float:
    """One message at a time: an HTTP POST, or one SMTP transaction on a kept-open connection."""
    async with aiohttp.ClientSession() as http:
        smtp = aiosmtplib.SMTP(hostname=settings.smtp_host, port=SMTP_PORT, local_hostname="bench")
        await smtp.connect()
        started = time.monotonic()
        for channel, address, message, key in messages:
            if channel == "SMS":
                async with http.post(settings.sms_gateway_url, json={"to": address, "text": message.short,
                                                                     "idempotency_key": key}) as r:
                    await r.read()
            else:
                mail = compose_mail(settings.smtp_sender, address, message, key)
                await smtp.sendmail(settings.smtp_sender, [address], mail)
            progress.advance()
        elapsed = time.monotonic() - started
        await smtp.quit()
    return len(messages) / elapsed


async def raw_concurrent(settings: Settings, messages: list[tuple[str, str, Message, str]], concurrency: int,
                         progress: ProgressReport) -> float:
    """The same messages, `concurrency` in flight, through the worker's own channel adapters."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:
        senders: dict[str, ChannelSender] = {"SMS": SmsGateway(http, settings.sms_gateway_url),
                                             "EMAIL": SmtpMail(settings.smtp_host, SMTP_PORT, settings.smtp_sender)}
        queue: asyncio.Queue[tuple[str, str, Message, str]] = asyncio.Queue()
        for m in messages:
            queue.put_nowait(m)

        async def drain() -> None:
            while not queue.empty():
                channel, address, message, key = queue.get_nowait()
                result = await senders[channel].send(address, message, key + "c")
                if result.detail:
                    raise RuntimeError(f"raw send failed: {result.detail}")
                progress.advance()

        started = time.monotonic()
        await asyncio.gather(*(drain() for _ in range(concurrency)))
        elapsed = time.monotonic() - started
        mail = senders["EMAIL"]
        assert isinstance(mail, SmtpMail)
        await mail.close()
    return len(messages) / elapsed


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = replace(load_settings(), smtp_port=SMTP_PORT, sms_gateway_url=f"http://127.0.0.1:{SMS_PORT}/v1/sms")
        smtp_server = await start_smtp("127.0.0.1", SMTP_PORT, Path(tmp) / "mail")
        sms_sink = await start_sms_sink(settings.sms_gateway_url, Path(tmp) / "sms.jsonl")
        try:
            contacts, offers = people_and_offers(args.offers, uuid.uuid4().hex[:8])
            pipeline_rate = await pipeline(settings, contacts, offers, args.concurrency, args.log)
            messages = rendered(contacts, offers, settings)
            with progress_report("raw loop", len(messages), "messages") as progress:
                loop_rate = await raw_loop(settings, messages, progress)
            with progress_report("raw concurrent", len(messages), "messages") as progress:
                concurrent_rate = await raw_concurrent(settings, messages, args.concurrency, progress)
            mails = len(list((Path(tmp) / "mail").glob("*.eml")))
            texts = len((Path(tmp) / "sms.jsonl").read_text(encoding="utf-8").splitlines())
        finally:
            smtp_server.close()
            await smtp_server.wait_closed()
            await sms_sink.cleanup()
    return {
        "offers": args.offers, "concurrency": args.concurrency,
        "mails_received_all_runs": mails, "sms_received_all_runs": texts,
        "pipeline_notifications_per_second": round(pipeline_rate, 1),
        "raw_loop_messages_per_second": round(loop_rate, 1),
        "raw_concurrent_messages_per_second": round(concurrent_rate, 1),
        "pipeline_vs_raw_loop": round(pipeline_rate / loop_rate, 3),
        "pipeline_vs_raw_concurrent": round(pipeline_rate / concurrent_rate, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="./run bench notification")
    parser.add_argument("--offers", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--json", type=Path, default=Path("bench/results/notification.json"),
                        help="where the result goes")
    parser.add_argument("--log", type=Path, default=Path("bench/results/notification-worker.log"),
                        help="where the notification worker's log lines go")
    args = parser.parse_args()
    args.log.parent.mkdir(parents=True, exist_ok=True)
    result = asyncio.run(run(args))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    width = max(map(len, result))
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
