"""The matching worker against the real broker: events in, offers and tasks out, crashes, rule changes."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import subprocess
import sys
import uuid

import pytest

from services.core.codec import decode_record, encode_record, header
from services.core.topics import MATCHING_DLQ, OFFERS, TASKS
from tests.integration.matching.matching_harness import (
    CONTRACT,
    MatchingWorker,
    catalogue_text,
    event,
    household,
    member,
    publish,
    publish_raw_catalogue,
)


@pytest.fixture
async def worker(tmp_path):
    w = MatchingWorker(tmp_path)
    await w.publish_catalogue()
    await w.start_at_topic_ends()
    w.start()
    try:  # a worker that never got ready is stopped too (else it routes every later test's events again)
        await w.wait_ready()
        yield w
    finally:
        w.stop()


def ids(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def offers_of(records, household_id):
    return [decode_record(CONTRACT, "offer", r.value) for r in records
            if r.key == household_id.encode()]


def tasks_of(records, household_id):
    return [decode_record(CONTRACT, "caseworker_task", r.value) for r in records
            if r.key == household_id.encode()]


def job_lost(person: str, income: int = 300_000):
    return event("job.lost", person, {"lost_on": dt.date.today() - dt.timedelta(days=3),
                                      "unemployment_registered": True, "previous_monthly_income_fen": income})


async def test_job_loss_below_line_asks_caseworker_to_verify_subsistence_allowance(worker, probe):
    tasks, offers = await probe(TASKS.name), await probe(OFFERS.name)
    hid, earner, spouse, child = ids("h"), ids("p"), ids("p"), ids("p")
    # Sichuan urban standard 800 yuan: 3,000 yuan for three is 1,000 yuan each, above the line.
    await publish(registry=[household(hid, [member(earner, "1985-04-02", 300_000), member(spouse, "1987-09-10"),
                                            member(child, "2016-06-01")])])
    await publish(events=[job_lost(earner)])
    found = await tasks.collect(lambda r: r.key == hid.encode() and b"subsistence_allowance" in r.value, 1)
    [task] = [t for t in tasks_of(found, hid) if t["offer"] and t["offer"]["policy_id"] == "subsistence_allowance"]
    offer = task["offer"]
    assert task["kind"] == "VERIFY_ELIGIBILITY"
    assert task["district"] == "510107"
    assert offer["amount_fen"] == 3 * 80_000  # (standard − 0 per-capita income) × 3 members
    assert offer["route"] == "VERIFICATION"
    explanation = offer["explanation"]
    assert explanation["eligible"] and explanation["policy_version"] == "2026.1"
    assert all(c["holds"] for c in explanation["conditions"])
    assert "household.per_capita_income_fen 0" in " ".join(c["values"] for c in explanation["conditions"])
    assert explanation["computation"] and "240000" in explanation["computation"].replace(",", "")
    employment = await offers.collect(lambda r: r.key == hid.encode() and b"employment_assistance" in r.value, 1)
    assert offers_of(employment, hid)[0]["person_id"] == earner


async def test_an_event_before_its_persons_registry_record_waits_for_it_and_is_then_decided(worker, probe):
    tasks = await probe(TASKS.name)
    hid, earner = ids("h"), ids("p")
    await publish(events=[job_lost(earner, 200_000)])
    for _ in range(60):  # held: no household is known for the person yet
        if "assist_matching_events_waiting_for_registry_total 1.0" in await asyncio.to_thread(worker.metrics):
            break
        await asyncio.sleep(0.5)
    else:
        raise AssertionError("the event was not held for its person")
    await publish(registry=[household(hid, [member(earner, "1980-01-01", 200_000)])])
    found = await tasks.collect(lambda r: r.key == hid.encode() and b"subsistence_allowance" in r.value, 1)
    verify = [t for t in tasks_of(found, hid) if t["kind"] == "VERIFY_ELIGIBILITY" and t["offer"]]
    assert [t["offer"]["policy_id"] for t in verify] == ["subsistence_allowance"]


async def test_replayed_event_creates_no_second_offer(worker, probe):
    tasks = await probe(TASKS.name)
    hid, earner = ids("h"), ids("p")
    await publish(registry=[household(hid, [member(earner, "1980-01-01", 200_000)])])
    lost = job_lost(earner, 200_000)
    await publish(events=[lost])
    first = await tasks.collect(lambda r: r.key == hid.encode() and b"subsistence_allowance" in r.value, 1, 60)
    assert first, "the job loss made no subsistence verification"
    # The same event id again, then the earner's pay back: the household handles them in that order (one person's
    # events, one partition), so once the pay withdraws the verification the repeated event was handled.
    back = event("income.changed", earner, {"effective_on": dt.date.today(), "monthly_income_fen": 200_000})
    await publish(events=[lost, back])
    later = await tasks.collect(lambda r: r.key == hid.encode() and back.id.encode() in r.value
                                and b"subsistence_allowance" in r.value, 1, 60)
    verify = [t for t in tasks_of([*first, *later], hid) if t["kind"] == "VERIFY_ELIGIBILITY"
              and t["offer"] and t["offer"]["policy_id"] == "subsistence_allowance"]
    assert [t["change"] for t in verify] == ["NEW", "WITHDRAWN"]
    assert len({t["task_id"] for t in verify}) == 1


async def test_malformed_event_is_dead_lettered_and_the_worker_goes_on(worker, probe):
    dlq, tasks = await probe(MATCHING_DLQ.name), await probe(TASKS.name)
    hid, earner = ids("h"), ids("p")
    await publish(registry=[household(hid, [member(earner, "1979-05-05", 200_000)])])
    good = job_lost(earner, 200_000)
    bad_id = str(uuid.uuid4())
    bad_headers = [("ce_id", bad_id.encode()), ("ce_source", b"/departments/human_resources/x"),
                   ("ce_type", b"job.lost"), ("ce_specversion", b"1.0"), ("ce_time", b"2026-11-20T00:00:00Z"),
                   ("ce_subject", earner.encode()), ("content-type", b"application/avro")]
    await publish(raw_events=[(earner.encode(), b"\xff\xff", bad_headers)], events=[good])
    [dead] = await dlq.collect(lambda r: header(r.headers, "ce_id") == bad_id, 1)
    assert "data" in header(dead.headers, "dlq_reason")
    assert await tasks.collect(lambda r: r.key == hid.encode() and b"subsistence_allowance" in r.value, 1)
    assert worker.alive()


async def test_catalogue_with_errors_is_refused_and_the_worker_keeps_the_version_it_has(worker, probe):
    tasks = await probe(TASKS.name)
    broken = catalogue_text(worker.catalogue, version="2026.9", effective_from=dt.date.today().isoformat(),
                            replace=("below_standard: household.per_capita_income_fen",
                                     "below_standard: household.per_capita_incme_fen"))
    record = {"catalogue": worker.catalogue, "version": "2026.9", "effective_from": dt.date.today(),
              "published_at": dt.datetime.now(dt.UTC), "document": broken,
              "digest": hashlib.sha256(broken.encode()).hexdigest()}
    await publish_raw_catalogue(encode_record(CONTRACT, "policy_catalogue", record), b"broken")
    hid, earner = ids("h"), ids("p")
    await publish(registry=[household(hid, [member(earner, "1982-02-02", 200_000)])], events=[job_lost(earner)])
    found = await tasks.collect(lambda r: r.key == hid.encode() and b"subsistence_allowance" in r.value, 1)
    assert tasks_of(found, hid)[0]["offer"]["explanation"]["policy_version"] == "2026.1"
    assert worker.alive()
    assert f'assist_matching_catalogue_info{{catalogue="{worker.catalogue}",version="2026.1"}} 1.0' in worker.metrics()


async def test_raised_standard_offers_to_the_newly_eligible_only(worker, probe):
    tasks = await probe(TASKS.name)
    newly, above = ids("h"), ids("h")
    # 820 yuan each: above today's Sichuan urban standard (800), below the raised one (868).
    await publish(registry=[
        household(newly, [member(ids("p"), "1970-03-03", 164_000), member(ids("p"), "1972-03-03")]),
        household(above, [member(ids("p"), "1970-03-03", 200_000), member(ids("p"), "1972-03-03")]),
    ])
    await asyncio.sleep(3)  # let the registry records land before the rules change
    today = dt.date.today().isoformat()
    await worker.publish_catalogue(
        version="2026.2", effective_from=today,
        replace=('{from: 2026-01-01, region: "510000", urban: 80000, rural: 65000}',
                 f'{{from: 2026-01-01, region: "510000", urban: 80000, rural: 65000}}\n'
                 f'      - {{from: {today}, region: "510000", urban: 86800, rural: 70525}}'))
    found = await tasks.collect(lambda r: r.key in (newly.encode(), above.encode())
                                and b"subsistence_allowance" in r.value, 2, timeout=30)
    assert {r.key for r in found} == {newly.encode()}
    [task] = tasks_of(found, newly)
    assert task["offer"]["explanation"]["policy_version"] == "2026.2"
    assert task["offer"]["amount_fen"] == 2 * (86_800 - 82_000)
    assert task["offer"]["trigger_event_id"] is None
    assert "assist_matching_reevaluation_newly_eligible_total" in worker.metrics()


async def test_worker_killed_mid_stream_loses_no_offer_and_creates_no_second_one(worker, probe):
    tasks, offers = await probe(TASKS.name), await probe(OFFERS.name)
    homes = [(ids("h"), ids("p"), ids("p")) for _ in range(300)]
    await publish(registry=[household(h, [member(e, "1984-08-08", 200_000), member(s, "1986-08-08")])
                            for h, e, s in homes])
    wanted = {h.encode() for h, _, _ in homes}
    await asyncio.sleep(3)  # the registry lands first

    async def stream_job_losses() -> None:
        for start in range(0, len(homes), 20):
            await publish(events=[job_lost(e, 200_000) for _, e, _ in homes[start:start + 20]])
            await asyncio.sleep(0.1)

    publishing = asyncio.create_task(stream_job_losses())
    first = await tasks.collect(lambda r: r.key in wanted, 30, timeout=30)
    assert first, "the worker produced nothing before the crash"
    worker.kill()
    await publishing
    worker.start()
    await worker.wait_ready()

    verify: dict[str, set[str]] = {}
    offered: dict[str, set[str]] = {}
    for r in first:
        _note_verification(verify, r)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while (len(verify) < len(homes) or len(offered) < len(homes)) and loop.time() < deadline:
        for r in await tasks.collect(lambda r: r.key in wanted, 10_000, timeout=1):
            _note_verification(verify, r)
        for r in await offers.collect(lambda r: r.key in wanted, 10_000, timeout=0.2):
            offer = decode_record(CONTRACT, "offer", r.value)
            offered.setdefault(offer["household_id"], set()).add(offer["offer_id"])
    replays = [line for line in worker.metrics().splitlines() if line.startswith("assist_matching_replayed_total")]
    print("after the crash:", replays)
    missing = [h for h, _, _ in homes if h not in verify]
    assert not missing, f"{len(missing)} households lost their subsistence-allowance task"
    assert all(len(task_ids) == 1 for task_ids in verify.values()), "a household got two different tasks"
    assert {h for h, _, _ in homes} <= set(offered), "an employment offer was lost"
    assert all(len(offer_ids) == 1 for offer_ids in offered.values()), "a household got two different offers"


def _note_verification(verify: dict[str, set[str]], record) -> None:
    task = decode_record(CONTRACT, "caseworker_task", record.value)
    if task["offer"] and task["offer"]["policy_id"] == "subsistence_allowance":
        verify.setdefault(task["household_id"], set()).add(task["task_id"])


async def test_explain_answers_why_or_why_not_for_every_policy(worker, probe):
    tasks = await probe(TASKS.name)
    hid, earner, child = ids("h"), ids("p"), ids("p")
    await publish(registry=[household(hid, [member(earner, "1985-04-02", 300_000), member(child, "2016-06-01")])],
                  events=[job_lost(earner)])
    assert await tasks.collect(lambda r: r.key == hid.encode(), 1)
    env = {**worker.env()}
    done = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "services.matching", "explain", earner],
                                   env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"household {hid}" in out
    assert "[YES] Subsistence allowance (dibao)" in out
    assert "[no ] Old-age allowance" in out  # a reason is given for what does not apply as well
    assert "✓ household.per_capita_income_fen 0 < standard 80000" in out
    assert out.count("\n[") >= 15  # every policy of the catalogue, members included
