"""What the alert rules and dashboards query: metric names in PromQL, and the metric names the code exports."""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
            "inf", "nan"}
BUILT_IN = {"up"}
"""Series Prometheus writes itself for every target."""
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
DEFINED = re.compile(r"(?:Counter|Gauge|Histogram|Summary|GaugeMetricFamily|CounterMetricFamily)\(\s*\"([a-zA-Z_:]+)\"")


def metric_names(expr: str) -> set[str]:
    """The metric names an expression reads: identifiers that are neither functions, keywords, label names in
    by/without/on/ignoring lists, nor anything inside label matchers, strings or range brackets."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings (label values, regexes)
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges and subqueries
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\$\w+|\$\{[^}]*\}", " ", text)  # dashboard variables
    names = set()
    for match in re.finditer(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?", text):
        word, call = match.group(1), match.group(2)
        if call or word.lower() in KEYWORDS or re.fullmatch(r"\d+[smhdwy]", word):
            continue
        names.add(word)
    return names


@cache
def exported() -> frozenset[str]:
    """Every metric name the services and the lag exporter define (histograms with their series suffixes)."""
    names: set[str] = set(BUILT_IN)
    for path in (REPO / "services").rglob("*.py"):
        for name in DEFINED.findall(path.read_text(encoding="utf-8")):
            names.add(name)
            names.update(name + suffix for suffix in HISTOGRAM_SUFFIXES)
    return frozenset(names)


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    """Run Debian's promtool (package prometheus, installed by ./run setup); missing, the test fails, never skips."""
    tool = shutil.which("promtool")
    if tool is None:
        pytest.fail("promtool is not installed: `./run setup` installs Debian's prometheus package, which ships it")
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=120, check=False)
