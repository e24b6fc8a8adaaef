"""Re-evaluating two catalogue versions policy by policy, sharing what did not change, gives exactly what
evaluating each version on its own gives."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from bench.catalogues import CATALOGUE as CATALOGUE_PATH
from bench.catalogues import raised_standard
from bench.synthetic_population import synthetic_population
from services.matching.domain.catalogue.policy_catalogue import PolicyCatalogue, load_catalogue
from services.matching.domain.household.vocabulary import REEVALUATION
from services.matching.domain.population.evaluation import evaluate_population, outcome_pairs

DAY = dt.date(2026, 7, 1)
TEXT = CATALOGUE_PATH.read_text(encoding="utf-8")
OLD = load_catalogue(TEXT, "demo")
RAISED = load_catalogue(raised_standard(TEXT, OLD, "510000", 0.085, DAY), "raised")
YOUNGER = load_catalogue(TEXT.replace("member.age >= 80", "member.age >= 75").replace(
    "household.lives_alone", "household.members <= 2"), "younger")
POLICIES = [p.id for p in OLD.policies_for(REEVALUATION)]


@pytest.mark.parametrize(("new", "later"), [(RAISED, 0), (YOUNGER, 0), (RAISED, 200)])
def test_outcome_pairs_equal_each_version_evaluated_alone(new: PolicyCatalogue, later: int) -> None:
    population = synthetic_population(30_000, seed=21, on_date=DAY)
    old_day, new_day = DAY, DAY + dt.timedelta(days=later)
    columns = population.as_columns(new_day)
    old_columns = columns if later == 0 else population.as_columns(old_day)
    alone_old = evaluate_population(OLD, population.as_columns(old_day), old_day, POLICIES)
    alone_new = evaluate_population(new, population.as_columns(new_day), new_day, POLICIES)
    differing = 0
    for policy_id, before, after in outcome_pairs(OLD, old_columns, old_day, new, columns, new_day, POLICIES):
        for ours, alone in ((before, alone_old[policy_id]), (after, alone_new[policy_id])):
            assert np.array_equal(ours.eligible, alone.eligible), policy_id
            assert np.array_equal(ours.amount_fen, alone.amount_fen), policy_id
            assert ours.review is not None and alone.review is not None
            assert np.array_equal(ours.review, alone.review), policy_id
        differing += int(not np.array_equal(before.eligible, after.eligible)
                         or not np.array_equal(before.amount_fen, after.amount_fen))
    assert differing  # the new version changes something, so the comparison is not vacuous
