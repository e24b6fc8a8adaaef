"""The parts of a household's state: its living members, what it spent, the latest emergency, and the events
applied to it (household.HouseholdState holds them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Member:
    """A living member of the household."""

    birth_date: dt.date
    monthly_income_fen: int
    disability_grade: int | None
    has_phone: bool


@dataclass(frozen=True)
class Expenditure:
    """Money the household paid out of pocket: kind is 'medical' or 'education'."""

    on: dt.date
    kind: str
    amount_fen: int
    event_id: str


@dataclass(frozen=True)
class Emergency:
    """The latest emergency that struck a member."""

    on: dt.date
    severity: str
    place_district: str
    home_destroyed: bool
    event_id: str


@dataclass(frozen=True)
class RecordedEvent:
    """An applied event, kept for sliding windows (risk signals) and to recognise a redelivered event id.

    `member` tells whether the subject was a living member when the event arrived; `amount_fen` is the event's
    money (out-of-pocket cost, term fees, new income); `previous_income_fen` the subject's income just before a
    job loss, income change or death in the dated history (facts.in_history_order), not in arrival order;
    `detail` the severity, disability grade, housing-loss reason or age reached.
    """

    event_id: str
    type: str
    on: dt.date
    subject: str
    member: bool
    amount_fen: int = 0
    previous_income_fen: int = 0
    detail: str = ""
    home_destroyed: bool = False
    reported_ms: int = 0
    """When the event was reported (its time, milliseconds since the epoch; 0 when not known): where deadlines of
    what it brought about count from."""
