"""Checks a JSON-shaped value against an Avro schema and converts it to what fastavro writes.

Unlike fastavro's own validation it collects every problem as a (field path, reason) pair and never
echoes the offending value, so an error can be shown to a department or logged without leaking data.
Besides Avro types it honours three field attributes of our schemas: minimum/maximum, allowed, pattern.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

Schema = Any  # a parsed fastavro schema: str, list or dict


@dataclass(frozen=True)
class FieldError:
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


class ContractError(ValueError):
    """Raised when a value breaks the contract; `errors` names every bad field and why."""

    def __init__(self, errors: list[FieldError]):
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


_INTEGERS = {"int": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}


def conform(schema: Schema, value: Any, path: str, named: dict[str, Schema], errors: list[FieldError]) -> Any:
    """Return `value` in the form fastavro writes, appending a FieldError for each problem found."""
    if isinstance(schema, list):
        return _union(schema, value, path, named, errors)
    if isinstance(schema, str):
        if schema in named:
            return conform(named[schema], value, path, named, errors)
        return _primitive(schema, value, path, errors)
    kind = schema["type"]
    logical = schema.get("logicalType")
    if logical == "date":
        return _date(value, path, errors)
    if logical == "timestamp-millis":
        return _timestamp(value, path, errors)
    if kind == "record":
        return _record(schema, value, path, named, errors)
    if kind == "enum":
        if not isinstance(value, str) or value not in schema["symbols"]:
            errors.append(FieldError(path, f"must be one of {', '.join(schema['symbols'])}"))
        return value
    if kind == "array":
        if not isinstance(value, list):
            errors.append(FieldError(path, "must be an array"))
            return value
        return [conform(schema["items"], v, f"{path}[{i}]", named, errors) for i, v in enumerate(value)]
    if kind == "map":
        if not isinstance(value, dict):
            errors.append(FieldError(path, "must be an object"))
            return value
        return {k: conform(schema["values"], v, f"{path}.{k}", named, errors) for k, v in value.items()}
    return conform(kind, value, path, named, errors)


def _union(branches: list[Schema], value: Any, path: str, named: dict[str, Schema], errors: list[FieldError]) -> Any:
    if value is None:
        if "null" not in branches:
            errors.append(FieldError(path, "is required"))
        return None
    non_null = [b for b in branches if b != "null"]
    best: list[FieldError] | None = None
    for branch in non_null:
        attempt: list[FieldError] = []
        result = conform(branch, value, path, named, attempt)
        if not attempt:
            return result
        best = attempt if best is None else best
    errors.extend(best or [FieldError(path, "matches no branch of the union")])
    return value


def _primitive(kind: str, value: Any, path: str, errors: list[FieldError]) -> Any:
    if kind == "null":
        if value is not None:
            errors.append(FieldError(path, "must be null"))
        return None
    if kind == "string":
        if not isinstance(value, str):
            errors.append(FieldError(path, "must be a string"))
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            errors.append(FieldError(path, "must be true or false"))
        return value
    if kind in _INTEGERS:
        low, high = _INTEGERS[kind]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            errors.append(FieldError(path, f"must be a whole number ({kind})"))
        return value
    if kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errors.append(FieldError(path, "must be a number"))
            return value
        return float(value)
    if kind == "bytes":
        if not isinstance(value, bytes):
            errors.append(FieldError(path, "must be bytes"))
        return value
    errors.append(FieldError(path, f"has unsupported schema type {kind}"))
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


def _timestamp(value: Any, path: str, errors: list[FieldError]) -> Any:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
        except ValueError:
            pass
    errors.append(FieldError(path, "must be an RFC 3339 timestamp"))
    return value


def _record(schema: dict[str, Any], value: Any, path: str, named: dict[str, Schema], errors: list[FieldError]) -> Any:
    if not isinstance(value, dict):
        errors.append(FieldError(path, "must be an object"))
        return value
    out: dict[str, Any] = {}
    known = {f["name"] for f in schema["fields"]}
    for unknown in sorted(set(value) - known):
        errors.append(FieldError(_join(path, unknown), "is not a field of " + schema["name"].rsplit(".", 1)[-1]))
    for spec in schema["fields"]:
        name = spec["name"]
        where = _join(path, name)
        if name not in value:
            if "default" in spec:
                out[name] = spec["default"]
            else:
                errors.append(FieldError(where, "is required"))
            continue
        before = len(errors)
        out[name] = conform(spec["type"], value[name], where, named, errors)
        if len(errors) == before:
            _constraints(spec, out[name], where, errors)
    return out


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
