"""Which places a policy is limited to, read from its conditions, so an event only meets the policies of its
household's region and district. A catalogue of 1,000 local programmes then costs an event about as much as one
of 10: the policies of other places are never looked at."""

from __future__ import annotations

from services.matching.domain.catalogue.policy import Policy
from services.matching.domain.policy_language.syntax import Comparison, Literal, Membership, Name, Node

PLACE_FACTS = ("household.region", "household.district")


def place_of(policy: Policy) -> tuple[str, frozenset[str]] | None:
    """(fact, codes) when one of the policy's conditions is `fact == 'code'` or `fact in ('a', 'b')`."""
    for condition in policy.conditions:
        found = _place(condition.expression.tree)
        if found is not None:
            return found
    return None


def _place(node: Node) -> tuple[str, frozenset[str]] | None:
    if isinstance(node, Comparison) and node.ops == ("==",):
        left, right = node.operands
        name, literal = (left, right) if isinstance(left, Name) else (right, left)
        if isinstance(name, Name) and name.name in PLACE_FACTS and isinstance(literal, Literal) \
                and isinstance(literal.value, str):
            return name.name, frozenset({literal.value})
    if isinstance(node, Membership) and not node.negated and isinstance(node.operand, Name) \
            and node.operand.name in PLACE_FACTS and node.options \
            and all(isinstance(o, Literal) and isinstance(o.value, str) for o in node.options):
        return node.operand.name, frozenset(str(o.value) for o in node.options if isinstance(o, Literal))
    return None
