"""The rule for a task's publications: the highest revision number stands, a withdrawal closes the chain and a later
publication that is not a withdrawal and has a higher number reopens it (a reinstatement), an older or repeated
publication changes nothing; the first publication keeps the district and creation time."""

from __future__ import annotations

from dataclasses import replace

from services.casework.domain.revisions import (
    REINSTATEMENT_RELEASER,
    Revision,
    changes_what_it_says,
    fold,
    fold_one,
    holders_at_withdrawals,
    next_number,
    withdrawn,
)
from services.casework.domain.tasks import Action, CaseworkerTask, Progress, Status, Transition, history

TASK = CaseworkerTask(task_id="t-1", kind="VERIFY_ELIGIBILITY", household_id="h-1", person_id=None,
                      district="110105", priority=50, due_ms=2_000, created_ms=1_000, reason="Verify.",
                      offer_id="o-1", policy_id="subsistence_allowance", policy_name="Dibao", amount_fen=72_000,
                      body="{}")


def revision(number: int | None, change: str = "REVISED", amount: int | None = 100_000) -> Revision:
    return Revision(change=change, number=number, at_ms=5_000 + (number or 0), reason=f"{change} {number}",
                    amount_fen=amount)


def published(number: int | None, change: str = "REVISED", **fields: object) -> CaseworkerTask:
    return replace(TASK, revision=revision(number, change), created_ms=9_000, district="110108", **fields)


def test_a_new_task_takes_number_zero_and_a_first_seen_revision_its_own_number():
    assert next_number(None, False, None) == 0
    assert next_number(None, False, revision(3)) == 3
    assert next_number(None, False, revision(None, "WITHDRAWN")) == 1


def test_only_a_higher_number_supersedes():
    assert next_number(1, False, revision(2)) == 2
    assert next_number(2, False, revision(1)) is None
    assert next_number(2, False, revision(2)) is None
    assert next_number(0, False, None) is None
    assert next_number(4, False, revision(None, "WITHDRAWN")) == 5


def test_after_a_withdrawal_only_a_higher_numbered_publication_that_is_not_a_withdrawal_reopens_the_chain():
    assert next_number(1, True, revision(5)) == 5  # a reinstatement
    assert next_number(3, True, revision(3)) is None  # equal
    assert next_number(3, True, revision(2)) is None  # older
    assert next_number(1, True, revision(5, "WITHDRAWN")) is None  # a withdrawal after a withdrawal
    assert next_number(1, True, revision(None, "WITHDRAWN")) is None
    assert next_number(1, True, None) is None  # NEW


def test_publications_out_of_order_and_repeated_fold_to_the_highest_revision():
    folded = fold([TASK, published(2, priority=90), published(1), TASK, published(2)])["t-1"]
    assert folded.number == 2 and [n for n, _ in folded.revisions] == [2]
    assert folded.task.priority == 90
    assert (folded.task.district, folded.task.created_ms) == ("110105", 1_000)  # from the first publication
    assert not folded.withdrawn


def test_a_withdrawal_closes_the_chain_against_withdrawals_new_and_older_or_equal_numbers():
    folded = fold([TASK, published(2, "WITHDRAWN"), published(3, "WITHDRAWN"), published(1), published(2), TASK,
                   published(None, "WITHDRAWN")])["t-1"]
    assert folded.withdrawn and [(n, r.change) for n, r in folded.revisions] == [(2, "WITHDRAWN")]


def test_a_higher_revision_after_a_withdrawal_reinstates_the_task_and_a_later_withdrawal_closes_it_again():
    reinstated = fold([TASK, published(1, "WITHDRAWN"), published(2, priority=80), TASK])["t-1"]
    assert not reinstated.withdrawn and reinstated.number == 2
    assert [(n, r.change) for n, r in reinstated.revisions] == [(1, "WITHDRAWN"), (2, "REVISED")]
    assert reinstated.task.priority == 80 and reinstated.task.district == "110105"
    again = fold([TASK, published(1, "WITHDRAWN"), published(2), published(3, "WITHDRAWN"), published(3),
                  published(4, "WITHDRAWN")])["t-1"]
    assert again.withdrawn and [(n, r.change) for n, r in again.revisions] == [
        (1, "WITHDRAWN"), (2, "REVISED"), (3, "WITHDRAWN")]


def test_withdrawing_an_open_task_ends_its_claim_but_a_decided_one_stays_decided():
    claimed = Progress(Status.CLAIMED, "110105", "d:110105", holder="alice", lease_until_ms=9, claimed_at_ms=3)
    out = withdrawn(claimed)
    assert (out.status, out.holder, out.lease_until_ms, out.claimed_at_ms) == (Status.WITHDRAWN, "", 0, 0)
    assert out.status.closed and not out.status.decided
    approved = replace(claimed, status=Status.APPROVED, holder="")
    assert withdrawn(approved) == approved


