"""Small builders of offers and contacts for the notification unit tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml

from services.core.settings import PROJECT_ROOT
from services.notification.domain.contact import Contact, contact_from_record

NAMES_ZH = {str(p["id"]): str(p["name_zh"]) for p in yaml.safe_load(
    (PROJECT_ROOT / "policies" / "national-demo.yaml").read_text(encoding="utf-8"))["policies"]}
"""The programmes' Chinese names, from the catalogue as matching carries them in explanations."""

NOW = dt.datetime(2026, 11, 20, 4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai


def offer(policy_id: str = "employment_assistance", tier: str = "specialised", priority: int = 45,
          amount_fen: int | None = 80_000, **extra: Any) -> dict[str, Any]:
    value = {
        "offer_id": f"o-{policy_id[:8]}", "household_id": "hh-1", "person_id": "p1", "policy_id": policy_id,
        "policy_name": policy_id.replace("_", " ").capitalize(), "tier": tier, "benefit_period": "2026-11",
        "amount_fen": amount_fen, "amount_period": "MONTHLY", "route": "AUTO_OFFER", "district": "510107",
        "priority": priority, "created_at": NOW, "trigger_event_id": "e1",
        "explanation": {"policy_id": policy_id, "policy_version": "2026.1", "legal_basis": "Art. 9",
                        "eligible": True, "facts": {}, "conditions": [
                            {"expression": "income < standard", "values": "1000 < 80000", "holds": True}],
                        "computation": None, "summary": "Eligible because the income is below the standard.",
                        "policy_names": {"zh-CN": NAMES_ZH.get(policy_id, policy_id)}},
    }
    value.update(extra)
    return value


def contact(**fields: Any) -> Contact:
    record = {"person_id": "p1", "phone": "+8613800000001", "email": "p1@example.org",
              "channels": ["SMS", "EMAIL", "INBOX"], "language": "zh_CN", "time_zone": "Asia/Shanghai",
              "quiet_from": None, "quiet_until": None, "opted_out_non_critical": False,
              "elderly_living_alone": False, "consented_at": NOW}
    record.update(fields)
    return contact_from_record(record)
