"""What matching publishes depends on the household's history, not on the order members' reports arrive in or on
when a message is processed: one-off benefits are named by the need, deadlines count from the report's time,
warnings are named by how many of their tier came before."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.core.codec import Event
from services.matching.domain.household.needs import need_of
from services.matching.domain.household.state import from_dict, to_dict
from services.matching.offers import Output
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


# ---- a household's history in any order: the same offers and tasks in the end ------------------------------------

def _report(event_id: str, event_type: str, person: str, data: dict[str, Any]) -> Event:
    return Event(event_id, "/departments/t", event_type, REPORTED, person, data)


HISTORY = (
    _report("h-income", "income.changed", "p1", {"effective_on": dt.date(2026, 11, 10), "monthly_income_fen": 600_000}),
    _report("h-stay", "hospitalisation.discharged", "p2",
            {"discharged_on": dt.date(2026, 11, 12), "diagnosis_category": "INJURY", "total_cost_fen": 9_000_000,
             "out_of_pocket_fen": 6_000_000}),
    _report("h-job", "job.lost", "p1", {"lost_on": dt.date(2026, 11, 14), "unemployment_registered": True,
                                        "previous_monthly_income_fen": 600_000}),
    _report("h-bill", "medical_expense.settled", "p3",
            {"settled_on": dt.date(2026, 11, 15), "total_cost_fen": 2_000_000, "out_of_pocket_fen": 1_500_000}),
    _report("h-school", "school.enrolled", "p3", {"enrolled_on": dt.date(2026, 11, 16), "level": "PRIMARY",
                                                  "school_district": "510107", "term_fees_fen": 300_000}),
    flood_report("p1"),
    flood_report("p2"),
)
"""One household's reports: p1's pay rises before p2's hospital stay and p1 loses the job after it, then bills, a
school term and a flood. Dated facts decide: the stay is judged on the raised pay whenever the rise arrives."""


def newest(order: tuple[Event, ...], income: int = 60_000) -> dict[str, tuple[dict[str, Any] | None, Output]]:
    """What a consumer keeping the newest revision of each offer and task id has at the end: per id, the offer
    (None for a warning) and the publication."""
    state = MATCHER.on_registry(None, registry(income=income), CATALOGUE, NOW).state
    kept: dict[str, tuple[int, dict[str, Any] | None, Output]] = {}
    for event in order:
        assert state is not None
        result = MATCHER.on_event(state, event, CATALOGUE, NOW)
        state = result.state
        for output in result.outputs:
            offer = output.value.get("offer") if output.record == "caseworker_task" else output.value
            number = int(((offer or {}).get("revision") or {}).get("number", 0))
            if output.id not in kept or number >= kept[output.id][0]:
                kept[output.id] = (number, offer, output)
    return {i: (offer, output) for i, (_, offer, output) in kept.items()}


def live(output: Output) -> bool:
    return output.value.get("change") != "WITHDRAWN"


def holdings(order: tuple[Event, ...]) -> dict[Any, tuple[Any, ...]]:
    """The amount and policy of each live offer or task (a withdrawn one is not held) a consumer holds at the end,
    by the benefit it offers (record, policy, beneficiary, benefit period; a warning by its task id)."""
    return {(output.record, offer["policy_id"], offer["person_id"] or offer["household_id"], offer["benefit_period"])
            if offer else i: ((offer or {}).get("amount_fen"), (offer or {}).get("policy_id") or output.value["kind"])
            for i, (offer, output) in newest(order).items() if live(output)}


def ids_held(order: tuple[Event, ...]) -> set[str]:
    """The offer and task ids a consumer holds live at the end."""
    return {i for i, (_, output) in newest(order).items() if live(output)}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order=st.permutations(HISTORY))
def test_a_household_s_reports_in_any_order_end_in_the_same_offers_and_amounts(order: list[Event]) -> None:
    in_their_days = holdings(HISTORY)
    assert any(policy == "temporary_assistance" for _, policy in in_their_days.values()), in_their_days
    assert holdings(tuple(order)) == in_their_days


def test_a_pay_rise_dated_before_a_hospital_stay_and_reported_after_it_withdraws_the_offer_it_rules_out() -> None:
    income, stay = HISTORY[0], HISTORY[1]
    late = holdings((stay, income))
    assert late == holdings((income, stay))
    assert not any(policy == "temporary_assistance" for _, policy in late.values()), late


def test_the_stored_state_keeps_the_registry_s_members_the_needs_and_withdrawn_offers() -> None:
    state = MATCHER.on_registry(None, registry(income=60_000), CATALOGUE, NOW).state
    for event in (HISTORY[1], HISTORY[0]):  # the stay's offer is withdrawn by the earlier-dated pay rise
        assert state is not None
        state = MATCHER.on_event(state, event, CATALOGUE, NOW).state
    assert state is not None and state.registered and state.needs
    assert any(item.withdrawn for item in state.items.values())
    assert from_dict(to_dict(state)) == state


def test_an_offer_withdrawn_and_offered_again_is_reinstated_under_its_own_id_with_the_next_revision() -> None:
    job = _report("h-job-early", "job.lost", "p1", {"lost_on": dt.date(2026, 11, 11),
                                                    "unemployment_registered": True,
                                                    "previous_monthly_income_fen": 600_000})
    state = MATCHER.on_registry(None, registry(income=60_000), CATALOGUE, NOW).state
    sent: list[dict[str, Any]] = []
    for event in (HISTORY[1], HISTORY[0], job):  # offered, withdrawn by the pay rise, offered again by the job loss
        assert state is not None
        result = MATCHER.on_event(state, event, CATALOGUE, NOW)
        state = result.state
        sent.extend(o.value for o in result.outputs if o.record == "caseworker_task" and o.value["offer"]
                    and o.value["offer"]["policy_id"] == "temporary_assistance")
    # The same task and offer id, REVISED after the withdrawal (consumers reopen a withdrawn id on a higher
    # revision): the ids a household ends with do not depend on whether a report arrived late.
    assert [(t["change"], (t["offer"]["revision"] or {}).get("number", 0)) for t in sent] \
        == [("NEW", 0), ("WITHDRAWN", 1), ("REVISED", 2)]
    first, withdrawn, again = sent
    assert first["task_id"] == withdrawn["task_id"] == again["task_id"]
    assert first["offer"]["offer_id"] == again["offer"]["offer_id"]
    assert again["offer"]["revision"]["reason"].startswith("Offered again: ")
    assert again["offer"]["revision"]["previous_amount_fen"] is None and again["offer"]["amount_fen"]
    assert holdings((HISTORY[1], HISTORY[0], job)) == holdings((HISTORY[0], job, HISTORY[1]))
    assert ids_held((HISTORY[1], HISTORY[0], job)) == ids_held((HISTORY[0], job, HISTORY[1]))


def test_a_warning_is_due_from_the_day_the_score_reached_its_tier_whichever_report_arrived_last() -> None:
    # Job loss (30) on 1 Nov, reported that day, and a hospital stay (30) on 10 Nov, reported that day: the score
    # reached the phone-check tier (40) with the stay, whichever report came last.
    job = Event("w-job", "/departments/t", "job.lost", dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC), "p1",
                {"lost_on": dt.date(2026, 11, 1), "unemployment_registered": True,
                 "previous_monthly_income_fen": 600_000})
    stay = Event("w-stay", "/departments/t", "hospitalisation.discharged", dt.datetime(2026, 11, 10, 9, tzinfo=dt.UTC),
                 "p2", {"discharged_on": dt.date(2026, 11, 10), "diagnosis_category": "INJURY",
                        "total_cost_fen": 9_000_000, "out_of_pocket_fen": 6_000_000})

    def warnings(order: tuple[Event, ...]) -> set[tuple[Any, ...]]:
        state = MATCHER.on_registry(None, registry(income=60_000), CATALOGUE, NOW).state
        found = set()
        for event in order:
            assert state is not None
            result = MATCHER.on_event(state, event, CATALOGUE, NOW)
            state = result.state
            found |= {(o.id, o.value["due_at"]) for o in result.outputs
                      if o.record == "caseworker_task" and o.value["risk_tier"]}
        return found

    in_order = warnings((job, stay))
    assert in_order and in_order == warnings((stay, job))


def test_a_warning_raised_before_an_earlier_dated_report_arrived_is_revised_to_the_deadline_of_any_order() -> None:
    # Job loss (30) reported on 1 Nov, a disability certified (15) on 5 Nov, a hospital stay (30) on 10 Nov: the
    # phone-check tier (40) is reached on 5 Nov. When the certificate arrives last, the warning went out at the stay
    # (due from 10 Nov) and is published again, due from 5 Nov.
    job = Event("v-job", "/departments/t", "job.lost", dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC), "p1",
                {"lost_on": dt.date(2026, 11, 1), "unemployment_registered": True,
                 "previous_monthly_income_fen": 600_000})
    certified = Event("v-cert", "/departments/t", "disability.certified", dt.datetime(2026, 11, 5, 9, tzinfo=dt.UTC),
                      "p2", {"certified_on": dt.date(2026, 11, 5), "category": "PHYSICAL", "grade": 3})
    stay = Event("v-stay", "/departments/t", "hospitalisation.discharged", dt.datetime(2026, 11, 10, 9, tzinfo=dt.UTC),
                 "p2", {"discharged_on": dt.date(2026, 11, 10), "diagnosis_category": "INJURY",
                        "total_cost_fen": 9_000_000, "out_of_pocket_fen": 6_000_000})

    def warnings(order: tuple[Event, ...]) -> dict[str, tuple[Any, ...]]:
        return {i: (output.value["kind"], output.value["due_at"]) for i, (_, output) in newest(order).items()
                if output.record == "caseworker_task" and output.value["risk_tier"]}

    in_their_days = warnings((job, certified, stay))
    assert in_their_days, "the job loss and the certificate reach a tier"
    for order in itertools.permutations((job, certified, stay)):
        assert warnings(order) == in_their_days, order
    state = MATCHER.on_registry(None, registry(income=60_000), CATALOGUE, NOW).state
    sent = []
    for event in (job, stay, certified):
        assert state is not None
        result = MATCHER.on_event(state, event, CATALOGUE, NOW)
        state = result.state
        sent += [o.value for o in result.outputs if o.record == "caseworker_task" and o.value["risk_tier"]]
    moved = [t for t in sent if t["change"] == "REVISED"]
    assert moved and all(t["reason"].startswith("Due date moved:") for t in moved)
    assert {t["task_id"] for t in moved} <= {t["task_id"] for t in sent if t["change"] == "NEW"}
    again = MATCHER.on_event(state, certified, CATALOGUE, NOW)
    assert not [o for o in again.outputs if o.record == "caseworker_task" and o.value["risk_tier"]]


def test_a_verification_decided_on_the_state_is_revised_to_the_deadline_of_the_day_the_household_qualified() -> None:
    # Medical bills of 2,000 yuan settled on 1, 5 and 10 Nov: any two exceed half the household's yearly income,
    # so it qualified for essential-expenditure assistance on 5 Nov. When the 5 Nov bill arrives last, the offer
    # went out due from 10 Nov; its task is published again due from 5 Nov, the amount unchanged.
    def bill(n: int, day: int) -> Event:
        return Event(f"x-bill-{n}", "/departments/t", "medical_expense.settled",
                     dt.datetime(2026, 11, day, 9, tzinfo=dt.UTC), "p2",
                     {"settled_on": dt.date(2026, 11, day), "total_cost_fen": 400_000, "out_of_pocket_fen": 200_000})

    bills = (bill(1, 1), bill(2, 5), bill(3, 10))

    def hardship(order: tuple[Event, ...]) -> dict[str, tuple[Any, ...]]:
        return {i: (offer["amount_fen"], output.value["due_at"]) for i, (offer, output) in newest(order).items()
                if offer and offer["policy_id"] == "essential_expenditure_hardship" and live(output)}

    in_their_days = hardship(bills)
    assert in_their_days, "two bills exceed half the yearly income"
    for order in itertools.permutations(bills):
        assert hardship(order) == in_their_days, order
    late = [o for o, _ in (newest((bills[0], bills[2], bills[1])).values())
            if o and o["policy_id"] == "essential_expenditure_hardship"]
    assert [(o["change"], o["revision"]["previous_amount_fen"] == o["amount_fen"]) for o in late] == [("REVISED", True)]
    assert late[0]["revision"]["reason"].startswith("Due date moved:")


def test_a_monthly_allowance_judged_at_a_hospital_stay_follows_the_facts_as_of_the_stay_in_either_order() -> None:
    # p2 (no income) is admitted critically ill on 14 Nov: in a marginal household (p1 earns 3,000 yuan) that is the
    # single-person allowance, but p1's pay rose on 1 Nov, which ends the marginal household.
    admitted = _report("m-admitted", "hospitalisation.admitted", "p2",
                       {"admitted_on": dt.date(2026, 11, 14), "diagnosis_category": "CRITICAL",
                        "hospital_district": "510107", "estimated_out_of_pocket_fen": 100_000})
    raise_ = _report("m-raise", "income.changed", "p1",
                     {"effective_on": dt.date(2026, 11, 1), "monthly_income_fen": 900_000})

    def allowances(order: tuple[Event, ...]) -> dict[str, Any]:
        return {i: offer["amount_fen"] for i, (offer, output) in newest(order, income=300_000).items()
                if offer and offer["policy_id"] == "marginal_single_person_inclusion" and live(output)}

    assert allowances((admitted,)), "the admission alone offers the single-person allowance"
    assert allowances((admitted, raise_)) == allowances((raise_, admitted)) == {}



def _at(hour: int, day: int = 1) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, tzinfo=dt.UTC)


# Seen in a rebalance comparison: p1's pay (2,402.90 yuan) and p1's job loss, both dated 1 Nov, reported at 04:27 and
# 07:02. Applied in arrival order the job loss held; the dated history (by event id) kept the pay, so it missed the
# day p2's disability made the household qualify, and the verification's deadline depended on whether the
# disability report came before or after a later one.
PAY = Event("z-pay", "/departments/t", "income.changed", _at(4), "p1",
            {"effective_on": dt.date(2026, 11, 1), "monthly_income_fen": 240_290})
LOST = Event("a-lost", "/departments/t", "job.lost", _at(7), "p1",
             {"lost_on": dt.date(2026, 11, 1), "unemployment_registered": True, "previous_monthly_income_fen": 240_290})
DISABILITY = Event("m-disability", "/departments/t", "disability.certified", _at(21, 2), "p2",
                   {"certified_on": dt.date(2026, 11, 2), "category": "PHYSICAL", "grade": 2})
NO_INCOME = Event("n-none", "/departments/t", "income.changed", _at(17, 4), "p1",
                  {"effective_on": dt.date(2026, 11, 4), "monthly_income_fen": 0})


def _held(order: tuple[Event, ...], offers: bool) -> dict[str, tuple[Any, ...]]:
    """Live ids at the end with amount and due time: those carrying an offer, or the warnings."""
    return {i: ((offer or {}).get("amount_fen"), output.value.get("due_at"))
            for i, (offer, output) in newest(order, income=0).items() if live(output) and bool(offer) == offers}


def test_of_two_reports_of_one_member_s_income_on_one_day_the_later_reported_holds_in_either_order() -> None:
    def income(order: tuple[Event, ...]) -> int:
        state = MATCHER.on_registry(None, registry(income=0), CATALOGUE, NOW).state
        for event in order:
            assert state is not None
            state = MATCHER.on_event(state, event, CATALOGUE, NOW).state
        assert state is not None
        return state.members["p1"].monthly_income_fen

    assert income((PAY, LOST)) == income((LOST, PAY)) == 0


def test_a_verification_s_deadline_follows_the_dated_history_whatever_order_same_day_reports_came_in() -> None:
    in_their_days = _held((PAY, LOST, DISABILITY, NO_INCOME), offers=True)
    assert in_their_days
    for order in itertools.permutations((LOST, DISABILITY, NO_INCOME)):
        assert _held((PAY, *order), offers=True) == in_their_days, [e.id for e in order]


def test_the_warnings_held_follow_the_dated_history_whatever_order_a_member_s_reports_came_in() -> None:
    in_their_days = _held((PAY, LOST, DISABILITY, NO_INCOME), offers=False)
    for order in itertools.permutations((LOST, DISABILITY, NO_INCOME)):
        assert _held((PAY, *order), offers=False) == in_their_days, [e.id for e in order]


def _stay(event_id: str, day: int, reported: dt.datetime) -> Event:
    return Event(event_id, "/departments/health/t", "hospitalisation.discharged", reported, "p2",
                 {"discharged_on": dt.date(2026, 11, day), "diagnosis_category": "CRITICAL", "total_cost_fen": 100_000,
                  "out_of_pocket_fen": 50_000})


# Seen in a rebalance comparison: a monthly allowance judged at a member's stay in hospital was due from the report
# of whichever qualifying stay was processed first. p1's pay falls on 25 Nov (the household becomes marginal); p2
# leaves hospital critically ill on 26 and 27 Nov, the earlier stay reported last.
CUT = Event("i-cut", "/departments/t", "income.changed", _at(10, 25), "p1",
            {"effective_on": dt.date(2026, 11, 25), "monthly_income_fen": 300_000})
EARLIER_STAY, LATER_STAY = _stay("s-26", 26, _at(9, 28)), _stay("s-27", 27, _at(12, 27))


def _allowances(order: tuple[Event, ...]) -> dict[str, tuple[Any, ...]]:
    return {i: (offer["amount_fen"], output.value.get("due_at")) for i, (offer, output)
            in newest(order, income=900_000).items()
            if offer and offer["policy_id"] == "marginal_single_person_inclusion" and live(output)}


def test_an_allowance_judged_at_stays_in_hospital_is_due_from_the_earliest_qualifying_stay_in_any_order() -> None:
    in_their_days = _allowances((CUT, EARLIER_STAY, LATER_STAY))
    (due,) = [due for _, due in in_their_days.values()]
    assert due == dt.datetime(2026, 12, 9, tzinfo=dt.UTC), "240 hours from the end of the day the 26 Nov stay came"
    for order in itertools.permutations((CUT, EARLIER_STAY, LATER_STAY)):
        assert _allowances(order) == in_their_days, [e.id for e in order]


def test_an_earlier_stay_reported_after_the_allowance_went_out_moves_its_deadline() -> None:
    state = MATCHER.on_registry(None, registry(income=900_000), CATALOGUE, NOW).state
    for event in (CUT, LATER_STAY):
        assert state is not None
        state = MATCHER.on_event(state, event, CATALOGUE, NOW).state
    assert state is not None
    moved = [o for o in MATCHER.on_event(state, EARLIER_STAY, CATALOGUE, NOW).outputs
             if (o.value.get("offer") or {}).get("policy_id") == "marginal_single_person_inclusion"]
    assert [(o.value["change"], o.value["offer"]["amount_fen"] == o.value["offer"]["revision"]["previous_amount_fen"])
            for o in moved] == [("REVISED", True)]
    assert moved[0].value["reason"].startswith("Due date moved:")
