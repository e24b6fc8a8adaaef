"""What matching publishes depends on the household's history, not on the order members' reports arrive in or on
when a message is processed: one-off benefits are named by the need, deadlines count from the report's time,
warnings are named by how many of their tier came before."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from services.core.codec import Event
from services.matching.domain.household.needs import need_of
from tests.unit.matching.test_handler import CATALOGUE, MATCHER, NOW, registry

FLOODED = dt.date(2026, 11, 18)
FLOOD = {"occurred_on": FLOODED, "kind": "FLOOD", "severity": "SERIOUS", "place_district": "510107",
         "home_destroyed": True}
REPORTED = NOW - dt.timedelta(hours=3)


def flood_report(person: str) -> Event:
    return Event(f"flood-{person}", "/departments/emergency_management/t", "emergency.occurred", REPORTED, person,
                 FLOOD)


def published(order: list[Event], later: dt.timedelta = dt.timedelta(0)) -> set[tuple[Any, ...]]:
    state = MATCHER.on_registry(None, registry(income=60_000), CATALOGUE, NOW).state
    found: set[tuple[Any, ...]] = set()
    for event in order:
        assert state is not None
        result = MATCHER.on_event(state, event, CATALOGUE, NOW + later)
        state = result.state
        for o in result.outputs:
            offer = o.value.get("offer") if o.record == "caseworker_task" else o.value
            found.add((o.id, (offer or {}).get("amount_fen"), o.value.get("due_at")))
    return found


def test_every_member_s_report_of_one_disaster_is_one_need_of_the_household() -> None:
    assert need_of("emergency.occurred", "p1", FLOOD, FLOODED) == need_of("emergency.occurred", "p2", FLOOD, FLOODED)
    assert need_of("emergency.occurred", "p1", {**FLOOD, "kind": "FIRE"}, FLOODED) \
        != need_of("emergency.occurred", "p1", FLOOD, FLOODED)
    stay = {"discharged_on": FLOODED, "out_of_pocket_fen": 1}
    assert need_of("hospitalisation.discharged", "p1", stay, FLOODED) \
        != need_of("hospitalisation.discharged", "p2", stay, FLOODED)


def test_members_reports_in_any_order_give_the_same_offers_tasks_and_deadlines() -> None:
    reports = [flood_report(p) for p in ("p1", "p2", "p3")]
    outcomes = {frozenset(published(list(order))) for order in itertools.permutations(reports)}
    assert len(outcomes) == 1
    (only,) = outcomes
    assert only, "the flood published nothing"


def test_a_message_processed_again_later_gives_the_same_deadlines() -> None:
    reports = [flood_report(p) for p in ("p1", "p2")]
    assert published(reports) == published(reports, later=dt.timedelta(hours=5))


def test_deadlines_count_from_the_report_s_time() -> None:
    dues = {due for _, _, due in published([flood_report("p1")]) if due is not None}
    assert dues and all(REPORTED < due <= REPORTED + dt.timedelta(days=30) for due in dues)


def hospital_stay(person: str) -> Event:
    return Event(f"stay-{person}", "/departments/health/t", "hospitalisation.discharged", REPORTED, person,
                 {"discharged_on": FLOODED, "diagnosis_category": "INJURY", "total_cost_fen": 9_000_000,
                  "out_of_pocket_fen": 6_000_000})


def test_two_needs_of_one_one_off_benefit_get_an_offer_each_in_either_order() -> None:
    flood, stay = flood_report("p1"), hospital_stay("p2")
    one, other = published([flood, stay]), published([stay, flood])
    assert one == other
    state = MATCHER.on_registry(None, registry(income=60_000), CATALOGUE, NOW).state
    for event in (flood, stay):
        assert state is not None
        state = MATCHER.on_event(state, event, CATALOGUE, NOW).state
    assert state is not None
    temporary = [k for k in state.pending_offers.values() if k.startswith("temporary_assistance")]
    assert len(temporary) == 2, state.pending_offers


def test_reports_of_one_need_recorded_at_other_hours_of_one_day_give_one_deadline() -> None:
    early, late = flood_report("p1"), flood_report("p2")
    late = Event(late.id, late.source, late.type, REPORTED + dt.timedelta(hours=2), late.subject, late.data)
    assert published([early, late]) == published([late, early])
