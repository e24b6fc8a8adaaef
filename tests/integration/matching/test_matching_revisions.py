"""Per person, revisions and exit reviews through a real matching worker and broker: the new contract fields
(change, revision, review) travel as Avro on assist.offers and assist.tasks."""

from __future__ import annotations

import datetime as dt

import pytest

from services.core.codec import decode_record
from services.core.topics import OFFERS, TASKS
from tests.integration.matching.matching_harness import CONTRACT, event, household, member, publish
from tests.integration.matching.test_matching import ids, worker  # noqa: F401  (the worker fixture, used by name)


def task_of(record) -> dict:
    return decode_record(CONTRACT, "caseworker_task", record.value)


def income_changed(person: str, income: int):
    return event("income.changed", person, {"effective_on": dt.date.today() - dt.timedelta(days=2),
                                            "monthly_income_fen": income})


@pytest.mark.usefixtures("worker")
async def test_two_disabled_members_get_an_offer_each_and_a_pending_task_is_revised_then_reviewed(probe):
    offers, tasks = await probe(OFFERS.name), await probe(TASKS.name)
    couple, family, receiving = ids("h"), ids("h"), ids("h")
    a, b = ids("p"), ids("p")
    earner = ids("p")
    on_dibao = ids("p")
    await publish(registry=[
        household(couple, [member(a, "1950-03-01", grade=1), member(b, "1952-08-09", grade=1)]),
        household(family, [member(earner, "1985-04-02", 168_000), member(ids("p"), "1987-09-10"),
                           member(ids("p"), "2016-06-01")]),
        household(receiving, [member(on_dibao, "1980-01-01"), member(ids("p"), "1982-01-01")],
                  benefits=("subsistence_allowance",)),
    ])
    nursing = await offers.collect(lambda r: r.key == couple.encode() and b"severe_disability_nursing" in r.value, 2)
    decoded = [decode_record(CONTRACT, "offer", r.value) for r in nursing]
    assert sorted(o["person_id"] for o in decoded) == sorted([a, b])
    assert len({o["offer_id"] for o in decoded}) == 2

    [first] = await tasks.collect(lambda r: r.key == family.encode() and b"subsistence_allowance" in r.value, 1)
    first_task = task_of(first)
    assert first_task["offer"]["amount_fen"] == 72_000 and first_task["change"] == "NEW"
    await publish(events=[income_changed(earner, 0), income_changed(on_dibao, 600_000)])

    # One collect for both: the probe drops what its predicate does not want.
    found = await tasks.collect(lambda r: (r.key == family.encode() and task_of(r)["change"] == "REVISED")
                                or (r.key == receiving.encode() and task_of(r)["kind"] == "REVIEW"), 2, timeout=30)
    [task] = [task_of(r) for r in found if r.key == family.encode()]
    [review] = [task_of(r) for r in found if r.key == receiving.encode()]
    assert task["task_id"] == first_task["task_id"] and task["change"] == "REVISED"
    assert task["offer"]["amount_fen"] == 240_000
    assert task["offer"]["revision"]["number"] == 1 and task["offer"]["revision"]["previous_amount_fen"] == 72_000

    assert review["kind"] == "REVIEW" and review["review"]["policy_id"] == "subsistence_allowance"
    assert review["review"]["amount_fen"] == 160_000
    assert any("review threshold" in reason for reason in review["review"]["reasons"])
