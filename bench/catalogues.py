"""Synthetic catalogues of 10 to 1,000+ policies for benchmarks: the first national policies of the demo
catalogue plus local programmes, each limited to one district, spread over many districts as in life
(a county runs a handful of its own top-ups)."""

from __future__ import annotations

import datetime as dt
import re

from services.core.settings import PROJECT_ROOT
from services.matching.domain.catalogue.policy_catalogue import PolicyCatalogue

DEMO = PROJECT_ROOT / "policies" / "national-demo.yaml"
NATIONAL = 10

LOCAL = """
  - id: local_top_up_{n}
    name: Local top-up {n} of district {district}
    name_zh: 区县 {district} 第 {n} 项地方补助
    legal_basis: Local measures for social assistance, district {district}
    tier: temporary
    scope: household
    triggers: [{trigger}]
    conditions:
      - check: household.district == '{district}'
        label: {{zh-CN: 您家住在本区县, en: Your household lives in the district}}
      - check: household.per_capita_income_fen < {factor} * standard
        label: {{zh-CN: 您家人均月收入较低, en: Your household's income per person is low}}
    amount: {amount} * household.members
    amount_label: {{zh-CN: "一次性 {{amount}}", en: "{{amount}} once"}}
    amount_period: ONE_OFF
    route: AUTO_OFFER
    priority: 30
    sla_hours: 240
    benefit_period: event
"""
TRIGGERS = ("job.lost", "income.changed", "hospitalisation.discharged", "medical_expense.settled",
            "disability.certified", "school.enrolled", "emergency.occurred", "death.registered")


def catalogue_of(size: int, home_districts: tuple[str, ...], name: str) -> str:
    """The demo's first 10 policies plus `size - 10` local programmes: two in each of `home_districts` (where
    the benchmark's households live), the rest in other districts."""
    text = DEMO.read_text(encoding="utf-8").replace("catalogue: national-demo", f"catalogue: {name}")
    head, policies = text.split("\npolicies:\n", 1)
    blocks = re.split(r"\n(?=  - id: )", policies)
    national = [b for b in blocks if b.strip()][:NATIONAL]
    local = []
    for n in range(max(0, size - NATIONAL)):
        home = n < 2 * len(home_districts)
        district = home_districts[n // 2] if home else f"{700000 + n:06d}"
        local.append(LOCAL.format(n=n, district=district, trigger=TRIGGERS[n % len(TRIGGERS)],
                                  factor=1.2 + (n % 5) / 10, amount=5_000 + 100 * (n % 7)))
    return head + "\npolicies:\n" + "\n".join(national) + "\n" + "".join(local)


CATALOGUE = PROJECT_ROOT / "policies" / "national-demo.yaml"
"""The demo catalogue the re-evaluation benchmark and its tests raise a standard in."""


def raised_standard(text: str, catalogue: PolicyCatalogue, region: str, rate: float, on_date: dt.date) -> str:
    """The catalogue document with the region's standard raised by `rate` from `on_date`, as a new version."""
    urban, rural = (round(catalogue.resolve("standard", region, u, on_date) * (1 + rate)) for u in (True, False))
    line = f'      - {{from: {on_date.isoformat()}, region: "{region}", urban: {urban}, rural: {rural}}}\n'
    raised, found = re.subn(r"(?m)^(  standard:\n(?:    .*\n)*?    values:\n)", lambda m: m.group(1) + line, text,
                            count=1)
    if not found:
        raise ValueError("the catalogue has no 'standard' parameter with dated values")
    return re.sub(r'(?m)^version: "?([^"\n]*)"?$', rf'version: "\1+{region}-raise"', raised, count=1)
