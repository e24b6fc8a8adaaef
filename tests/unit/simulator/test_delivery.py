"""How the simulator hands events over: pacing, the intake HTTP client (against a stub server on loopback),
and the Kafka binary-mode records of the raw path."""

from __future__ import annotations

import datetime as dt
import email.utils
import itertools
import json
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from services.core.codec import check_event, decode_event, header, load_contract
from services.core.conformance import ContractError
from services.core.identity import Pseudonymiser, resident_id_problem
from services.simulator.adapters.intake_http import BATCH, STRUCTURED, IntakeClient, rejections, retry_delay
from services.simulator.adapters.raw_kafka import raw_record
from services.simulator.departments import department_of
from services.simulator.faults import IMPOSSIBLE_GRADE, UNKNOWN_TYPE, WRONG_CHECK_CHARACTER, spoil
from services.simulator.pacing import Pacer
from services.simulator.population import generate_population
from services.simulator.scenario import ScenarioClock, department_events

CONTRACT = load_contract()
TOKENS = {et.department: f"token-{et.department}" for et in CONTRACT.event_types.values()}
END = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def events() -> list[dict[str, Any]]:
    population = generate_population(400, 2, dt.date(2026, 1, 1), Pseudonymiser("k").person_id)
    clock = ScenarioClock.ending(END, 60, dt.timedelta(days=3))
    return list(itertools.islice(department_events(population, CONTRACT, 8, clock, flood_after=None), 60))


# ---- pure parts -----------------------------------------------------------------------------------------------

def test_retry_after_in_seconds_or_as_a_date_is_honoured_but_bounded():
    assert retry_delay("2", attempt=1, ceiling=30) == 2
    assert retry_delay("3600", attempt=1, ceiling=30) == 30
    later = email.utils.formatdate(1_000_010.0, usegmt=True)
    assert retry_delay(later, attempt=1, ceiling=30, now=1_000_000.0) == pytest.approx(10)
    assert retry_delay(None, attempt=1, ceiling=30) == 0.5
    assert retry_delay(None, attempt=4, ceiling=30) == 4
    assert retry_delay("garbage", attempt=2, ceiling=30) == 1


def test_rejections_are_read_by_index_and_unindexed_errors_blame_the_whole_batch():
    batch = [{"id": "a"}, {"id": "b"}, {"id": "c"}]
    found = rejections({"errors": [{"index": 1, "id": "b", "field": "subject", "reason": "wrong"}]}, batch)
    assert list(found) == [1] and found[1][0].field == "subject"
    assert sorted(rejections({"errors": [{"field": "", "reason": "not JSON"}]}, batch)) == [0, 1, 2]
    assert sorted(rejections(None, batch)) == [0, 1, 2]


async def test_pacer_holds_the_average_rate():
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    pacer = Pacer(50, burst=5, clock=lambda: now[0], sleep=sleep)
    for _ in range(505):
        await pacer.take()
    assert now[0] == pytest.approx(10.0, abs=0.05)
    unpaced = Pacer(0, clock=lambda: now[0], sleep=sleep)
    await unpaced.take()
    assert now[0] == pytest.approx(10.0, abs=0.05)


def test_raw_record_is_binary_mode_keyed_by_source_and_id_never_the_identity_number(events):
    event = events[0]
    record = raw_record(CONTRACT, event)
    assert record.key == f"{event['source']}/{event['id']}".encode()
    assert event["subject"].encode() not in record.key
    decoded = decode_event(CONTRACT, record.value, record.headers)
    assert (decoded.id, decoded.type, decoded.subject) == (event["id"], event["type"], event["subject"])
    assert header(record.headers, "content-type") == "application/avro"


def test_broken_events_still_reach_the_raw_topic_for_dead_lettering(events):
    rng = random.Random(1)
    unknown = raw_record(CONTRACT, spoil(events[0], rng, UNKNOWN_TYPE))
    assert header(unknown.headers, "ce_type") == "job.found"
    with pytest.raises(ContractError):
        decode_event(CONTRACT, unknown.value, unknown.headers)
    grade = raw_record(CONTRACT, spoil(events[0], rng, IMPOSSIBLE_GRADE))
    with pytest.raises(ContractError):
        check_event(CONTRACT, decode_event(CONTRACT, grade.value, grade.headers))
    wrong = raw_record(CONTRACT, spoil(events[0], rng, WRONG_CHECK_CHARACTER))
    assert resident_id_problem(decode_event(CONTRACT, wrong.value, wrong.headers).subject) is not None


