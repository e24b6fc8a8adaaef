"""The table of event kinds: one row per schema of schemas/events/, explicit codes, and stored rows from before."""

from __future__ import annotations

import datetime as dt
import json

from services.core.contract import load_contract
from services.matching.domain.household.event_kinds import BY_CODE, EVENT_KINDS, SPENDING_KINDS, Change, spending_fact
from services.matching.domain.household.facts import household_facts
from services.matching.domain.household.risk import SIGNAL_KEYS
from services.matching.domain.household.state import FORMAT, from_dict, to_dict
from services.matching.domain.household.vocabulary import DEFAULT_VOCABULARY, EVENT_FIELDS, HOUSEHOLD_FACTS

CODES_GIVEN = {
    "hospitalisation.admitted": 1, "hospitalisation.discharged": 2, "medical_expense.settled": 3, "job.lost": 4,
    "income.changed": 5, "disability.certified": 6, "death.registered": 7, "age.milestone_reached": 8,
    "emergency.occurred": 9, "school.enrolled": 10, "housing.lost": 11, "application.submitted": 12,
}
"""Every code given so far. Codes are append-only: this list only ever grows, and no entry changes."""


def _fields(event_type: str) -> dict[str, object]:
    schema = load_contract().event_types[event_type].schema
    return {str(f["name"]): f["type"] for f in schema["fields"]}


def test_the_table_has_one_row_per_event_schema_and_nothing_else() -> None:
    assert set(EVENT_KINDS) == set(load_contract().event_types)


def test_codes_once_given_never_change_and_are_never_reused() -> None:
    for event_type, code in CODES_GIVEN.items():
        assert EVENT_KINDS[event_type].code == code, f"{event_type} was stored as {code}"
    new = {k.type: k.code for k in EVENT_KINDS.values() if k.type not in CODES_GIVEN}
    assert not set(new.values()) & set(CODES_GIVEN.values())
    assert all(code > max(CODES_GIVEN.values()) for code in new.values())
    assert len(BY_CODE) == len(EVENT_KINDS)


def test_each_rows_fields_are_fields_of_its_schema_and_the_day_field_is_a_date() -> None:
    for kind in EVENT_KINDS.values():
        fields = _fields(kind.type)
        if kind.day_field is not None:
            assert fields[kind.day_field] == {"type": "int", "logicalType": "date"}, kind.type
        for name in (kind.amount_field, kind.detail_field):
            assert name is None or name in fields, f"{kind.type}: {name} is not in its schema"


def test_spending_rows_name_a_spending_kind_and_an_amount() -> None:
    for kind in EVENT_KINDS.values():
        assert (kind.change == Change.SPENDING) == (kind.spending is not None), kind.type
        if kind.change == Change.SPENDING:
            assert kind.amount_field is not None and kind.spending in SPENDING_KINDS
    assert {spending_fact(k) for k in SPENDING_KINDS} <= set(HOUSEHOLD_FACTS)


def test_each_risk_signal_is_one_the_risk_model_knows() -> None:
    signals = {k.risk_signal for k in EVENT_KINDS.values() if k.risk_signal is not None}
    assert signals == set(SIGNAL_KEYS)


def test_event_fields_policies_may_read_come_from_the_schemas() -> None:
    for event_type, fields in EVENT_FIELDS.items():
        assert fields == set(_fields(event_type))
    assert set(EVENT_FIELDS) == set(EVENT_KINDS)


def test_a_request_is_no_trigger_a_policy_may_name() -> None:
    requests = {t for t, k in EVENT_KINDS.items() if k.change == Change.REQUEST}
    assert requests == {"application.submitted"}
    assert not requests & DEFAULT_VOCABULARY.triggers()


# A household state as the table stored it before event kinds had codes (FORMAT 2): the type of each recorded
# event is its position in the alphabetical list of the types then known (8: job.lost, 5: discharged).
STATE_WRITTEN_BEFORE_CODES = {
    "h": "h-1", "d": "110105", "r": "110000", "u": 1, "a": 0, "f": 2,
    "m": {"p-father": [3773, 0, 0, 1], "p-mother": [4207, 300000, 0, 1]},
    "e": [["ev-job", 8, 20500, "p-father", 1, 0, 600000],
          ["ev-hospital", 5, 20510, "p-mother", 1, 80000],
          ["ev-other", "pension.paid", 20511, "p-mother", 0]],
}


def test_a_state_stored_with_positions_reads_its_event_types_right() -> None:
    state = from_dict(STATE_WRITTEN_BEFORE_CODES)
    types = [(e.event_id, e.type) for e in state.recent_events]
    assert types == [("ev-job", "job.lost"), ("ev-hospital", "hospitalisation.discharged"),
                     ("ev-other", "pension.paid")]
    assert household_facts(state, dt.date(2026, 3, 1))["household.medical_12m_fen"] == 80000


def test_a_state_read_from_positions_is_written_back_with_codes() -> None:
    written = to_dict(from_dict(STATE_WRITTEN_BEFORE_CODES))
    assert written["f"] == FORMAT
    assert [row[1] for row in written["e"]] == [EVENT_KINDS["job.lost"].code,
                                                  EVENT_KINDS["hospitalisation.discharged"].code, "pension.paid"]
    again = from_dict(json.loads(json.dumps(written)))
    assert again == from_dict(STATE_WRITTEN_BEFORE_CODES)
