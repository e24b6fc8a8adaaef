"""Schema evolution rules: can a new version of a schema read every value written with the old one (BACKWARD)?

Two independent checks. `resolution_gaps` applies the Avro schema-resolution rules field by field and names the
place that breaks (a field added without a default, an enum symbol dropped, a type that cannot be promoted).
`unreadable_samples` writes sample values that exercise every field, enum symbol and union branch of the old
schema and reads them back with the new one through fastavro, so a rule the first check misses still shows.
Schemas are fastavro-parsed (`parse_schema_set`); named types referenced across files resolve through `named`.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import fastavro

Schema = Any
PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
# Avro promotions: a writer type on the left can be read as any reader type on the right.
PROMOTIONS = {
    "int": frozenset({"long", "float", "double"}),
    "long": frozenset({"float", "double"}),
    "float": frozenset({"double"}),
    "string": frozenset({"bytes"}),
    "bytes": frozenset({"string"}),
}
NAMED_KINDS = frozenset({"record", "error", "enum", "fixed"})
_SAMPLE_DEPTH = 12


@dataclass(frozen=True)
class Incompatibility:
    """One way a new schema fails to read data written with the old one. `path` is the field path, "" for the top."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path or '(top level)'}: {self.reason}"


@dataclass(frozen=True)
class SchemaSet:
    """The parsed schemas of one revision of schemas/, by path relative to that folder, and their named types."""

    schemas: dict[str, Schema]
    named: dict[str, Schema]


def parse_schema_set(raw: Mapping[str, Mapping[str, Any]]) -> SchemaSet:
    """Parse schemas that may refer to each other's named types, in whatever order makes every reference resolve.

    Raises ValueError naming the files that are not valid Avro or whose references never resolve.
    """
    named: dict[str, Schema] = {}
    parsed: dict[str, Schema] = {}
    pending = sorted(raw)
    while pending:
        failed: list[str] = []
        errors: dict[str, str] = {}
        for path in pending:
            attempt = dict(named)  # a failed parse leaves half its names behind; keep them out of `named`
            try:
                parsed[path] = fastavro.parse_schema(dict(raw[path]), attempt)
            except fastavro.schema.UnknownType as exc:
                failed.append(path)
                errors[path] = f"unknown type {exc.name}"
                continue
            except Exception as exc:  # fastavro raises several types for malformed schemas
                raise ValueError(f"{path}: not a valid Avro schema: {exc}") from exc
            named.update(attempt)
        if len(failed) == len(pending):
            raise ValueError("unresolvable schemas: " + ", ".join(f"{p} ({errors[p]})" for p in failed))
        pending = failed
    for schema in parsed.values():
        schema["__named_schemas"] = named
    return SchemaSet(parsed, named)


def backward_incompatibilities(writer: Schema, reader: Schema) -> list[Incompatibility]:
    """Everything that stops `reader` (the new schema) from reading data written with `writer` (the old one)."""
    gaps = resolution_gaps(writer, reader)
    return gaps or unreadable_samples(writer, reader)


# ---- the Avro resolution rules, field by field ----------------------------------------------------------------

def resolution_gaps(writer: Schema, reader: Schema) -> list[Incompatibility]:
    """Apply the Avro specification's schema-resolution rules to parsed schemas."""
    walk = _Resolution(_named(writer), _named(reader))
    walk.check(writer, reader, "")
    return walk.gaps


class _Resolution:
    def __init__(self, writer_named: dict[str, Schema], reader_named: dict[str, Schema]) -> None:
        self.writer_named = writer_named
        self.reader_named = reader_named
        self.gaps: list[Incompatibility] = []
        self.seen: set[tuple[str, str, str]] = set()

    def check(self, w: Schema, r: Schema, path: str) -> None:
        w, r = _deref(w, self.writer_named), _deref(r, self.reader_named)
        if isinstance(w, list):
            for branch in w:
                self.check(branch, r, path)
            return
        if isinstance(r, list):
            match = next((b for b in r if _matches(w, _deref(b, self.reader_named))), None)
            if match is None:
                self._gap(path, f"writer type {_kind_name(w)} is not a branch of the reader union "
                                f"[{', '.join(_kind_name(_deref(b, self.reader_named)) for b in r)}]")
            else:
                self.check(w, match, path)
            return
        if not _matches(w, r):
            self._gap(path, f"{_kind_name(w)} cannot be read as {_kind_name(r)}")
            return
        kind = _kind(w)
        if kind in ("record", "error"):
            self._records(w, r, path)
        elif kind == "enum":
            self._enums(w, r, path)
        elif kind == "fixed" and w["size"] != r["size"]:
            self._gap(path, f"fixed size changed from {w['size']} to {r['size']}")
        elif kind == "array":
            self.check(w["items"], r["items"], f"{path}[]")
        elif kind == "map":
            self.check(w["values"], r["values"], f"{path}{{}}")

    def _records(self, w: Schema, r: Schema, path: str) -> None:
        key = (w["name"], r["name"], path)
        if key in self.seen:
            return
        self.seen.add(key)
        written = {f["name"]: f for f in w["fields"]}
        for field in r["fields"]:
            names = [field["name"], *field.get("aliases", [])]
            source = next((written[n] for n in names if n in written), None)
            where = f"{path}.{field['name']}" if path else field["name"]
            if source is not None:
                self.check(source["type"], field["type"], where)
            elif "default" not in field:
                self._gap(where, f"field added to {_short(r['name'])} without a default")

    def _enums(self, w: Schema, r: Schema, path: str) -> None:
        if "default" in r:
            return  # unknown symbols read as the reader's default symbol
        for symbol in w["symbols"]:
            if symbol not in r["symbols"]:
                self._gap(path, f"enum symbol {symbol} removed from {_short(r['name'])} (and it has no default)")

    def _gap(self, path: str, reason: str) -> None:
        self.gaps.append(Incompatibility(path, reason))


