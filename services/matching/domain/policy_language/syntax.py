"""The syntax of catalogue expressions: tokens, the syntax tree and a recursive-descent parser.

Grammar (lowest precedence first)::

    expression := or
    or         := and ('or' and)*
    and        := not ('and' not)*
    not        := 'not' not | comparison
    comparison := sum (COMPARE sum)*  |  sum ['not'] 'in' '(' expression (',' expression)* [','] ')'
    sum        := product (('+' | '-') product)*
    product    := unary (('*' | '/') unary)*
    unary      := '-' unary | atom
    atom       := NUMBER | STRING | 'true' | 'false' | NAME | FUNCTION '(' arguments ')' | '(' expression ')'

Names are identifiers joined by dots (`household.per_capita_income_fen`, `standard`). Numbers may contain
underscores (`5_000_000`). Strings are quoted with ' or ". Columns in errors count from 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "min": (2, None),
    "max": (2, None),
    "abs": (1, 1),
    "round_fen": (1, 1),
    "if": (3, 3),
}
"""Whitelisted functions with their (least, most) number of arguments; None means no upper bound."""

KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false"})
COMPARISONS = frozenset({"<", "<=", ">", ">=", "==", "!="})

_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<number>\d[\d_]*(?:\.\d[\d_]*)?)
      | (?P<string>'[^']*'|"[^"]*")
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
      | (?P<op><=|>=|==|!=|[-+*/<>(),])""",
    re.VERBOSE,
)


class ExpressionError(ValueError):
    """An expression that cannot be parsed or uses something the language does not have."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"column {column}: {message}")
        self.message = message
        self.column = column


@dataclass(frozen=True)
class Token:
    kind: str  # number, string, name, keyword, op, end
    text: str
    column: int  # 1-based
    start: int  # 0-based offsets into the source
    end: int


# ---- syntax tree -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Literal:
    value: int | float | bool | str
    column: int


@dataclass(frozen=True)
class Name:
    name: str
    column: int


@dataclass(frozen=True)
class Unary:
    op: str  # '-' or 'not'
    operand: Node


@dataclass(frozen=True)
class Arithmetic:
    op: str  # + - * /
    left: Node
    right: Node


@dataclass(frozen=True)
class Logical:
    op: str  # 'and' or 'or'
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Comparison:
    """`a < b <= c` holds when every adjacent pair does."""

    operands: tuple[Node, ...]
    ops: tuple[str, ...]


@dataclass(frozen=True)
class Membership:
    operand: Node
    options: tuple[Node, ...]
    negated: bool


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple[Node, ...]


Node = Literal | Name | Unary | Arithmetic | Logical | Comparison | Membership | Call


def tokenize(source: str) -> list[Token]:
    """Split `source` into tokens, ending with an `end` token."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if match is None:
            raise ExpressionError(f"unexpected character {source[pos]!r}", pos + 1)
        kind = match.lastgroup or ""
        text = match.group()
        if kind == "name" and text in KEYWORDS:
            kind = "keyword"
        if kind == "number" and (text.endswith("_") or "_." in text or "__" in text):
            raise ExpressionError(f"malformed number {text!r}", pos + 1)
        if kind != "space":
            tokens.append(Token(kind, text, pos + 1, pos, match.end()))
        pos = match.end()
    tokens.append(Token("end", "", len(source) + 1, len(source), len(source)))
    return tokens


def parse(source: str) -> Node:
    """Parse one expression; raises ExpressionError with the column of the problem."""
    if not source.strip():
        raise ExpressionError("empty expression", 1)
    return _Parser(tokenize(source)).parse()


def names_in(node: Node) -> list[Name]:
    """Every name the expression reads, in source order (with repeats)."""
    found: list[Name] = []
    _collect_names(node, found)
    return sorted(found, key=lambda n: n.column)


