"""What casework tells the identity vault about a task, and how a refusal reads."""

from __future__ import annotations

from services.casework.disclosing import of_region, refusal_error, task_in_scope
from services.casework.domain.scope import staff
from services.casework.domain.tasks import CaseworkerTask, Progress, Status
from services.casework.domain.views import TaskPage
from services.casework.service import Conflict, Invalid, TaskNotFound
from services.vault.domain.disclosure import Refused, TaskInScope

TASK = CaseworkerTask("t-1", "VISIT", "h-1", None, "110105", 70, 0, 0, "", None, None, None, None, "{}")


def page(status: Status, holder: str = "", lease_until_ms: int = 0) -> TaskPage:
    return TaskPage(TASK, Progress(status, "110108", "d:110108", holder=holder, lease_until_ms=lease_until_ms), ())


def test_a_task_is_open_until_decided_or_withdrawn_and_held_only_while_its_lease_runs() -> None:
    assert task_in_scope(page(Status.CLAIMED, "alice", 2_000), 1_000) == TaskInScope(
        "t-1", "h-1", "110108", open=True, claimed_by="alice")
    assert task_in_scope(page(Status.CLAIMED, "alice", 500), 1_000).claimed_by is None
    assert task_in_scope(page(Status.QUEUED), 1_000).open
    for closed in (Status.APPROVED, Status.REJECTED, Status.WITHDRAWN):
        assert not task_in_scope(page(closed, "alice", 2_000), 1_000).open


def test_a_refusal_says_why_naming_the_field_with_the_status_that_fits() -> None:
    held = TaskInScope("t-1", "h-1", "110105", open=True, claimed_by="bob")
    error = refusal_error(Refused("task_id", "claim the task first"), held)
    assert isinstance(error, Conflict) and (error.code, error.field, error.holder) == ("not_holder", "task_id", "bob")
    assert str(error) == "task_id: claim the task first"
    closed = TaskInScope("t-1", "h-1", "110105", open=False, claimed_by=None)
    assert refusal_error(Refused("task_id", "the task is closed"), closed).code == "closed"
    assert isinstance(refusal_error(Refused("purpose", "choose"), held), Invalid)
    missing = refusal_error(Refused("household_id", "no details"), held)
    assert isinstance(missing, TaskNotFound) and missing.code == "no_details"


def test_the_staff_of_a_region_are_its_caseworkers_and_its_supervisors() -> None:
    sue = staff("sue", "supervisor", region="110000")
    roster = [staff("alice", "caseworker", ["110105"]), staff("carol", "caseworker", ["510107"]),
              staff("dan", "caseworker", ["510107", "110108"]), sue, staff("sam", "supervisor", region="510000")]
    assert [m.sub for m in of_region(sue, roster)] == ["alice", "dan", "sue"]
