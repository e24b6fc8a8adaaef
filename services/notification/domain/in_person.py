"""The caseworker task that carries a notice to a person who cannot be reached otherwise (DELIVER_IN_PERSON)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from services.notification.domain.ids import in_person_task_id
from services.notification.domain.plan import is_critical

CRITICAL_SLA_HOURS = 24
SLA_HOURS = 72


def delivery_task(offer: Mapping[str, Any], person_id: str | None, reason: str, now: dt.datetime) -> dict[str, Any]:
    """A CaseworkerTask record (schemas/records/caseworker_task.avsc) for the offer's district. It names the
    person by pseudonym only: the caseworker finds the address in the district's own files."""
    critical = is_critical(offer)
    return {
        "task_id": in_person_task_id(str(offer["offer_id"])),
        "kind": "DELIVER_IN_PERSON",
        "household_id": offer["household_id"],
        "person_id": person_id,
        "district": offer["district"],
        "priority": max(int(offer["priority"]), 60 if critical else 0),
        "due_at": now + dt.timedelta(hours=CRITICAL_SLA_HOURS if critical else SLA_HOURS),
        "reason": f"Deliver in person: {offer['policy_name']} ({reason}).",
        "offer": dict(offer),
        "risk_tier": None,
        "evidence_event_ids": [offer["trigger_event_id"]] if offer.get("trigger_event_id") else [],
        "created_at": now,
    }
