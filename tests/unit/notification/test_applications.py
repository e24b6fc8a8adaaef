"""Applications as pure rules: the programmes of the catalogue version that decides today, the application event
and its refusals naming the field, and the answer in plain words."""

from __future__ import annotations

import datetime as dt

import pytest

from services.core.application_views import Application
from services.core.resident_applications import (
    ApplicationRefused,
    Programme,
    Programmes,
    application_event,
    current_version,
    programmes_of,
)
from services.notification.domain.applications import answer_words
from services.notification.domain.contact import Language

NOW = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
PROGRAMMES = Programmes("national-demo", "2026.1", (Programme("subsistence_allowance", "Dibao"),
                                                     Programme("medical_assistance", "Medical assistance")))


def version(name: str, label: str, effective: dt.date, document: str = "policies: []") -> dict:
    return {"catalogue": name, "version": label, "effective_from": effective, "published_at": NOW,
            "document": document}


def test_the_version_that_decides_today_is_the_latest_in_effect():
    versions = [version("national-demo", "2026.1", dt.date(2026, 1, 1)),
                version("national-demo", "2027.1", dt.date(2027, 1, 1)),
                version("other", "9", dt.date(2026, 6, 1))]
    chosen = current_version(versions, "national-demo", dt.date(2026, 12, 1))
    assert chosen is not None and chosen["version"] == "2026.1"
    assert current_version(versions, "missing", dt.date(2026, 12, 1)) is None


def test_programmes_are_the_catalogue_policies_in_order():
    document = "policies:\n  - {id: subsistence_allowance, name: Dibao}\n  - {id: medical_assistance}\n"
    found = programmes_of(version("national-demo", "2026.1", dt.date(2026, 1, 1), document))
    assert [(p.policy_id, p.name) for p in found.items] == [("subsistence_allowance", "Dibao"),
                                                            ("medical_assistance", "medical_assistance")]


def test_an_application_is_an_event_of_the_person_with_the_programme():
    event = application_event("p-1", "medical_assistance", PROGRAMMES, "CASEWORKER", "cw.dora", NOW, "a-1")
    assert (event.id, event.type, event.subject, event.source) == (
        "a-1", "application.submitted", "p-1", "/civil_affairs/casework-console")
    assert event.data == {"policy_id": "medical_assistance", "channel": "CASEWORKER", "applied_by": "cw.dora"}
    assert application_event("p-1", "medical_assistance", PROGRAMMES, "CITIZEN_PAGE", "citizen", NOW
                             ).source == "/civil_affairs/citizen-page"


@pytest.mark.parametrize(("policy_id", "programmes", "kind"), [("free_money", PROGRAMMES, "unknown"),
                                                                ("Free Money", PROGRAMMES, "invalid"),
                                                                ("medical_assistance", None, "unavailable")])
def test_an_application_that_cannot_be_made_names_policy_id(policy_id, programmes, kind):
    with pytest.raises(ApplicationRefused) as refused:
        application_event("p-1", policy_id, programmes, "CITIZEN_PAGE", "citizen", NOW)
    assert refused.value.field == "policy_id" and refused.value.kind == kind


def test_the_applicant_must_be_the_citizen_or_a_caseworker_id():
    with pytest.raises(ApplicationRefused) as refused:
        application_event("p-1", "medical_assistance", PROGRAMMES, "CASEWORKER", "dora smith", NOW)
    assert refused.value.field == "applied_by"


def test_the_answer_reads_in_plain_words():
    waiting = Application("a-1", "p-1", "subsistence_allowance", "citizen", 1)
    assert answer_words(waiting, Language.EN) == "Submitted; the answer comes in a moment."
    refused = Application("a-1", "p-1", "subsistence_allowance", "citizen", 1, {
        "outcome": "NOT_ELIGIBLE", "reasons": ["income per person 150000 fen is not below 145000 fen.",
                                               "assets above the limit"]})
    assert answer_words(refused, Language.EN) == ("Not eligible, because income per person 150000 fen is not below "
                                                  "145000 fen; assets above the limit.")
    assert answer_words(refused, Language.ZH_CN).startswith("不符合条件，原因：")
