"""Checks a JSON-shaped value against an Avro schema and converts it to what fastavro writes.

Unlike fastavro's own validation it collects every problem as a (field path, reason) pair and never
echoes the offending value, so an error can be shown to a department or logged without leaking data.
Besides Avro types it honours three field attributes of our schemas: minimum/maximum, allowed, pattern.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Schema = Any  # a parsed fastavro schema: str, list or dict


@dataclass(frozen=True)
class FieldError:
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}" if self.field else self.reason


class ContractError(ValueError):
    """Raised when a value breaks the contract; `errors` names every bad field and why."""

    def __init__(self, errors: list[FieldError]):
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


_INTEGERS = {"int": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}

Conformer = Callable[[Any, str, list[FieldError]], Any]
"""Checks one value at a path, appends problems, returns the value in the form fastavro writes."""


def conform(schema: Schema, value: Any, path: str, named: dict[str, Schema], errors: list[FieldError]) -> Any:
    """Return `value` in the form fastavro writes, appending a FieldError for each problem found."""
    return compile_conformer(schema, named)(value, path, errors)


def compile_conformer(schema: Schema, named: dict[str, Schema]) -> Conformer:
    """Turn a schema into a Conformer once, so checking a value walks closures rather than the schema."""
    if isinstance(schema, list):
        return _union([compile_conformer(b, named) for b in schema if b != "null"], "null" in schema)
    if isinstance(schema, str):
        return compile_conformer(named[schema], named) if schema in named else _primitive(schema)
    logical = schema.get("logicalType")
    if logical == "date":
        return _date
    if logical == "timestamp-millis":
        return conform_timestamp
    kind = schema["type"]
    if kind == "record":
        return _record(schema, named)
    if kind == "enum":
        return _enum(schema["symbols"])
    if kind == "array":
        return _array(compile_conformer(schema["items"], named))
    if kind == "map":
        return _map(compile_conformer(schema["values"], named))
    return compile_conformer(kind, named)


def _enum(symbols: list[str]) -> Conformer:
    allowed = frozenset(symbols)
    reason = f"must be one of {', '.join(symbols)}"

    def check(value: Any, path: str, errors: list[FieldError]) -> Any:
        if not isinstance(value, str) or value not in allowed:
            errors.append(FieldError(path, reason))
        return value
    return check


def _array(items: Conformer) -> Conformer:
    def check(value: Any, path: str, errors: list[FieldError]) -> Any:
        if not isinstance(value, list):
            errors.append(FieldError(path, "must be an array"))
            return value
        return [items(v, f"{path}[{i}]", errors) for i, v in enumerate(value)]
    return check


def _map(values: Conformer) -> Conformer:
    def check(value: Any, path: str, errors: list[FieldError]) -> Any:
        if not isinstance(value, dict):
            errors.append(FieldError(path, "must be an object"))
            return value
        return {k: values(v, f"{path}.{k}", errors) for k, v in value.items()}
    return check


def _union(branches: list[Conformer], nullable: bool) -> Conformer:
    def check(value: Any, path: str, errors: list[FieldError]) -> Any:
        if value is None:
            if not nullable:
                errors.append(FieldError(path, "is required"))
            return None
        first: list[FieldError] | None = None
        for branch in branches:
            attempt: list[FieldError] = []
            result = branch(value, path, attempt)
            if not attempt:
                return result
            first = attempt if first is None else first
        errors.extend(first or [FieldError(path, "matches no branch of the union")])
        return value
    return check


def _primitive(kind: str) -> Conformer:
    if kind in _INTEGERS:
        low, high = _INTEGERS[kind]
        reason = f"must be a whole number ({kind})"

        def integer(value: Any, path: str, errors: list[FieldError]) -> Any:
            if value.__class__ is not int or not low <= value <= high:
                errors.append(FieldError(path, reason))
            return value
        return integer
    if kind in ("float", "double"):
        def number(value: Any, path: str, errors: list[FieldError]) -> Any:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                errors.append(FieldError(path, "must be a number"))
                return value
            return float(value)
        return number
    expected: dict[str, tuple[type, str]] = {
        "string": (str, "must be a string"), "boolean": (bool, "must be true or false"),
        "bytes": (bytes, "must be bytes"), "null": (type(None), "must be null"),
    }
    if kind not in expected:
        raise ValueError(f"unsupported schema type {kind}")
    if kind == "string":
        return _string
    cls, reason = expected[kind]

    def simple(value: Any, path: str, errors: list[FieldError]) -> Any:
        if value.__class__ is not cls:
            errors.append(FieldError(path, reason))
        return value
    return simple


def _string(value: Any, path: str, errors: list[FieldError]) -> Any:
    if value.__class__ is not str:
        errors.append(FieldError(path, "must be a string"))
    elif not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: JSON allows it, Avro (UTF-8) cannot carry it
            errors.append(FieldError(path, "must be valid Unicode text (no lone surrogates)"))
    return value


def _date(value: Any, path: str, errors: list[FieldError]) -> Any:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    errors.append(FieldError(path, "must be a date YYYY-MM-DD"))
    return value


def conform_timestamp(value: Any, path: str, errors: list[FieldError]) -> Any:
    """An aware datetime from a datetime or RFC 3339 text; naive times are UTC. A time whose UTC form lies
    outside years 1 to 9999 (year 1 at +01:00, say) is refused, since every consumer normalises to UTC."""
    parsed: dt.datetime | None = None
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        with contextlib.suppress(ValueError):
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed is None:
        errors.append(FieldError(path, "must be an RFC 3339 timestamp"))
        return value
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=dt.UTC)
    try:
        parsed.astimezone(dt.UTC)
    except OverflowError:
        errors.append(FieldError(path, "must lie between years 1 and 9999 once expressed in UTC"))
        return value
    return parsed


_CONSTRAINTS = frozenset({"minimum", "maximum", "allowed", "pattern"})


def _record(schema: dict[str, Any], named: dict[str, Schema]) -> Conformer:
    record_name = schema["name"].rsplit(".", 1)[-1]
    fields = [(f["name"], compile_conformer(f["type"], named), f, bool(_CONSTRAINTS & f.keys()))
              for f in schema["fields"]]
    known = frozenset(name for name, _, _, _ in fields)
    paths: dict[str, list[str]] = {}  # child paths per parent path, computed once per distinct parent

    def check(value: Any, path: str, errors: list[FieldError]) -> Any:
        if not isinstance(value, dict):
            errors.append(FieldError(path, "must be an object"))
            return value
        if not known.issuperset(value):
            for unknown in sorted(set(value) - known, key=str):
                errors.append(FieldError(_join(path, unknown), f"is not a field of {record_name}"))
        out: dict[str, Any] = {}
        wheres = paths.get(path)
        if wheres is None:
            wheres = paths[path] = [_join(path, name) for name, _, _, _ in fields] if len(paths) < 64 else []
        for i, (name, conformer, spec, constrained) in enumerate(fields):
            where = wheres[i] if wheres else _join(path, name)
            if name not in value:
                if "default" in spec:
                    out[name] = spec["default"]
                else:
                    errors.append(FieldError(where, "is required"))
                continue
            before = len(errors)
            out[name] = conformer(value[name], where, errors)
            if constrained and len(errors) == before:
                _constraints(spec, out[name], where, errors)
        return out
    return check


def _constraints(spec: dict[str, Any], value: Any, path: str, errors: list[FieldError]) -> None:
    if value is None:
        return
    if "minimum" in spec and value < spec["minimum"]:
        errors.append(FieldError(path, f"must be at least {spec['minimum']}"))
    if "maximum" in spec and value > spec["maximum"]:
        errors.append(FieldError(path, f"must be at most {spec['maximum']}"))
    if "allowed" in spec and value not in spec["allowed"]:
        errors.append(FieldError(path, f"must be one of {', '.join(map(str, spec['allowed']))}"))
    if "pattern" in spec and not re.fullmatch(spec["pattern"], value):
        errors.append(FieldError(path, f"must match {spec['pattern']}"))


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
