"""The Kubernetes manifests hold against the Kubernetes API schemas (kubernetes-validate, strict: unknown fields
are errors) and the KEDA ScaledObjects against KEDA's published CRD schema; and they agree with the code: probes on
paths the services serve, a disruption budget per workload, autoscaling on a lag metric the code exports, network
policies that open exactly the ports the services listen on."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from services.core.contract import load_contract
from services.core.kafka_security import KafkaSecurity
from services.core.settings import Settings, load_settings
from services.core.topics import MATCHING_INPUTS, Topic
from services.notification.adapters.kafka_inbound import GROUP as NOTIFICATION_GROUP
from services.notification.adapters.kafka_inbound import TOPICS as NOTIFICATION_INPUTS
from services.operations.kafka_acls import load as load_acls
from services.operations.kafka_acls import principals
from tests.unit.ops.promql import REPO, exported, metric_names

K8S = REPO / "deploy" / "k8s"
KUBERNETES_VERSION = "1.30.0"
"""The oldest Kubernetes release the manifests are held to (policy/v1, autoscaling/v2, networking/v1)."""
KEDA_CRD = Path(__file__).parent / "keda" / "keda.sh_scaledobjects-2.9.1.yaml"
WORKLOAD_KINDS = ("Deployment", "StatefulSet")


def documents() -> list[tuple[str, dict[str, Any]]]:
    return [(f"{f.name}:{doc['kind']}/{doc['metadata']['name']}", doc) for f in sorted(K8S.glob("*.yaml"))
            for doc in yaml.safe_load_all(f.read_text(encoding="utf-8")) if doc]


def of_kind(*kinds: str) -> list[dict[str, Any]]:
    return [doc for _, doc in documents() if doc["kind"] in kinds]


def workloads() -> list[dict[str, Any]]:
    return of_kind(*WORKLOAD_KINDS)


def platform_workloads() -> list[dict[str, Any]]:
    return [w for w in workloads() if any(c["image"].startswith("assist-platform:")
                                          for c in w["spec"]["template"]["spec"]["containers"])]


def sources_of(container: dict[str, Any]) -> str:
    """The code of the container's service and of services/core (whose health app serves /healthz, /readyz)."""
    match = re.search(r"services\.[a-z_]+", " ".join(container.get("command", [])))
    assert match, container["name"]
    return "\n".join(p.read_text(encoding="utf-8") for package in (match.group(0), "services.core")
                     for p in (REPO / package.replace(".", "/")).rglob("*.py"))


@pytest.mark.parametrize(("where", "doc"), [d for d in documents() if d[1]["kind"] != "ScaledObject"],
                         ids=[w for w, d in documents() if d["kind"] != "ScaledObject"])
def test_every_manifest_is_valid_against_the_kubernetes_schemas(where: str, doc: dict[str, Any]) -> None:
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        pytest.fail(f"{where}: {exc.message} at {'/'.join(map(str, exc.path))}")


def strict(schema: Any) -> Any:
    """The CRD schema with unknown fields refused, as `kubectl apply --validate=strict` refuses them (the API server
    would otherwise prune them silently, and a misspelt field would do nothing)."""
    if isinstance(schema, dict):
        schema = {k: strict(v) for k, v in schema.items()}
        if schema.get("type") == "object" and "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
        return schema
    return [strict(v) for v in schema] if isinstance(schema, list) else schema


def keda_schema() -> dict[str, Any]:
    crd = yaml.safe_load(KEDA_CRD.read_text(encoding="utf-8"))
    assert crd["metadata"]["labels"]["app.kubernetes.io/version"] == "2.9.1"
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1"]
    schema: dict[str, Any] = strict(copy.deepcopy(version["schema"]["openAPIV3Schema"]))
    schema["properties"]["metadata"] = {"type": "object"}  # ObjectMeta, checked by the API server itself
    return schema


def scaled_objects() -> list[dict[str, Any]]:
    found = of_kind("ScaledObject")
    assert {s["metadata"]["name"] for s in found} == {"matching", "notification"}
    return found


@pytest.mark.parametrize("scaled", scaled_objects(), ids=lambda s: s["metadata"]["name"])
def test_scaled_objects_are_valid_against_kedas_published_crd_schema(scaled: dict[str, Any]) -> None:
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    jsonschema.Draft7Validator(keda_schema()).validate(scaled)


