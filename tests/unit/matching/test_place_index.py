"""Local programmes are indexed by place: an event meets only the policies of its household's district."""

from __future__ import annotations

import datetime as dt

from bench.catalogues import catalogue_of
from services.matching.domain.catalogue.policy_catalogue import load_catalogue
from services.matching.domain.evaluation import evaluate_event

HOME = ("510107", "513433")
THOUSAND = load_catalogue(catalogue_of(1000, HOME, "bench"), "bench")


def test_event_meets_national_policies_and_its_own_districts_programmes_only():
    chosen = THOUSAND.policies_for("job.lost", "510000", "510107")
    local = [p.id for p in chosen if p.id.startswith("local_")]
    assert local and all("510107" in THOUSAND.policy(p).name for p in local)
    assert len(chosen) < 10
    assert len(THOUSAND.policies_for("job.lost")) > 100  # without a place, every programme of the trigger


def test_local_programme_is_offered_in_its_district_and_not_elsewhere():
    facts = {"household.id": "h", "household.region": "510000", "household.district": "510107",
             "household.urban": True, "household.members": 2, "household.monthly_income_fen": 100_000,
             "household.per_capita_income_fen": 50_000.0, "household.annual_income_fen": 1_200_000,
             "household.financial_assets_fen": 0, "household.assets_per_capita_fen": 0.0,
             "household.earners_working_age": 0, "household.elderly_members": 0, "household.children": 0,
             "household.severe_disability_members": 0, "household.medical_12m_fen": 0,
             "household.education_12m_fen": 0, "household.receives_subsistence_allowance": False,
             "household.receives_special_hardship": False, "household.lives_alone": False,
             "household.disaster_severity": "NONE"}
    member = {"member.id": "p1", "member.age": 40, "member.monthly_income_fen": 0, "member.disability_grade": 0,
              "member.has_phone": True, "member.working_age": True}
    event = {"event.type": "job.lost", "event.id": "e1", "event.subject": "p1",
             "event.unemployment_registered": True, "event.previous_monthly_income_fen": 200_000,
             "event.lost_on": "2026-11-01"}
    day = dt.date(2026, 11, 20)
    here = evaluate_event(THOUSAND, facts, {"p1": member}, event, day)
    elsewhere = evaluate_event(THOUSAND, {**facts, "household.district": "510104"}, {"p1": member}, event, day)
    assert any(o.policy_id.startswith("local_") and o.eligible for o in here)
    assert not any(o.policy_id.startswith("local_") for o in elsewhere)
