"""The rule for a task's publications: the highest revision number stands, a withdrawal ends the chain, an older
or repeated publication changes nothing; the first publication keeps the district and creation time."""

from __future__ import annotations

from dataclasses import replace

from services.casework.domain.revisions import Revision, fold, next_number, withdrawn
from services.casework.domain.tasks import CaseworkerTask, Progress, Status

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


def test_only_a_higher_number_supersedes_and_nothing_follows_a_withdrawal():
    assert next_number(1, False, revision(2)) == 2
    assert next_number(2, False, revision(1)) is None
    assert next_number(2, False, revision(2)) is None
    assert next_number(0, False, None) is None
    assert next_number(1, True, revision(5)) is None
    assert next_number(4, False, revision(None, "WITHDRAWN")) == 5


def test_publications_out_of_order_and_repeated_fold_to_the_highest_revision():
    folded = fold([TASK, published(2, priority=90), published(1), TASK, published(2)])["t-1"]
    assert folded.number == 2 and [n for n, _ in folded.revisions] == [2]
    assert folded.task.priority == 90
    assert (folded.task.district, folded.task.created_ms) == ("110105", 1_000)  # from the first publication
    assert not folded.withdrawn


def test_a_withdrawal_ends_the_chain():
    folded = fold([TASK, published(1, "WITHDRAWN"), published(2), TASK])["t-1"]
    assert folded.withdrawn and [r.change for _, r in folded.revisions] == ["WITHDRAWN"]


def test_withdrawing_an_open_task_ends_its_claim_but_a_decided_one_stays_decided():
    claimed = Progress(Status.CLAIMED, "110105", "d:110105", holder="alice", lease_until_ms=9, claimed_at_ms=3)
    out = withdrawn(claimed)
    assert (out.status, out.holder, out.lease_until_ms, out.claimed_at_ms) == (Status.WITHDRAWN, "", 0, 0)
    assert out.status.closed and not out.status.decided
    approved = replace(claimed, status=Status.APPROVED, holder="")
    assert withdrawn(approved) == approved