def test_the_keda_schema_check_refuses_a_misspelt_field() -> None:
    broken = copy.deepcopy(scaled_objects()[0])
    broken["spec"]["maxReplicas"] = broken["spec"].pop("maxReplicaCount")
    with pytest.raises(jsonschema.ValidationError, match="maxReplicas"):
        jsonschema.Draft7Validator(keda_schema()).validate(broken)


def test_the_kubernetes_schema_check_refuses_a_misspelt_field() -> None:
    broken = copy.deepcopy(platform_workloads()[0])
    broken["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("workload", workloads(), ids=lambda w: w["metadata"]["name"])
def test_every_container_has_requests_a_memory_limit_and_both_probes(workload: dict[str, Any]) -> None:
    for container in workload["spec"]["template"]["spec"]["containers"]:
        where = f"{workload['metadata']['name']}/{container['name']}"
        resources = container["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"]), where
        assert "memory" in resources["limits"], where
        ports = {p.get("name") for p in container["ports"]} | {p["containerPort"] for p in container["ports"]}
        for probe in ("livenessProbe", "readinessProbe"):
            check = container[probe]["httpGet"]
            assert check["port"] in ports, f"{where} {probe} port"
            if container["image"].startswith("assist-platform:"):
                assert f'"{check["path"]}"' in sources_of(container), f"{where} serves no {check['path']}"


def test_every_platform_workload_has_one_disruption_budget_selecting_its_pods() -> None:
    budgets = of_kind("PodDisruptionBudget")
    for workload in platform_workloads():
        labels = workload["spec"]["template"]["metadata"]["labels"]
        matching = [b for b in budgets if b["spec"]["selector"]["matchLabels"].items() <= labels.items()]
        assert len(matching) == 1, workload["metadata"]["name"]
        spec = matching[0]["spec"]
        assert spec.get("maxUnavailable") == 1 or spec.get("minAvailable") == 1, workload["metadata"]["name"]


def test_scraped_pods_expose_the_annotated_port_and_are_named_by_an_alerting_job() -> None:
    rules = (REPO / "deploy" / "prometheus" / "rules" / "assist.yml").read_text(encoding="utf-8")
    down = re.search(r'up\{job=~"([^"]+)"\}', rules)
    assert down
    jobs = set(down.group(1).split("|"))
    for workload in platform_workloads():
        pod = workload["spec"]["template"]
        annotations = pod["metadata"].get("annotations", {})
        name = workload["metadata"]["name"]
        assert annotations.get("prometheus.io/scrape") == "true", f"{name} is not scraped"
        (container,) = pod["spec"]["containers"]
        assert int(annotations["prometheus.io/port"]) in {p["containerPort"] for p in container["ports"]}, name
        assert pod["metadata"]["labels"]["app.kubernetes.io/component"] in jobs, name


def inputs_of(group: str) -> tuple[Topic, ...]:
    return {Settings().matching_app_id: MATCHING_INPUTS, NOTIFICATION_GROUP: NOTIFICATION_INPUTS}[group]


@pytest.mark.parametrize("scaled", scaled_objects(), ids=lambda s: s["metadata"]["name"])
def test_autoscaling_follows_the_lag_of_the_workers_own_group_up_to_its_partitions(scaled: dict[str, Any]) -> None:
    target = scaled["spec"]["scaleTargetRef"]
    (workload,) = [w for w in workloads() if (w["kind"], w["metadata"]["name"]) == (target["kind"], target["name"])]
    assert "replicas" not in workload["spec"], "the ScaledObject owns the replica count"
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "prometheus"
    query = trigger["metadata"]["query"]
    assert metric_names(query) == {"assist_kafka_consumer_lag_messages"} <= exported()
    group = re.search(r'group="([^"]+)"', query)
    assert group
    assert scaled["spec"]["maxReplicaCount"] == max(t.partitions for t in inputs_of(group.group(1)))
    assert 1 <= scaled["spec"]["minReplicaCount"] <= scaled["spec"]["maxReplicaCount"]
    (prometheus,) = [s for s in of_kind("Service") if s["metadata"]["name"] == "prometheus"]
    assert trigger["metadata"]["serverAddress"] == (
        f"http://prometheus.{prometheus['metadata']['namespace']}.svc:{prometheus['spec']['ports'][0]['port']}")


def policy(name: str) -> dict[str, Any]:
    (found,) = [p for p in of_kind("NetworkPolicy") if p["metadata"]["name"] == name]
    return found


def allowed_ports(rules: list[dict[str, Any]]) -> set[int]:
    return {p["port"] for rule in rules for p in rule.get("ports", [])}


