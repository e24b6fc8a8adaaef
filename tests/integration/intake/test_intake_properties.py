"""Property: whatever is POSTed to /v1/events (any JSON, any bytes, any content type, any ce-* headers), the
real intake app on the real broker and Redis answers one of its documented 4xx or 202, never a 5xx.

A few hundred examples per property in CI; ASSIST_PROPERTY_EXAMPLES raises it (≥ 10,000 in the long suite).
"""

from __future__ import annotations

import http.client
import json
import os
import string
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.core.settings import load_settings
from tests.conftest import discharge, resident_id
from tests.integration.intake.intake_server import ServedIntake, served_intake

EXAMPLES = int(os.environ.get("ASSIST_PROPERTY_EXAMPLES", "200"))
ANSWERS = {202, 400, 401, 403, 409, 413, 415, 429}
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, derandomize=False, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])
MEDIA = ["application/cloudevents+json", "application/cloudevents-batch+json", "application/avro",
         "application/json", "text/plain", "multipart/form-data", ""]
seen_statuses: Counter[int] = Counter()


@pytest.fixture(scope="module")
def intake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedIntake]:
    path: Path = tmp_path_factory.mktemp("intake") / "tokens.json"
    with served_intake(replace(load_settings(), intake_tokens_file=path)) as served:
        yield served
    print(f"\nproperty answers: {dict(sorted(seen_statuses.items()))}")


class Client:
    """One keep-alive connection, reopened when the server closes it."""

    def __init__(self, base_url: str):
        parts = urlsplit(base_url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._connection: http.client.HTTPConnection | None = None

    def post(self, body: bytes, headers: dict[str, str]) -> int:
        for attempt in range(2):
            if self._connection is None:
                self._connection = http.client.HTTPConnection(self._host, self._port, timeout=30)
            try:
                self._connection.request("POST", "/v1/events", body=body, headers=headers)
                response = self._connection.getresponse()
                response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self._close()
                return response.status
            except (http.client.HTTPException, ConnectionError):
                self._close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@pytest.fixture(scope="module")
def client(intake: ServedIntake) -> Client:
    return Client(intake.base_url)


def _answer(client: Client, intake: ServedIntake, body: bytes, headers: dict[str, str],
            department: str = "health") -> int:
    status = client.post(body, {"Authorization": f"Bearer {intake.tokens[department]}", **headers})
    seen_statuses[status] += 1
    return status


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=25)
header_text = st.text(alphabet=string.printable.strip() + " ", max_size=80)
attribute_keys = st.sampled_from(["id", "source", "type", "specversion", "time", "subject", "dataschema",
                                  "datacontenttype", "data", "extra"])


@st.composite
def mutated_events(draw: st.DrawFn) -> dict[str, Any]:
    """A valid event with some attributes or data fields replaced by anything, removed, or added."""
    event: dict[str, Any] = discharge(subject=resident_id())
    for _ in range(draw(st.integers(0, 3))):
        key = draw(attribute_keys)
        choice = draw(st.integers(0, 2))
        if choice == 0:
            event.pop(key, None)
        elif key == "data" and isinstance(event.get("data"), dict):
            event["data"][draw(st.sampled_from([*event["data"], "ward"]))] = draw(json_values)
        else:
            event[key] = draw(json_values)
    return event


@PROPERTY
@given(body=json_values, media=st.sampled_from(MEDIA[:2] + MEDIA[3:4]))
def test_any_json_is_answered_without_a_server_error(intake, client, body, media):
    status = _answer(client, intake, json.dumps(body).encode(), {"Content-Type": media})
    assert status in ANSWERS


@PROPERTY
@given(events=st.lists(mutated_events(), min_size=1, max_size=4), single=st.booleans())
def test_events_with_any_attribute_or_field_changed_are_answered_without_a_server_error(intake, client, events,
                                                                                        single):
    body = events[0] if single else events
    media = "application/cloudevents+json" if single else "application/cloudevents-batch+json"
    status = _answer(client, intake, json.dumps(body).encode(), {"Content-Type": media})
    assert status in ANSWERS


@PROPERTY
@given(body=st.binary(max_size=300), media=st.sampled_from(MEDIA) | header_text)
def test_any_bytes_with_any_content_type_are_answered_without_a_server_error(intake, client, body, media):
    status = _answer(client, intake, body, {"Content-Type": media} if media else {})
    assert status in ANSWERS


@PROPERTY
@given(body=st.binary(max_size=64),
       headers=st.dictionaries(st.sampled_from(["ce-id", "ce-source", "ce-type", "ce-specversion", "ce-time",
                                                "ce-subject", "ce-dataschema", "ce-other"]),
                               header_text, max_size=8),
       base=st.booleans())
def test_binary_mode_with_any_headers_and_body_is_answered_without_a_server_error(intake, client, body, headers,
                                                                                  base):
    sent = {"ce-id": "x", "ce-source": "/departments/human_resources/jobs", "ce-type": "job.lost",
            "ce-specversion": "1.0", "ce-time": "2026-11-20T09:00:00Z", "ce-subject": resident_id()} if base else {}
    sent.update(headers)
    status = _answer(client, intake, body, {"Content-Type": "application/avro", **sent}, "human_resources")
    assert status in ANSWERS


def test_the_properties_ran_their_examples_quickly_enough_to_stay_in_ci(intake, client):
    """A last, plain check that the served app is still answering (no worker died under the examples)."""
    started = time.monotonic()
    assert _answer(client, intake, json.dumps(discharge()).encode(),
                   {"Content-Type": "application/cloudevents+json"}) == 202
    assert time.monotonic() - started < 10
