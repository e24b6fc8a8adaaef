"""Why a policy did or did not apply, shaped like schemas/records/explanation.avsc: the facts read, each
condition with its values and outcome, the amount computation, and one sentence a citizen can read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.matching.domain.catalogue.policy import AmountPeriod, Policy, Route
from services.matching.domain.policy_language.expressions import format_value

Explanation = dict[str, Any]
"""policy_id, policy_version, legal_basis, eligible, facts (name -> text), conditions ([{expression, values,
holds}]), computation (text or None), summary."""

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
                    amount_fen: int | None) -> Explanation:
    """The explanation of one evaluation; `values` resolves every name the policy reads."""
    eligible = all(holds)
    conditions = [
        {"expression": c.expression.source, "values": c.expression.render(values), "holds": held}
        for c, held in zip(policy.conditions, holds, strict=True)
    ]
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
    }


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
