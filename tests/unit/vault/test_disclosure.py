"""Identity details are shown only on an open task in scope, for a stated purpose, and only the fields it needs."""

from __future__ import annotations

import datetime as dt

import pytest

from services.vault.domain.disclosure import (
    BROWSING_MIN_HOUSEHOLDS,
    Disclosure,
    DisclosureRequest,
    Purpose,
    Refused,
    TaskInScope,
    decide,
    staff_figures,
    unexplained_share,
)

AT = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
TASK = TaskInScope("t-1", "h-1", "513433", open=True, claimed_by="cw-1")


def request(task: TaskInScope | None = TASK, purpose: str = "VISIT", actor: str = "cw-1",
            role: str = "CASEWORKER") -> DisclosureRequest:
    return DisclosureRequest(actor, role, task, purpose)


def test_a_visit_on_a_claimed_task_shows_name_address_and_phone_of_every_member_and_is_recorded():
    decided = decide(request(), ["p-2", "p-1", "p-2"], AT)
    assert isinstance(decided, Disclosure)
    assert decided.fields == ("name", "address", "phone")
    assert decided.person_ids == ("p-1", "p-2")
    assert (decided.actor, decided.task_id, decided.household_id, decided.district) == ("cw-1", "t-1", "h-1", "513433")
    record = decided.to_record()
    assert record["purpose"] == "VISIT" and record["fields"] == ["name", "address", "phone"]


@pytest.mark.parametrize("purpose, fields", [("VERIFY", ("name", "phone")),
                                             ("DELIVER_NOTICE", ("name", "address"))])
def test_each_purpose_shows_only_the_fields_it_needs(purpose, fields):
    decided = decide(request(purpose=purpose), ["p-1"], AT)
    assert isinstance(decided, Disclosure) and decided.fields == fields


@pytest.mark.parametrize("req, field, words", [
    (request(purpose="CURIOSITY"), "purpose", "choose why"),
    (request(purpose=""), "purpose", "VISIT, VERIFY, DELIVER_NOTICE"),
    (request(task=None), "task_id", "no such task in your scope"),
    (request(task=TaskInScope("t-1", "h-1", "513433", open=False, claimed_by="cw-1")), "task_id", "closed"),
    (request(task=TaskInScope("t-1", "h-1", "513433", open=True, claimed_by=None)), "task_id", "claim the task"),
    (request(task=TaskInScope("t-1", "h-1", "513433", open=True, claimed_by="cw-2")), "task_id", "claim the task"),
])
def test_a_disclosure_outside_the_rules_is_refused_naming_the_field(req, field, words):
    refused = decide(req, ["p-1"], AT)
    assert isinstance(refused, Refused) and refused.field == field and words in refused.reason


def test_a_supervisor_sees_details_on_an_open_task_of_the_region_without_claiming_it():
    decided = decide(request(task=TaskInScope("t-1", "h-1", "513433", True, None), actor="sv-1", role="SUPERVISOR"),
                     ["p-1"], AT)
    assert isinstance(decided, Disclosure) and decided.actor_role == "SUPERVISOR"


def test_a_household_the_vault_holds_nothing_for_is_refused():
    refused = decide(request(), [], AT)
    assert isinstance(refused, Refused) and refused.field == "household_id"


def test_disclosure_ids_differ_per_actor_task_purpose_and_time():
    ids = {decide(request(purpose=p), ["p-1"], AT + dt.timedelta(seconds=s)).disclosure_id  # type: ignore[union-attr]
           for p in ("VISIT", "VERIFY") for s in (0, 1)}
    assert len(ids) == 4


def test_the_unexplained_share_counts_opened_households_no_task_names():
    assert unexplained_share([], ["h-1"]) == 0.0
    assert unexplained_share(["h-1", "h-1", "h-2"], ["h-1"]) == 0.5
    assert unexplained_share(["h-1"], ["h-1", "h-9"]) == 0.0
    assert all(Purpose(p.value) is p for p in Purpose)


def test_staff_figures_count_disclosures_households_and_purposes_per_member_of_staff():
    made = [decide(request(task=TaskInScope(f"t-{i}", f"h-{i % 3}", "513433", True, "cw-1"),
                           purpose="VISIT" if i % 2 else "VERIFY"), ["p-1"], AT + dt.timedelta(seconds=i))
            for i in range(6)]
    made.append(decide(request(actor="sv-1", role="SUPERVISOR"), ["p-1"], AT))
    figures = staff_figures(d for d in made if isinstance(d, Disclosure))
    assert figures["cw-1"].disclosures == 6 and figures["cw-1"].households == {"h-0", "h-1", "h-2"}
    assert figures["cw-1"].by_purpose == {Purpose.VISIT: 3, Purpose.VERIFY: 3}
    assert figures["sv-1"].actor_role == "SUPERVISOR" and figures["sv-1"].disclosures == 1


def test_opening_many_households_the_work_does_not_explain_is_browsing():
    opened = [decide(request(task=TaskInScope(f"t-{i}", f"h-{i}", "513433", True, "cw-1")), ["p-1"], AT)
              for i in range(BROWSING_MIN_HOUSEHOLDS)]
    figures = staff_figures(d for d in opened if isinstance(d, Disclosure))["cw-1"]
    decided = [f"h-{i}" for i in range(BROWSING_MIN_HOUSEHOLDS // 2)]
    assert figures.browsing(decided[:-1])
    assert not figures.browsing(decided)  # half explained: not more than half unexplained
    few = staff_figures(d for d in opened[:BROWSING_MIN_HOUSEHOLDS - 1] if isinstance(d, Disclosure))["cw-1"]
    assert not few.browsing([])
