"""The Kubernetes ConfigMaps that carry deploy/prometheus/rules and deploy/grafana into the cluster (pure: files in,
manifest text out). `python -m services.operations k8s-config` writes deploy/k8s/71-monitoring-files.yaml; a test
checks that file matches the sources, so the rules and dashboards are kept in one place."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from services.core.settings import PROJECT_ROOT

NAMESPACE = "assist"
MANIFEST = PROJECT_ROOT / "deploy" / "k8s" / "71-monitoring-files.yaml"


def sources(root: Path = PROJECT_ROOT) -> dict[str, dict[str, str]]:
    """ConfigMap name -> file name -> content, read from the deploy folder."""
    grafana = root / "deploy" / "grafana"
    return {
        "prometheus-rules": {p.name: p.read_text(encoding="utf-8")
                             for p in sorted((root / "deploy" / "prometheus" / "rules").glob("*.yml"))},
        "grafana-dashboards": {p.name: p.read_text(encoding="utf-8")
                               for p in sorted((grafana / "dashboards").glob("*.json"))},
        "grafana-provisioning": {f"{p.parent.name}-{p.name}": p.read_text(encoding="utf-8")
                                 for p in sorted((grafana / "provisioning").glob("*/*.yml"))},
    }


class _Literal(str):
    """A string written as a YAML block (|), so the manifest stays readable and diffable."""


def _literal(dumper: yaml.SafeDumper, text: _Literal) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(text), style="|")


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Literal, _literal)


def configmaps(files: Mapping[str, Mapping[str, str]]) -> str:
    """The manifest text: one ConfigMap per source folder."""
    docs: list[dict[str, Any]] = [{
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": NAMESPACE,
                     "labels": {"app.kubernetes.io/part-of": "assist-platform"}},
        "data": {key: _Literal(text) for key, text in sorted(content.items())},
    } for name, content in files.items()]
    header = ("# Written by `python -m services.operations k8s-config` from deploy/prometheus/rules and deploy/grafana;"
              " do not edit.\n")
    return header + yaml.dump_all(docs, Dumper=_Dumper, sort_keys=False, width=120, allow_unicode=True)
