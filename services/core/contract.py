"""The contract: every schema of schemas/ parsed once, event types with their owning departments."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import fastavro

from services.core.conformance import Conformer, Schema, compile_conformer
from services.core.settings import PROJECT_ROOT

SCHEMA_DIR = PROJECT_ROOT / "schemas"
# Records other records refer to by name are loaded first.
RECORD_ORDER = ("envelope", "explanation", "offer", "caseworker_task", "decision", "notification_status",
                "household", "policy_catalogue", "contact", "application_answer",
                "person_identity", "disclosure", "consent")


@dataclass(frozen=True)
class EventType:
    """One kind of change event: its CloudEvents type, the department that owns it, its Avro schema."""

    name: str
    department: str
    schema: Schema
    dataschema: str


@dataclass(frozen=True)
class Contract:
    """All schemas of schemas/, parsed once."""

    event_types: dict[str, EventType]
    records: dict[str, Schema]
    named: dict[str, Schema] = field(repr=False)
    checks: dict[str, Conformer] = field(repr=False)
    """A compiled Conformer per record name and per event type."""

    @cached_property
    def departments(self) -> dict[str, frozenset[str]]:
        owned: dict[str, set[str]] = {}
        for et in self.event_types.values():
            owned.setdefault(et.department, set()).add(et.name)
        return {d: frozenset(types) for d, types in owned.items()}


def load_contract(schema_dir: Path = SCHEMA_DIR) -> Contract:
    """Parse every schema under `schema_dir` (cached per folder)."""
    return _load(schema_dir.resolve())


@cache
def _load(schema_dir: Path) -> Contract:
    named: dict[str, Schema] = {}
    records = {name: fastavro.parse_schema(_read(schema_dir / "records" / f"{name}.avsc"), named)
               for name in RECORD_ORDER}
    event_types: dict[str, EventType] = {}
    for path in sorted((schema_dir / "events").glob("*.avsc")):
        raw = _read(path)
        parsed = fastavro.parse_schema(raw, named)
        event_types[raw["ce_type"]] = EventType(raw["ce_type"], raw["department"], parsed,
                                                f"schemas/events/{path.name}")
    checks = {name: compile_conformer(schema, named) for name, schema in records.items()}
    checks.update({name: compile_conformer(et.schema, named) for name, et in event_types.items()})
    return Contract(event_types, records, named, checks)


def _read(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as f:
        result: dict[str, Any] = json.load(f)
    return result
