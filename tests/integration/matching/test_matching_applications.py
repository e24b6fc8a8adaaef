"""Applications through a real matching worker and broker: application.submitted on assist.events, keyed by the
applicant, answered once per application on assist.applications.answers (with the offer it led to, or why not)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import urllib.request
import uuid

import pytest

from services.core.codec import Event, decode_record
from services.core.topics import APPLICATION_ANSWERS, OFFERS
from tests.integration.matching.matching_harness import CONTRACT, MatchingWorker, household, member, publish
from tests.integration.matching.test_matching import ids, worker  # noqa: F401  (the worker fixture, used by name)


def application(person: str, policy_id: str, application_id: str | None = None) -> Event:
    return Event(id=application_id or f"a-{uuid.uuid4().hex}", source="/civil_affairs/citizen-page",
                 type="application.submitted", time=dt.datetime.now(dt.UTC), subject=person,
                 data={"policy_id": policy_id, "channel": "CITIZEN_PAGE", "applied_by": "citizen"})


async def known_to_matching(matching: MatchingWorker, person: str, timeout: float = 30) -> None:
    """Until the worker's membership index names the person's household (the registry record was applied)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    url = f"http://127.0.0.1:{matching.port}/explain/{person}/"

    def household_known() -> bool:
        with urllib.request.urlopen(url, timeout=5) as response:
            return "household_id" in json.loads(response.read())

    while not await asyncio.to_thread(household_known):
        assert loop.time() < deadline, f"{person} not indexed within {timeout} s"
        await asyncio.sleep(0.5)


async def test_applications_are_answered_offered_not_eligible_and_already_pending(worker, probe) -> None:  # noqa: F811
    answers, offers = await probe(APPLICATION_ANSWERS.name), await probe(OFFERS.name)
    hid, earner = ids("h"), ids("p")
    # 3,000 yuan for three: 1,000 yuan each, above the Sichuan urban standard (800) but below 1.5 times it.
    await publish(registry=[household(hid, [member(earner, "1985-04-02", 300_000), member(ids("p"), "1987-09-10"),
                                            member(ids("p"), "2016-06-01")])])
    await known_to_matching(worker, earner)
    employment, dibao = application(earner, "employment_assistance"), application(earner, "subsistence_allowance")
    await publish(events=[employment, dibao])
    found = await answers.collect(lambda r: r.key == hid.encode(), 2, timeout=30)
    by_id = {a["application_id"]: a for a in (decode_record(CONTRACT, "application_answer", r.value) for r in found)}
    offered, refused = by_id[employment.id], by_id[dibao.id]
    assert offered["outcome"] == "OFFERED" and offered["person_id"] == earner and offered["household_id"] == hid
    [offer] = [decode_record(CONTRACT, "offer", r.value) for r in await offers.collect(
        lambda r: r.key == hid.encode() and b"employment_assistance" in r.value, 1)]
    assert offer["offer_id"] == offered["offer_id"] and offer["trigger_event_id"] == employment.id
    assert refused["outcome"] == "NOT_ELIGIBLE" and refused["offer_id"] is None
    assert refused["reasons"] == ["not eligible, because the household's monthly income per person is not below "
                                  "the local subsistence standard"]
    assert refused["explanation"]["eligible"] is False

    again, redelivered = application(earner, "employment_assistance"), employment
    await publish(events=[again, redelivered])
    found = await answers.collect(lambda r: r.key == hid.encode(), 2, timeout=30)
    later = [decode_record(CONTRACT, "application_answer", r.value) for r in found]
    [pending] = [a for a in later if a["application_id"] == again.id]
    [same] = [a for a in later if a["application_id"] == employment.id]
    assert pending["outcome"] == "ALREADY_PENDING" and pending["offer_id"] == offered["offer_id"]
    assert same == offered
    assert not await offers.collect(lambda r: r.key == hid.encode() and b"employment_assistance" in r.value, 1,
                                    timeout=3)


@pytest.mark.usefixtures("worker")
async def test_an_application_by_a_person_the_registry_does_not_know_is_answered_unknown_person(probe) -> None:
    answers = await probe(APPLICATION_ANSWERS.name)
    stranger = ids("p")
    submitted = application(stranger, "subsistence_allowance")
    await publish(events=[submitted])
    [record] = await answers.collect(lambda r: r.key == stranger.encode(), 1, timeout=30)
    answer = decode_record(CONTRACT, "application_answer", record.value)
    assert answer["outcome"] == "UNKNOWN_PERSON" and answer["application_id"] == submitted.id
    assert answer["household_id"] is None
