"""The container and Kubernetes descriptions say only what the code does: commands that exist, settings that are
read, ports the services listen on, the broker version the local stack runs."""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.core.settings import Settings

REPO = Path(__file__).resolve().parents[2]
COMMAND = re.compile(r"python -m (services\.[a-z_]+) ([a-z][a-z-]*)")
# Every entry point a deployment may start: module -> sub-commands.
ENTRY_POINTS = {
    "services.core": {"create-topics"},
    "services.intake": {"serve", "forward-raw"},
    "services.matching": {"worker"},
    "services.notification": {"worker", "citizen-api"},
    "services.casework": {"worker", "api"},
    "services.operations": {"lag-exporter"},
    "services.vault": {"feed"},
    "services.outcomes": {"serve"},
}
# HTTP servers: (module, sub-command) -> the prefix of their *_host / *_port settings.
HTTP_SERVERS = {
    ("services.intake", "serve"): "intake",
    ("services.casework", "api"): "casework_web",
    ("services.notification", "citizen-api"): "citizen_web",
    ("services.matching", "worker"): "matching_web",
}
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@cache
def compose() -> dict[str, Any]:
    docs = list(yaml.safe_load_all((REPO / "docker-compose.yml").read_text(encoding="utf-8")))
    assert len(docs) == 1, "docker-compose.yml is one YAML document"
    result: dict[str, Any] = docs[0]
    return result


@cache
def k8s() -> tuple[tuple[str, dict[str, Any]], ...]:
    files = sorted((REPO / "deploy" / "k8s").glob("*.yaml"))
    assert files, "deploy/k8s holds the Kubernetes manifests"
    return tuple((f.name, doc) for f in files for doc in yaml.safe_load_all(f.read_text(encoding="utf-8")) if doc)


def k8s_objects(kind: str) -> list[dict[str, Any]]:
    return [doc for _, doc in k8s() if doc["kind"] == kind]


def workloads() -> list[dict[str, Any]]:
    return [doc for _, doc in k8s() if doc["kind"] in ("Deployment", "StatefulSet", "Job", "DaemonSet")]


def k8s_containers() -> list[tuple[str, dict[str, Any]]]:
    return [(f"{w['kind']}/{w['metadata']['name']}", c) for w in workloads() for c in w["spec"]["template"]["spec"]
            ["containers"]]


def compose_env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def command_of(argv: Any) -> tuple[str, str] | None:
    match = COMMAND.search(" ".join(argv) if isinstance(argv, list) else str(argv or ""))
    return (match.group(1), match.group(2)) if match else None


def compose_service_running(module: str, sub: str) -> tuple[str, dict[str, Any]]:
    found = [(n, s) for n, s in compose()["services"].items() if command_of(s.get("command")) == (module, sub)]
    assert len(found) == 1, f"docker-compose.yml runs `python -m {module} {sub}` in exactly one service"
    return found[0]


def all_commands() -> list[tuple[str, str, str]]:
    found = [(f"docker-compose.yml:{name}", *cmd) for name, s in compose()["services"].items()
             if (cmd := command_of(s.get("command")))]
    found += [(f"deploy/k8s:{where}", *cmd) for where, c in k8s_containers()
              if (cmd := command_of([*c.get("command", []), *c.get("args", [])]))]
    cmd_line = next(line for line in (REPO / "Dockerfile").read_text().splitlines() if line.startswith("CMD "))
    found += [("Dockerfile:CMD", *cmd) for cmd in [command_of(yaml.safe_load(cmd_line[4:]))] if cmd]
    return found


def variables_set() -> list[tuple[str, str]]:
    found = [(f"docker-compose.yml:{n}", k) for n, s in compose()["services"].items() for k in compose_env(s)]
    found += [(f"deploy/k8s:{where}", e["name"]) for where, c in k8s_containers() for e in c.get("env", [])]
    found += [(f"deploy/k8s:ConfigMap/{m['metadata']['name']}", k) for m in k8s_objects("ConfigMap") for k in m["data"]]
    found += [(f"deploy/k8s:Secret/{s['metadata']['name']}", k) for s in k8s_objects("Secret")
              for k in s.get("stringData", s.get("data", {}))]
    found += [("Dockerfile", m) for m in re.findall(r"\b(ASSIST_[A-Z_]+)=", (REPO / "Dockerfile").read_text())]
    return found


