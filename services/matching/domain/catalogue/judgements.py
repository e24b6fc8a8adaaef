"""A policy's judgement is a function of the facts it reads: kept per catalogue, so an evaluation on facts seen
before (a member the event did not change, the same day of the dated history searched again, another household
with the same ages and grades) is looked up instead of computed.

A judgement is what the conditions, amount, district, referral need and review condition give; the parameters it
resolves depend on the household's region, urban flag and the evaluation's day, the definitions on the facts they
read, so the key is the policy, those three and the value of every fact the policy reads (following definitions).
What is rendered as text (review thresholds, explanations) is not kept: a value read as 1 or 1.0 judges the same
but reads differently. An evaluation that fails is never kept, so it fails again the same way.

Pure: a bounded dictionary of results of a pure function; the outcomes are the same with it or without it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from services.matching.domain.catalogue.checks import reads_of
from services.matching.domain.catalogue.policy import Definition, Policy

KEPT_MAX = 100_000
"""Judgements kept per catalogue at most (about 40 MB: 388 bytes each, measured); when full they are dropped and
kept again as they come."""
_NOT_SET = object()
"""A fact the scope does not have (an optional event fact, read as ABSENT): part of the key like any value."""


@dataclass(frozen=True)
class Judgement:
    """One policy's verdict in one scope, before anything is rendered as text."""

    holds: tuple[bool, ...]
    amount_fen: int | None
    district: str | None
    referral_need: str | None
    review: bool

    @property
    def eligible(self) -> bool:
        return all(self.holds)


@dataclass
class Judgements:
    """The judgements of one catalogue's policies, by the facts each read (see the module's docstring)."""

    parameters: Mapping[str, object]
    definitions: Mapping[str, Definition]
    _reads: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _kept: dict[tuple[Any, ...], Judgement] = field(default_factory=dict)

    def key(self, policy: Policy, scope: Mapping[str, Any], on_date: dt.date) -> tuple[Any, ...]:
        """What `policy`'s judgement in `scope` on `on_date` depends on."""
        reads = self._reads.get(policy.id)
        if reads is None:
            reads = self._reads[policy.id] = self._facts_read(policy)
        get = scope.get
        return (policy.id, on_date, get("household.region"), get("household.urban"),
                *[get(name, _NOT_SET) for name in reads])

    def recall(self, key: tuple[Any, ...]) -> Judgement | None:
        try:
            return self._kept.get(key)
        except TypeError:  # a fact value that cannot be a key: judged every time
            return None

    def keep(self, key: tuple[Any, ...], judgement: Judgement) -> None:
        if len(self._kept) >= KEPT_MAX:
            self._kept.clear()
        with contextlib.suppress(TypeError):  # as in recall
            self._kept[key] = judgement

    def _facts_read(self, policy: Policy) -> tuple[str, ...]:
        expressions = [c.expression for c in policy.conditions]
        expressions += [e for e in (policy.amount, policy.district, policy.referral_need, policy.review_when)
                        if e is not None]
        names = dict.fromkeys(name for e in expressions for name, _ in reads_of(e, self.definitions))
        return tuple(n for n in names if n not in self.parameters and n not in self.definitions)

