"""Outcome figures folded from the records: each offer counted once, what became of it, the times, warnings."""

from __future__ import annotations

from services.outcomes.domain.figures import DecisionSeen, EventSeen, OfferSeen, TaskSeen, outcomes, totals

S = 1000  # ms


def offer(offer_id: str, policy: str = "subsistence_allowance", trigger: str | None = "e-1", at: int = 100 * S,
          change: str = "NEW", district: str = "513433") -> OfferSeen:
    return OfferSeen(offer_id, policy, district, at, trigger, change)


def test_offers_are_counted_once_under_their_policy_trigger_type_and_district_with_what_became_of_them():
    offers = [offer("o-1"), offer("o-1", change="REVISED"), offer("o-2"), offer("o-3"),
              offer("o-3", change="WITHDRAWN"), offer("o-4", trigger=None)]
    verified = offer("o-5", policy="medical_assistance", trigger="e-2", at=50 * S)
    tasks = [TaskSeen("t-5", "513433", 50 * S, None, verified), TaskSeen("t-5", "513433", 60 * S, None, verified,
                                                                         "REVISED")]
    decisions = [DecisionSeen("ACCEPTED", None, "o-1", 160 * S), DecisionSeen("ACCEPTED", None, "o-1", 170 * S),
                 DecisionSeen("DECLINED", None, "o-2", 400 * S), DecisionSeen("CLAIMED", "t-5", None, 70 * S),
                 DecisionSeen("APPROVED", "t-5", None, 3650 * S)]
    events = [EventSeen("e-1", "job.lost", 40 * S), EventSeen("e-2", "hospitalisation.discharged", 20 * S)]
    result = outcomes(offers, tasks, decisions, events)
    job = result.rows[("subsistence_allowance", "job.lost", "513433")]
    assert job.made == 3
    assert job.counts == {"accepted": 1, "declined": 1, "approved": 0, "rejected": 0, "withdrawn": 1}
    assert job.median_event_to_offer_s == 60.0
    assert job.median_offer_to_decision_s == (60.0 + 300.0) / 2  # the repeated acceptance counts once
    assert result.rows[("subsistence_allowance", "reevaluation", "513433")].made == 1
    medical = result.rows[("medical_assistance", "hospitalisation.discharged", "513433")]
    assert (medical.made, medical.counts["approved"], medical.median_offer_to_decision_s) == (1, 1, 3600.0)
    assert medical.median_event_to_offer_s == 30.0
    by_policy = totals(result, 0)
    assert by_policy["subsistence_allowance"].made == 4 and by_policy["medical_assistance"].made == 1


def test_warnings_raised_and_confirmed_by_a_visit_per_district():
    tasks = [TaskSeen("w-1", "513433", 0, "red", None), TaskSeen("w-2", "513433", 0, "orange", None),
             TaskSeen("w-3", "513433", 0, "yellow", None), TaskSeen("w-4", "110105", 0, "red", None),
             TaskSeen("w-1", "513433", 0, "red", None, "REVISED")]
    decisions = [DecisionSeen("APPROVED", "w-1", None, 0), DecisionSeen("APPROVED", "w-1", None, 0),
                 DecisionSeen("REJECTED", "w-2", None, 0), DecisionSeen("APPROVED", "w-4", None, 0)]
    result = outcomes([], tasks, decisions, [])
    mianning = result.warnings["513433"]
    assert (mianning.raised, mianning.confirmed, mianning.rejected) == (3, 1, 1)
    assert mianning.confirmed_share == 0.5
    everywhere = result.all_warnings
    assert (everywhere.raised, everywhere.confirmed) == (4, 2)
    assert outcomes([], [], [], []).all_warnings.confirmed_share is None


def test_an_offer_whose_trigger_event_was_not_read_is_counted_under_unknown():
    result = outcomes([offer("o-9", trigger="e-missing")], [], [], [])
    assert result.rows[("subsistence_allowance", "unknown", "513433")].median_event_to_offer_s is None


def test_an_offer_withdrawn_and_then_reinstated_is_not_counted_as_withdrawn():
    offers = [offer("o-1"), offer("o-1", change="WITHDRAWN"), offer("o-1", change="REVISED"),
              offer("o-2"), offer("o-2", change="WITHDRAWN")]
    verified = offer("o-5", at=50 * S)
    tasks = [TaskSeen("t-5", "513433", 50 * S, None, verified),
             TaskSeen("t-5", "513433", 60 * S, None, verified, "WITHDRAWN"),
             TaskSeen("t-5", "513433", 70 * S, None, verified, "REVISED")]
    row = outcomes(offers, tasks, [], [EventSeen("e-1", "job.lost", 40 * S)]).rows[
        ("subsistence_allowance", "job.lost", "513433")]
    assert (row.made, row.counts["withdrawn"]) == (3, 1)
