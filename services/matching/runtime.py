"""What matching's agents share in one worker: the Matcher, the catalogue versions, the population mirror, and
the two background duties (following the catalogue topic, re-evaluating the population when rules change)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from services.core.codec import Contract, jsonable
from services.core.process import Health
from services.core.progress_report import logged_progress
from services.matching.domain.catalogue.policy import Scope
from services.matching.domain.catalogue.policy_catalogue import PolicyCatalogue
from services.matching.domain.evaluation import explain
from services.matching.domain.household.facts import household_facts, member_facts
from services.matching.domain.household.state import HouseholdState, from_dict
from services.matching.domain.household.vocabulary import REEVALUATION
from services.matching.domain.population.columns import PopulationColumns
from services.matching.domain.population.evaluation import PopulationOutcome, changed_households, outcome_pairs
from services.matching.handler import Matcher
from services.matching.metrics import MatchingMetrics
from services.matching.ports import CatalogueSource, HouseholdStore
from services.matching.versions import CatalogueVersions

log = logging.getLogger(__name__)
SendReevaluation = Callable[[str, str], Awaitable[None]]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class MatchingRuntime:
    matcher: Matcher
    contract: Contract
    metrics: MatchingMetrics
    feed: CatalogueSource
    households: HouseholdStore
    """Where the household agent stores each household: read to rebuild the population mirror."""
    now: Callable[[], dt.datetime] = utc_now
    versions: CatalogueVersions = field(default_factory=CatalogueVersions)
    catalogue_ready: asyncio.Event = field(default_factory=asyncio.Event)
    health: Health = field(default_factory=Health)
    """What the worker's /healthz answers: failing once an agent or the catalogue feed died."""
    _population: PopulationColumns | None = None
    _evaluated: tuple[str, dt.date] | None = None
    """Catalogue version and day the population was last evaluated under."""

    # ---- the population mirror -------------------------------------------------------------------------------

    def population_changed(self, state: HouseholdState) -> None:
        if self._population is not None:
            self._population.upsert(state, self.now().date())

    def partitions_revoked(self, *args: Any, **kwargs: Any) -> None:
        self._population = None  # rebuilt from the table for the partitions this worker holds next

    def population(self) -> PopulationColumns:
        if self._population is None:
            today = self.now().date()
            states = [from_dict(raw["state"]) for raw in self.households.stored()]
            self._population = PopulationColumns.build(states, today)
        self.metrics.monitored.set(self._population.persons)
        return self._population

    def explain(self, state: HouseholdState | None) -> dict[str, Any]:
        """Every policy, eligible or not, with its explanation, for the household today."""
        today = self.now().date()
        catalogue = self.versions.active(today)
        if state is None or catalogue is None:
            return {"error": "no household known for this person" if catalogue else "no catalogue decides today"}
        outcomes = explain(catalogue, household_facts(state, today), member_facts(state, today), today)
        return {"household_id": state.household_id, "catalogue": catalogue.name, "version": catalogue.version,
                "on": today.isoformat(), "outcomes": [jsonable(o.as_json()) for o in outcomes]}

    # ---- the catalogue ----------------------------------------------------------------------------------------

    async def follow_catalogue(self, send: SendReevaluation) -> None:
        """Adopt every catalogue version published on assist.policies, for as long as the worker runs."""
        async for catalogue in self.feed.versions():
            if self.versions.adopt(catalogue):
                log.info("catalogue %s version %s adopted (effective %s)", catalogue.name, catalogue.version,
                         catalogue.effective_from)
            deciding = self.versions.active(self.now().date())
            if deciding is not None and not self.catalogue_ready.is_set():
                self._evaluated = self._deciding_today()
                self.catalogue_ready.set()
            if deciding is not None:
                self.metrics.catalogue.clear()
                self.metrics.catalogue.labels(deciding.name, deciding.version).set(1)
            await self.reevaluate_if_due(send)

    def _deciding_today(self) -> tuple[str, dt.date] | None:
        today = self.now().date()
        catalogue = self.versions.active(today)
        return (catalogue.version, today) if catalogue else None

    async def reevaluate_if_due(self, send: SendReevaluation) -> None:
        """Re-evaluate when the deciding version changed, or a dated parameter took effect, since last time."""
        current = self._deciding_today()
        if current is None or self._evaluated is None or current == self._evaluated:
            return
        before_version, before_day = self._evaluated
        changed = before_version != current[0] or any(
            before_day < d <= current[1] for d in self.versions.change_dates())
        if changed:
            old = self.versions.by_version(before_version)
            new = self.versions.active(current[1])
            assert new is not None
            await self.reevaluate(old, before_day, new, current[1], send)
        self._evaluated = current

    async def reevaluate(self, old: PolicyCatalogue, old_day: dt.date, new: PolicyCatalogue, new_day: dt.date,
                         send: SendReevaluation) -> dict[str, int]:
        """Find households whose outcome differs between `old` and `new` (columns, vectorised): newly eligible,
        no longer eligible, or with a new amount, and send each a re-evaluation command; the household agent then
        offers, revises or reviews with a full explanation. Returns the newly eligible per policy."""
        started = time.perf_counter()
        self.metrics.reevaluation_progress.set(0)
        population = self.population()
        policies = [p.id for p in new.policies_for(REEVALUATION) if p.id in old.policy_ids()]
        columns = population.as_columns(new_day)
        old_columns = columns if old_day == new_day else population.as_columns(old_day)
        member_household = columns.get("member.household")
        newly: dict[str, int] = {}
        changed = [np.zeros(0, dtype=np.int64)]
        for policy_id, before, after in outcome_pairs(old, old_columns, old_day, new, columns, new_day, policies):
            rows = newly_eligible_households(before, after, member_household)
            newly[policy_id] = int(rows.size)
            self.metrics.newly_eligible.labels(policy_id).inc(int(rows.size))
            changed.append(changed_households(before, after, member_household))
        # Ids decoded for the changed households only, before the first await lets the population change.
        ids = population.household_ids(np.unique(np.concatenate(changed)))
        elapsed = time.perf_counter() - started
        log.info("re-evaluated %d households (%d persons) for %s %s → %s in %.2f s: %s", len(population),
                 population.persons, new.name, old.version, new.version, elapsed,
                 ", ".join(f"{p} +{n}" for p, n in newly.items() if n) or "nobody newly eligible")
        total = len(ids)
        with logged_progress(f"re-evaluation commands for {new.name} {new.version}", total, "households",
                             log) as progress:
            for done, household_id in enumerate(ids, 1):
                await send(household_id, new.version)
                progress.advance()
                if done % 1000 == 0:
                    self.metrics.reevaluation_progress.set(done / total)
        self.metrics.reevaluation_progress.set(1)
        self.metrics.reevaluation_seconds.observe(time.perf_counter() - started)
        return newly


def newly_eligible_households(before: PopulationOutcome, after: PopulationOutcome,
                              member_household: np.ndarray[Any, Any] | None) -> np.ndarray[Any, Any]:
    """Household rows eligible after but not before (for member-scope policies: with such a member)."""
    newly = after.eligible & ~before.eligible
    if after.scope == Scope.MEMBER and member_household is not None:
        return np.unique(member_household[newly])
    return np.flatnonzero(newly)
