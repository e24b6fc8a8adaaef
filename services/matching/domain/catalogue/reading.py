"""Reading a catalogue document: structure, parameters, definitions and policies, every problem with its line.

Name checking (which facts, parameters and definitions exist, what each policy may read) is in
catalogue_checks; this module turns YAML into the catalogue's values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TypeVar

import yaml

from services.matching.domain.catalogue.labels import LANGUAGES, NO_WORDING, CatalogueWording, Label
from services.matching.domain.catalogue.parameter_reading import identifier, parameters_declared, read_parameters
from services.matching.domain.catalogue.parameters import Parameter
from services.matching.domain.catalogue.policy import (
    TIERS,
    AmountPeriod,
    BenefitPeriod,
    Condition,
    Definition,
    EventMembers,
    Route,
    Scope,
)
from services.matching.domain.catalogue.yaml_document import DocumentReader, line_of
from services.matching.domain.policy_language.expressions import Expression, ExpressionError, compile_expression

T = TypeVar("T")

_TOP_REQUIRED = ("catalogue", "version", "effective_from", "policies")
_TOP_OPTIONAL = ("description", "parameters", "definitions", "places", "money")
_POLICY_REQUIRED = ("id", "name", "legal_basis", "tier", "scope", "triggers", "conditions", "amount_period",
                    "route", "priority", "sla_hours", "benefit_period")
_POLICY_OPTIONAL = ("amount", "description", "district", "referral_need", "event_members", "review_when", "name_zh",
                    "amount_label")


@dataclass(frozen=True)
class PolicyDraft:
    """A policy as read, before its names are checked against the vocabulary and the catalogue."""

    id: str
    name: str
    legal_basis: str
    tier: str
    scope: Scope
    triggers: tuple[str, ...]
    conditions: tuple[Condition, ...]
    amount: Expression | None
    amount_line: int
    amount_period: AmountPeriod
    route: Route
    priority: int
    sla_hours: int
    benefit_period: BenefitPeriod
    event_members: EventMembers
    district: Expression | None
    district_line: int
    referral_need: Expression | None
    referral_line: int
    description: str
    line: int
    review_when: Expression | None = None
    review_line: int = 0
    name_zh: str = ""
    amount_label: Label | None = None


@dataclass(frozen=True)
class CatalogueDraft:
    name: str
    version: str
    effective_from: dt.date
    description: str
    parameters: dict[str, Parameter]
    definitions: dict[str, Definition]
    policies: list[PolicyDraft]
    declared: frozenset[str]
    """Every parameter and definition name, also those whose value has a problem (so uses of them do not add
    'unknown name' problems)."""
    wording: CatalogueWording = NO_WORDING
    money_line: int = 0


class CatalogueReader(DocumentReader):
    """Reads one catalogue document; `problems` holds everything wrong with it."""

    def __init__(self, origin: str) -> None:
        super().__init__(origin)
        self._declared: set[str] = set()

    def read(self, text: str) -> CatalogueDraft | None:
        root = self.compose(text)
        if root is None:
            return None
        top = self.mapping(root, "catalogue", _TOP_REQUIRED, _TOP_OPTIONAL)
        if top is None:
            return None
        name = self.text(top["catalogue"], "catalogue") if "catalogue" in top else None
        version = self.text(top["version"], "version") if "version" in top else None
        effective_from = self.date(top["effective_from"], "effective_from") if "effective_from" in top else None
        description = self.text(top["description"], "description") if "description" in top else ""
        parameters = read_parameters(self, top["parameters"], effective_from) if "parameters" in top else {}
        self._declared.update(parameters_declared(top.get("parameters")))
        definitions = self._definitions(top["definitions"], parameters) if "definitions" in top else {}
        policies = self._policies(top["policies"]) if "policies" in top else []
        wording = CatalogueWording(self._places(top["places"]) if "places" in top else {},
                                   self._money(top["money"]) if "money" in top else frozenset())
        if name is None or version is None or effective_from is None:
            return None
        return CatalogueDraft(name, version, effective_from, description or "", parameters, definitions, policies,
                              frozenset(self._declared), wording, line_of(top["money"]) if "money" in top else 0)

    def label(self, node: yaml.Node, context: str) -> Label | None:
        """A label: its text per language; a language left out reads as empty (the checks name it)."""
        fields = self.mapping(node, context, (), LANGUAGES)
        if fields is None:
            return None
        texts = {lang: self.text(fields[lang], f"{context} ({lang})") if lang in fields else "" for lang in LANGUAGES}
        return Label((texts["zh-CN"] or "").strip(), (texts["en"] or "").strip())

    def _places(self, node: yaml.Node) -> dict[str, Label]:
        """Division codes (county, district or region) and their names in each language."""
        if self.mapping(node, "places") is None:
            return {}
        places: dict[str, Label] = {}
        for key_node, value_node in node.value:
            code = str(key_node.value)
            found = self.label(value_node, f"places {code}")
            if found is not None and (not found.zh_cn or not found.en):
                self.problem(value_node, f"places {code}", "a place needs its name in zh-CN and en")
            elif found is not None:
                places[code] = found
        return places

    def _money(self, node: yaml.Node) -> frozenset[str]:
        items = self.sequence(node, "money")
        names = [self.text(item, "money") for item in items or []]
        return frozenset(n for n in names if n is not None)

    def expression(self, node: yaml.Node, context: str) -> Expression | None:
        source = self.text(node, context)
        if source is None:
            return None
        try:
            return compile_expression(source)
        except ExpressionError as error:
            self.problem(node, context, f"{error.message} at column {error.column}")
            return None

    # ---- definitions -------------------------------------------------------------------------------------------

    def _definitions(self, node: yaml.Node, parameters: dict[str, Parameter]) -> dict[str, Definition]:
        if self.mapping(node, "definitions") is None:
            return {}
        definitions: dict[str, Definition] = {}
        for key_node, value_node in node.value:
            name = identifier(self, key_node, "definitions", "definition name")
            if name is None:
                continue
            self._declared.add(name)
            if name in parameters:
                self.problem(key_node, f"definition {name}", "a parameter has the same name")
                continue
            expression = self.expression(value_node, f"definition {name}")
            if expression is not None:
                definitions[name] = Definition(name, expression, line_of(value_node))
        return definitions

    # ---- policies ----------------------------------------------------------------------------------------------

    def _policies(self, node: yaml.Node) -> list[PolicyDraft]:
        items = self.sequence(node, "policies")
        drafts: list[PolicyDraft] = []
        seen: set[str] = set()
        for index, item in enumerate(items or [], start=1):
            written_id = _written_id(item)
            if written_id is not None and written_id in seen:
                self.problem(item, f"policy {written_id}", "duplicate policy id")
                continue
            if written_id is not None:
                seen.add(written_id)
            draft = self._policy(item, index)
            if draft is not None:
                drafts.append(draft)
        return drafts

    def _policy(self, node: yaml.Node, index: int) -> PolicyDraft | None:
        fields = self.mapping(node, f"policy #{index}", _POLICY_REQUIRED, _POLICY_OPTIONAL)
        if fields is None:
            return None
        policy_id = identifier(self, fields["id"], f"policy #{index}", "policy id") if "id" in fields else None
        context = f"policy {policy_id or f'#{index}'}"
        if policy_id is None:
            self.problem(node, context, "cannot be read without a valid id")
        if any(key not in fields for key in _POLICY_REQUIRED):
            return None

        def text(key: str) -> str | None:
            return self.text(fields[key], f"{context}: {key}")

        def choice(key: str, options: tuple[str, ...]) -> str | None:
            return self.choice(fields[key], f"{context}: {key}", options)

        def optional_expression(key: str) -> tuple[Expression | None, int, bool]:
            if key not in fields:
                return None, 0, True
            expression = self.expression(fields[key], f"{context}: {key}")
            return expression, line_of(fields[key]), expression is not None

        name, legal_basis, tier = text("name"), text("legal_basis"), choice("tier", TIERS)
        scope = choice("scope", tuple(Scope))
        amount_period = choice("amount_period", tuple(AmountPeriod))
        route = choice("route", tuple(Route))
        benefit_period = choice("benefit_period", tuple(BenefitPeriod))
        event_members = choice("event_members", tuple(EventMembers)) if "event_members" in fields else "subject"
        priority = self.integer(fields["priority"], f"{context}: priority", 0, 100)
        sla_hours = self.integer(fields["sla_hours"], f"{context}: sla_hours", 1)
        triggers = self._triggers(fields["triggers"], f"{context}: triggers")
        conditions = self._conditions(fields["conditions"], context)
        amount, amount_line, amount_ok = optional_expression("amount")
        district, district_line, district_ok = optional_expression("district")
        referral, referral_line, referral_ok = optional_expression("referral_need")
        review, review_line, review_ok = optional_expression("review_when")
        description = text("description") if "description" in fields else ""
        name_zh = text("name_zh") if "name_zh" in fields else ""
        amount_label = self.label(fields["amount_label"], f"{context}: amount_label") \
            if "amount_label" in fields else None
        if amount_period is not None and (amount_period == AmountPeriod.SERVICE) == ("amount" in fields):
            self.problem(node, context, "a SERVICE has no amount; every other amount_period needs one")
            return None
        if not (amount_ok and district_ok and referral_ok and review_ok):
            return None
        try:
            return PolicyDraft(
                _read(policy_id), _read(name), _read(legal_basis), _read(tier), Scope(_read(scope)),
                _read(triggers), _read(conditions), amount, amount_line, AmountPeriod(_read(amount_period)),
                Route(_read(route)), _read(priority), _read(sla_hours), BenefitPeriod(_read(benefit_period)),
                EventMembers(_read(event_members)), district, district_line, referral, referral_line,
                _read(description), line_of(node), review, review_line, name_zh or "", amount_label)
        except _Unreadable:
            return None

    def _triggers(self, node: yaml.Node, context: str) -> tuple[str, ...] | None:
        items = self.sequence(node, context)
        if not items:
            if items is not None:
                self.problem(node, context, "at least one trigger is needed")
            return None
        triggers = [self.text(item, context) for item in items]
        return tuple(t for t in triggers if t is not None) if None not in triggers else None

    def _conditions(self, node: yaml.Node, context: str) -> tuple[Condition, ...] | None:
        items = self.sequence(node, f"{context}: conditions")
        if not items:
            if items is not None:
                self.problem(node, f"{context}: conditions", "at least one condition is needed")
            return None
        conditions: list[Condition] = []
        for number, item in enumerate(items, start=1):
            where = f"{context}: condition {number}"
            source, meaning, label, unmet = item, None, None, None
            if isinstance(item, yaml.MappingNode):
                fields = self.mapping(item, where, ("check",), ("meaning", "label", "unmet"))
                if fields is None or "check" not in fields:
                    continue
                source = fields["check"]
                meaning = self.text(fields["meaning"], where) if "meaning" in fields else None
                label = self.label(fields["label"], f"{where}: label") if "label" in fields else None
                unmet = self.label(fields["unmet"], f"{where}: unmet") if "unmet" in fields else None
            expression = self.expression(source, where)
            if expression is not None:
                conditions.append(Condition(expression, meaning, line_of(source), label, unmet))
        return tuple(conditions) if len(conditions) == len(items) else None


class _Unreadable(Exception):
    """A value had a problem (already recorded); the object it belongs to is not built."""


def _read(value: T | None) -> T:
    if value is None:
        raise _Unreadable
    return value


def _written_id(node: yaml.Node) -> str | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == "id" and isinstance(value, yaml.ScalarNode):
                return str(value.value)
    return None
