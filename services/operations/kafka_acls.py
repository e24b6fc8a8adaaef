"""The production cluster's principals and their rights, from deploy/kafka/acls.yaml, as the kafka-configs.sh and
kafka-acls.sh commands an operator runs (pure: the file's content in, command lines out)."""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from services.core.settings import PROJECT_ROOT

ACL_FILE = PROJECT_ROOT / "deploy" / "kafka" / "acls.yaml"
SCRAM = "SCRAM-SHA-512"


@dataclass(frozen=True)
class Principal:
    """One SASL/SCRAM user and what it may do: literal topics, prefixed groups and topics, describe-only rights."""

    name: str
    package: str | None = None
    read: tuple[str, ...] = ()
    write: tuple[str, ...] = ()
    group_prefixes: tuple[str, ...] = ()
    own_topic_prefixes: tuple[str, ...] = ()
    describe_topic_prefixes: tuple[str, ...] = ()
    describe_group_prefixes: tuple[str, ...] = ()


def principals(document: Mapping[str, Any], departments: Iterable[str]) -> list[Principal]:
    """Every principal of the ACL document; departments get one each (prefix + department name)."""
    found = [Principal(name, spec.get("package"), tuple(spec.get("read", ())), tuple(spec.get("write", ())),
                       tuple(spec.get("group_prefixes", ())), tuple(spec.get("own_topic_prefixes", ())),
                       tuple(spec.get("describe_topic_prefixes", ())), tuple(spec.get("describe_group_prefixes", ())))
             for name, spec in document["services"].items()]
    raw = document["departments"]
    found += [Principal(f"{raw['principal_prefix']}{d.replace('_', '-')}", write=(raw["topic"],))
              for d in sorted(departments)]
    found += [Principal(name, write=tuple(topics)) for name, topics in document["sources"].items()]
    found += [Principal(name, read=tuple(spec.get("read", ())), group_prefixes=tuple(spec.get("group_prefixes", ())))
              for name, spec in document["operators"].items()]
    return found


def load(path: Path = ACL_FILE) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


def commands(found: Sequence[Principal], bootstrap: str, command_config: str) -> list[str]:
    """The shell commands granting exactly these rights (SCRAM users are created with a password to fill in)."""
    base = f"kafka-acls.sh --bootstrap-server {shlex.quote(bootstrap)} --command-config {shlex.quote(command_config)}"
    lines: list[str] = []

    def grant(user: str, operations: Sequence[str], resource: str, name: str, prefixed: bool = False) -> None:
        ops = " ".join(f"--operation {op}" for op in operations)
        pattern = " --resource-pattern-type prefixed" if prefixed else ""
        lines.append(f"{base} --add --allow-principal User:{user} {ops} --{resource} {shlex.quote(name)}{pattern}")

    for p in found:
        lines.append(f"kafka-configs.sh --bootstrap-server {shlex.quote(bootstrap)} --command-config "
                     f"{shlex.quote(command_config)} --alter --entity-type users --entity-name {p.name} "
                     f"--add-config '{SCRAM}=[password=REPLACE-ME]'")
        for topic in p.read:
            grant(p.name, ("Read", "Describe"), "topic", topic)
        for topic in p.write:
            grant(p.name, ("Write", "Describe"), "topic", topic)
        for prefix in p.own_topic_prefixes:
            grant(p.name, ("Create", "Read", "Write", "Describe", "DescribeConfigs"), "topic", prefix, prefixed=True)
        for prefix in p.group_prefixes:
            grant(p.name, ("Read", "Describe"), "group", prefix, prefixed=True)
        for prefix in p.describe_topic_prefixes:
            grant(p.name, ("Describe",), "topic", prefix, prefixed=True)
        for prefix in p.describe_group_prefixes:
            grant(p.name, ("Describe",), "group", prefix, prefixed=True)
    return lines
