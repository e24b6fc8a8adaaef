"""The citizen's data-use log: who used my data and why (PIPL's right to know). Two parts:

- the department events about me that offers and decisions were based on: per offer, the events it names (the
  trigger event and, for a verified offer, the task's evidence events) and the department that sent each one
  where it is known (my own applications are civil affairs'); offers name their events by id only;
- each disclosure of my name, address or phone to a member of staff: their role and district, the purpose and the
  fields, and when; never who they are (the audit topic keeps that for the supervisors).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from services.notification.domain.contact import Language

APPLICATION_DEPARTMENT = "civil_affairs"
"""The department of an application.submitted event (schemas/events): a resident's own application."""


@dataclass(frozen=True)
class ContactUse:
    """One disclosure of a person's contact details, as the person is told of it."""

    disclosure_id: str
    role: str
    """CASEWORKER or SUPERVISOR."""
    district: str
    purpose: str
    """VISIT, VERIFY or DELIVER_NOTICE."""
    fields: tuple[str, ...]
    at: dt.datetime


def contact_use(record: Mapping[str, Any]) -> ContactUse:
    """What a person is told of a Disclosure record (schemas/records/disclosure.avsc): everything but the actor."""
    return ContactUse(str(record["disclosure_id"]), str(record["actor_role"]), str(record["district"]),
                      str(record["purpose"]), tuple(str(f) for f in record["fields"]), record["at"])


@dataclass(frozen=True)
class EventUse:
    """An event an offer was based on, and the department that sent it when known."""

    event_id: str
    department: str | None
    trigger: bool
    """The event that started the evaluation (else evidence a caseworker was given)."""


def events_of(offer: Mapping[str, Any], evidence: Iterable[str], applications: Iterable[str],
              types: Mapping[str, str] | None = None, departments: Mapping[str, str] | None = None) -> list[EventUse]:
    """The events an offer names: its trigger first, then the evidence of its task, each once, with the department
    that sent it: the resident's own applications are civil affairs; another event's department follows from its
    type (the offer's trigger_event_type, the task's evidence_event_types in `types`) through `departments`
    (event type → owning department, from schemas/events)."""
    mine = set(applications)
    known = {**(types or {})}
    trigger = offer.get("trigger_event_id")
    if trigger and offer.get("trigger_event_type"):
        known[str(trigger)] = str(offer["trigger_event_type"])

    def department(event_id: str) -> str | None:
        if event_id in mine:
            return APPLICATION_DEPARTMENT
        return (departments or {}).get(known.get(event_id, ""))

    found = [EventUse(str(trigger), department(str(trigger)), True)] if trigger else []
    seen = {trigger}
    for event_id in evidence:
        if event_id not in seen:
            seen.add(event_id)
            found.append(EventUse(event_id, department(event_id), False))
    return found


_WORDS: dict[Language, dict[str, str]] = {
    Language.EN: {
        "CASEWORKER": "a caseworker", "SUPERVISOR": "a supervisor", "VISIT": "to visit you",
        "VERIFY": "to check your information with you", "DELIVER_NOTICE": "to deliver a notice to you",
        "name": "name", "address": "address", "phone": "phone",
        "health": "health", "human_resources": "human resources and social security",
        "disabled_persons_federation": "disabled persons' federation", "civil_registry": "civil registry",
        "emergency_management": "emergency management", "education": "education", "housing": "housing",
        "civil_affairs": "civil affairs (your application)",
    },
    Language.ZH_CN: {
        "CASEWORKER": "一名个案工作人员", "SUPERVISOR": "一名督导", "VISIT": "入户走访",
        "VERIFY": "与您核实情况", "DELIVER_NOTICE": "向您送达通知",
        "name": "姓名", "address": "住址", "phone": "电话",
        "health": "卫生健康部门", "human_resources": "人力资源和社会保障部门",
        "disabled_persons_federation": "残疾人联合会", "civil_registry": "户籍登记部门",
        "emergency_management": "应急管理部门", "education": "教育部门", "housing": "住房和城乡建设部门",
        "civil_affairs": "民政部门（您的申请）",
    },
}


def word(language: Language, key: str) -> str:
    """A role, purpose, field or department in the person's language (the code itself when none is known)."""
    return _WORDS[language].get(key, key)
