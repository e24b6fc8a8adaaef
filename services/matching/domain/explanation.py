"""Why a policy did or did not apply, shaped like schemas/records/explanation.avsc: the facts read, each
condition with its values and outcome, the amount computation, and one sentence a citizen can read; each condition
and the amount also carry their catalogue labels (zh-CN and en) with the typed values they show, so notification and
casework say them in plain words (services/core/reasons.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.matching.domain.catalogue.labels import NO_WORDING, CatalogueWording, Label, label_names
from services.matching.domain.catalogue.policy import AmountPeriod, Policy, Route
from services.matching.domain.policy_language.expressions import format_value

Explanation = dict[str, Any]
"""policy_id, policy_version, legal_basis, eligible, facts (name -> text), conditions ([{expression, values,
holds, label, unmet, label_values}]), computation (text or None), summary, policy_names, amount_label,
amount_values."""

_PERIOD_WORDS = {
    AmountPeriod.MONTHLY: "per month",
    AmountPeriod.ONE_OFF: "as a one-off payment",
    AmountPeriod.PER_TERM: "per school term",
}
_ROUTE_WORDS = {
    Route.AUTO_OFFER: "offered directly",
    Route.VERIFICATION: "offered after a caseworker verifies the household's situation",
}


def yuan(fen: int) -> str:
    """Fen as yuan with two decimals and thousands separators: 105000 -> '1,050.00'."""
    return f"{fen / 100:,.2f}"


def explain_outcome(policy: Policy, version: str, values: Mapping[str, Any], holds: list[bool],
                    amount_fen: int | None, wording: CatalogueWording = NO_WORDING) -> Explanation:
    """The explanation of one evaluation; `values` resolves every name the policy reads, `wording` the places
    and money names its labels need."""
    eligible = all(holds)
    conditions = [
        {"expression": c.expression.source, "values": c.expression.render(values), "holds": held,
         "label": _texts(c.label), "unmet": _texts(c.unmet),
         "label_values": wording.values(c.label, values) + [
             v for v in wording.values(c.unmet, values) if v["name"] not in _names(c.label)]}
        for c, held in zip(policy.conditions, holds, strict=True)
    ]
    labelled = eligible and policy.amount_label is not None and amount_fen is not None
    computation = None
    if eligible and policy.amount is not None and amount_fen is not None:
        computation = f"{policy.amount.render(values)} = {amount_fen} fen ({yuan(amount_fen)} yuan)"
    return {
        "policy_id": policy.id,
        "policy_version": version,
        "legal_basis": policy.legal_basis,
        "eligible": eligible,
        "facts": {name: _fact_text(values, name) for name in policy.reads},
        "conditions": conditions,
        "computation": computation,
        "summary": summary(policy, holds, amount_fen, conditions),
        "policy_names": {"zh-CN": policy.name_zh or policy.name, "en": policy.name},
        "amount_label": _texts(policy.amount_label) if labelled else {},
        "amount_values": wording.values(policy.amount_label, values, amount_fen) if labelled else [],
    }


def _texts(label: Label | None) -> dict[str, str]:
    return {} if label is None else label.texts()


def _names(label: Label | None) -> set[str]:
    return set() if label is None else set(label_names(label))


def _fact_text(values: Mapping[str, Any], name: str) -> str:
    try:
        return format_value(values[name])
    except KeyError:
        return "absent"


def summary(policy: Policy, holds: list[bool], amount_fen: int | None, conditions: list[dict[str, Any]]) -> str:
    """One sentence: what is offered and how, or the first condition that did not hold."""
    if all(holds):
        how = _ROUTE_WORDS[policy.route]
        if amount_fen is None:
            return f"Eligible for {policy.name}, a service {how} ({policy.legal_basis})."
        return (f"Eligible for {policy.name}: {yuan(amount_fen)} yuan {_PERIOD_WORDS[policy.amount_period]}, "
                f"{how} ({policy.legal_basis}).")
    failed = [i for i, held in enumerate(holds) if not held]
    first = policy.conditions[failed[0]]
    reason = first.meaning or str(conditions[failed[0]]["values"])
    more = f" (and {len(failed) - 1} more condition{'s' if len(failed) > 2 else ''})" if len(failed) > 1 else ""
    return f"Not eligible for {policy.name}: it is not the case that {reason}{more}."


# ---- "not eligible, because ..." --------------------------------------------------------------------------------

NOT_ELIGIBLE_BECAUSE = "not eligible, because "

_NEGATED_VERBS = {
    "is": "is not", "are": "are not", "was": "was not", "were": "were not",
    "has": "does not have", "have": "do not have", "receives": "does not receive", "lives": "does not live",
    "earns": "does not earn", "exceeds": "does not exceed", "exceed": "do not exceed", "remains": "does not remain",
    "qualifies": "does not qualify", "lost": "did not lose", "paid": "did not pay", "struck": "did not strike",
}
"""Verbs a condition's meaning may use, and how each reads negated."""


def negated(meaning: str) -> str:
    """A condition's meaning (a statement that holds when the condition does) said the other way round.

    The rule, in order: a meaning opening with "no one" opens with "someone" instead; a meaning with exactly one
    verb of _NEGATED_VERBS has that verb negated ("is below" → "is not below", "has a" → "does not have a", and
    "has no" → "has some"); any other meaning (several verbs, e.g. "receives or qualifies", or none) is read as
    "it is not the case that <meaning>", which is always right though less plain.
    """
    text = meaning.strip().rstrip(".")
    if text.startswith("no one "):
        return "someone " + text.removeprefix("no one ")
    words = text.split(" ")
    verbs = [i for i, word in enumerate(words) if word.strip(",;") in _NEGATED_VERBS]
    if len(verbs) != 1:
        return f"it is not the case that {text}"
    at = verbs[0]
    verb = words[at].strip(",;")
    if verb == "has" and at + 1 < len(words) and words[at + 1] == "no":
        return " ".join([*words[:at], "has", "some", *words[at + 2:]])
    return " ".join([*words[:at], words[at].replace(verb, _NEGATED_VERBS[verb]), *words[at + 1:]])


def reasons_not_met(policy: Policy, explanation: Explanation) -> list[str]:
    """One plain-word reason per condition the explanation shows not holding: "not eligible, because " and the
    condition's meaning negated, or, for a condition without a meaning, its expression with the values read."""
    reasons = []
    for condition, shown in zip(policy.conditions, explanation["conditions"], strict=True):
        if not shown["holds"]:
            said = negated(condition.meaning) if condition.meaning else f"it is not the case that {shown['values']}"
            reasons.append(NOT_ELIGIBLE_BECAUSE + said)
    return reasons