def step(seq: int, action: Action, actor: str, at_ms: int, reason: str = "") -> Transition:
    return Transition(seq=seq, action=action, actor=actor, at_ms=at_ms, district="110105", reason=reason,
                      lease_until_ms=at_ms + 30_000 if action is Action.CLAIMED else 0)


def test_a_claim_ended_by_a_withdrawal_is_released_at_the_reinstatement_and_each_withdrawal_keeps_its_holder():
    withdrawal, offered, withdrawal_again = published(1, "WITHDRAWN"), published(2), published(3, "WITHDRAWN")
    assert offered.revision is not None
    steps = [step(1, Action.CLAIMED, "alice", 4_000),
             step(2, Action.UNCLAIMED, REINSTATEMENT_RELEASER, offered.revision.at_ms, "Withdrawn."),
             step(3, Action.CLAIMED, "bob", 6_000)]
    folded = fold([TASK, withdrawal, offered, withdrawal_again])["t-1"]
    assert holders_at_withdrawals(folded, steps) == {1: "alice", 3: "bob"}
    reinstated = fold([TASK, withdrawal, offered])["t-1"]
    progress = history(reinstated.task, steps[:2])
    assert (progress.status, progress.holder, progress.lease_until_ms) == (Status.QUEUED, "", 0)
    assert holders_at_withdrawals(reinstated, steps[:2]) == {1: "alice"}
    # A task queued when withdrawn has no release at its reinstatement: nobody held it.
    assert holders_at_withdrawals(reinstated, [step(1, Action.CLAIMED, "bob", 6_000)]) == {1: ""}


WARNING = replace(TASK, task_id="t-w", kind="VISIT", offer_id=None, policy_id=None, policy_name=None,
                  amount_fen=None, reason="Visit: the household's risk score reached tier red.")


def moved(due_ms: int, priority: int = 50) -> CaseworkerTask:
    """The warning published again by matching when a report dated earlier arrived late: REVISED, no number."""
    return replace(WARNING, due_ms=due_ms, priority=priority, created_ms=9_000,
                   reason=f"Due date moved: the score reached tier red earlier. {WARNING.reason}",
                   revision=Revision(change="REVISED", number=None, at_ms=6_000 + due_ms,
                                     reason="Due date moved: the score reached tier red earlier."))


def test_a_warning_revised_without_a_number_is_applied_as_the_next_number_only_when_it_changes_the_task():
    first = moved(1_500)
    folded = fold([WARNING, first])
    assert folded["t-w"].number == 1 and [n for n, _ in folded["t-w"].revisions] == [1]
    assert folded["t-w"].task.due_ms == 1_500 and folded["t-w"].task.created_ms == 1_000
    assert next_number(1, False, first.revision, changes_task=False) is None  # the same record read again
    fold_one(folded, first)
    assert folded["t-w"].number == 1 and len(folded["t-w"].revisions) == 1
    fold_one(folded, moved(1_200, priority=80))  # another due date: applied
    assert folded["t-w"].number == 2 and [n for n, _ in folded["t-w"].revisions] == [1, 2]
    assert (folded["t-w"].task.due_ms, folded["t-w"].task.priority) == (1_200, 80)
    fold_one(folded, first)  # not equal to what stands: matching says the first due date again
    assert folded["t-w"].number == 3 and folded["t-w"].task.due_ms == 1_500


def test_a_warning_revision_equal_to_what_stands_changes_nothing_and_its_reason_alone_is_a_change():
    same = replace(WARNING, created_ms=9_000, revision=Revision(change="REVISED", number=None, at_ms=7_000,
                                                                reason=WARNING.reason))
    assert fold([WARNING, same])["t-w"].number == 0 and not fold([WARNING, same])["t-w"].revisions
    reworded = replace(same, reason="Due date moved: one report arrived late.")
    assert fold([WARNING, reworded])["t-w"].number == 1
    assert changes_what_it_says(WARNING, reworded) and not changes_what_it_says(WARNING, same)


def test_a_revision_without_a_number_does_not_reopen_a_withdrawn_task_but_a_withdrawal_without_one_still_closes():
    assert next_number(4, False, revision(None, "WITHDRAWN"), changes_task=False) == 5
    assert next_number(2, True, moved(1_500).revision) is None
    folded = fold([WARNING, replace(WARNING, revision=revision(None, "WITHDRAWN")), moved(1_500)])
    assert folded["t-w"].withdrawn and folded["t-w"].number == 1
