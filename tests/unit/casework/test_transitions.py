"""How transitions move a task, and how its history folds back (the rebuild's rules)."""

from __future__ import annotations

import pytest

from services.casework.domain.replay import replay_task, transitions_by_task
from services.casework.domain.tasks import (
    Action,
    CaseworkerTask,
    InvalidCommand,
    Status,
    Transition,
    Verdict,
    check_reason,
    decision_id,
    history,
    received,
)

NOW = 1_795_000_000_000
TASK = CaseworkerTask("t-1", "VERIFY_ELIGIBILITY", "h-1", "p-1", "110105", 80, NOW + 3_600_000, NOW, "verify",
                      "o-1", "subsistence_allowance", "Subsistence allowance", 120_000, "{}")


def step(seq: int, action: Action, actor: str = "alice", **extra) -> Transition:
    return Transition(seq, action, actor, NOW + seq, extra.pop("district", "110105"),
                      decision_id=decision_id("t-1", action.value, seq), **extra)


def test_received_task_is_queued_in_its_district():
    progress = received(TASK)
    assert (progress.status, progress.queue, progress.seq) == (Status.QUEUED, "d:110105", 0)


def test_claim_then_approve_decides_the_task():
    progress = history(TASK, [step(1, Action.CLAIMED, lease_until_ms=NOW + 900_000), step(2, Action.APPROVED)])
    assert progress.status is Status.APPROVED and progress.status.decided
    assert (progress.holder, progress.decided_by, progress.decided_at_ms, progress.seq) == ("", "alice", NOW + 2, 2)


def test_expired_lease_returns_the_task_to_its_queue():
    progress = history(TASK, [step(1, Action.CLAIMED, lease_until_ms=NOW + 1), step(2, Action.LEASE_EXPIRED, "system")])
    assert (progress.status, progress.holder, progress.lease_until_ms, progress.claimed_at_ms) == (
        Status.QUEUED, "", 0, 0)


def test_information_request_returns_the_task_marked():
    progress = history(TASK, [step(1, Action.CLAIMED), step(2, Action.INFORMATION_REQUESTED, reason="payslips")])
    assert progress.status is Status.QUEUED and progress.info_requested_ms == NOW + 2


def test_escalation_moves_the_task_to_the_region_queue_and_reassignment_back():
    progress = history(TASK, [step(1, Action.ESCALATED, "system")])
    assert progress.queue == "r:110000" and progress.escalated
    progress = history(TASK, [step(1, Action.ESCALATED, "system"),
                              step(2, Action.REASSIGNED, "sue", district="110108", assignee="bob")])
    assert (progress.queue, progress.district, progress.assignee, progress.escalated) == (
        "d:110108", "110108", "bob", True)


def test_decision_ids_are_deterministic_per_transition():
    assert decision_id("t-1", "CLAIMED", 1) == decision_id("t-1", "CLAIMED", 1)
    assert decision_id("t-1", "CLAIMED", 1) != decision_id("t-1", "CLAIMED", 3)
    assert decision_id("t-1", "CLAIMED", 1) != decision_id("t-2", "CLAIMED", 1)


@pytest.mark.parametrize("verdict", [Verdict.REJECT, Verdict.REQUEST_INFORMATION])
def test_rejection_and_information_request_need_a_reason(verdict):
    with pytest.raises(InvalidCommand):
        check_reason(verdict, "   ")
    assert check_reason(verdict, " income above the line ") == "income above the line"


def test_approval_needs_no_reason_and_reasons_are_bounded():
    assert check_reason(Verdict.APPROVE, None) == ""
    with pytest.raises(InvalidCommand):
        check_reason(Verdict.REJECT, "x" * 2001)


def test_replay_counts_a_resent_decision_once_and_orders_by_sequence():
    claimed, approved = step(1, Action.CLAIMED), step(2, Action.APPROVED)
    steps = transitions_by_task([("t-1", approved), ("t-1", claimed), ("t-1", approved)])
    replayed = replay_task(TASK, steps["t-1"])
    assert replayed.consistent and [s.action for s in replayed.steps] == [Action.CLAIMED, Action.APPROVED]
    assert replayed.progress.status is Status.APPROVED


def test_replay_stops_at_a_gap_in_the_sequence():
    replayed = replay_task(TASK, [step(1, Action.CLAIMED), step(3, Action.APPROVED)])
    assert not replayed.consistent
    assert replayed.progress.status is Status.CLAIMED


def test_replay_names_every_queue_a_task_passed_through():
    replayed = replay_task(TASK, [step(1, Action.ESCALATED, "system"),
                                  step(2, Action.REASSIGNED, "sue", district="110108")])
    assert replayed.queues == {"d:110105", "r:110000", "d:110108"}
