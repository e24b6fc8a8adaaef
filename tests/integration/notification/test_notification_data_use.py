"""The citizen's data-use log against the real broker and Redis: the worker takes assist.disclosures into each
shown person's log (a bad record goes to assist.notification.dlq with its reason), the citizen page and API show
the department events each offer was based on and every disclosure of their contact details (role, district,
purpose, fields, when; never who) in zh-CN and en, and a rebuild brings the log back."""

from __future__ import annotations

from dataclasses import replace

from aiohttp.test_utils import TestClient, TestServer
from aiokafka import AIOKafkaProducer
from redis.asyncio import Redis

from services.core.settings import Settings
from services.core.topics import DECISIONS, DISCLOSURES, NOTIFICATION_DLQ, OFFERS, TASKS
from services.notification.adapters.citizen_http import build_citizen_app
from services.notification.adapters.rebuild import StoreMarker
from services.notification.adapters.redis_data_use import RedisDataUse
from services.notification.wiring import citizen
from tests.integration.notification.notification_harness import (
    decision,
    disclosure_record,
    forget_keys,
    offer_record,
    publish,
    running_worker,
    unique,
    verification_task,
)
from tests.integration.notification.test_notification_recovery import until


async def test_disclosures_and_the_events_used_show_in_the_citizens_log_and_survive_a_rebuild(
        settings: Settings, probe) -> None:
    group, prefix = unique("test-notification-"), unique("test:notification:")
    father, daughter = unique("p-"), unique("p-")
    household = unique("hh-")
    redis = Redis.from_url(settings.redis_url)
    log = RedisDataUse(redis, prefix)
    dead = await probe(NOTIFICATION_DLQ.name)
    direct = offer_record(father, household_id=household)
    verified = offer_record(father, "subsistence_allowance", route="VERIFICATION", household_id=household,
                            trigger_event_type="job.lost")
    task = {**verification_task(verified), "evidence_event_ids": [verified["trigger_event_id"], "e-income-2026-10"],
            "evidence_event_types": ["job.lost", "hospitalisation.discharged"]}
    visit = disclosure_record(household, [father, daughter], "VISIT")
    notice = disclosure_record(household, [father], "DELIVER_NOTICE", actor="sv-li", role="SUPERVISOR")
    try:
        async with running_worker(settings, prefix, group):
            await publish(settings, [(OFFERS.name, direct), (TASKS.name, task),
                                     (DECISIONS.name, decision(verified, "APPROVED")),
                                     (DISCLOSURES.name, visit), (DISCLOSURES.name, notice),
                                     (DISCLOSURES.name, visit)])  # read twice: noted once
            producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
            await producer.start()
            try:
                await producer.send_and_wait(DISCLOSURES.name, b"\x00not a disclosure", key=household.encode())
            finally:
                await producer.stop()

            async def logged() -> bool:
                return len(await log.contact_uses(father)) == 2 and len(await log.contact_uses(daughter)) == 1
            await until(logged, 30, "both disclosures in the log")
            [parked] = await dead.collect(lambda r: r.key == household.encode(), 1)
            headers = dict(parked.headers)
            assert headers["dlq_reason"].startswith(b"unreadable as disclosure")
            assert headers["dlq_source_topic"] == DISCLOSURES.name.encode()

            async with citizen(replace(settings, link_signing_key="test-link-key"), prefix) as site:
                app = build_citizen_app(site.desk, site.metrics, secure_cookies=False,
                                        applications=site.applications, data_use=site.data_use)
                async with TestClient(TestServer(app, host="127.0.0.1")) as client:
                    async def offers_shown() -> bool:
                        return len(await site.views.all(father)) == 2
                    await until(offers_shown, 30, "both offers on the page")
                    link = site.desk.signer.link_token(father, direct["offer_id"], direct["created_at"])
                    assert (await client.get(f"/c/{link}", allow_redirects=False)).status == 303
                    response = await client.get("/api/v1/data-use?lang=en")
                    assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
                    body = await response.json()
                    uses = {u["purpose"]: u for u in body["contact_uses"]}
                    assert (uses["VISIT"]["role"], uses["VISIT"]["district"], uses["VISIT"]["fields"]) == (
                        "CASEWORKER", "513433", ["name", "address", "phone"])
                    assert uses["DELIVER_NOTICE"]["role_text"] == "a supervisor"
                    assert "cw-zhang" not in await response.text() and "sv-li" not in await response.text()
                    events = {o["offer_id"]: o["events"] for o in body["offers"]}
                    assert [(e["event_id"], e["department"]) for e in events[verified["offer_id"]]] == [
                        (verified["trigger_event_id"], "human_resources"), ("e-income-2026-10", "health")]
                    assert events[direct["offer_id"]] == [{"event_id": direct["trigger_event_id"], "trigger": True,
                                                           "department": None, "department_text": None}]
                    page = await (await client.get("/data-use?lang=zh_CN")).text()
                    assert "谁使用了我的信息，为什么" in page and "一名个案工作人员" in page and "入户走访" in page
                    assert "姓名、住址、电话" in page and "一名督导" in page and "cw-zhang" not in page
                    english = await (await client.get("/data-use?lang=en")).text()
                    assert "Who saw your contact details" in english and "to visit you" in english
                    assert 'id="data-use-link"' in english

            before = await log.contact_uses(father)
            await forget_keys(redis, prefix)  # Redis lost notification's state: the worker rebuilds it

            async def rebuilt() -> bool:
                return await StoreMarker(redis, prefix).since() is not None and \
                    await log.contact_uses(father) == before
            await until(rebuilt, 60, "the data-use log after a rebuild")
            assert len(await log.contact_uses(daughter)) == 1
            assert (await log.evidence_of([verified["offer_id"]]))[verified["offer_id"]] == task["evidence_event_ids"]
    finally:
        await forget_keys(redis, prefix)
        await redis.aclose()
