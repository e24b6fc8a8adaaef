"""The executable forms of a parsed expression: scalar (one household or member, here) and vectorised (NumPy
columns over a whole population, in expression_vectorised). Both are built from the syntax tree as closures;
nothing is ever passed to Python's eval/exec/compile.

Semantics shared by both forms, so they agree value for value:
- `/` is true division, and dividing by zero gives 0 (a household without members has no per-capita income);
- `and`, `or`, `not` give booleans; a comparison chain `a < b <= c` holds when each adjacent pair does;
- an *optional* fact (an `event.*` field the triggering event does not carry, or any event fact in a
  re-evaluation) is ABSENT: arithmetic with it stays ABSENT, every comparison and `in` is false, `!=` and
  `not in` are true, and as a condition it is false. Any other name missing at evaluation raises MissingFact.
- In the vectorised form absence is per column, not per row: `if(c, a, b)` whose branch is ABSENT must choose
  that branch for all rows or none;
- `round_fen` rounds half a fen up, tolerating binary fractions (0.7 * 12345 is 8641.4999999999995: 8642).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from typing import Any, Final

from services.matching.domain.policy_language.syntax import (
    Arithmetic,
    Call,
    Comparison,
    Literal,
    Logical,
    Membership,
    Name,
    Node,
    Unary,
)


class _Absent:
    _instance: _Absent | None = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"

    def __bool__(self) -> bool:
        return False


ABSENT: Final = _Absent()
"""The value of an optional fact that is not there."""

ScalarForm = Callable[[Mapping[str, Any]], Any]


class MissingFact(LookupError):
    """A required fact (not an optional event field) was not provided."""

    def __init__(self, name: str) -> None:
        super().__init__(f"fact {name!r} was not provided")
        self.name = name


class EvaluationError(ValueError):
    """An expression could not be evaluated on the values it was given."""


def is_optional(name: str) -> bool:
    """Event facts may be absent: they exist only on the per-event path and differ by event type."""
    return name.startswith("event.")


COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
}


# ---- scalar ----------------------------------------------------------------------------------------------------

def truth(value: Any) -> bool:
    """A value used as a condition."""
    return value is not ABSENT and bool(value)


def scalar_form(node: Node) -> ScalarForm:
    """A callable computing `node` over one mapping of facts, parameters and definitions."""
    match node:
        case Literal(value=value):
            return lambda env: value
        case Name(name=name):
            return read_name(name)
        case Unary(op="not", operand=operand):
            inner = scalar_form(operand)
            return lambda env: not truth(inner(env))
        case Unary(operand=operand):
            inner = scalar_form(operand)
            return lambda env: _negate(inner(env))
        case Arithmetic(op=op, left=left, right=right):
            return _scalar_arithmetic(op, scalar_form(left), scalar_form(right))
        case Logical(op=op, operands=operands):
            forms = tuple(scalar_form(o) for o in operands)
            if op == "and":
                return lambda env: all(truth(f(env)) for f in forms)
            return lambda env: any(truth(f(env)) for f in forms)
        case Comparison(operands=operands, ops=ops):
            return _scalar_comparison(tuple(scalar_form(o) for o in operands), ops)
        case Membership(operand=operand, options=options, negated=negated):
            return _scalar_membership(scalar_form(operand), options, negated)
        case Call(function=function, args=args):
            return _scalar_call(function, tuple(scalar_form(a) for a in args))
    raise AssertionError(f"unhandled node {node!r}")


def read_name(name: str) -> Callable[[Mapping[str, Any]], Any]:
    """Reads a fact, parameter or definition from a scalar scope or a column set alike: an absent optional
    (event) fact is ABSENT, any other missing name is an error naming it."""
    optional = is_optional(name)

    def read(env: Mapping[str, Any]) -> Any:
        try:
            return env[name]
        except KeyError:
            if optional:
                return ABSENT
            raise MissingFact(name) from None

    return read


def _negate(value: Any) -> Any:
    return ABSENT if value is ABSENT else -value


def _divide(a: Any, b: Any) -> Any:
    return a / b if b != 0 else 0.0


_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": _divide,
}


def _scalar_arithmetic(op: str, left: ScalarForm, right: ScalarForm) -> ScalarForm:
    apply = _ARITHMETIC[op]

    def compute(env: Mapping[str, Any]) -> Any:
        a, b = left(env), right(env)
        if a is ABSENT or b is ABSENT:
            return ABSENT
        return apply(a, b)

    return compute


def _compare_scalar(op: str, a: Any, b: Any) -> bool:
    if a is ABSENT or b is ABSENT:
        return op == "!="
    return bool(COMPARE[op](a, b))


def _scalar_comparison(forms: tuple[ScalarForm, ...], ops: tuple[str, ...]) -> ScalarForm:
    if len(ops) == 1:
        (op,), (left, right) = ops, forms
        return lambda env: _compare_scalar(op, left(env), right(env))

    def chain(env: Mapping[str, Any]) -> bool:
        values = [f(env) for f in forms]
        return all(_compare_scalar(op, values[i], values[i + 1]) for i, op in enumerate(ops))

    return chain


def _scalar_membership(operand: ScalarForm, options: tuple[Node, ...], negated: bool) -> ScalarForm:
    if all(isinstance(o, Literal) for o in options):
        constants = frozenset(o.value for o in options if isinstance(o, Literal))

        def among_constants(env: Mapping[str, Any]) -> bool:
            value = operand(env)
            return negated if value is ABSENT else (value in constants) != negated

        return among_constants
    forms = tuple(scalar_form(o) for o in options)

    def among(env: Mapping[str, Any]) -> bool:
        value = operand(env)
        found = any(_compare_scalar("==", value, f(env)) for f in forms)
        return found != negated

    return among


HALF_FEN_TOLERANCE = 1e-6
"""Rates such as 0.7 are not exact in binary: 0.7 * 12345 is 8641.4999999999995, which is half a fen."""


def round_fen(value: Any) -> int:
    """Whole fen, half a fen rounded up."""
    return math.floor(float(value) + 0.5 + HALF_FEN_TOLERANCE)


_SCALAR_FUNCTIONS: dict[str, Callable[..., Any]] = {"min": min, "max": max, "abs": abs, "round_fen": round_fen}


def _scalar_call(function: str, args: tuple[ScalarForm, ...]) -> ScalarForm:
    if function == "if":
        condition, then, otherwise = args
        return lambda env: then(env) if truth(condition(env)) else otherwise(env)
    apply = _SCALAR_FUNCTIONS[function]

    def call(env: Mapping[str, Any]) -> Any:
        values = [a(env) for a in args]
        if any(v is ABSENT for v in values):
            return ABSENT
        return apply(*values)

    return call
