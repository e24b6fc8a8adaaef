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
from dataclasses import dataclass
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


NeedValue = str | int | float | bool


@dataclass(frozen=True)
class Need:
    """A report of a need a one-off benefit may pay for, kept so the decision on it can be taken again when a
    fact dated on or before its day arrives after it (domain/household/one_off.py). `data` holds the report's
    fields as event facts read them (dates as ISO text)."""

    event_id: str
    type: str
    subject: str
    on: dt.date
    time: dt.datetime
    data: Mapping[str, NeedValue]

    @property
    def name(self) -> str:
        return need_of(self.type, self.subject, self.data, self.on)


def reported(event_id: str, event_type: str, subject: str, data: Mapping[str, Any], on: dt.date,
             time: dt.datetime) -> Need:
    """The need an event reports, its data reduced to the values event facts are made of."""
    kept: dict[str, NeedValue] = {}
    for name, value in data.items():
        if isinstance(value, dt.date):  # datetime is a date too
            kept[name] = value.isoformat()
        elif isinstance(value, bool | int | float | str):
            kept[name] = value
    return Need(event_id, event_type, subject, on, time, kept)


def need_row(need: Need, day: int) -> list[Any]:
    """The stored form; `day` is need.on as days since 1970-01-01."""
    return [need.event_id, need.type, day, need.subject, int(need.time.timestamp() * 1000), dict(need.data)]


def need_of_row(row: list[Any], on: dt.date) -> Need:
    event_id, event_type, _, subject, millis, data = row
    return Need(str(event_id), str(event_type), str(subject), on,
                dt.datetime.fromtimestamp(int(millis) / 1000, dt.UTC), dict(data))
