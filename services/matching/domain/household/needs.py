"""The need an event stands for: what a one-off benefit (benefit_period: event) is paid for, and so what its
offer id is named by.

A need is named by what happened, never by which report of it arrived first: a hospital stay by the patient and
the day of discharge, a medical bill by the patient and the day it was settled, an emergency by its day and kind
(every member's report of one disaster is one need of the household), a lost home by its day and reason. Two
reports of one need give one offer, whatever their order between partitions and however often they are
delivered."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

SHARED: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "emergency.occurred": ("kind",),
    "housing.lost": ("reason",),
})
"""Event types whose need is the household's, not one member's: the data fields that tell one such need from
another besides its day."""


def need_of(event_type: str, subject: str, data: Mapping[str, Any], occurred_on: dt.date) -> str:
    """The need's name: the event type, whose need it is (the member, or the household for SHARED types), the
    day it happened and, for shared needs, what tells it apart."""
    fields = SHARED.get(event_type)
    if fields is None:
        return f"{event_type} {subject} {occurred_on.isoformat()}"
    detail = " ".join(str(data.get(name, "")) for name in fields)
    return f"{event_type} {occurred_on.isoformat()} {detail}".rstrip()