def _collect_names(node: Node, found: list[Name]) -> None:
    match node:
        case Name():
            found.append(node)
        case Literal():
            pass
        case Unary(operand=operand):
            _collect_names(operand, found)
        case Arithmetic(left=left, right=right):
            _collect_names(left, found)
            _collect_names(right, found)
        case Logical(operands=children) | Comparison(operands=children) | Call(args=children):
            for child in children:
                _collect_names(child, found)
        case Membership(operand=operand, options=options):
            _collect_names(operand, found)
            for option in options:
                _collect_names(option, found)


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self._tokens = tokens
        self._at = 0

    @property
    def _next(self) -> Token:
        return self._tokens[self._at]

    def _take(self) -> Token:
        token = self._tokens[self._at]
        self._at += 1
        return token

    def _accept(self, kind: str, text: str) -> bool:
        if self._next.kind == kind and self._next.text == text:
            self._at += 1
            return True
        return False

    def _expect(self, kind: str, text: str, context: str) -> None:
        if not self._accept(kind, text):
            raise ExpressionError(f"expected {text!r} {context}, found {_describe(self._next)}", self._next.column)

    def parse(self) -> Node:
        node = self._or()
        if self._next.kind != "end":
            raise ExpressionError(f"unexpected {_describe(self._next)}", self._next.column)
        return node

    def _or(self) -> Node:
        operands = [self._and()]
        while self._accept("keyword", "or"):
            operands.append(self._and())
        return operands[0] if len(operands) == 1 else Logical("or", tuple(operands))

    def _and(self) -> Node:
        operands = [self._not()]
        while self._accept("keyword", "and"):
            operands.append(self._not())
        return operands[0] if len(operands) == 1 else Logical("and", tuple(operands))

    def _not(self) -> Node:
        if self._accept("keyword", "not"):
            return Unary("not", self._not())
        return self._comparison()

    def _comparison(self) -> Node:
        first = self._sum()
        negated = self._next.kind == "keyword" and self._next.text == "not"
        if negated or (self._next.kind == "keyword" and self._next.text == "in"):
            if negated:
                self._take()
            self._expect("keyword", "in", "after 'not'" if negated else "")
            return Membership(first, self._options(), negated)
        operands, ops = [first], []
        while self._next.kind == "op" and self._next.text in COMPARISONS:
            ops.append(self._take().text)
            operands.append(self._sum())
        return first if not ops else Comparison(tuple(operands), tuple(ops))

    def _options(self) -> tuple[Node, ...]:
        self._expect("op", "(", "to open the list after 'in'")
        options = [self._or()]
        while self._accept("op", ","):
            if self._next.kind == "op" and self._next.text == ")":
                break
            options.append(self._or())
        self._expect("op", ")", "to close the list after 'in'")
        return tuple(options)

    def _sum(self) -> Node:
        node = self._product()
        while self._next.kind == "op" and self._next.text in ("+", "-"):
            op = self._take().text
            node = Arithmetic(op, node, self._product())
        return node

    def _product(self) -> Node:
        node = self._unary()
        while self._next.kind == "op" and self._next.text in ("*", "/"):
            op = self._take().text
            node = Arithmetic(op, node, self._unary())
        return node

    def _unary(self) -> Node:
        if self._accept("op", "-"):
            operand = self._unary()
            if isinstance(operand, Literal) and isinstance(operand.value, int | float) and \
                    not isinstance(operand.value, bool):
                return Literal(-operand.value, operand.column - 1)
            return Unary("-", operand)
        return self._atom()

    def _atom(self) -> Node:
        token = self._take()
        if token.kind == "number":
            text = token.text.replace("_", "")
            return Literal(float(text) if "." in text else int(text), token.column)
        if token.kind == "string":
            return Literal(token.text[1:-1], token.column)
        if token.kind == "keyword" and token.text in ("true", "false"):
            return Literal(token.text == "true", token.column)
        if token.kind == "op" and token.text == "(":
            node = self._or()
            self._expect("op", ")", "to close the parenthesis")
            return node
        if token.kind == "name":
            if self._next.kind == "op" and self._next.text == "(":
                return self._call(token)
            return Name(token.text, token.column)
        raise ExpressionError(f"unexpected {_describe(token)}", token.column)

    def _call(self, token: Token) -> Node:
        if token.text not in FUNCTIONS:
            known = ", ".join(sorted(FUNCTIONS))
            raise ExpressionError(f"unknown function {token.text!r} (known: {known})", token.column)
        self._take()
        args = [self._or()]
        while self._accept("op", ","):
            args.append(self._or())
        self._expect("op", ")", f"to close the call of {token.text}")
        least, most = FUNCTIONS[token.text]
        if len(args) < least or (most is not None and len(args) > most):
            wanted = str(least) if least == most else f"at least {least}"
            raise ExpressionError(f"{token.text} takes {wanted} arguments, got {len(args)}", token.column)
        return Call(token.text, tuple(args))


def _describe(token: Token) -> str:
    return "end of expression" if token.kind == "end" else repr(token.text)