def configmap() -> dict[str, str]:
    (settings,) = [m for m in k8s_objects("ConfigMap") if m["metadata"]["name"] == "assist-settings"]
    return {k: str(v) for k, v in settings["data"].items()}


def settings_fields() -> dict[str, Any]:
    return {f.name: getattr(Settings(), f.name) for f in dataclasses.fields(Settings)}


def package_sources(module: str) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted((REPO / module.replace(".", "/")).rglob("*.py")))


# ---- commands and settings -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("where", "module", "sub"), all_commands())
def test_every_command_starts_an_entry_point_the_tree_has(where: str, module: str, sub: str) -> None:
    assert sub in ENTRY_POINTS.get(module, set()), f"{where}: `python -m {module} {sub}` is not a known entry point"
    main = REPO / module.replace(".", "/") / "__main__.py"
    assert main.exists(), f"{where}: {main.relative_to(REPO)} does not exist"
    assert re.search(rf"(?<![\w-]){re.escape(sub)}(?![\w-])", main.read_text(encoding="utf-8")), (
        f"{where}: {main.relative_to(REPO)} does not mention the sub-command {sub!r}")


def test_every_assist_variable_set_is_one_load_settings_reads() -> None:
    read = {f"ASSIST_{spec.name.upper()}" for spec in dataclasses.fields(Settings)}  # what load_settings reads
    assert {"ASSIST_KAFKA_BOOTSTRAP", "ASSIST_REDIS_URL", "ASSIST_PSEUDONYM_KEY"} <= read
    unread = [(where, name) for where, name in variables_set() if name.startswith("ASSIST_") and name not in read]
    assert not unread, f"variables no setting reads: {unread}"


def test_pseudonymising_services_take_the_key_from_outside_never_the_development_default() -> None:
    for name, service in compose()["services"].items():
        if (command_of(service.get("command")) or ("",))[0] == "services.intake":
            assert re.fullmatch(r"\$\{ASSIST_PSEUDONYM_KEY:\?[^}]+\}", compose_env(service).get(
                "ASSIST_PSEUDONYM_KEY", "")), f"docker-compose.yml:{name} must require ASSIST_PSEUDONYM_KEY"
    secrets = {(s["metadata"]["name"], k): v for s in k8s_objects("Secret") for k, v in s["stringData"].items()}
    for where, container in k8s_containers():
        if (command_of(container.get("command")) or ("",))[0] == "services.intake":
            (key,) = [e for e in container.get("env", []) if e["name"] == "ASSIST_PSEUDONYM_KEY"]
            ref = key["valueFrom"]["secretKeyRef"]
            assert (ref["name"], ref["key"]) in secrets, f"{where}: the referenced secret is not in deploy/k8s"
            assert "REPLACE-ME" in secrets[ref["name"], ref["key"]], "the secret template holds only a placeholder"
    assert "ASSIST_PSEUDONYM_KEY" not in configmap()
    assert "ASSIST_PSEUDONYM_KEY" not in (REPO / "Dockerfile").read_text()


# ---- compose: Kafka, Redis, start order ---------------------------------------------------------------------

def test_compose_kafka_runs_the_broker_version_the_local_stack_assembles() -> None:
    pom = ET.parse(REPO / "deploy" / "local" / "kafka-pom.xml").getroot()
    version = pom.findtext("{http://maven.apache.org/POM/4.0.0}properties/{http://maven.apache.org/POM/4.0.0}"
                           "kafka.version")
    assert version and compose()["services"]["kafka"]["image"] == f"apache/kafka:{version}"


