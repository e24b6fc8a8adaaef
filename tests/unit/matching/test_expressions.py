"""The catalogue's expression language: parsing, errors with columns, semantics, rendering, and the scalar and
vectorised forms agreeing value for value."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest

from services.matching.domain.policy_language.expressions import (
    ABSENT,
    EvaluationError,
    ExpressionError,
    MissingFact,
    compile_expression,
)


def scalar(source: str, **values: Any) -> Any:
    return compile_expression(source).scalar({k.replace("__", "."): v for k, v in values.items()})


@pytest.mark.parametrize(("source", "expected"), [
    ("1 + 2 * 3", 7),
    ("(1 + 2) * 3", 9),
    ("10 - 4 - 3", 3),
    ("7 / 2", 3.5),
    ("-3 * -2", 6),
    ("5_000_000 / 100", 50000.0),
    ("1 < 2 <= 2 < 3", True),
    ("1 < 3 < 2", False),
    ("not 1 == 1 or 2 != 2", False),
    ("true and not false", True),
    ("'B' in ('A', 'B')", True),
    ("3 not in (1, 2, 3,)", False),
    ("min(4, 2, 3) + max(1, 5)", 7),
    ("abs(-2.5)", 2.5),
    ("round_fen(2.5) + round_fen(2.4999)", 5),
    ("if(1 > 2, 10, 20)", 20),
    ("7 / 0", 0.0),
])
def test_expression_computes_like_the_catalogue_documents(source: str, expected: Any) -> None:
    result = scalar(source)
    assert result == expected
    assert type(result) is type(expected)


def test_dotted_names_read_facts_and_parameters() -> None:
    assert scalar("household.per_capita_income_fen < standard", household__per_capita_income_fen=45000.0,
                  standard=80000) is True


def test_if_evaluates_only_the_chosen_branch_in_scalar_form() -> None:
    # the other branch would fail: a string cannot be divided
    assert scalar("if(x > 0, x, 'a' / 2)", x=3) == 3


@pytest.mark.parametrize(("source", "column", "message"), [
    ("household.members +", 20, "unexpected end of expression"),
    ("a < < b", 5, "unexpected '<'"),
    ("(a + b", 7, "expected ')' to close the parenthesis"),
    ("a in b", 6, "expected '(' to open the list after 'in'"),
    ("a @ b", 3, "unexpected character '@'"),
    ("eval('1')", 1, "unknown function 'eval'"),
    ("__import__('os')", 1, "unknown function '__import__'"),
    ("__import__('os').system('true')", 17, "unexpected character '.'"),
    ("().__class__", 3, "unexpected character '.'"),
    ("()", 2, "unexpected ')'"),
    ("min(a)", 1, "min takes at least 2 arguments, got 1"),
    ("if(a, b)", 1, "if takes 3 arguments, got 2"),
    ("a b", 3, "unexpected 'b'"),
    ("5_", 1, "malformed number '5_'"),
    ("   ", 1, "empty expression"),
])
def test_syntax_errors_name_the_column_and_the_problem(source: str, column: int, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(source)
    assert caught.value.column == column
    assert message in caught.value.message
    assert str(caught.value).startswith(f"column {column}: ")


def test_names_are_listed_with_the_column_of_their_first_use() -> None:
    expression = compile_expression("min(standard, x) < standard + household.members")
    assert dict(expression.names) == {"standard": 5, "x": 15, "household.members": 31}


def test_render_substitutes_each_value_after_its_name() -> None:
    expression = compile_expression("household.per_capita_income_fen < standard and kind in ('A', 'B')")
    text = expression.render({"household.per_capita_income_fen": 45000.0, "standard": 80000, "kind": "C"})
    assert text == "household.per_capita_income_fen 45000 < standard 80000 and kind 'C' in ('A', 'B')"


def test_render_shows_fractions_booleans_and_absent_event_facts() -> None:
    expression = compile_expression("rate * event.out_of_pocket_fen > cap or flag")
    assert expression.render({"rate": 0.7, "cap": 5_000_000, "flag": False}) == \
        "rate 0.7 * event.out_of_pocket_fen absent > cap 5000000 or flag false"


def test_absent_event_fact_makes_comparisons_false_and_inequality_true() -> None:
    assert scalar("event.severity == 'MINOR'") is False
    assert scalar("event.severity != 'MINOR'") is True
    assert scalar("event.severity in ('MINOR', 'SERIOUS')") is False
    assert scalar("event.severity not in ('MINOR',)") is True
    assert scalar("event.out_of_pocket_fen * 2") is ABSENT
    assert scalar("min(event.out_of_pocket_fen, 5)") is ABSENT
    assert scalar("event.home_destroyed or event.type == 'housing.lost'", event__type="housing.lost") is True


def test_missing_household_fact_is_an_error_not_a_silent_false() -> None:
    with pytest.raises(MissingFact, match=r"household\.members"):
        scalar("household.members > 1")


def vectorised(source: str, rows: int, **columns: Any) -> list[Any]:
    """The vectorised form's result over `rows` rows (a constant result broadcasts)."""
    result = compile_expression(source).vectorised({k.replace("__", "."): v for k, v in columns.items()})
    return list(np.broadcast_to(result, (rows,)).tolist())


