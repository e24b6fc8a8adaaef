"""What the task page calls matching's revisions: a reinstatement, a deadline moved (a warning's, which has no
offer, or an offer's revision that keeps its amount) or an amount revised."""

from __future__ import annotations

from dataclasses import replace

from services.casework.domain.revisions import Revision
from services.casework.domain.tasks import CaseworkerTask, received
from services.casework.domain.views import TaskPage

OFFER = CaseworkerTask(task_id="t-1", kind="VERIFY_ELIGIBILITY", household_id="h-1", person_id=None,
                       district="110105", priority=50, due_ms=2_000, created_ms=1_000, reason="Verify.",
                       offer_id="o-1", policy_id="subsistence_allowance", policy_name="Dibao", amount_fen=72_000,
                       body="{}")
WARNING = replace(OFFER, kind="VISIT", offer_id=None, policy_id=None, policy_name=None, amount_fen=None)


def revised(number: int, change: str = "REVISED", previous: int | None = 72_000, amount: int | None = 72_000
            ) -> Revision:
    return Revision(change=change, number=number, at_ms=3_000 + number, reason=f"{change} {number}",
                    previous_amount_fen=previous, amount_fen=amount)


def page(task: CaseworkerTask, *revisions: Revision) -> TaskPage:
    return TaskPage(task, received(task), (), revisions)


def test_a_warning_revised_moves_its_deadline_and_its_withdrawal_is_a_withdrawal():
    assert page(WARNING, revised(1, previous=None, amount=None), revised(2, "WITHDRAWN", None, None)
                ).deadline_moves == {1}


def test_an_offer_revised_with_its_amount_kept_moves_its_deadline_but_a_new_amount_or_a_reinstatement_does_not():
    shown = page(OFFER, revised(1), revised(2, amount=80_000), revised(3, "WITHDRAWN", 80_000, None),
                 revised(4, previous=None, amount=80_000), revised(5, previous=80_000, amount=80_000))
    assert shown.deadline_moves == {1, 5} and shown.reinstatements == {4}
