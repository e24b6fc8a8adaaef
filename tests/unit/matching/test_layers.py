"""Dependencies point inwards: matching's domain and service layer never import its adapters (only the
composition roots, wiring.py and __main__.py, do)."""

from __future__ import annotations

import ast
from pathlib import Path

from services.core.settings import PROJECT_ROOT

MATCHING = PROJECT_ROOT / "services" / "matching"
ROOTS = {"wiring.py", "__main__.py"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_the_service_layer_and_the_domain_import_no_adapter() -> None:
    inner = [p for p in MATCHING.rglob("*.py") if "adapters" not in p.relative_to(MATCHING).parts
             and p.name not in ROOTS]
    adapters = "services.matching.adapters"
    offending = {str(p.relative_to(MATCHING)): sorted(m for m in _imports(p) if m.startswith(adapters)) for p in inner}
    assert {p: m for p, m in offending.items() if m} == {}


def test_the_domain_imports_nothing_of_the_service_layer() -> None:
    domain = list((MATCHING / "domain").rglob("*.py"))
    offending = {str(p.relative_to(MATCHING)): sorted(m for m in _imports(p) if m.startswith("services.matching.")
                                                      and not m.startswith("services.matching.domain"))
                 for p in domain}
    assert {p: m for p, m in offending.items() if m} == {}