def _matches(w: Schema, r: Schema) -> bool:
    """Whether a writer value of schema `w` resolves to reader schema `r` at this level (names, kinds, promotion)."""
    wk, rk = _kind(w), _kind(r)
    if wk in NAMED_KINDS:
        return wk == rk and _short(w["name"]) in {_short(r["name"]), *(_short(a) for a in r.get("aliases", []))}
    return wk == rk or rk in PROMOTIONS.get(wk, frozenset())


# ---- writing samples of the old schema and reading them with the new one ---------------------------------------

def unreadable_samples(writer: Schema, reader: Schema) -> list[Incompatibility]:
    """Write `sample_values(writer)` with the old schema and read each with the new one; report what fails."""
    problems: list[Incompatibility] = []
    for i, value in enumerate(sample_values(writer)):
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, writer, value)
        buf.seek(0)
        try:
            fastavro.schemaless_reader(buf, writer, reader)
        except Exception as exc:  # fastavro signals resolution failures with several exception types
            problems.append(Incompatibility("", f"sample {i} does not read back: {type(exc).__name__}: {exc}"))
    return problems


def sample_values(schema: Schema) -> list[Any]:
    """Values of `schema` that fill every field and, between them, use every enum symbol and every union branch."""
    named = _named(schema)
    count = _variants_needed(schema, named, frozenset())
    return [_sample(schema, named, variant, 0) for variant in range(count)]


def _variants_needed(schema: Schema, named: dict[str, Schema], seen: frozenset[str]) -> int:
    """How many variants `_sample` needs so that every enum symbol and union branch below `schema` appears."""
    schema = _deref(schema, named)
    if isinstance(schema, list):
        return len(schema) * max(_variants_needed(b, named, seen) for b in schema)
    kind = _kind(schema)
    if kind in ("record", "error"):
        if schema["name"] in seen:
            return 1
        inner = seen | {schema["name"]}
        return max([1, *(_variants_needed(f["type"], named, inner) for f in schema["fields"])])
    if kind == "enum":
        return len(schema["symbols"])
    if kind == "array":
        return _variants_needed(schema["items"], named, seen)
    if kind == "map":
        return _variants_needed(schema["values"], named, seen)
    return 1


def _sample(schema: Schema, named: dict[str, Schema], variant: int, depth: int) -> Any:
    schema = _deref(schema, named)
    if isinstance(schema, list):
        if depth >= _SAMPLE_DEPTH and "null" in schema:
            return None  # stop a recursive type where it allows stopping
        # Variant v takes branch v mod n and passes v div n down, so every branch meets every variant of its own.
        branch = _deref(schema[variant % len(schema)], named)
        # (type name, value) tells fastavro which branch to write when the value would fit several
        label = branch["name"] if _kind(branch) in NAMED_KINDS else _kind(branch)
        return (label, _sample(branch, named, variant // len(schema), depth + 1))
    kind = _kind(schema)
    simple = {"null": None, "boolean": variant % 2 == 0, "int": 1 + variant, "long": 1 + variant,
              "float": 0.5 + variant, "double": 0.25 + variant, "bytes": b"b%d" % variant, "string": f"s{variant}"}
    if kind in simple:
        return simple[kind]
    if kind in ("record", "error"):
        return {f["name"]: _sample(f["type"], named, variant, depth + 1) for f in schema["fields"]}
    if kind == "enum":
        return schema["symbols"][variant % len(schema["symbols"])]
    if kind == "fixed":
        return bytes([variant % 256]) * schema["size"]
    if kind == "array":
        if depth >= _SAMPLE_DEPTH:
            return []
        return [_sample(schema["items"], named, v, depth + 1) for v in (variant, variant + 1)]
    if kind == "map":
        return {} if depth >= _SAMPLE_DEPTH else {"k": _sample(schema["values"], named, variant, depth + 1)}
    raise ValueError(f"unsupported Avro type {kind!r}")


# ---- schema shapes --------------------------------------------------------------------------------------------

def _named(schema: Schema) -> dict[str, Schema]:
    if isinstance(schema, dict):
        found: dict[str, Schema] = schema.get("__named_schemas", {})
        return found
    return {}


def _deref(schema: Schema, named: dict[str, Schema]) -> Schema:
    if isinstance(schema, dict) and set(schema) <= {"type", "__fastavro_parsed", "__named_schemas"}:
        schema = schema["type"]  # {"type": "int"} or {"type": "a.Name"}: the same as the bare type
    if isinstance(schema, str) and schema not in PRIMITIVES:
        return named[schema]
    return schema


def _kind(schema: Schema) -> str:
    if isinstance(schema, list):
        return "union"
    if isinstance(schema, dict):
        kind = schema["type"]
        return kind if isinstance(kind, str) else _kind(kind)
    return str(schema)


def _kind_name(schema: Schema) -> str:
    kind = _kind(schema)
    return f"{kind} {_short(schema['name'])}" if kind in NAMED_KINDS else kind


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]
