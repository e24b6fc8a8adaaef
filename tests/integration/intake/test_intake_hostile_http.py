"""Intake's HTTP API against what hostile or broken callers send: every answer is a 4xx naming the field, or a
503 with Retry-After when a dependency is out; never a 500, never a claim left behind, never garbage accepted."""

from __future__ import annotations

import asyncio
import io
import json
import random
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import fastavro
import pytest
from aiohttp.test_utils import TestClient, TestServer

from services.core.attributes import ATTRIBUTE_LIMITS
from services.core.codec import event_from_json, header
from services.core.settings import Settings
from services.core.topics import EVENTS
from services.intake.service import Delivery
from services.intake.wiring import intake_parts
from tests.conftest import discharge, resident_id, structured_event
from tests.integration.conftest import Api

SINGLE = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"


async def _post(api: Api, body: Any, department: str = "health", media: str = SINGLE,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any], dict[str, str]]:
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    response = await api.client.post("/v1/events", data=data, headers={
        **api.auth(department), "Content-Type": media, **(headers or {})})
    text = await response.text()
    return response.status, (json.loads(text) if text else {}), dict(response.headers)


def _fields(body: dict[str, Any]) -> set[str]:
    return {e["field"] for e in body.get("errors", [])}


def _job_lost_avro(parts: Any, data: dict[str, Any] | None = None) -> bytes:
    body = io.BytesIO()
    fastavro.schemaless_writer(body, parts.contract.event_types["job.lost"].schema, data or {
        "lost_on": 20_400, "unemployment_registered": True, "previous_monthly_income_fen": 420_000})
    return body.getvalue()


def _binary_headers(api: Api, **overrides: str) -> dict[str, str]:
    return {**api.auth("human_resources"), "Content-Type": "application/avro", "ce-id": str(uuid.uuid4()),
            "ce-source": "/departments/human_resources/jobs", "ce-type": "job.lost", "ce-specversion": "1.0",
            "ce-time": "2026-11-20T09:00:00Z", "ce-subject": resident_id(), **overrides}


async def _raw_request(api: Api, head: bytes, body: bytes) -> tuple[int, bytes]:
    """One HTTP/1.1 request written byte for byte (aiohttp's client refuses header bytes that are not UTF-8)."""
    server = api.client.server
    reader, writer = await asyncio.open_connection(str(server.host), int(server.port or 0))
    try:
        writer.write(head + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(-1), timeout=10)
    finally:
        writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


# ---- finding: 500 instead of 400 -----------------------------------------------------------------------------

@pytest.mark.parametrize("media", [SINGLE, BATCH])
async def test_json_nested_a_thousand_deep_is_400_not_500(api, media):
    deep = "[" * 1000 + "]" * 1000
    status, body, _ = await _post(api, deep, media=media)
    assert status == 400, body
    assert "nested too deeply" in body["errors"][0]["reason"]


@pytest.mark.parametrize("attribute", ["id", "source"])
async def test_lone_surrogate_in_an_attribute_is_400_naming_it(api, attribute):
    event = discharge()
    text = json.dumps(event).replace(json.dumps(event[attribute]), '"\\ud800"' if attribute == "id"
                                     else '"/departments/health/\\ud800"')
    status, body, _ = await _post(api, text)
    assert status == 400, body
    assert attribute in _fields(body)


async def test_ce_id_header_that_is_not_utf8_is_400_naming_ce_id(api, parts):
    avro = _job_lost_avro(parts)
    lines = [f"POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {api.tokens['human_resources']}"
             .encode(), b"Content-Type: application/avro", b"ce-id: \xff\xfe-not-utf8",
             b"ce-source: /departments/human_resources/jobs", b"ce-type: job.lost", b"ce-specversion: 1.0",
             b"ce-time: 2026-11-20T09:00:00Z", f"ce-subject: {resident_id()}".encode()]
    status, body = await _raw_request(api, b"\r\n".join(lines) + b"\r\n", avro)
    assert status == 400, body
    assert "ce_id" in _fields(json.loads(body))


