"""The stream path against a second implementation: random households and histories go through the Matcher
message by message (decisions and a rising standard included); the open offers, tasks, reviews and received
benefits per (beneficiary, policy, amount) must be what the vectorised evaluation of the final states says.

bench/oracle.py holds both sides and the comparison; here hypothesis draws the households and shrinks any
disagreement to a minimal one (printed as the falsifying example). `./run bench oracle` runs 100,000.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.oracle import (
    CATALOGUE,
    KINDS,
    REGIONS,
    REGISTRY_BENEFITS,
    Household,
    Person,
    Scenario,
    Step,
    check,
    disagreements,
    play,
    start,
)

INCOMES = st.sampled_from((0, 10_000, 40_000, 60_000, 79_999, 80_000, 88_000, 100_000, 120_000, 150_000, 300_000))
people = st.builds(Person, st.dates(dt.date(1930, 1, 1), dt.date(2024, 12, 31)), INCOMES,
                   st.sampled_from((None, None, 1, 2, 3, 4)))
households = st.builds(
    Household, st.sampled_from(REGIONS), st.booleans(), st.sampled_from((0, 200_000, 3_000_000)),
    st.lists(people, min_size=1, max_size=4).map(tuple),
    st.lists(st.sampled_from(REGISTRY_BENEFITS), max_size=2, unique=True).map(tuple))
steps = st.builds(Step, st.sampled_from(KINDS), st.integers(0, 4),
                  st.one_of(INCOMES, st.integers(0, 400_000)))
scenarios = st.builds(Scenario, households, st.lists(steps, max_size=8).map(tuple),
                      st.lists(steps, max_size=4).map(tuple))


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(st.lists(scenarios, min_size=1, max_size=6), st.booleans())
def test_stream_path_agrees_with_the_vectorised_evaluation_of_the_final_state(population: list[Scenario],
                                                                                rise: bool) -> None:
    figures = check(population, rise)
    assert not figures.disagreements, "\n".join(figures.disagreements)


def test_the_oracle_sees_an_offer_whose_amount_differs_from_the_vectorised_one() -> None:
    """The comparison itself: a pending allowance with another amount than the columns say is a disagreement."""
    family = Household("510000", True, 0, (Person(dt.date(1985, 4, 2), 100_000, None),
                                           Person(dt.date(1987, 9, 10), 0, None)))
    run = start("h0", family, CATALOGUE)
    play(run, (Step("income", 0, 40_000),), CATALOGUE)
    assert disagreements([run], CATALOGUE) == []
    key = ("h0", "subsistence_allowance")
    offer_id, task_id, amount = run.view.open[key]
    assert amount == 120_000  # (80,000 - 20,000) x 2 after the income change
    run.view.open[key] = (offer_id, task_id, 100_000)
    [found] = disagreements([run], CATALOGUE)
    assert "vectorised eligible=True amount=120000" in found and "offers amount 100000" in found
