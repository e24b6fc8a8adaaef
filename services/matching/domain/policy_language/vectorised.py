"""The vectorised form of a parsed expression: NumPy elementwise over columns of the whole population, with the
same semantics as the scalar form (see expression_forms)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from services.matching.domain.policy_language.forms import (
    ABSENT,
    COMPARE,
    HALF_FEN_TOLERANCE,
    EvaluationError,
    read_name,
    truth,
)
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

VectorForm = Callable[[Mapping[str, Any]], Any]


def vector_form(node: Node) -> VectorForm:
    """A callable computing `node` elementwise over columns (NumPy arrays of equal length, or scalars)."""
    match node:
        case Literal(value=value):
            return lambda env: value
        case Name(name=name):
            return read_name(name)
        case Unary(op="not", operand=operand):
            inner = vector_form(operand)
            return lambda env: np.logical_not(_as_mask(inner(env)))
        case Unary(operand=operand):
            inner = vector_form(operand)
            return lambda env: _vector_negate(inner(env))
        case Arithmetic(op=op, left=left, right=right):
            return _vector_arithmetic(op, vector_form(left), vector_form(right))
        case Logical(op=op, operands=operands):
            forms = tuple(vector_form(o) for o in operands)
            combine = np.logical_and if op == "and" else np.logical_or
            return lambda env: _reduce(combine, [_as_mask(f(env)) for f in forms])
        case Comparison(operands=operands, ops=ops):
            return _vector_comparison(tuple(vector_form(o) for o in operands), ops)
        case Membership(operand=operand, options=options, negated=negated):
            return _vector_membership(vector_form(operand), tuple(vector_form(o) for o in options), negated)
        case Call(function=function, args=args):
            return _vector_call(function, tuple(vector_form(a) for a in args))
    raise AssertionError(f"unhandled node {node!r}")


def _as_mask(value: Any) -> Any:
    if value is ABSENT:
        return np.False_
    return np.asarray(value, dtype=bool) if isinstance(value, np.ndarray) else np.bool_(bool(value))


def _reduce(combine: Any, masks: list[Any]) -> Any:
    result = masks[0]
    for mask in masks[1:]:
        result = combine(result, mask)
    return result


def _numeric(value: Any) -> Any:
    # NumPy adds booleans as logical or; Python adds them as integers.
    if isinstance(value, np.ndarray) and value.dtype == np.bool_:
        return value.astype(np.int64)
    if isinstance(value, np.bool_):
        return int(value)
    return value


def _vector_negate(value: Any) -> Any:
    return ABSENT if value is ABSENT else np.negative(_numeric(value))


def _vector_divide(a: Any, b: Any) -> Any:
    zero = np.equal(b, 0)
    return np.where(zero, 0.0, np.true_divide(a, np.where(zero, 1, b)))


_VECTOR_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": np.add, "-": np.subtract, "*": np.multiply, "/": _vector_divide,
}


def _vector_arithmetic(op: str, left: VectorForm, right: VectorForm) -> VectorForm:
    apply = _VECTOR_ARITHMETIC[op]

    def compute(env: Mapping[str, Any]) -> Any:
        a, b = left(env), right(env)
        if a is ABSENT or b is ABSENT:
            return ABSENT
        return apply(_numeric(a), _numeric(b))

    return compute


def _align(a: Any, b: Any) -> tuple[Any, Any] | None:
    """Integer-coded columns (district, region) compare with the string codes written in expressions.
    None: the values can never be equal."""
    for column, other, swap in ((a, b, False), (b, a, True)):
        if isinstance(column, np.ndarray) and column.dtype.kind in "iu" and isinstance(other, str):
            if not other.isdigit():
                return None
            return (int(other), column) if swap else (column, int(other))
    return a, b


def _compare_vector(op: str, a: Any, b: Any) -> Any:
    if a is ABSENT or b is ABSENT:
        return np.bool_(op == "!=")
    aligned = _align(a, b)
    if aligned is None:
        if op in ("==", "!="):
            return np.bool_(op == "!=")
        raise EvaluationError(f"cannot order a district or region code against {a!r} / {b!r}")
    return COMPARE[op](*aligned)


def _vector_comparison(forms: tuple[VectorForm, ...], ops: tuple[str, ...]) -> VectorForm:
    def chain(env: Mapping[str, Any]) -> Any:
        values = [f(env) for f in forms]
        return _reduce(np.logical_and, [_compare_vector(op, values[i], values[i + 1]) for i, op in enumerate(ops)])

    return chain


def _vector_membership(operand: VectorForm, options: tuple[VectorForm, ...], negated: bool) -> VectorForm:
    def among(env: Mapping[str, Any]) -> Any:
        value = operand(env)
        if value is ABSENT:
            return np.bool_(negated)
        candidates = [o(env) for o in options]
        constants = _constants(value, candidates)
        if constants is not None:
            found = _among_constants(value, constants)
        else:
            found = _reduce(np.logical_or, [_compare_vector("==", value, c) for c in candidates])
        return np.logical_not(found) if negated else found

    return among


def _among_constants(column: Any, constants: list[Any]) -> Any:
    if not constants:
        return np.zeros(np.shape(column), dtype=bool)
    if len(constants) <= 8:  # a few comparisons are an order of magnitude faster than np.isin's sorting
        return _reduce(np.logical_or, [np.equal(column, c) for c in constants])
    return np.isin(column, constants)


def _constants(column: Any, candidates: list[Any]) -> list[Any] | None:
    """The candidates as constants comparable with `column`, when np.isin applies (one plain type)."""
    if not isinstance(column, np.ndarray) or len({type(c) for c in candidates}) != 1 \
            or not isinstance(candidates[0], int | float | str) or isinstance(candidates[0], bool):
        return None
    aligned = (_align(column, c) for c in candidates)
    return [pair[1] for pair in aligned if pair is not None]


def _vector_if(condition: Any, then: Any, otherwise: Any) -> Any:
    if not isinstance(condition, np.ndarray):
        return then if truth(condition) else otherwise
    mask = _as_mask(condition)
    if then is ABSENT or otherwise is ABSENT:
        if then is otherwise:
            return ABSENT
        if not mask.any():
            return otherwise
        if mask.all():
            return then
        raise EvaluationError("if() would mix an absent fact with present values across rows")
    return np.where(mask, then, otherwise)


def round_fen_columns(values: Any) -> Any:
    """Whole fen, half a fen rounded up, elementwise (as float; the caller casts)."""
    return np.floor(np.add(np.asarray(values, dtype=np.float64), 0.5 + HALF_FEN_TOLERANCE))


def _vector_min_max(combine: Any) -> Callable[..., Any]:
    return lambda *values: _reduce(combine, [_numeric(v) for v in values])


_VECTOR_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "min": _vector_min_max(np.minimum),
    "max": _vector_min_max(np.maximum),
    "abs": lambda value: np.abs(_numeric(value)),
    "round_fen": lambda value: round_fen_columns(_numeric(value)),
}


def _vector_call(function: str, args: tuple[VectorForm, ...]) -> VectorForm:
    if function == "if":
        condition, then, otherwise = args
        return lambda env: _vector_if(condition(env), then(env), otherwise(env))
    apply = _VECTOR_FUNCTIONS[function]

    def call(env: Mapping[str, Any]) -> Any:
        values = [a(env) for a in args]
        if any(v is ABSENT for v in values):
            return ABSENT
        return apply(*values)

    return call