def test_vectorised_form_treats_absent_event_facts_like_the_scalar_form() -> None:
    assert vectorised("event.severity == 'MINOR' or a > 1", 2, a=np.array([0, 2])) == [False, True]
    assert vectorised("not event.home_destroyed", 2) == [True, True]


def test_vectorised_if_cannot_mix_an_absent_fact_across_rows() -> None:
    source = "if(a > 1, event.out_of_pocket_fen, 0)"
    assert vectorised(source, 2, a=np.array([0, 0])) == [0, 0]
    with pytest.raises(EvaluationError):
        vectorised(source, 2, a=np.array([0, 2]))


def test_integer_coded_regions_compare_equal_to_string_codes() -> None:
    regions = np.array([510000, 110000, 440000])
    assert vectorised("household.region == '510000'", 3, household__region=regions) == [True, False, False]
    assert vectorised("household.region in ('110000', '440000')", 3, household__region=regions) == \
        [False, True, True]
    assert vectorised("household.region != 'north'", 3, household__region=regions) == [True, True, True]


# ---- scalar and vectorised forms agree ------------------------------------------------------------------------

class _RandomExpressions:
    """Random well-formed expressions over ints a, b, floats x, y, a flag and a string code."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def number(self, depth: int) -> str:
        choice = self.rng.randrange(10 if depth > 0 else 3)
        if choice == 0:
            return str(self.rng.randint(-20, 20))
        if choice == 1:
            return f"{self.rng.uniform(-20, 20):.3f}"
        if choice == 2:
            return self.rng.choice(["a", "b", "x", "y"])
        if choice in (3, 4, 5):
            op = self.rng.choice("+-*/")
            return f"({self.number(depth - 1)} {op} {self.number(depth - 1)})"
        if choice == 6:
            fn = self.rng.choice(["min", "max"])
            return f"{fn}({self.number(depth - 1)}, {self.number(depth - 1)}, {self.number(depth - 1)})"
        if choice == 7:
            return f"{self.rng.choice(['abs', 'round_fen'])}({self.number(depth - 1)})"
        if choice == 8:
            return f"if({self.boolean(depth - 1)}, {self.number(depth - 1)}, {self.number(depth - 1)})"
        return f"-({self.number(depth - 1)} + flag)"

    def boolean(self, depth: int) -> str:
        choice = self.rng.randrange(7 if depth > 0 else 3)
        if choice == 0:
            return self.rng.choice(["flag", "true", "false"])
        if choice == 1:
            options = ", ".join(repr(c) for c in self.rng.sample(["A", "B", "C", "D"], 2))
            return f"code {self.rng.choice(['in', 'not in'])} ({options})"
        if choice == 2:
            return f"a in ({', '.join(str(self.rng.randint(-5, 5)) for _ in range(3))})"
        if choice == 3:
            ops = [self.rng.choice(["<", "<=", ">", ">=", "==", "!="]) for _ in range(self.rng.randint(1, 2))]
            parts = [self.number(depth - 1)]
            for op in ops:
                parts += [op, self.number(depth - 1)]
            return "(" + " ".join(parts) + ")"
        if choice == 4:
            return f"not {self.boolean(depth - 1)}"
        return f"({self.boolean(depth - 1)} {self.rng.choice(['and', 'or'])} {self.boolean(depth - 1)})"


def _columns(rng: np.random.Generator, rows: int) -> dict[str, np.ndarray[Any, Any]]:
    return {
        "a": rng.integers(-5, 6, rows),
        "b": rng.integers(-50, 51, rows),
        "x": np.round(rng.uniform(-20, 20, rows), 2),
        "y": rng.choice([0.0, 0.5, 1.5, -2.25], rows),
        "flag": rng.random(rows) < 0.5,
        "code": rng.choice(["A", "B", "C", "D"], rows),
    }


@pytest.mark.parametrize("seed", range(6))
def test_scalar_and_vectorised_forms_agree_on_random_expressions_and_data(seed: int) -> None:
    generator = _RandomExpressions(seed)
    columns = _columns(np.random.default_rng(seed), 40)
    rows = [{name: column[i].item() for name, column in columns.items()} for i in range(40)]
    for _ in range(60):
        source = generator.boolean(3) if generator.rng.random() < 0.5 else generator.number(3)
        expression = compile_expression(source)
        vectorised = np.broadcast_to(expression.vectorised(columns), (40,))
        scalars = [expression.scalar(row) for row in rows]
        assert [bool(v) if isinstance(v, bool | np.bool_) else float(v) for v in vectorised] == \
            [bool(v) if isinstance(v, bool) else float(v) for v in scalars], source
