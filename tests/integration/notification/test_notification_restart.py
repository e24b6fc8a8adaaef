"""A notification worker killed (SIGKILL) in the middle of sending, then restarted: every offer still reaches its
person, no SMS is delivered twice and no e-mail is sent twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from redis.asyncio import Redis

from services.core.kafka import commit_group_at_end
from services.core.settings import PROJECT_ROOT
from services.core.topics import CONTACTS, NOTIFICATIONS, OFFERS
from services.notification.adapters.kafka_inbound import TOPICS
from services.notification.adapters.redis_citizen import RedisInbox
from services.notification.domain.ids import notification_id
from tests.integration.notification.notification_harness import (
    contact_record,
    forget_keys,
    notification_settings,
    offer_record,
    providers,
    publish,
    status_of,
    unique,
    wait_for_contacts,
)

OFFERS_PER_CHANNEL = 20
SEND_TIMEOUT = 1.5


def start_worker(env: dict[str, str], group: str, prefix: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "services.notification", "worker", "--group", group,
                                 "--key-prefix", prefix, "--metrics-port", "0", "--concurrency", "4",
                                 "--send-timeout", str(SEND_TIMEOUT)],
                                env=env, stdout=out, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)


async def test_worker_killed_mid_way_loses_nothing_and_sends_nothing_twice(settings, probe, tmp_path):
    events = await probe(NOTIFICATIONS.name)
    group, prefix = unique("test-notification-"), unique("test:notification:")
    redis = Redis.from_url(settings.redis_url)
    async with providers() as (gateway, mail):
        gateway.delay = mail.delay = 0.15
        config = notification_settings(settings, gateway, mail)
        env = {**os.environ, "ASSIST_SMS_GATEWAY_URL": gateway.url, "ASSIST_SMTP_PORT": str(mail.port),
               "ASSIST_NOTIFICATION_RETRY_BASE_SECONDS": "0.05", "ASSIST_LINK_SIGNING_KEY": "test-link-key"}
        by_sms = [unique("p") for _ in range(OFFERS_PER_CHANNEL)]
        by_mail = [unique("p") for _ in range(OFFERS_PER_CHANNEL)]
        contacts = [contact_record(p, ["SMS", "INBOX"]) for p in by_sms] + \
                   [contact_record(p, ["EMAIL", "INBOX"]) for p in by_mail]
        offers = {p: offer_record(p) for p in by_sms + by_mail}
        wanted = {o["offer_id"] for o in offers.values()}
        reached: dict[str, list[str]] = {}

        def sent(record) -> bool:
            status = status_of(record)
            if status["offer_id"] in wanted and status["status"] == "SENT":
                reached.setdefault(status["offer_id"], []).append(status["channel"])
                return True
            return False

        await commit_group_at_end(config.kafka_bootstrap, group, TOPICS)
        log = tmp_path / "worker.log"
        process = start_worker(env, group, prefix, log)
        try:
            await publish(config, [(CONTACTS.name, c) for c in contacts])
            await wait_for_contacts(redis, prefix, by_sms + by_mail, timeout=60)
            await publish(config, [(OFFERS.name, o) for o in offers.values()])
            await events.collect(sent, 10, timeout=60)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
            reached_before_kill = len(reached)
            process = start_worker(env, group, prefix, log)
            await events.collect(lambda r: sent(r) and len(reached) == len(wanted), 1, timeout=90)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
        inboxes = {p: await RedisInbox(redis, prefix).items(p) for p in by_mail}
        await forget_keys(redis, prefix)
        await redis.aclose()

    assert reached_before_kill < len(wanted), "the worker was not stopped mid-way"
    assert set(reached) == wanted, "an offer was lost:\n" + log.read_text()[-3000:]
    delivered = [r["idempotency_key"] for r in gateway.delivered()]
    assert sorted(delivered) == sorted(notification_id(offers[p]["offer_id"], "SMS") for p in by_sms)
    for person in by_mail:
        mails = mail.to(f"{person}@mail.test")
        assert len(mails) <= 1, "an e-mail was sent twice"
        # An e-mail whose sending was cut off by the kill is never repeated: the inbox carries the notice instead.
        assert mails or inboxes[person], f"{person} was not reached"
