"""Reading a YAML document (safe tags only) while keeping line numbers, so every problem names its line.

Problems are collected, not raised: a reader goes on after the first one, and the caller reports them all.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml

MISSING: Any = object()
"""Returned by `value` when the node is not a valid scalar (a problem has been recorded). The typed readers
return None instead."""


class DocumentReader:
    """Typed access to composed YAML nodes, recording "origin:line context: message" problems."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.problems: list[str] = []
        self._constructor = yaml.constructor.SafeConstructor()

    def problem(self, node: yaml.Node | int | None, context: str, message: str) -> None:
        line = node if isinstance(node, int) else line_of(node) if node is not None else 0
        where = f"{self.origin}:{line}" if line else self.origin
        self.problems.append(f"{where} {context}: {message}" if context else f"{where}: {message}")

    def compose(self, text: str) -> yaml.Node | None:
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark
            self.problem(mark.line + 1 if mark is not None else None, "", f"not valid YAML: {error.problem}")
            return None
        except yaml.YAMLError as error:
            self.problem(None, "", f"not valid YAML: {error}")
            return None
        if node is None:
            self.problem(None, "", "the document is empty")
        return node

    def mapping(self, node: yaml.Node, context: str, required: tuple[str, ...] = (),
                optional: tuple[str, ...] | None = None) -> dict[str, yaml.Node] | None:
        """The mapping's entries by key; unknown keys (when `optional` is given) and missing ones are problems."""
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, context, "expected a mapping")
            return None
        entries: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in entries:
                self.problem(key_node, context, f"duplicate key {key!r}")
            entries[key] = value_node
        if optional is not None:
            for key_node, _ in node.value:
                if str(key_node.value) not in required and str(key_node.value) not in optional:
                    self.problem(key_node, context, f"unknown key {key_node.value!r}")
        for key in required:
            if key not in entries:
                self.problem(node, context, f"missing {key!r}")
        return entries

    def sequence(self, node: yaml.Node, context: str) -> list[yaml.Node] | None:
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, context, "expected a list")
            return None
        return list(node.value)

    def value(self, node: yaml.Node, context: str) -> Any:
        """A scalar as YAML types it (int, float, bool, date, str, None)."""
        if not isinstance(node, yaml.ScalarNode):
            self.problem(node, context, "expected a single value")
            return MISSING
        try:
            return self._constructor.construct_object(node, deep=True)
        except (ValueError, yaml.YAMLError) as error:
            what = "date" if node.tag.endswith(":timestamp") else "value"
            self.problem(node, context, f"bad {what} {node.value!r} ({error})")
            return MISSING

    def text(self, node: yaml.Node, context: str) -> str | None:
        """A scalar's text as written (so `version: 2026.1` stays "2026.1")."""
        if not isinstance(node, yaml.ScalarNode):
            self.problem(node, context, "expected text")
            return None
        return str(node.value)

    def integer(self, node: yaml.Node, context: str, low: int | None = None,
                high: int | None = None) -> int | None:
        value = self.value(node, context)
        if value is MISSING:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            self.problem(node, context, f"expected a whole number, found {node.value!r}")
            return None
        if (low is not None and value < low) or (high is not None and value > high):
            self.problem(node, context, f"{value} is outside {low}..{high if high is not None else ''}")
            return None
        return value

    def number(self, node: yaml.Node, context: str) -> int | float | None:
        value = self.value(node, context)
        if value is MISSING:
            return None
        if not isinstance(value, int | float) or isinstance(value, bool):
            self.problem(node, context, f"expected a number, found {node.value!r}")
            return None
        return value

    def boolean(self, node: yaml.Node, context: str) -> bool | None:
        value = self.value(node, context)
        if value is MISSING:
            return None
        if not isinstance(value, bool):
            self.problem(node, context, f"expected true or false, found {node.value!r}")
            return None
        return value

    def date(self, node: yaml.Node, context: str) -> dt.date | None:
        value = self.value(node, context)
        if value is MISSING:
            return None
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        self.problem(node, context, f"bad date {node.value!r} (expected YYYY-MM-DD)")
        return None

    def choice(self, node: yaml.Node, context: str, options: tuple[str, ...]) -> str | None:
        text = self.text(node, context)
        if text is not None and text not in options:
            self.problem(node, context, f"{text!r} is not one of {', '.join(options)}")
            return None
        return text


def line_of(node: yaml.Node) -> int:
    """1-based line where the node's content starts (the line after a | or > block indicator)."""
    line = int(node.start_mark.line) + 1
    if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
        line += 1
    return line
