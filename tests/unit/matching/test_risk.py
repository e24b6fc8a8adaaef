"""Household risk scoring: signals in sliding windows, tiers and the tasks they call for."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from services.core.codec import load_contract
from services.matching.domain.household.facts import apply_event
from services.matching.domain.household.risk import (
    TASK_KINDS,
    Contribution,
    RiskModel,
    RiskModelError,
    assess,
    load_risk_model,
    near_threshold,
)
from services.matching.domain.household.state import HouseholdState, from_registry

TODAY = dt.date(2026, 3, 15)
RISK_YAML = Path(__file__).resolve().parents[3] / "policies" / "risk.yaml"


@pytest.fixture(scope="module")
def model() -> RiskModel:
    return load_risk_model(RISK_YAML.read_text(encoding="utf-8"))


def household() -> HouseholdState:
    return from_registry({
        "household_id": "h-1", "district": "510107", "region": "510000", "urban": True,
        "financial_assets_fen": 100_000, "current_benefits": [],
        "members": [
            {"person_id": "p-father", "birth_date": dt.date(1980, 5, 1), "monthly_income_fen": 600_000},
            {"person_id": "p-mother", "birth_date": dt.date(1982, 7, 9), "monthly_income_fen": 300_000},
            {"person_id": "p-grandpa", "birth_date": dt.date(1948, 1, 1), "monthly_income_fen": 0},
        ],
    })


def days_ago(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


def job_lost(state: HouseholdState, event_id: str, subject: str = "p-father", ago: int = 5) -> HouseholdState:
    return apply_event(state, "job.lost", subject, {"lost_on": days_ago(ago), "unemployment_registered": True,
                                                    "previous_monthly_income_fen": 1}, event_id, days_ago(ago))


def hospital(state: HouseholdState, event_id: str, event_type: str, cost: int, ago: int = 5) -> HouseholdState:
    data: dict[str, Any] = {"out_of_pocket_fen": cost, "total_cost_fen": 2 * cost, "diagnosis_category": "CRITICAL",
                            "estimated_out_of_pocket_fen": cost, "hospital_district": "510107"}
    return apply_event(state, event_type, "p-mother", data, event_id, days_ago(ago))


def emergency(state: HouseholdState, event_id: str, severity: str, destroyed: bool, ago: int = 5) -> HouseholdState:
    return apply_event(state, "emergency.occurred", "p-mother",
                       {"occurred_on": days_ago(ago), "kind": "EARTHQUAKE", "severity": severity,
                        "place_district": "510122", "home_destroyed": destroyed}, event_id, days_ago(ago))


# ---- the shipped model -------------------------------------------------------------------------------------------

def test_shipped_model_loads_with_every_signal_and_tier(model: RiskModel) -> None:
    assert {s.name for s in model.signals} == {"job_loss", "hospitalisation_cost", "disaster", "earner_death",
                                               "income_drop", "disability_certified"}
    assert [t.name for t in model.tiers] == ["red", "orange", "yellow"]


def test_shipped_tier_tasks_are_caseworker_task_kinds(model: RiskModel) -> None:
    schema_kinds = set(load_contract().named["assist.records.TaskKind"]["symbols"])
    assert schema_kinds == TASK_KINDS
    tasks = {t.name: t.task for t in model.tiers}
    assert tasks["red"] is not None and tasks["red"].kind == "VISIT"
    assert tasks["orange"] is not None and tasks["orange"].kind == "PHONE_CHECK"
    assert tasks["yellow"] is None


# ---- signals -----------------------------------------------------------------------------------------------------

def test_quiet_household_has_no_risk(model: RiskModel) -> None:
    result = assess(household(), model, TODAY)
    assert (result.score, result.tier, result.contributions, result.task) == (0, None, (), None)


def test_job_loss_alone_puts_household_on_the_yellow_watch_list(model: RiskModel) -> None:
    result = assess(job_lost(household(), "ev-job"), model, TODAY)
    assert result.score == 30 and result.tier == "yellow" and result.task is None
    assert result.contributions == (Contribution("job_loss", 30, "ev-job"),)


def test_job_loss_with_costly_hospitalisation_calls_for_a_visit(model: RiskModel) -> None:
    state = hospital(job_lost(household(), "ev-job"), "ev-bill", "hospitalisation.discharged", 2_500_000)
    result = assess(state, model, TODAY)
    assert result.score == 60 and result.tier == "red"
    assert result.task is not None and (result.task.kind, result.task.priority, result.task.sla_hours) == \
        ("VISIT", 90, 48)
    assert set(result.evidence_event_ids) == {"ev-job", "ev-bill"}


def test_hospitalisation_below_the_cost_threshold_is_no_signal(model: RiskModel) -> None:
    state = hospital(household(), "ev-bill", "medical_expense.settled", 1_999_999)
    assert assess(state, model, TODAY).score == 0


def test_admission_and_discharge_of_one_stay_count_once(model: RiskModel) -> None:
    state = hospital(household(), "ev-in", "hospitalisation.admitted", 3_000_000, ago=20)
    state = hospital(state, "ev-out", "hospitalisation.discharged", 3_000_000, ago=2)
    result = assess(state, model, TODAY)
    assert result.contributions == (Contribution("hospitalisation_cost", 30, "ev-out"),)


def test_second_earner_losing_work_adds_again_up_to_the_maximum(model: RiskModel) -> None:
    state = job_lost(job_lost(household(), "ev-1"), "ev-2", subject="p-mother", ago=3)
    state = job_lost(state, "ev-3", subject="p-grandpa", ago=1)
    result = assess(state, model, TODAY)
    assert [c.event_id for c in result.contributions] == ["ev-3", "ev-2"]
    assert result.score == 60 and result.tier == "red"


@pytest.mark.parametrize(("severity", "destroyed", "score", "tier"), [
    ("MINOR", False, 10, None),
    ("SERIOUS", False, 30, "yellow"),
    ("SERIOUS", True, 50, "orange"),
    ("CATASTROPHIC", True, 70, "red"),
])
def test_disaster_weighs_by_severity_and_destroyed_home(model: RiskModel, severity: str, destroyed: bool,
                                                        score: int, tier: str | None) -> None:
    result = assess(emergency(household(), "ev-1", severity, destroyed), model, TODAY)
    assert (result.score, result.tier) == (score, tier)


def test_orange_tier_calls_for_a_phone_check(model: RiskModel) -> None:
    result = assess(emergency(household(), "ev-1", "SERIOUS", True), model, TODAY)
    assert result.task is not None and (result.task.kind, result.task.sla_hours) == ("PHONE_CHECK", 120)


def test_death_of_an_earning_member_is_a_signal(model: RiskModel) -> None:
    state = apply_event(household(), "death.registered", "p-father", {"died_on": days_ago(10)}, "ev-1", days_ago(10))
    assert assess(state, model, TODAY).contributions == (Contribution("earner_death", 40, "ev-1"),)


def test_death_of_a_member_without_income_is_no_earner_death(model: RiskModel) -> None:
    state = apply_event(household(), "death.registered", "p-grandpa", {"died_on": days_ago(10)}, "ev-1",
                        days_ago(10))
    assert assess(state, model, TODAY).score == 0


@pytest.mark.parametrize(("new_income", "score"), [(420_000, 20), (421_000, 0), (700_000, 0)])
def test_income_drop_of_30_percent_or_more_is_a_signal(model: RiskModel, new_income: int, score: int) -> None:
    state = apply_event(household(), "income.changed", "p-father",
                        {"effective_on": days_ago(3), "monthly_income_fen": new_income}, "ev-1", days_ago(3))
    assert assess(state, model, TODAY).score == score


@pytest.mark.parametrize(("ago", "score"), [(0, 15), (90, 15), (91, 0)])
def test_disability_certification_counts_for_90_days(model: RiskModel, ago: int, score: int) -> None:
    state = apply_event(household(), "disability.certified", "p-grandpa",
                        {"certified_on": days_ago(ago), "category": "VISUAL", "grade": 3}, "ev-1", days_ago(ago))
    assert assess(state, model, TODAY).score == score


def test_job_loss_outside_its_window_no_longer_counts(model: RiskModel) -> None:
    state = job_lost(household(), "ev-job", ago=91)
    assert assess(state, model, TODAY).score == 0
    assert assess(state, model, days_ago(1)).score == 30


def test_events_after_the_assessment_day_do_not_count(model: RiskModel) -> None:
    state = job_lost(household(), "ev-job", ago=0)
    assert assess(state, model, days_ago(1)).score == 0


def test_events_about_people_outside_the_household_do_not_count(model: RiskModel) -> None:
    state = job_lost(household(), "ev-job", subject="p-stranger")
    assert assess(state, model, TODAY).score == 0


# ---- near the line -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("per_capita", "near"), [
    (99_999, False), (100_000, True), (105_000, True), (110_000, True), (110_001, False),
])
def test_near_threshold_means_at_most_ten_percent_above_the_line(per_capita: float, near: bool) -> None:
    assert near_threshold(per_capita, 100_000) is near


def test_no_household_is_near_a_zero_line() -> None:
    assert near_threshold(0, 0) is False


# ---- loading errors ----------------------------------------------------------------------------------------------

VALID = """
signals:
  job_loss: {weight: 30, window_days: 90}