def test_compose_kafka_is_one_kraft_node_that_creates_no_topics_by_itself() -> None:
    kafka = compose()["services"]["kafka"]
    env = compose_env(kafka)
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    controller_port = re.search(r"CONTROLLER://[^:,]*:(\d+)", env["KAFKA_LISTENERS"])
    assert controller_port and env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == (
        f"{env['KAFKA_NODE_ID']}@kafka:{controller_port.group(1)}")
    assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] == "CONTROLLER"
    for factor in ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
                   "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"):
        assert env[factor] == "1", factor
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert kafka["healthcheck"]["test"]


def test_services_reach_kafka_and_redis_by_their_compose_names() -> None:
    services = compose()["services"]
    advertised = compose_env(services["kafka"])["KAFKA_ADVERTISED_LISTENERS"]
    for name, service in services.items():
        env = compose_env(service)
        if "ASSIST_KAFKA_BOOTSTRAP" in env:
            assert f"PLAINTEXT://{env['ASSIST_KAFKA_BOOTSTRAP']}" in advertised.split(","), name
        if "ASSIST_REDIS_URL" in env:
            assert re.fullmatch(r"redis://redis:6379/\d+", env["ASSIST_REDIS_URL"]), name


def test_platform_services_start_only_after_the_topics_exist() -> None:
    services = compose()["services"]
    assert command_of(services["topics"]["command"]) == ("services.core", "create-topics")
    assert services["topics"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    for name, service in services.items():
        if name != "topics" and command_of(service.get("command")):
            assert service["depends_on"]["topics"]["condition"] == "service_completed_successfully", name


def test_redis_keeps_an_append_only_file_on_a_volume() -> None:
    redis = compose()["services"]["redis"]
    command = redis["command"] if isinstance(redis["command"], list) else redis["command"].split()
    assert redis["image"].startswith("redis:7")
    assert command[command.index("--appendonly") + 1] == "yes"
    assert any(v.split(":")[1] == "/data" for v in redis["volumes"])


# ---- ports -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("module", "sub"), sorted(HTTP_SERVERS))
def test_http_services_listen_on_all_interfaces_at_the_port_their_settings_give(module: str, sub: str) -> None:
    prefix = HTTP_SERVERS[module, sub]
    fields = settings_fields()
    port_fields = [f for f in fields if f.startswith(prefix) and f.endswith("_port")]
    assert len(port_fields) == 1, f"`python -m {module} {sub}`: Settings has no single {prefix}*_port"
    (port_field,) = port_fields
    name, service = compose_service_running(module, sub)
    env = compose_env(service)
    port = int(env.get(f"ASSIST_{port_field.upper()}", fields[port_field]))
    assert [int(p.split(":")[-1]) for p in service["ports"]] == [port], f"docker-compose.yml:{name} ports"
    host_field = port_field.removesuffix("_port") + "_host"
    if fields.get(host_field) in LOOPBACK:
        assert env.get(f"ASSIST_{host_field.upper()}") == "0.0.0.0", f"docker-compose.yml:{name} binds loopback"


def test_kubernetes_intake_ports_probes_service_and_scrape_annotation_agree() -> None:
    settings = configmap()
    port = int(settings.get("ASSIST_INTAKE_PORT", settings_fields()["intake_port"]))
    assert settings.get("ASSIST_INTAKE_HOST") == "0.0.0.0"
    (intake,) = [w for w in workloads() if w["metadata"]["name"] == "intake"]
    pod = intake["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    (http,) = container["ports"]
    assert intake["kind"] == "Deployment" and intake["spec"]["replicas"] == 2
    assert http["containerPort"] == port
    assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(port)
    routes = package_sources("services.intake")
    for probe in ("readinessProbe", "livenessProbe"):
        check = container[probe]["httpGet"]
        assert check["port"] in (http["name"], port) and f'"{check["path"]}"' in routes, probe
    assert f'"{pod["metadata"]["annotations"]["prometheus.io/path"]}"' in routes
    (service,) = [s for s in k8s_objects("Service") if s["metadata"]["name"] == "intake"]
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    assert [p["targetPort"] for p in service["spec"]["ports"]] in ([http["name"]], [port])


def test_prometheus_scrapes_compose_services_on_the_port_they_serve_metrics_on() -> None:
    services = compose()["services"]
    mounted = [v.split(":")[0] for v in services["prometheus"]["volumes"] if v.startswith("./")]
    assert "./deploy/prometheus/prometheus.yml" in mounted
    config = yaml.safe_load((REPO / "deploy" / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))
    targets = [(job.get("metrics_path", "/metrics"), t) for job in config["scrape_configs"]
               for group in job["static_configs"] for t in group["targets"] if not t.startswith("localhost:")]
    assert targets
    for path, target in targets:
        host, port = target.rsplit(":", 1)
        assert host in services, f"{target}: no compose service {host}"
        declared = [str(p).split(":")[-1] for p in services[host].get("ports", []) + services[host].get("expose", [])]
        assert port in declared, f"{target}: compose service {host} declares ports {declared}"
        module = (command_of(services[host]["command"]) or ("",))[0]
        assert (REPO / module.replace(".", "/") / "__main__.py").exists(), target
        # services/core's health app serves /metrics for the workers that give it their registry
        assert f'"{path}"' in package_sources(module) + package_sources("services.core"), (
            f"{target}: {module} serves no {path}")


# ---- Kubernetes -----------------------------------------------------------------------------------------------

def test_kubernetes_matching_keeps_its_table_store_on_a_persistent_volume() -> None:
    (matching,) = [w for w in workloads() if w["metadata"]["name"] == "matching"]
    assert matching["kind"] == "StatefulSet"
    (container,) = matching["spec"]["template"]["spec"]["containers"]
    claims = {t["metadata"]["name"] for t in matching["spec"]["volumeClaimTemplates"]}
    mounts = {m["mountPath"] for m in container["volumeMounts"] if m["name"] in claims}
    assert mounts == {configmap()["ASSIST_DATA_DIR"]}
    assert matching["spec"]["serviceName"] in {s["metadata"]["name"] for s in k8s_objects("Service")}


def test_kubernetes_workloads_run_the_image_compose_builds_as_a_non_root_user() -> None:
    version = re.search(r'^version = "([^"]+)"', (REPO / "pyproject.toml").read_text(), re.MULTILINE)
    image = compose()["services"]["intake"]["image"]
    assert version and image == f"assist-platform:{version.group(1)}"
    configmaps = {m["metadata"]["name"] for m in k8s_objects("ConfigMap")}
    for where, container in k8s_containers():
        if command_of(container.get("command")):  # the platform's own processes
            assert container["image"] == image, where
        else:  # Prometheus, Grafana: a pinned release, never a moving tag
            assert re.fullmatch(r"[\w./-]+:v?\d+\.\d+\.\d+", container["image"]), where
        assert {e["configMapRef"]["name"] for e in container.get("envFrom", [])} <= configmaps, where
    for workload in workloads():
        assert workload["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    dockerfile = (REPO / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "\nFROM python:3.11-slim\n" in dockerfile
    assert re.search(r"^USER (?!root\b|0\b)\S+", dockerfile, re.MULTILINE)


def test_every_kubernetes_object_lives_in_the_declared_namespace() -> None:
    (namespace,) = k8s_objects("Namespace")
    for file, doc in k8s():
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == namespace["metadata"]["name"], f"{file}: {doc['kind']}"


def test_every_compose_platform_service_has_a_healthcheck_on_a_port_and_path_it_serves() -> None:
    for name, service in compose()["services"].items():
        command = command_of(service.get("command"))
        if not command or command == ("services.core", "create-topics"):
            continue
        test = " ".join(service["healthcheck"]["test"])
        found = re.search(r"http://127\.0\.0\.1:(\d+)(/[a-z]+)", test)
        assert found, f"docker-compose.yml:{name} healthcheck asks no local URL"
        port, path = found.groups()
        declared = [str(p).split(":")[-1] for p in service.get("ports", []) + service.get("expose", [])]
        assert port in declared, f"docker-compose.yml:{name} checks port {port}, declares {declared}"
        served = package_sources(command[0]) + package_sources("services.core")
        assert f'"{path}"' in served, f"docker-compose.yml:{name}: {command[0]} serves no {path}"