# ---- the HTTP client against a stub of the intake API ------------------------------------------------------------

@dataclass
class StubIntake:
    """Answers like the intake API: 401 for unknown tokens, 400 naming bad subjects, 503 while `busy` > 0."""

    busy: int = 0
    retry_after: str = "7"
    requests: list[tuple[str, str, list[dict[str, Any]]]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        department = {f"Bearer {t}": d for d, t in TOKENS.items()}.get(request.headers.get("Authorization", ""))
        if department is None:
            return web.json_response({"title": "unauthenticated"}, status=401)
        body = json.loads(await request.read())
        batch = body if request.content_type == BATCH else [body]
        self.requests.append((department, request.content_type, batch))
        if self.busy > 0:
            self.busy -= 1
            return web.json_response({"title": "unavailable"}, status=503, headers={"Retry-After": self.retry_after})
        errors = [{"index": i, "id": e["id"], "field": "subject", "reason": problem}
                  for i, e in enumerate(batch) if (problem := resident_id_problem(e["subject"]))]
        if errors:
            return web.json_response({"errors": errors}, status=400)
        return web.json_response({"accepted": len(batch), "duplicates": 0,
                                  "events": [{"id": e["id"], "status": "accepted"} for e in batch]}, status=202)


@pytest.fixture
async def stub() -> AsyncIterator[tuple[StubIntake, str]]:
    intake = StubIntake()
    app = web.Application()
    app.router.add_post("/v1/events", intake.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield intake, str(server.make_url(""))
    await server.close()


async def _deliver(url: str, events: list[dict[str, Any]], tokens: dict[str, str] = TOKENS, batch: bool = True,
                   slept: list[float] | None = None) -> Any:
    async def sleep(seconds: float) -> None:
        (slept if slept is not None else []).append(seconds)

    async with aiohttp.ClientSession() as session:
        client = IntakeClient(session, url, tokens, max_wait=30, sleep=sleep)
        return await client.deliver(events, Pacer(0), batch=batch)


async def test_events_are_batched_per_department_under_that_departments_token(stub, events):
    intake, url = stub
    report = await _deliver(url, events)
    assert (report.sent, report.accepted, report.failed, sum(report.refused.values())) == (60, 60, 0, 0)
    assert len(intake.requests) < len(events)
    for department, content_type, batch in intake.requests:
        assert content_type == BATCH
        assert {department_of(e) for e in batch} == {department}
    sent = [e["id"] for _, _, batch in intake.requests for e in batch]
    assert sorted(sent) == sorted(e["id"] for e in events)


async def test_rejected_batch_is_sent_again_without_the_events_it_names(stub, events):
    intake, url = stub
    health = [e for e in events if department_of(e) == "health"][:5]
    bad = spoil(health[2], random.Random(2), WRONG_CHECK_CHARACTER)
    report = await _deliver(url, [*health[:2], bad, *health[3:]])
    assert report.accepted == len(health) - 1
    assert [(r.id, r.field) for r in report.rejected] == [(bad["id"], "subject")]
    assert [len(batch) for _, _, batch in intake.requests] == [len(health), len(health) - 1]


async def test_unavailable_intake_is_retried_after_the_delay_it_asks_for(stub, events):
    intake, url = stub
    intake.busy, intake.retry_after = 2, "7"
    slept: list[float] = []
    health = [e for e in events if department_of(e) == "health"]
    report = await _deliver(url, health, slept=slept)
    assert slept == [7, 7]
    assert (report.accepted, report.retries, report.failed) == (len(health), 2, 0)


async def test_retries_stop_after_the_bounded_number_of_attempts(stub, events):
    intake, url = stub
    intake.busy, intake.retry_after = 100, "3600"
    slept: list[float] = []
    report = await _deliver(url, events[:1], slept=slept)
    assert slept == [30, 30, 30, 30]
    assert (report.accepted, report.failed) == (0, 1)


async def test_wrong_or_missing_token_is_refused_and_reported(stub, events):
    intake, url = stub
    one = events[:1]
    department = department_of(one[0])
    wrong = await _deliver(url, one, tokens={department: "stolen"})
    assert wrong.refused == {"401": 1}
    missing = await _deliver(url, one, tokens={})
    assert missing.refused == {"no token": 1}
    assert intake.requests == []


async def test_single_mode_sends_one_structured_event_per_request(stub, events):
    intake, url = stub
    report = await _deliver(url, events[:4], batch=False)
    assert report.accepted == 4
    assert [(ct, len(batch)) for _, ct, batch in intake.requests] == [(STRUCTURED, 1)] * 4
