"""How a department's system phrases a change event: CloudEvents 1.0 structured JSON, subject = identity number."""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.core.codec import SPECVERSION, Contract

CHINA = dt.timezone(dt.timedelta(hours=8), "CST")
"""Departments date occurrences in China Standard Time."""

SYSTEMS: dict[str, str] = {
    "health": "his",
    "human_resources": "employment-service",
    "civil_registry": "vital-records",
    "disabled_persons_federation": "certificates",
    "education": "enrolment",
    "emergency_management": "disaster-reports",
    "housing": "housing-register",
}


def source_of(department: str) -> str:
    """The CloudEvents source of a department's producing system: /departments/<department>/<system>."""
    return f"/departments/{department}/{SYSTEMS.get(department, 'registry')}"


def department_of(event: dict[str, Any]) -> str:
    """The department named in a structured event's source (the part after /departments/)."""
    parts = str(event.get("source", "")).strip("/").split("/")
    return parts[1] if len(parts) >= 2 and parts[0] == "departments" else ""


def local_day(time: dt.datetime) -> dt.date:
    return time.astimezone(CHINA).date()


def rfc3339(time: dt.datetime) -> str:
    return time.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def department_event(contract: Contract, event_id: str, type_: str, time: dt.datetime, subject: str,
                     data: dict[str, Any]) -> dict[str, Any]:
    """A structured CloudEvent from the department that owns `type_`; dates in `data` become ISO text."""
    department = contract.event_types[type_].department
    return {
        "specversion": SPECVERSION, "id": event_id, "source": source_of(department), "type": type_,
        "time": rfc3339(time), "subject": subject, "datacontenttype": "application/json",
        "dataschema": contract.event_types[type_].dataschema,
        "data": {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in data.items()},
    }
