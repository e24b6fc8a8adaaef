"""Intake over HTTP against the real Kafka broker and Redis."""

from __future__ import annotations

import io
import json
import uuid

import fastavro

from services.core.codec import decode_event, header
from services.core.topics import EVENTS
from tests.conftest import discharge, resident_id, structured_event

BATCH = "application/cloudevents-batch+json"
SINGLE = "application/cloudevents+json"


def _ids(records):
    return [header(r.headers, "ce_id") for r in records]


async def test_structured_event_is_published_keyed_by_pseudonym_after_kafka_acknowledged(api, parts, probe):
    events = await probe(EVENTS.name)
    subject = resident_id()
    event = discharge(subject=subject)
    response = await api.client.post("/v1/events", data=json.dumps(event), headers={
        **api.auth("health"), "Content-Type": SINGLE})
    assert response.status == 202
    assert await response.json() == {"accepted": 1, "duplicates": 0,
                                     "events": [{"id": event["id"], "status": "accepted"}]}
    [record] = await events.collect(lambda r: header(r.headers, "ce_id") == event["id"], 1)
    person_id = parts.pseudonymiser.person_id(subject)
    assert record.key == person_id.encode()
    decoded = decode_event(parts.contract, record.value, record.headers)
    assert decoded.subject == person_id
    assert decoded.type == "hospitalisation.discharged"
    assert decoded.data["out_of_pocket_fen"] == 1_200_000
    assert subject.encode() not in record.value + b"".join(v for _, v in record.headers)


async def test_batch_is_published_whole_and_answered_per_event(api, probe):
    events = await probe(EVENTS.name)
    batch = [discharge() for _ in range(50)]
    response = await api.client.post("/v1/events", data=json.dumps(batch), headers={
        **api.auth("health"), "Content-Type": BATCH})
    assert response.status == 202
    body = await response.json()
    assert body["accepted"] == 50
    wanted = {e["id"] for e in batch}
    records = await events.collect(lambda r: header(r.headers, "ce_id") in wanted, 50)
    assert sorted(_ids(records)) == sorted(wanted)


async def test_batch_with_bad_events_is_rejected_whole_naming_every_bad_field(api, probe):
    events = await probe(EVENTS.name)
    subject = resident_id()
    good = discharge(subject=subject)
    wrong_check = discharge()
    wrong_check["subject"] = wrong_check["subject"][:17] + ("0" if wrong_check["subject"][17] != "0" else "1")
    bad_grade = structured_event("disability.certified", {"certified_on": "2026-11-01", "category": "VISUAL",
                                                          "grade": 7}, department="disabled_persons_federation")
    missing = discharge()
    del missing["data"]["out_of_pocket_fen"]
    response = await api.client.post("/v1/events", data=json.dumps([good, wrong_check, missing]), headers={
        **api.auth("health"), "Content-Type": BATCH})
    assert response.status == 400
    errors = (await response.json())["errors"]
    assert {(e["index"], e["field"]) for e in errors} == {(1, "subject"), (2, "data.out_of_pocket_fen")}
    assert any("check character" in e["reason"] for e in errors)
    assert all(wrong_check["subject"] not in json.dumps(e) for e in errors)

    grade = await api.client.post("/v1/events", data=json.dumps(bad_grade), headers={
        **api.auth("disabled_persons_federation"), "Content-Type": SINGLE})
    assert grade.status == 400
    assert (await grade.json())["errors"] == [
        {"index": 0, "id": bad_grade["id"], "field": "data.grade", "reason": "must be at most 4"}]

    # A later event of the same person lands on the same partition: the rejected one never came before it.
    marker = discharge(subject=subject)
    ok = await api.client.post("/v1/events", data=json.dumps(marker), headers={
        **api.auth("health"), "Content-Type": SINGLE})
    assert ok.status == 202
    records = await events.collect(lambda r: header(r.headers, "ce_id") == marker["id"], 1)
    assert _ids(records) == [marker["id"]]


