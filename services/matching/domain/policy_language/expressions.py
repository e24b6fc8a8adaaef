"""The safe expression language of the policy catalogue.

An expression is parsed once (expression_syntax) and compiled into two callables (expression_forms): `scalar`
over a Mapping of one household's values and `vectorised` over a Mapping of NumPy columns. Catalogue text is
never handed to Python's eval/exec/compile. `render` substitutes the values into the source text, the way
explanations show a condition: "household.per_capita_income_fen 45000 < standard 80000".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from services.matching.domain.policy_language.forms import (
    ABSENT,
    EvaluationError,
    MissingFact,
    ScalarForm,
    is_optional,
    scalar_form,
    truth,
)
from services.matching.domain.policy_language.syntax import ExpressionError, Node, names_in, parse, tokenize
from services.matching.domain.policy_language.vectorised import VectorForm, vector_form

__all__ = [
    "ABSENT",
    "EvaluationError",
    "Expression",
    "ExpressionError",
    "MissingFact",
    "compile_expression",
    "format_value",
    "truth",
]


@dataclass(frozen=True)
class Expression:
    """A compiled expression. `names` are the names it reads, each with the column of its first use.

    `scalar(values)` computes it for one household or member; `vectorised(columns)` for every row at once and
    returns an array, or a scalar when the result is the same for every row (it broadcasts).
    """

    source: str
    tree: Node = field(repr=False)
    names: Mapping[str, int] = field(repr=False, compare=False)
    scalar: ScalarForm = field(repr=False, compare=False)
    vectorised: VectorForm = field(repr=False, compare=False)
    _segments: tuple[tuple[str, str | None], ...] = field(repr=False, compare=False)

    def render(self, values: Mapping[str, Any]) -> str:
        """The source with each name followed by its value, e.g. "standard 80000"."""
        parts: list[str] = []
        for text, name in self._segments:
            parts.append(text)
            if name is not None:
                parts.append(" " + _lookup_text(values, name))
        return "".join(parts)


def compile_expression(source: str) -> Expression:
    """Parse and compile `source`; raises ExpressionError (with the column) when it is not a valid expression."""
    tree = parse(source)
    found = names_in(tree)
    names: dict[str, int] = {}
    for name in found:
        names.setdefault(name.name, name.column)
    return Expression(source, tree, names, scalar_form(tree), vector_form(tree), _segments(source, found))


def _segments(source: str, found: list[Any]) -> tuple[tuple[str, str | None], ...]:
    name_columns = {n.column for n in found}
    segments: list[tuple[str, str | None]] = []
    done = 0
    for token in tokenize(source):
        if token.kind == "name" and token.column in name_columns:
            segments.append((source[done:token.end], token.text))
            done = token.end
    segments.append((source[done:], None))
    return tuple(segments)


def _lookup_text(values: Mapping[str, Any], name: str) -> str:
    try:
        return format_value(values[name])
    except KeyError:
        return "absent" if is_optional(name) else "(not provided)"


def format_value(value: Any) -> str:
    """A value as explanations show it: true/false, whole numbers without decimals, strings quoted."""
    if value is ABSENT:
        return "absent"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return f"{value:.4f}".rstrip("0").rstrip(".")
    if isinstance(value, str):
        return f"'{value}'"
    if hasattr(value, "item"):  # a NumPy scalar
        return format_value(value.item())
    return str(value)
