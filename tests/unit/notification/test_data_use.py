"""What a citizen's data-use log says: the events an offer names, and a disclosure without who saw the details."""

from __future__ import annotations

import datetime as dt

from services.notification.domain.contact import Language
from services.notification.domain.data_use import EventUse, contact_use, events_of, word

AT = dt.datetime(2026, 12, 1, 8, 30, tzinfo=dt.UTC)


def test_an_offer_names_its_trigger_first_then_the_evidence_each_once_and_an_application_is_civil_affairs():
    offer = {"trigger_event_id": "app-1"}
    assert events_of(offer, ["e-2", "app-1", "e-2"], applications=["app-1"]) == [
        EventUse("app-1", "civil_affairs", True), EventUse("e-2", None, False)]
    assert events_of({"trigger_event_id": None}, [], []) == []


def test_a_disclosure_is_told_without_the_member_of_staff():
    use = contact_use({"disclosure_id": "d-1", "actor": "cw-zhang", "actor_role": "CASEWORKER", "district": "513433",
                       "task_id": "t-1", "household_id": "h-1", "person_ids": ["p-1"], "purpose": "VISIT",
                       "fields": ["name", "address", "phone"], "at": AT})
    assert "cw-zhang" not in repr(use)
    assert (use.role, use.district, use.purpose, use.fields) == ("CASEWORKER", "513433", "VISIT",
                                                                 ("name", "address", "phone"))
    assert word(Language.ZH_CN, "VISIT") == "入户走访" and word(Language.EN, "SUPERVISOR") == "a supervisor"
    assert word(Language.EN, "unknown_department") == "unknown_department"


def test_the_department_of_each_event_follows_from_its_type_on_the_offer_and_the_task():
    departments = {"job.lost": "human_resources", "hospitalisation.discharged": "health"}
    offer = {"trigger_event_id": "e-1", "trigger_event_type": "job.lost"}
    used = events_of(offer, ["e-1", "e-2", "e-3"], [], types={"e-2": "hospitalisation.discharged"},
                     departments=departments)
    assert [(u.event_id, u.department, u.trigger) for u in used] == [
        ("e-1", "human_resources", True), ("e-2", "health", False), ("e-3", None, False)]
