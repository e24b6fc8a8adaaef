"""The outcome figures read from the real topics: offers made under their trigger's event type, what became of
them, the times, and warnings confirmed by a visit, for one district of this test's own."""

from __future__ import annotations

import random

from aiokafka import AIOKafkaProducer

from services.core.codec import encode_event, encode_record, event_from_json, load_contract
from services.core.settings import Settings
from services.core.topics import DECISIONS, EVENTS, OFFERS, TASKS
from services.outcomes.adapters.topics import read_outcomes
from services.outcomes.report import table
from tests.conftest import discharge
from tests.integration.notification_harness import decision, offer_record, unique, verification_task
from tests.integration.test_casework import task_record

CONTRACT = load_contract()


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