def test_network_policies_deny_by_default_and_open_only_the_ports_services_listen_on() -> None:
    deny = policy("default-deny")["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny
    public = {s["metadata"]["name"] for s in of_kind("Service") if s["metadata"]["name"] in
              ("intake", "citizen-api", "casework-api")}
    assert public == {"intake", "citizen-api", "casework-api"}
    listened = {p["containerPort"] for w in platform_workloads() if w["metadata"]["name"] in public
                for c in w["spec"]["template"]["spec"]["containers"] for p in c["ports"]}
    assert allowed_ports(policy("public-http")["spec"]["ingress"]) == listened
    scraped = {int(w["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"])
               for w in platform_workloads()}
    assert allowed_ports(policy("metrics-from-prometheus")["spec"]["ingress"]) == scraped
    (settings,) = [m for m in of_kind("ConfigMap") if m["metadata"]["name"] == "assist-settings"]
    kafka_port = int(settings["data"]["ASSIST_KAFKA_BOOTSTRAP"].rsplit(":", 1)[1])
    redis_port = int(settings["data"]["ASSIST_REDIS_URL"].rsplit(":", 1)[1].split("/")[0])
    assert allowed_ports(policy("platform-to-kafka-and-redis")["spec"]["egress"]) == {kafka_port, redis_port}


def test_every_secret_a_pod_reads_is_in_the_templates_and_holds_only_a_placeholder() -> None:
    secrets = {(s["metadata"]["name"], k): v for s in of_kind("Secret") for k, v in s["stringData"].items()}
    assert all(v == "{}" or v.startswith("REPLACE-ME") for v in secrets.values())
    for workload in workloads():
        for container in workload["spec"]["template"]["spec"]["containers"]:
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert (ref["name"], ref["key"]) in secrets, f"{workload['metadata']['name']}: {ref}"
        for volume in workload["spec"]["template"]["spec"].get("volumes", []):
            if "secret" in volume:
                assert volume["secret"]["secretName"] in {name for name, _ in secrets}, volume
    configmaps = " ".join(yaml.safe_dump(m["data"]) for m in of_kind("ConfigMap"))
    assert not re.search(r"(?i)(password|secret|_key)\s*[:=]\s*\S", configmaps)


READY = {"intake": "http", "intake-raw": "health", "casework-worker": "metrics", "notification": "metrics",
         "citizen-api": "http", "casework-api": "http", "vault-feed": "metrics", "matching": "http"}
"""The workloads that answer /readyz (services/core/readiness.py; matching's faust app has its own) and their probe
ports."""


def test_processes_with_readiness_checks_are_probed_for_readiness_and_the_rest_for_life() -> None:
    for workload in platform_workloads():
        (container,) = workload["spec"]["template"]["spec"]["containers"]
        name = workload["metadata"]["name"]
        expected = "/readyz" if name in READY else "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == expected, name
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        if name in READY:
            assert container["readinessProbe"]["httpGet"]["port"] == READY[name], name


def test_every_platform_workload_reaches_kafka_over_sasl_ssl_as_the_principal_of_its_package() -> None:
    (settings,) = [m["data"] for m in of_kind("ConfigMap") if m["metadata"]["name"] == "assist-settings"]
    by_package = {p.package: p.name for p in principals(load_acls(), load_contract().departments) if p.package}
    secrets = {(s["metadata"]["name"], k) for s in of_kind("Secret") for k in s["stringData"]}
    for workload in platform_workloads():
        pod = workload["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        name = workload["metadata"]["name"]
        package = re.search(r"services\.[a-z_]+", " ".join(container["command"]))
        assert package, name
        env = {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}
        principal = env.get("ASSIST_KAFKA_USERNAME", "")
        assert principal == by_package[package.group(0)], name
        security = KafkaSecurity.from_settings(load_settings({**settings, **env}))  # refuses what cannot work
        assert security.protocol == "SASL_SSL" and security.password_file and security.ca_file, name
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v.get("secret", {}).get("secretName") for v in pod["volumes"]}
        for path, secret in ((security.password_file, f"assist-kafka-{principal.removeprefix('assist-')}"),
                             (security.ca_file, "assist-kafka-ca")):
            (mounted,) = [v for v, at in mounts.items() if str(path.parent) == at]
            assert volumes[mounted] == secret, name
            assert (secret, path.name) in secrets, f"{name}: no {path.name} in {secret}"