async def test_resent_event_id_is_answered_as_duplicate_and_published_once(api, probe):
    events = await probe(EVENTS.name)
    event = discharge()
    first = await api.client.post("/v1/events", data=json.dumps([event, event]), headers={
        **api.auth("health"), "Content-Type": BATCH})
    assert (await first.json())["events"] == [{"id": event["id"], "status": "accepted"},
                                              {"id": event["id"], "status": "duplicate"}]
    again = await api.client.post("/v1/events", data=json.dumps(event), headers={
        **api.auth("health"), "Content-Type": SINGLE})
    assert again.status == 202
    assert await again.json() == {"accepted": 0, "duplicates": 1,
                                  "events": [{"id": event["id"], "status": "duplicate"}]}
    records = await events.collect(lambda r: header(r.headers, "ce_id") == event["id"], 2, timeout=5)
    assert len(records) == 1


async def test_unknown_token_is_401_and_foreign_event_type_is_403(api):
    event = discharge()
    anonymous = await api.client.post("/v1/events", data=json.dumps(event), headers={"Content-Type": SINGLE})
    assert anonymous.status == 401
    assert "Bearer" in anonymous.headers["WWW-Authenticate"]
    forged = await api.client.post("/v1/events", data=json.dumps(event), headers={
        "Authorization": "Bearer health.not-a-real-token", "Content-Type": SINGLE})
    assert forged.status == 401
    foreign = await api.client.post("/v1/events", data=json.dumps(event), headers={
        **api.auth("education"), "Content-Type": SINGLE})
    assert foreign.status == 403
    assert (await foreign.json())["errors"][0]["reason"] == (
        "department education may not publish hospitalisation.discharged")


async def test_revoked_token_is_refused_without_restart(api, parts):
    token = parts.tokens.issue("health")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": SINGLE}
    assert (await api.client.post("/v1/events", data=json.dumps(discharge()), headers=headers)).status == 202
    assert parts.tokens.revoke(token)
    assert (await api.client.post("/v1/events", data=json.dumps(discharge()), headers=headers)).status == 401


async def test_binary_mode_event_with_avro_body_is_accepted(api, parts, probe):
    events = await probe(EVENTS.name)
    schema = parts.contract.event_types["job.lost"].schema
    body = io.BytesIO()
    fastavro.schemaless_writer(body, schema, {"lost_on": 20_400, "unemployment_registered": True,
                                              "previous_monthly_income_fen": 420_000})
    event_id = str(uuid.uuid4())
    response = await api.client.post("/v1/events", data=body.getvalue(), headers={
        **api.auth("human_resources"), "Content-Type": "application/avro", "ce-id": event_id,
        "ce-source": "/departments/human_resources/jobs", "ce-type": "job.lost", "ce-specversion": "1.0",
        "ce-time": "2026-11-20T09:00:00Z", "ce-subject": resident_id()})
    assert response.status == 202, await response.text()
    [record] = await events.collect(lambda r: header(r.headers, "ce_id") == event_id, 1)
    assert decode_event(parts.contract, record.value, record.headers).data["previous_monthly_income_fen"] == 420_000


async def test_oversized_batch_is_413_and_unknown_media_type_is_415(api):
    too_many = [discharge() for _ in range(1001)]
    response = await api.client.post("/v1/events", data=json.dumps(too_many), headers={
        **api.auth("health"), "Content-Type": BATCH})
    assert response.status == 413
    plain = await api.client.post("/v1/events", data="hello", headers={
        **api.auth("health"), "Content-Type": "text/plain"})
    assert plain.status == 415


async def test_metrics_count_accepted_rejected_and_duplicates_without_personal_data(api):
    subject = resident_id()
    event = discharge(subject=subject)
    for _ in range(2):
        await api.client.post("/v1/events", data=json.dumps(event), headers={**api.auth("health"),
                                                                             "Content-Type": SINGLE})
    bad = discharge(subject=subject[:17] + ("0" if subject[17] != "0" else "1"))
    await api.client.post("/v1/events", data=json.dumps(bad), headers={**api.auth("health"), "Content-Type": SINGLE})
    text = await (await api.client.get("/metrics")).text()
    assert 'assist_intake_events_accepted_total{department="health"} 1.0' in text
    assert 'assist_intake_events_rejected_total{reason="invalid"} 1.0' in text
    assert "assist_intake_events_duplicate_total 1.0" in text
    assert "assist_intake_publish_seconds_count" in text
    assert subject not in text and subject[:17] not in text


async def test_openapi_document_describes_the_events_endpoint(api):
    document = await (await api.client.get("/openapi.json")).json()
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]["/v1/events"]["post"]["responses"]) >= {"202", "400", "401", "403", "503"}
