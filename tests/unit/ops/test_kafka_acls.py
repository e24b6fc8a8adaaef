"""The Kafka ACLs (deploy/kafka/acls.yaml) give each service principal exactly the topics its code uses, as
services/core/topics.py declares them, and every department only its raw events."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from services.casework.adapters.task_feed import GROUP as CASEWORK_GROUP
from services.core import topics
from services.core.contract import load_contract
from services.core.settings import Settings
from services.intake.adapters.raw_forwarder import GROUP as INTAKE_GROUP
from services.notification.adapters.kafka_inbound import GROUP as NOTIFICATION_GROUP
from services.operations.kafka_acls import Principal, commands, load, principals
from tests.unit.ops.promql import REPO

DECLARED = {t.name for t in topics.ALL_TOPICS}


def found() -> list[Principal]:
    return principals(load(), load_contract().departments)


def of_package(package: str) -> Principal:
    (principal,) = [p for p in found() if p.package == package]
    return principal


def imports_of(path: Path) -> list[ast.ImportFrom]:
    return [n for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(n, ast.ImportFrom)]


def topics_named(node: ast.ImportFrom) -> set[str]:
    """The topic names an import from services/core/topics.py brings in (constants and tuples of them)."""
    used: set[str] = set()
    for alias in node.names:
        value = getattr(topics, alias.name)
        if isinstance(value, topics.Topic):
            used.add(value.name)
        elif isinstance(value, tuple) and alias.name != "ALL_TOPICS":  # ALL_TOPICS: only create-topics, as admin
            used |= {t.name for t in value if isinstance(t, topics.Topic)}
    return used


def topics_used_by(package: str) -> set[str]:
    """The names of the topics a package's code imports from services/core/topics.py, itself or through the modules
    of other packages it uses: the shared services/core ones (services/core/resident_applications.py reads and writes
    for its callers) and other services' (the casework console audits disclosures with services/vault's wiring and
    folds outcomes with services/outcomes' reader, in its own process and so as its own principal)."""
    used: set[str] = set()
    seen: set[Path] = set()
    todo = list((REPO / package.replace(".", "/")).rglob("*.py"))
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for node in imports_of(path):
            if node.module == "services.core.topics":
                used |= topics_named(node)
            elif node.module and node.module.startswith("services."):
                module = REPO / node.module.replace(".", "/")
                todo.append(module / "__init__.py" if module.is_dir() else module.with_suffix(".py"))
    return used


def deployed_packages() -> set[str]:
    """Every services package a Kubernetes workload runs."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "deploy" / "k8s").glob("*.yaml"))
    return set(re.findall(r'"-m", "(services\.[a-z_]+)"', text)) - {"services.core"}


def test_every_deployed_service_has_its_own_principal() -> None:
    packages = {p.package for p in found() if p.package}
    assert deployed_packages() <= packages
    names = [p.name for p in found()]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("package", ["services.intake", "services.matching", "services.notification",
                                     "services.casework", "services.vault", "services.outcomes"])
def test_a_service_may_read_and_write_only_the_topics_its_code_uses(package: str) -> None:
    principal = of_package(package)
    granted, used = set(principal.read) | set(principal.write), topics_used_by(package)
    assert granted == used, (f"deploy/kafka/acls.yaml and {package} differ for {principal.name}: the code uses "
                             f"{sorted(used - granted)} without a grant, grants {sorted(granted - used)} go unused")


def test_acls_name_only_declared_topics() -> None:
    for p in found():
        assert set(p.read) | set(p.write) <= DECLARED, p.name


def test_dead_letter_topics_are_written_by_their_service_only_and_read_by_operators() -> None:
    owners = {topics.EVENTS_DLQ.name: "services.intake", topics.MATCHING_DLQ.name: "services.matching",
              topics.CASEWORK_DLQ.name: "services.casework", topics.NOTIFICATION_DLQ.name: "services.notification",
              topics.VAULT_DLQ.name: "services.vault"}
    for dlq, package in owners.items():
        assert [p.package for p in found() if dlq in p.write] == [package], dlq
        assert [p.name for p in found() if dlq in p.read] == ["assist-operator"], dlq


def test_every_topic_a_service_reads_has_a_writer_or_is_declared_as_awaiting_one() -> None:
    written = {t for p in found() for t in p.write}
    awaiting = set(load().get("awaiting_writer", []))
    assert not awaiting & written, f"written now, remove from awaiting_writer: {sorted(awaiting & written)}"
    for p in found():
        assert set(p.read) <= written | awaiting, f"{p.name} reads topics nobody may write: {set(p.read) - written}"


def test_each_department_writes_only_its_raw_events() -> None:
    departments = [p for p in found() if p.name.startswith("assist-department-")]
    assert {p.name.removeprefix("assist-department-") for p in departments} == {
        d.replace("_", "-") for d in load_contract().departments}
    for p in departments:
        assert (p.read, p.write, p.group_prefixes) == ((), (topics.EVENTS_RAW.name,), ())


def test_consumer_groups_of_the_code_are_granted_to_their_service() -> None:
    groups = {"services.intake": INTAKE_GROUP, "services.matching": Settings().matching_app_id,
              "services.notification": NOTIFICATION_GROUP, "services.casework": CASEWORK_GROUP}
    for package, group in groups.items():
        assert any(group.startswith(prefix) for prefix in of_package(package).group_prefixes), package
    assert of_package("services.matching").own_topic_prefixes == (Settings().matching_app_id,)


def test_the_commands_grant_nothing_to_everyone_and_no_wildcard() -> None:
    lines = commands(found(), "kafka:9093", "admin.properties")
    acl_lines = [line for line in lines if line.startswith("kafka-acls.sh")]
    assert acl_lines and all("--allow-principal User:assist-" in line for line in acl_lines)
    assert not [line for line in lines if "'*'" in line or " * " in line or "User:*" in line]
    intake = [line for line in acl_lines if "User:assist-intake " in line]
    assert any("--operation Write --operation Describe --topic assist.events.dlq" in line for line in intake)
    assert not any("assist.tasks" in line for line in intake)


def test_the_broker_configuration_requires_tls_scram_and_an_acl_for_everything() -> None:
    text = (REPO / "deploy" / "kafka" / "broker.properties.in").read_text(encoding="utf-8")
    config = dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    listeners = dict(item.split(":", 1) for item in config["listener.security.protocol.map"].split(","))
    assert set(listeners.values()) <= {"SASL_SSL", "SSL"}, "no plaintext listener"
    assert config["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert config["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert config["allow.everyone.if.no.acl.found"] == "false"
    assert yaml.safe_load((REPO / "deploy" / "kafka" / "acls.yaml").read_text())["services"]
