"""schemathesis against the OpenAPI document the real intake serves (real broker and Redis, 127.0.0.1): no
server errors, and every status, header and body as the document describes it. Cases use the bearer token of
the department owning the event type they carry, so schema-valid events reach the checks behind the schema.

ASSIST_PROPERTY_EXAMPLES raises the number of generated cases per operation (the long suite).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

from services.core.codec import load_contract
from services.core.identity import check_character
from services.core.settings import load_settings
from services.intake.adapters.openapi import RESIDENT_ID, openapi_document
from tests.integration.intake.intake_server import ServedIntake, served_intake

EXAMPLES = int(os.environ.get("ASSIST_PROPERTY_EXAMPLES", "100"))
CONTRACT = load_contract()
answered: Counter[int] = Counter()


@pytest.fixture(scope="module")
def intake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedIntake]:
    tokens_file = tmp_path_factory.mktemp("intake") / "tokens.json"
    with served_intake(replace(load_settings(), intake_tokens_file=tokens_file)) as served:
        yield served
    print(f"\nschemathesis cases: {sum(answered.values())}, answers {dict(sorted(answered.items()))}")


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    born = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2025, 12, 31)))
    first17 = f"{draw(st.integers(110000, 659999))}{born:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    return first17 + check_character(first17)


schemathesis.openapi.format(RESIDENT_ID, resident_ids())


@schemathesis.serializer("application/avro")
def _avro_body(context: Any, value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()

DOCUMENT = openapi_document(CONTRACT, load_settings().max_batch_events)
# A schema-violating request is refused with one of the API's 4xx: 413 is how it refuses a batch over its limit.
CONFIG = SchemathesisConfig.from_str("""
[checks.negative_data_rejection]
expected-statuses = [400, 401, 403, 409, 413, 415, 429]
""")
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)


def test_the_document_under_test_is_the_one_intake_serves(intake: ServedIntake) -> None:
    with urllib.request.urlopen(f"{intake.base_url}/openapi.json", timeout=10) as served:
        assert json.load(served) == json.loads(json.dumps(DOCUMENT))


def _department(body: Any) -> str:
    """The owner of the first event's type in a case body; health for anything without a known type."""
    first = body[0] if isinstance(body, list) and body else body
    type_ = first.get("type") if isinstance(first, dict) else None
    known = CONTRACT.event_types.get(type_) if isinstance(type_, str) else None
    return known.department if known else "health"


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
def test_intake_answers_as_its_openapi_document_says(case: Any, intake: ServedIntake) -> None:
    headers = {"Authorization": f"Bearer {intake.tokens[_department(case.body)]}"}
    # In binary mode the Avro record's schema is named by the ce-type header, which OpenAPI cannot tie to a
    # body: no generated body is "valid" on its own, so only its refusal (a 4xx, never a 5xx) is checked.
    excluded = [positive_data_acceptance] if case.media_type == "application/avro" else []
    response = case.call_and_validate(base_url=intake.base_url, headers=headers, excluded_checks=excluded)
    answered[response.status_code] += 1
