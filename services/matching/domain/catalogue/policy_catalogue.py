"""The versioned policy catalogue: parameters, definitions and policies, indexed by what triggers them.

A catalogue is authored as YAML (policies/*.yaml) and published as a document string on a Kafka topic;
`load_catalogue(text, origin)` turns either into a PolicyCatalogue or raises CatalogueError listing every
problem, each as "origin:line policy <id>: <where>: <problem>".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import KeysView, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from services.matching.domain.catalogue.checks import check_catalogue
from services.matching.domain.catalogue.judgements import Judgements
from services.matching.domain.catalogue.labels import NO_WORDING, CatalogueWording
from services.matching.domain.catalogue.parameters import Number, Parameter
from services.matching.domain.catalogue.place_index import place_of
from services.matching.domain.catalogue.policy import Definition, Policy
from services.matching.domain.catalogue.reading import CatalogueReader, PolicyDraft
from services.matching.domain.household.vocabulary import DEFAULT_VOCABULARY, STATE_TRIGGERS, Vocabulary


class CatalogueError(ValueError):
    """A catalogue that cannot be used; `problems` lists all that is wrong with it, one line each."""

    def __init__(self, origin: str, problems: list[str]) -> None:
        super().__init__(f"{origin}: {len(problems)} problem(s):\n" + "\n".join(problems))
        self.origin = origin
        self.problems = tuple(problems)


@dataclass(frozen=True)
class PolicyCatalogue:
    """One version of a catalogue. Policies keep their catalogue order everywhere."""

    name: str
    version: str
    effective_from: dt.date
    parameters: Mapping[str, Parameter]
    definitions: Mapping[str, Definition]
    policies: tuple[Policy, ...]
    description: str = ""
    origin: str = ""
    wording: CatalogueWording = NO_WORDING
    """Place names and money names the labels of its explanations need."""
    _by_trigger: Mapping[str, tuple[Policy, ...]] = field(default_factory=dict, repr=False, compare=False)
    _by_id: Mapping[str, Policy] = field(default_factory=dict, repr=False, compare=False)
    _local: Mapping[tuple[str, str, str], tuple[Policy, ...]] = field(default_factory=dict, repr=False,
                                                                      compare=False)
    """(trigger, place fact, code) → the policies limited to that place; _by_trigger keeps the others."""
    _order: Mapping[str, int] = field(default_factory=dict, repr=False, compare=False)
    _followed: dict[tuple[str | None, str | None], tuple[Policy, ...]] = field(
        default_factory=dict, repr=False, compare=False)
    """followed() by (region, district), filled as households are evaluated."""
    judgements: Judgements = field(init=False, repr=False, compare=False)
    """Its policies' judgements by the facts they read (judgements.py), filled as households are evaluated."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "judgements", Judgements(self.parameters, self.definitions))

    @staticmethod
    def of(name: str, version: str, effective_from: dt.date, parameters: Mapping[str, Parameter],
           definitions: Mapping[str, Definition], policies: tuple[Policy, ...], description: str = "",
           origin: str = "", wording: CatalogueWording = NO_WORDING) -> PolicyCatalogue:
        by_trigger: dict[str, list[Policy]] = {}
        local: dict[tuple[str, str, str], list[Policy]] = {}
        for policy in policies:
            place = place_of(policy)
            for trigger in sorted(policy.triggers):
                if place is None:
                    by_trigger.setdefault(trigger, []).append(policy)
                else:
                    for code in sorted(place[1]):
                        local.setdefault((trigger, place[0], code), []).append(policy)
        return PolicyCatalogue(
            name, version, effective_from, MappingProxyType(dict(parameters)),
            MappingProxyType(dict(definitions)), policies, description, origin, wording,
            MappingProxyType({t: tuple(ps) for t, ps in by_trigger.items()}),
            MappingProxyType({p.id: p for p in policies}),
            MappingProxyType({k: tuple(ps) for k, ps in local.items()}),
            MappingProxyType({p.id: i for i, p in enumerate(policies)}))

    def policies_for(self, trigger: str, region: str | None = None, district: str | None = None
                     ) -> tuple[Policy, ...]:
        """The policies an event type (or 'registry' / 'reevaluation') can fire, in catalogue order; with a
        household's region and district, the local programmes of other places are left out (dictionary lookups).
        Without them, every policy of the trigger."""
        general = self._by_trigger.get(trigger, ())
        if region is None and district is None:
            places = [ps for (t, _, _), ps in self._local.items() if t == trigger]
        else:
            places = [self._local.get((trigger, "household.region", region or ""), ()),
                      self._local.get((trigger, "household.district", district or ""), ())]
        extra = [p for ps in places for p in ps]
        if not extra:
            return general
        chosen = {p.id: p for p in (*general, *extra)}
        return tuple(sorted(chosen.values(), key=lambda p: self._order[p.id]))

    def followed(self, region: str | None = None, district: str | None = None) -> tuple[Policy, ...]:
        """The policies decided on the household's state alone (Policy.follows_state), in catalogue order; with
        a region and district, those of other places are left out."""
        found = self._followed.get((region, district))
        if found is None:
            chosen = {p.id: p for t in sorted(STATE_TRIGGERS) for p in self.policies_for(t, region, district)
                      if p.follows_state}
            found = self._followed[(region, district)] = tuple(sorted(chosen.values(),
                                                                      key=lambda p: self._order[p.id]))
        return found

    def position(self, policy_id: str) -> int:
        """The policy's place in catalogue order."""
        return self._order[policy_id]

    def policy(self, policy_id: str) -> Policy:
        return self._by_id[policy_id]

    def policy_ids(self) -> KeysView[str]:
        """The ids of its policies (a view: read on every message, never copied)."""
        return self._by_id.keys()

    def resolve(self, name: str, region: str | None, urban: bool, on_date: dt.date) -> Number:
        """A parameter's value for a region, urban or rural, on a date."""
        return self.parameters[name].resolve(region, urban, on_date)


def load_catalogue(text: str, origin: str, vocabulary: Vocabulary = DEFAULT_VOCABULARY) -> PolicyCatalogue:
    """Parse and check a catalogue document; raises CatalogueError with every problem found."""
    reader = CatalogueReader(origin)
    draft = reader.read(text)
    if draft is None:
        raise CatalogueError(origin, reader.problems or [f"{origin}: not a catalogue"])
    reads = check_catalogue(draft, vocabulary, reader)
    if reader.problems:
        raise CatalogueError(origin, reader.problems)
    policies = tuple(_policy(d, reads[d.id]) for d in draft.policies)
    return PolicyCatalogue.of(draft.name, draft.version, draft.effective_from, draft.parameters,
                              draft.definitions, policies, draft.description, origin, draft.wording)


def _policy(draft: PolicyDraft, reads: tuple[str, ...]) -> Policy:
    return Policy(
        id=draft.id, name=draft.name, legal_basis=draft.legal_basis, tier=draft.tier, scope=draft.scope,
        triggers=frozenset(draft.triggers), conditions=draft.conditions, amount=draft.amount,
        amount_period=draft.amount_period, route=draft.route, priority=draft.priority, sla_hours=draft.sla_hours,
        benefit_period=draft.benefit_period, event_members=draft.event_members, district=draft.district,
        referral_need=draft.referral_need, description=draft.description, line=draft.line, reads=reads,
        review_when=draft.review_when, name_zh=draft.name_zh, amount_label=draft.amount_label)