@pytest.mark.parametrize("time", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
async def test_time_outside_utc_range_is_400_and_leaves_no_claim_for_the_corrected_event(api, probe, time):
    events = await probe(EVENTS.name)
    event = discharge()
    status, body, _ = await _post(api, {**event, "time": time})
    assert status == 400, body
    assert _fields(body) == {"time"}
    corrected, body, _ = await _post(api, event)
    assert corrected == 202, body
    assert body["events"] == [{"id": event["id"], "status": "accepted"}]
    assert await events.collect(lambda r: header(r.headers, "ce_id") == event["id"], 1)


# ---- finding: attributes too large for the broker answered 503 ----------------------------------------------

async def test_a_megabyte_id_is_400_naming_id_not_503(api):
    status, body, _ = await _post(api, discharge(event_id="x" * 1_000_000))
    assert status == 400, body
    assert _fields(body) == {"id"}
    assert all(e["id"] is None for e in body["errors"])  # the oversized id is not echoed back


async def test_a_long_binary_mode_header_is_400_naming_it(api, parts):
    response = await api.client.post("/v1/events", data=_job_lost_avro(parts),
                                     headers=_binary_headers(api, **{"ce-source": "/departments/human_resources/"
                                                                                  + "s" * 4000}))
    assert response.status == 400
    assert "ce_source" in _fields(await response.json())


async def test_every_attribute_over_its_limit_is_named(api):
    for attribute in ("id", "source", "subject"):
        event = discharge()
        event[attribute] = event[attribute] + "9" * ATTRIBUTE_LIMITS[attribute]
        status, body, _ = await _post(api, event)
        assert status == 400, body
        assert attribute in _fields(body)


async def test_the_event_log_refuses_a_record_the_broker_would_reject_before_sending_anything(parts, probe):
    events = await probe(EVENTS.name)
    contract = parts.contract
    small = event_from_json(contract, discharge())
    huge = event_from_json(contract, discharge()).with_subject("p" * 1_200_000)  # past every validation on purpose
    deliveries = await parts.event_log.append([small, huge])
    assert deliveries == [Delivery.FAILED, Delivery.REFUSED]
    assert not await events.collect(lambda r: header(r.headers, "ce_id") in {small.id, huge.id}, 1, timeout=3)
    assert await parts.event_log.append([small]) == [Delivery.WRITTEN]  # the producer was not harmed


async def test_body_over_the_size_limit_is_413(api):
    status, body, _ = await _post(api, b"[" + b" " * (9 * 1024 * 1024) + b"]", media=BATCH)
    assert status == 413
    assert body["status"] == 413


# ---- finding: binary mode accepted garbage --------------------------------------------------------------------

async def test_binary_mode_garbage_is_400_never_202(api, parts, probe):
    events = await probe(EVENTS.name)
    other_type = io.BytesIO()
    fastavro.schemaless_writer(other_type, parts.contract.event_types["hospitalisation.discharged"].schema, {
        "discharged_on": 20_400, "diagnosis_category": "CRITICAL", "total_cost_fen": 8_000_000,
        "out_of_pocket_fen": 1_200_000})
    rng = random.Random(7)
    bodies = {f"random {i}": bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40))) for i in range(20)}
    bodies["avro of another type"] = other_type.getvalue()
    bodies["trailing bytes"] = _job_lost_avro(parts) + b"\x00\x01"
    bodies["empty"] = b""
    sent = []
    for what, body in bodies.items():
        headers = _binary_headers(api)
        sent.append(headers["ce-id"])
        response = await api.client.post("/v1/events", data=body, headers=headers)
        assert response.status == 400, (what, await response.text())
        assert "data" in _fields(await response.json())
    old_spec = _binary_headers(api, **{"ce-specversion": "0.3"})
    response = await api.client.post("/v1/events", data=_job_lost_avro(parts), headers=old_spec)
    assert response.status == 400
    assert "ce_specversion" in _fields(await response.json())
    sent.append(old_spec["ce-id"])
    assert not await events.collect(lambda r: header(r.headers, "ce_id") in set(sent), 1, timeout=3)


async def test_binary_mode_names_a_foreign_dataschema_and_a_subject_without_check_character(api, parts):
    foreign = _binary_headers(api, **{"ce-dataschema": "schemas/events/hospitalisation_discharged.avsc"})
    response = await api.client.post("/v1/events", data=_job_lost_avro(parts), headers=foreign)
    assert response.status == 400
    assert "ce_dataschema" in _fields(await response.json())
    number = resident_id()
    wrong = _binary_headers(api, **{"ce-subject": number[:17] + ("0" if number[17] != "0" else "1")})
    response = await api.client.post("/v1/events", data=_job_lost_avro(parts), headers=wrong)
    assert response.status == 400
    assert _fields(await response.json()) == {"ce_subject"}


