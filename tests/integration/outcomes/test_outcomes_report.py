"""The outcome figures read from the real topics: offers made under their trigger's event type, what became of
them, the times, and warnings confirmed by a visit, for one district of this test's own."""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import socket
import sys

import aiohttp
from aiokafka import AIOKafkaProducer
from prometheus_client import CollectorRegistry, generate_latest

from services.core.codec import encode_event, encode_record, event_from_json, load_contract
from services.core.settings import Settings
from services.core.topics import DECISIONS, EVENTS, OFFERS, TASKS
from services.outcomes.adapters.topics import read_outcomes
from services.outcomes.metrics import OutcomeMetrics
from services.outcomes.report import table
from tests.conftest import discharge
from tests.integration.casework.test_casework import task_record
from tests.integration.notification.notification_harness import decision, offer_record, unique, verification_task

CONTRACT = load_contract()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_the_report_counts_what_the_topics_say_about_each_offer_and_warning(settings: Settings) -> None:
    district = f"99{random.randrange(10_000):04d}"
    policy = unique("test_outcome_")
    event = event_from_json(CONTRACT, discharge())
    value, headers = encode_event(CONTRACT, event)
    accepted, declined, withdrawn = (offer_record(unique("p-"), policy, district=district, trigger_event_id=event.id)
                                     for _ in range(3))
    verified = verification_task(offer_record(None, policy, route="VERIFICATION", district=district,
                                              trigger_event_id=event.id))
    warnings = [task_record(district=district, kind="VISIT") for _ in range(3)]
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(EVENTS.name, value, key=event.subject.encode(), headers=headers)
        for offer in (accepted, declined, withdrawn):
            await producer.send_and_wait(OFFERS.name, encode_record(CONTRACT, "offer", offer))
        await producer.send_and_wait(OFFERS.name, encode_record(CONTRACT, "offer", {
            **withdrawn, "change": "WITHDRAWN"}))
        for task in (verified, *warnings):
            await producer.send_and_wait(TASKS.name, encode_record(CONTRACT, "caseworker_task", task))
        for value_ in (decision(accepted, "ACCEPTED", actor="citizen"), decision(declined, "DECLINED", actor="citizen"),
                       decision(verified["offer"], "APPROVED", task_id=verified["task_id"], offer_id=None),
                       decision(verified["offer"], "APPROVED", task_id=warnings[0]["task_id"], offer_id=None),
                       decision(verified["offer"], "REJECTED", task_id=warnings[1]["task_id"], offer_id=None)):
            await producer.send_and_wait(DECISIONS.name, encode_record(CONTRACT, "decision", value_))
    finally:
        await producer.stop()

    result = await read_outcomes(settings.kafka_bootstrap, CONTRACT)
    row = result.rows[(policy, "hospitalisation.discharged", district)]
    assert row.made == 4
    assert row.counts == {"accepted": 1, "declined": 1, "approved": 1, "rejected": 0, "withdrawn": 1}
    assert row.median_event_to_offer_s is not None and row.median_offer_to_decision_s is not None
    w = result.warnings[district]
    assert (w.raised, w.confirmed, w.rejected) == (3, 1, 1)
    printed = "\n".join(table(result, "policy"))
    assert policy in printed and "warnings raised" in printed

    metrics = OutcomeMetrics(CollectorRegistry())
    metrics.update(result, 0.0)
    exported = generate_latest(metrics.registry).decode()
    assert f'assist_outcome_offers{{outcome="accepted",policy="{policy}"}} 1.0' in exported
    assert f'assist_outcome_offers{{outcome="made",policy="{policy}"}} 4.0' in exported
    assert district not in exported  # districts are the report's, not a metric label

    # The same figures from the process operators run, on /metrics, and a clean stop on SIGTERM.
    port = free_port()
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "services.outcomes", "serve", "--port",
                                                   str(port), "--every", "1", stdout=asyncio.subprocess.DEVNULL,
                                                   stderr=asyncio.subprocess.DEVNULL)
    try:
        text, loop = "", asyncio.get_running_loop()
        deadline = loop.time() + 60
        async with aiohttp.ClientSession() as session:
            while f'outcome="accepted",policy="{policy}"' not in text:
                assert loop.time() < deadline, "the served figures never showed the test's policy"
                await asyncio.sleep(0.5)
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
                        text = await response.text()
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
