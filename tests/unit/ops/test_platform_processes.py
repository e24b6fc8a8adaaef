"""docker-compose.yml and deploy/k8s run every process the platform needs, and the processes that seal personal data
at rest take their key ring from outside (a required compose variable, a Kubernetes Secret), never the development
default of services/core/settings.py."""

from __future__ import annotations

import re

import pytest

from services.core.settings import Settings
from tests.unit.test_deployment_files import command_of, compose, compose_env, k8s_containers, k8s_objects

PROCESSES = [("services.core", "create-topics"), ("services.intake", "serve"), ("services.intake", "forward-raw"),
             ("services.matching", "worker"), ("services.notification", "worker"),
             ("services.notification", "citizen-api"), ("services.casework", "worker"), ("services.casework", "api"),
             ("services.vault", "feed"), ("services.outcomes", "serve"), ("services.operations", "lag-exporter")]
SEALING = {("services.vault", "feed"): "ASSIST_VAULT_KEYS", ("services.casework", "api"): "ASSIST_VAULT_KEYS",
           ("services.notification", "worker"): "ASSIST_CONTACT_KEYS",
           ("services.notification", "citizen-api"): "ASSIST_CONTACT_KEYS"}
"""The processes that open the vault's sealed store (the feed, the console's disclosures) or notification's
contact book, and the key ring each reads."""


def compose_commands() -> set[tuple[str, str]]:
    return {c for s in compose()["services"].values() if (c := command_of(s.get("command")))}


def k8s_commands() -> set[tuple[str, str]]:
    return {c for _, container in k8s_containers() if (c := command_of(container.get("command")))}


@pytest.mark.parametrize("process", PROCESSES, ids=" ".join)
def test_compose_and_kubernetes_run_the_process(process: tuple[str, str]) -> None:
    assert process in compose_commands(), f"docker-compose.yml does not run python -m {' '.join(process)}"
    if process != ("services.core", "create-topics"):  # topics are created once by an operator as admin
        assert process in k8s_commands(), f"deploy/k8s does not run python -m {' '.join(process)}"


def test_the_key_rings_are_settings_with_development_defaults_only() -> None:
    for variable in set(SEALING.values()):
        field = variable.removeprefix("ASSIST_").lower()
        assert getattr(Settings(), field).startswith("dev1:"), variable


@pytest.mark.parametrize("process", sorted(SEALING), ids=" ".join)
def test_sealing_processes_take_their_key_ring_from_outside(process: tuple[str, str]) -> None:
    variable = SEALING[process]
    for name, service in compose()["services"].items():
        if command_of(service.get("command")) == process:
            assert re.fullmatch(rf"\$\{{{variable}:\?[^}}]+\}}", compose_env(service).get(variable, "")), (
                f"docker-compose.yml:{name} must require {variable}")
    secrets = {(s["metadata"]["name"], k): v for s in k8s_objects("Secret") for k, v in s["stringData"].items()}
    found = [(where, c) for where, c in k8s_containers() if command_of(c.get("command")) == process]
    assert found
    for where, container in found:
        (entry,) = [e for e in container.get("env", []) if e["name"] == variable]
        ref = entry["valueFrom"]["secretKeyRef"]
        assert secrets[ref["name"], ref["key"]].startswith("REPLACE-ME"), where