# ---- finding: one department could take another's event ids ----------------------------------------------------

async def test_a_source_of_another_department_is_403_and_its_genuine_event_is_then_accepted(api, probe):
    events = await probe(EVENTS.name)
    shared_id = str(uuid.uuid4())
    spoof = discharge(event_id=shared_id)
    spoof["source"] = "/departments/human_resources/jobs"
    status, body, _ = await _post(api, spoof)
    assert status == 403, body
    assert _fields(body) == {"source"}
    genuine = structured_event("job.lost", {"lost_on": "2026-11-01", "unemployment_registered": True,
                                            "previous_monthly_income_fen": 420_000},
                               department="human_resources", event_id=shared_id)
    status, body, _ = await _post(api, genuine, department="human_resources")
    assert status == 202, body
    assert body["events"] == [{"id": shared_id, "status": "accepted"}]
    assert len(await events.collect(lambda r: header(r.headers, "ce_id") == shared_id, 2, timeout=5)) == 1


async def test_binary_mode_source_of_another_department_is_403(api, parts):
    headers = _binary_headers(api, **{"ce-source": "/departments/health/his"})
    response = await api.client.post("/v1/events", data=_job_lost_avro(parts), headers=headers)
    assert response.status == 403
    assert _fields(await response.json()) == {"source"}


# ---- findings: Redis pool exhaustion answered 500; rate limits ---------------------------------------------------

@pytest.fixture
async def api_with(settings: Settings, request: pytest.FixtureRequest) -> AsyncIterator[Api]:
    """An intake app on settings changed by the test's parameter (a dict of Settings fields)."""
    changed = replace(settings, **request.param)
    async with intake_parts(changed) as parts:
        tokens = {d: parts.tokens.issue(d) for d in parts.contract.departments}
        async with TestClient(TestServer(parts.http_app(), host="127.0.0.1")) as client:
            yield Api(client, tokens)


@pytest.mark.parametrize("api_with", [{"intake_redis_connections": 2, "intake_redis_wait_seconds": 1.0}],
                         indirect=True)
async def test_requests_piling_up_on_a_small_redis_pool_wait_and_are_never_500(api_with):
    async def one() -> int:
        response = await api_with.client.post("/v1/events", data=json.dumps(discharge()), headers={
            **api_with.auth("health"), "Content-Type": SINGLE})
        await response.read()
        assert response.status != 503 or response.headers["Retry-After"]
        return response.status

    statuses = Counter(await asyncio.gather(*(one() for _ in range(300))))
    assert set(statuses) <= {202, 503}, statuses
    assert statuses[202] > 0


@pytest.mark.parametrize("api_with", [{"redis_url": "redis://127.0.0.1:1/0", "intake_redis_wait_seconds": 0.5}],
                         indirect=True)
async def test_an_unreachable_redis_is_503_with_retry_after(api_with):
    status, body, headers = await _post(api_with, discharge())
    assert status == 503, body
    assert int(headers["Retry-After"]) > 0


@pytest.mark.parametrize("api_with", [{"intake_rate_per_second": 1.0, "intake_rate_burst": 3}], indirect=True)
async def test_a_token_over_its_rate_gets_429_with_retry_after_and_other_tokens_do_not(api_with):
    answers = [await _post(api_with, discharge()) for _ in range(5)]
    assert [status for status, _, _ in answers[:3]] == [202, 202, 202]
    status, body, headers = answers[4]
    assert status == 429, body
    assert int(headers["Retry-After"]) >= 1
    other = structured_event("job.lost", {"lost_on": "2026-11-01", "unemployment_registered": False,
                                          "previous_monthly_income_fen": 1}, department="human_resources")
    assert (await _post(api_with, other, department="human_resources"))[0] == 202


@pytest.mark.parametrize("media", ["application/avro;x*", "y;jFUR*"])
async def test_a_content_type_the_mime_parser_cannot_read_is_415(api, media):
    status, body, _ = await _post(api, b"{}", media=media)
    assert status == 415, body


# ---- the catch-all ----------------------------------------------------------------------------------------------

async def test_unsupported_methods_and_paths_answer_problem_json(api):
    response = await api.client.get("/v1/events")
    assert response.status == 405
    assert (await response.json())["status"] == 405
    response = await api.client.get("/v1/nothing-here")
    assert response.status == 404