tiers:
  red: {min_score: 60, task: {kind: VISIT, priority: 90, sla_hours: 48}}
  orange: {min_score: 40, task: {kind: PHONE_CHECK, priority: 60, sla_hours: 120}}
  yellow: {min_score: 20, task: null}
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(RiskModelError) as caught:
        load_risk_model(text)
    return caught.value.problems


def test_a_model_may_score_only_some_signals() -> None:
    model = load_risk_model(VALID)
    assert [s.name for s in model.signals] == ["job_loss"]
    assert model.tier_for(40) is not None and model.tier_for(19) is None


def test_broken_yaml_is_reported_with_its_line() -> None:
    assert problems_of("signals:\n  job_loss: [\n") == ["not valid YAML at line 3"]


def test_unknown_signal_and_parameter_are_named_by_path() -> None:
    text = VALID.replace("job_loss: {weight: 30, window_days: 90}",
                         "job_loss: {weight: 30, window_days: 90, decay: 2}\n  lottery_win: {weight: 1}")
    found = problems_of(text)
    assert "signals.job_loss.decay: not a parameter of this signal" in found
    assert any(p.startswith("signals.lottery_win: unknown signal") for p in found)


def test_every_problem_is_reported_at_once() -> None:
    text = VALID.replace("weight: 30", "weight: true").replace("kind: VISIT", "kind: KNOCK") \
        .replace("min_score: 40", "min_score: 70")
    found = problems_of(text)
    assert "signals.job_loss.weight: must be an integer 1..1000" in found
    assert any(p.startswith("tiers.red.task.kind: must be one of") for p in found)
    assert "tiers: min_score must decrease strictly from red to orange to yellow" in found


def test_missing_parameters_and_tiers_are_required() -> None:
    text = """
signals:
  income_drop: {weight: 20, window_days: 90}
  disaster: {window_days: 90, severity_weights: {MINOR: 5, APOCALYPTIC: 9}}
tiers:
  red: {min_score: 60, task: {kind: VISIT}}
  orange: {min_score: 40, task: null}
"""
    found = problems_of(text)
    assert "signals.income_drop.min_drop_ratio: required" in found
    assert "signals.disaster.severity_weights.APOCALYPTIC: unknown severity" in found
    assert "tiers.red.task.priority: required" in found and "tiers.red.task.sla_hours: required" in found
    assert "tiers.yellow: required, with min_score and task" in found


def test_window_longer_than_the_kept_history_is_refused() -> None:
    found = problems_of(VALID.replace("window_days: 90", "window_days: 401"))
    assert found == ["signals.job_loss.window_days: must be an integer 1..400"]


def test_document_must_be_a_mapping_of_known_sections() -> None:
    assert problems_of("- a list") == ["the document must be a mapping with 'signals' and 'tiers'"]
    assert "weights: unknown section" in problems_of(VALID + "weights: {}\n")
