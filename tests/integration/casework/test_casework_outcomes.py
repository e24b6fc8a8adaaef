"""The supervisor overview shows what the region's work achieved, folded from the real topics: offers by policy and
what became of them, warnings raised and confirmed; a caseworker's overview does not carry it."""

from __future__ import annotations

from pathlib import Path

from aiokafka import AIOKafkaProducer

from services.casework.domain.scope import staff
from services.core.codec import encode_record, load_contract
from services.core.topics import DECISIONS, OFFERS, TASKS
from services.outcomes.adapters.topics import read_outcomes
from services.outcomes.region import RegionOutcomes
from tests.integration.casework.test_casework import PASSWORD, open_desk, task_record
from tests.integration.notification.notification_harness import decision, offer_record, unique

CONTRACT = load_contract()
REGION = "970000"
SUPERVISOR = staff("sv-97", "supervisor", region=REGION)


async def test_the_supervisor_overview_shows_the_regions_outcomes(tmp_path: Path) -> None:
    policy, district = unique("test_region_"), "970101"
    accepted, withdrawn = (offer_record(unique("p-"), policy, district=district) for _ in range(2))
    warning = task_record(district=district, kind="VISIT")
    elsewhere = offer_record(unique("p-"), policy, district="960101")
    async with open_desk(tmp_path) as desk:
        desk.parts.staff.add(SUPERVISOR, PASSWORD)
        producer = AIOKafkaProducer(bootstrap_servers=desk.settings.kafka_bootstrap)
        await producer.start()
        try:
            for offer in (accepted, withdrawn, elsewhere):
                await producer.send_and_wait(OFFERS.name, encode_record(CONTRACT, "offer", offer))
            await producer.send_and_wait(OFFERS.name, encode_record(CONTRACT, "offer", {**withdrawn,
                                                                                        "change": "WITHDRAWN"}))
            await producer.send_and_wait(TASKS.name, encode_record(CONTRACT, "caseworker_task", warning))
            for value in (decision(accepted, "ACCEPTED", actor="citizen"),
                          decision(accepted, "APPROVED", task_id=warning["task_id"], offer_id=None)):
                await producer.send_and_wait(DECISIONS.name, encode_record(CONTRACT, "decision", value))
        finally:
            await producer.stop()

    outcomes = RegionOutcomes(lambda since: read_outcomes(desk.settings.kafka_bootstrap, CONTRACT, since))
    async with open_desk(tmp_path / "again", outcomes=outcomes) as desk:
        desk.parts.staff.add(SUPERVISOR, PASSWORD)
        status, body = await desk.call("GET", "/api/v1/overview", SUPERVISOR)
        assert status == 200, body
        rows = {row["policy_id"]: row for row in body["outcomes"]["by_policy"]}
        assert (rows[policy]["made"], rows[policy]["accepted"], rows[policy]["withdrawn"]) == (2, 1, 1)
        assert body["outcomes"]["warnings"]["raised"] >= 1 and body["outcomes"]["warnings"]["confirmed"] >= 1
        page = await desk.client.get("/console/overview", headers=desk.auth(SUPERVISOR))
        text = await page.text()
        assert page.status == 200 and f'data-policy="{policy}"' in text
        caseworker = staff("cw-97", "caseworker", districts=[district])
        desk.parts.staff.add(caseworker, PASSWORD)
        status, body = await desk.call("GET", "/api/v1/overview", caseworker)
        assert "outcomes" not in body
