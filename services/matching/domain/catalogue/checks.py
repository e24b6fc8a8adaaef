"""What a catalogue may refer to: every name is a known fact, parameter or definition; definitions do not refer
to themselves; a household policy reads no member facts; a policy reads only event fields its triggering events
carry; triggers exist; a review threshold (review_when) belongs to a policy decided on the household's state,
reads no event fact and is not set on a one-off benefit; every condition and amount has its label in zh-CN and en
whose placeholders name only values it uses, and every policy its name in Chinese."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping

from services.matching.domain.catalogue.labels import AMOUNT, CONTEXT_WORDS, Label, placeholders
from services.matching.domain.catalogue.policy import AmountPeriod, BenefitPeriod, Definition, Scope
from services.matching.domain.catalogue.reading import CatalogueDraft, PolicyDraft
from services.matching.domain.catalogue.yaml_document import DocumentReader
from services.matching.domain.household.vocabulary import STATE_TRIGGERS, Vocabulary
from services.matching.domain.policy_language.expressions import Expression


def check_catalogue(draft: CatalogueDraft, vocabulary: Vocabulary,
                    reader: DocumentReader) -> dict[str, tuple[str, ...]]:
    """Record every reference problem on `reader`; return what each valid-looking policy reads."""
    known = _Names(vocabulary, draft.declared)
    for definition in draft.definitions.values():
        known.check(definition.expression, definition.line, f"definition {definition.name}", reader)
    _check_cycles(draft.definitions, reader)
    for name in sorted(draft.wording.money - draft.declared):
        reader.problem(draft.money_line, "money", f"'{name}' is not a parameter or definition of the catalogue")
    return {policy.id: _check_policy(policy, known, vocabulary, draft.definitions, reader)
            for policy in draft.policies}


class _Names:
    def __init__(self, vocabulary: Vocabulary, declared: frozenset[str]) -> None:
        self._vocabulary = vocabulary
        self._plain = declared
        self._all = sorted(self._plain | vocabulary.household | vocabulary.member)

    def known(self, name: str) -> bool:
        return name in self._plain if "." not in name else self._vocabulary.is_fact(name)

    def check(self, expression: Expression, line: int, context: str, reader: DocumentReader) -> bool:
        fine = True
        for name, column in expression.names.items():
            if not self.known(name):
                close = difflib.get_close_matches(name, self._all, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                reader.problem(line, context, f"unknown name '{name}' at column {column}{hint}")
                fine = False
        return fine


def _check_cycles(definitions: Mapping[str, Definition], reader: DocumentReader) -> None:
    reported: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in path:
            cycle = (*path[path.index(name):], name)
            if name not in reported:
                reported.update(cycle)
                reader.problem(definitions[name].line, f"definition {name}",
                               f"refers to itself: {' -> '.join(cycle)}")
            return
        for used in definitions[name].expression.names:
            if used in definitions:
                visit(used, (*path, name))

    for name in definitions:
        visit(name, ())


def reads_of(expression: Expression, definitions: Mapping[str, Definition]) -> Iterator[tuple[str, str | None]]:
    """Every name `expression` reads, following definitions: (name, the definition it was reached through)."""
    seen: set[str] = set()
    stack: list[tuple[str, str | None]] = [(n, None) for n in reversed(list(expression.names))]
    while stack:
        name, via = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        yield name, via
        definition = definitions.get(name)
        if definition is not None:
            stack.extend((n, via or name) for n in reversed(list(definition.expression.names)))


def _expressions(policy: PolicyDraft) -> Iterator[tuple[str, Expression, int]]:
    for number, condition in enumerate(policy.conditions, start=1):
        yield f"condition {number}", condition.expression, condition.line
    for what, expression, line in (("amount", policy.amount, policy.amount_line),
                                   ("district", policy.district, policy.district_line),
                                   ("referral_need", policy.referral_need, policy.referral_line),
                                   ("review_when", policy.review_when, policy.review_line)):
        if expression is not None:
            yield what, expression, line


def _check_policy(policy: PolicyDraft, known: _Names, vocabulary: Vocabulary,
                  definitions: Mapping[str, Definition], reader: DocumentReader) -> tuple[str, ...]:
    context = f"policy {policy.id}"
    for trigger in policy.triggers:
        if trigger not in vocabulary.triggers():
            reader.problem(policy.line, f"{context}: triggers", f"unknown trigger '{trigger}'")
    event_triggers = [t for t in policy.triggers if t not in STATE_TRIGGERS]
    if policy.benefit_period == BenefitPeriod.EVENT and len(event_triggers) != len(policy.triggers):
        reader.problem(policy.line, context, "benefit_period 'event' needs every trigger to be an event type")
    reads: dict[str, None] = {}
    for what, expression, line in _expressions(policy):
        if not known.check(expression, line, f"{context}: {what}", reader):
            continue
        for name, via in reads_of(expression, definitions):
            if what != "review_when":
                reads.setdefault(name)
            through = f" through definition {via}" if via else ""
            if name.startswith("member.") and policy.scope == Scope.HOUSEHOLD:
                reader.problem(line, f"{context}: {what}", f"reads '{name}'{through}, but the scope is household")
            if name.startswith("event.") and what != "review_when" \
                    and not any(vocabulary.event_carries(t, name) for t in event_triggers):
                reader.problem(line, f"{context}: {what}",
                               f"reads '{name}'{through}, which none of its triggering events carries")
    _check_review(policy, tuple(reads), definitions, reader)
    _check_labels(policy, definitions, reader)
    return tuple(reads)


def _check_labels(policy: PolicyDraft, definitions: Mapping[str, Definition], reader: DocumentReader) -> None:
    """Citizens read labels, not expressions: each condition and amount says itself in zh-CN and en, and shows
    only values it uses."""
    context = f"policy {policy.id}"
    if not policy.name_zh.strip():
        reader.problem(policy.line, context, "no name_zh (the programme's name in Chinese)")
    for number, condition in enumerate(policy.conditions, start=1):
        uses = {name for name, _ in reads_of(condition.expression, definitions)} | CONTEXT_WORDS
        where = f"{context}: condition {number}"
        _check_label(condition.label, "label", uses, condition.line, where, reader, required=True)
        _check_label(condition.unmet, "unmet", uses, condition.line, where, reader, required=False)
    if policy.amount is not None:
        uses = {name for name, _ in reads_of(policy.amount, definitions)} | CONTEXT_WORDS | {AMOUNT}
        _check_label(policy.amount_label, "amount_label", uses, policy.amount_line, f"{context}: amount", reader,
                     required=True)


def _check_label(label: Label | None, what: str, uses: set[str], line: int, where: str, reader: DocumentReader,
                 required: bool) -> None:
    if label is None:
        if required:
            reader.problem(line, where, f"no {what} (a sentence for citizens in zh-CN and en)")
        return
    for language, text in label.texts().items():
        if not text:
            reader.problem(line, where, f"{what} has no {language} text (a sentence in zh-CN and en is needed)")
        for name in placeholders(text):
            if name not in uses:
                shown = ", ".join(sorted(uses))
                reader.problem(line, where, f"{what} ({language}) shows {{{name}}}, a value it does not use "
                                            f"(it may show: {shown})")


def _check_review(policy: PolicyDraft, reads: tuple[str, ...], definitions: Mapping[str, Definition],
                  reader: DocumentReader) -> None:
    """A review threshold is checked on the household's state, for benefits that recur or last."""
    if policy.review_when is None:
        return
    context = f"policy {policy.id}: review_when"
    if not set(policy.triggers) & STATE_TRIGGERS or any(r.startswith("event.") for r in reads):
        reader.problem(policy.review_line, context, "reviews need a policy decided on the household's state "
                       "(a registry or reevaluation trigger, and no event fact read)")
    if policy.amount_period == AmountPeriod.ONE_OFF:
        reader.problem(policy.review_line, context, "a ONE_OFF benefit is paid once and has nothing to review")
    for name, via in reads_of(policy.review_when, definitions):
        if name.startswith("event."):
            through = f" through definition {via}" if via else ""
            reader.problem(policy.review_line, context,
                           f"reads '{name}'{through}, but reviews are decided on the household's state")
