"""Household state kept by matching: composition and baseline from the registry, plus what events and decisions
changed since. Values are immutable; every change returns a new HouseholdState."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from services.matching.domain.household.benefits import (
    Item,
    Review,
    item_of,
    item_row,
    policy_of,
    review_of,
    review_row,
)
from services.matching.domain.household.event_kinds import BY_CODE, Change, kind_of
from services.matching.domain.household.migration import legacy_event_type, name_beneficiaries
from services.matching.domain.household.needs import Need, need_of_row, need_row
from services.matching.domain.household.parts import Emergency as Emergency
from services.matching.domain.household.parts import Expenditure as Expenditure
from services.matching.domain.household.parts import Member as Member
from services.matching.domain.household.parts import RecordedEvent as RecordedEvent

EPOCH = dt.date(1970, 1, 1)
NO_DAY = -(2**31)
"""Day number (days since EPOCH) standing for 'never' in int32 day columns."""
HISTORY_DAYS = 400
"""Recorded events and expenditures older than this (counted back from the newest event) are dropped."""

@dataclass(frozen=True)
class HouseholdState:
    """Everything matching knows about one household."""

    household_id: str
    district: str
    region: str
    urban: bool
    financial_assets_fen: int
    members: Mapping[str, Member]
    deceased: frozenset[str] = frozenset()
    current_benefits: frozenset[str] = frozenset()
    """Policy ids the registry says the household receives (the household as a whole)."""
    receiving: frozenset[str] = frozenset()
    """Benefit keys (benefits.benefit_key) accepted or approved through a decision."""
    pending_offers: Mapping[str, str] = field(default_factory=dict)
    """Offer id (task id for warnings) → benefit key (or warning pseudo-policy), until someone decides."""
    declined: Mapping[str, str] = field(default_factory=dict)
    """Benefit key → fingerprint of the facts it was declined on."""
    expenditures: tuple[Expenditure, ...] = ()
    last_emergency: Emergency | None = None
    recent_events: tuple[RecordedEvent, ...] = ()
    registry_as_of: dt.date | None = None
    items: Mapping[str, Item] = field(default_factory=dict)
    """Benefit key → the offer last sent for it (pending or received)."""
    reviews: Mapping[str, Review] = field(default_factory=dict)
    """Benefit key → the exit review raised for it."""
    answers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Application id → the answer given (an ApplicationAnswer record, answered_at in epoch milliseconds), so an
    application delivered again is answered the same (domain/applications.py keeps the newest)."""
    warnings_raised: Mapping[str, int] = field(default_factory=dict)
    """Risk tier → how many warnings of that tier were raised for the household: names the next one."""
    registered: Mapping[str, Member] | None = None
    """The members as the registry's last record listed them (before any event), what the household's facts on
    a past day are rebuilt from (household.as_of); None in states stored before it was kept."""
    needs: tuple[Need, ...] = ()
    """Reports of needs one-off benefits pay for, within the kept history (household.one_off)."""

    def applied_event_ids(self) -> frozenset[str]:
        """Ids of the events already applied (within the kept history)."""
        return frozenset(e.event_id for e in self.recent_events)

    def benefits(self) -> frozenset[str]:
        """Policies the household (or one of its members) receives: from the registry or through a decision."""
        return self.current_benefits | frozenset(policy_of(k) for k in self.receiving)

    def benefit_keys(self) -> frozenset[str]:
        """Benefit keys received: the registry's (whole household) and those accepted through a decision."""
        return self.current_benefits | self.receiving


def from_registry(record: Mapping[str, Any], previous: HouseholdState | None = None) -> HouseholdState:
    """State from a decoded schemas/records/household.avsc record.

    The record replaces composition and baseline facts. With `previous`, the event history, receiving, pending
    offers and declines are kept; people registered as deceased stay removed even if the registry still lists
    them; and member changes recorded by events dated on or after the record's `as_of` day (which the registry
    snapshot may not reflect yet) are applied again on top of the new baseline.
    """
    deceased = previous.deceased if previous is not None else frozenset()
    members = {
        str(m["person_id"]): Member(
            birth_date=as_date(m["birth_date"]),
            monthly_income_fen=int(m["monthly_income_fen"]),
            disability_grade=None if m.get("disability_grade") is None else int(m["disability_grade"]),
            has_phone=bool(m.get("has_phone", True)),
        )
        for m in record["members"]
        if str(m["person_id"]) not in deceased
    }
    as_of = _registry_day(record.get("as_of"))
    baseline = HouseholdState(
        household_id=str(record["household_id"]),
        district=str(record["district"]),
        region=str(record["region"]),
        urban=bool(record["urban"]),
        financial_assets_fen=int(record["financial_assets_fen"]),
        members=members,
        current_benefits=frozenset(str(b) for b in record.get("current_benefits", ())),
        registry_as_of=as_of,
        registered=members,
    )
    if previous is None:
        return baseline
    state = replace(
        baseline,
        deceased=previous.deceased,
        receiving=previous.receiving,
        pending_offers=previous.pending_offers,
        declined=previous.declined,
        items=previous.items,
        reviews=previous.reviews,
        answers=previous.answers,
        warnings_raised=previous.warnings_raised,
        expenditures=previous.expenditures,
        last_emergency=previous.last_emergency,
        recent_events=previous.recent_events,
        needs=previous.needs,
    )
    return _replay_member_changes(state, as_of)


def _replay_member_changes(state: HouseholdState, since: dt.date | None) -> HouseholdState:
    members = dict(state.members)
    for event in sorted(state.recent_events, key=lambda e: e.on):
        if since is not None and event.on < since:
            continue
        member = members.get(event.subject)
        if member is None:
            continue
        kind = kind_of(event.type)
        change = kind.change if kind is not None else None
        if change == Change.INCOME:
            members[event.subject] = replace(member, monthly_income_fen=event.amount_fen)
        elif change == Change.DISABILITY:
            members[event.subject] = replace(member, disability_grade=int(event.detail))
        elif change == Change.DEATH:
            del members[event.subject]
    return replace(state, members=members)


def prune(state: HouseholdState, today: dt.date) -> HouseholdState:
    """Drop recorded events and expenditures older than HISTORY_DAYS before `today`."""
    horizon = today - dt.timedelta(days=HISTORY_DAYS)
    events = tuple(e for e in state.recent_events if e.on >= horizon)
    spent = tuple(x for x in state.expenditures if x.on >= horizon)
    needs = tuple(n for n in state.needs if n.on >= horizon)
    if len(events) == len(state.recent_events) and len(spent) == len(state.expenditures) \
            and len(needs) == len(state.needs):
        return state
    return replace(state, recent_events=events, expenditures=spent, needs=needs)


def as_date(value: Any) -> dt.date:
    """A date from a decoded Avro date, an ISO string or days since 1970-01-01."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    if isinstance(value, int):
        return EPOCH + dt.timedelta(days=value)
    raise TypeError(f"not a date: {type(value).__name__}")


def _registry_day(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).date() if value.tzinfo else value.date()
    if isinstance(value, int):  # timestamp-millis not decoded
        return EPOCH + dt.timedelta(milliseconds=value)
    return as_date(value)


# ---- compact serialisation (the state lives in a changelog-backed table) ------------------------------------

def _day(d: dt.date) -> int:
    return (d - EPOCH).days


def _date(days: int) -> dt.date:
    return EPOCH + dt.timedelta(days=days)


FORMAT = 3
"""Mark of the stored form: 3 stores a recorded event's type by its code (event_kinds); 2 (per-beneficiary benefit
keys) stored it by its position in the alphabetical list of the types then known; states without a mark were
written before benefit keys named members. Any type without a code is stored by name."""
BENEFIT_KEYS_FORMAT = 2


def to_dict(state: HouseholdState) -> dict[str, Any]:
    """A small JSON-able form: dates as days since 1970-01-01, rows as lists without their trailing defaults.

    Expenditures are not written: they are the amounts of the recorded spending events about members.
    """
    out: dict[str, Any] = {
        "h": state.household_id,
        "d": state.district,
        "r": state.region,
        "u": int(state.urban),
        "a": state.financial_assets_fen,
        "m": _member_rows(state.members),
        "f": FORMAT,
    }
    optional: dict[str, Any] = {
        "x": sorted(state.deceased),
        "b": sorted(state.current_benefits),
        "v": sorted(state.receiving),
        "p": dict(state.pending_offers),
        "n": dict(state.declined),
        "e": [_event_row(e) for e in state.recent_events],
        "i": {k: item_row(i) for k, i in state.items.items()},
        "rv": {k: review_row(r) for k, r in state.reviews.items()},
        "ap": {k: dict(a) for k, a in state.answers.items()},
        "wr": dict(state.warnings_raised),
        "nd": [need_row(n, _day(n.on)) for n in state.needs],
    }
    out.update({k: v for k, v in optional.items() if v})
    if state.last_emergency is not None:
        em = state.last_emergency
        out["em"] = [_day(em.on), em.severity, em.place_district, int(em.home_destroyed), em.event_id]
    if state.registry_as_of is not None:
        out["t"] = _day(state.registry_as_of)
    if state.registered is not None:
        out["rm"] = _member_rows(state.registered)
    return out


def _member_rows(members: Mapping[str, Member]) -> dict[str, list[Any]]:
    return {pid: [_day(m.birth_date), m.monthly_income_fen, m.disability_grade or 0, int(m.has_phone)]
            for pid, m in members.items()}


def _members(rows: Mapping[str, list[Any]]) -> dict[str, Member]:
    return {pid: Member(_date(b), int(inc), int(g) or None, bool(ph)) for pid, (b, inc, g, ph) in rows.items()}


def _event_row(e: RecordedEvent) -> list[Any]:
    known = kind_of(e.type)
    kind: int | str = known.code if known is not None else e.type
    row: list[Any] = [e.event_id, kind, _day(e.on), e.subject, int(e.member), e.amount_fen, e.previous_income_fen,
                      e.detail, int(e.home_destroyed), e.reported_ms]
    while len(row) > 5 and row[-1] in (0, ""):
        row.pop()
    return row


def _event(row: list[Any], by_code: bool) -> RecordedEvent:
    """A recorded event from its row; `by_code`: the type is stored by code (FORMAT 3), else by legacy position."""
    event_id, kind, day, subject, member, *rest = row
    defaults: tuple[Any, ...] = (0, 0, "", 0, 0)
    amount, previous, detail, destroyed, reported = [*rest, *defaults[len(rest):]]
    event_type = str(kind) if not isinstance(kind, int) else BY_CODE[kind].type if by_code else legacy_event_type(kind)
    return RecordedEvent(event_id, event_type, _date(day), subject, bool(member), int(amount), int(previous),
                         str(detail), bool(destroyed), int(reported))


def spending_of(events: tuple[RecordedEvent, ...]) -> tuple[Expenditure, ...]:
    """The expenditures the recorded events stand for (spending events about members)."""
    out = []
    for e in events:
        kind = kind_of(e.type)
        if e.member and kind is not None and kind.spending is not None:
            out.append(Expenditure(e.on, kind.spending, e.amount_fen, e.event_id))
    return tuple(out)


def from_dict(data: Mapping[str, Any]) -> HouseholdState:
    """Inverse of to_dict. Older forms are migrated (household.migration): event types stored by position
    (FORMAT 2 and before) are read by that position; a state written before benefit keys named members (no format
    mark) gets the beneficiaries of pending offers of member-scope policies back."""
    em = data.get("em")
    events = tuple(_event(row, data.get("f") == FORMAT) for row in data.get("e", ()))
    state = HouseholdState(
        household_id=data["h"],
        district=data["d"],
        region=data["r"],
        urban=bool(data["u"]),
        financial_assets_fen=int(data["a"]),
        members=_members(data["m"]),
        deceased=frozenset(data.get("x", ())),
        current_benefits=frozenset(data.get("b", ())),
        receiving=frozenset(data.get("v", ())),
        pending_offers=dict(data.get("p", {})),
        declined=dict(data.get("n", {})),
        expenditures=spending_of(events),
        last_emergency=None if em is None else Emergency(_date(em[0]), em[1], em[2], bool(em[3]), em[4]),
        recent_events=events,
        registry_as_of=None if data.get("t") is None else _date(int(data["t"])),
        items={k: item_of(row) for k, row in data.get("i", {}).items()},
        reviews={k: review_of(row) for k, row in data.get("rv", {}).items()},
        answers={str(k): dict(a) for k, a in data.get("ap", {}).items()},
        warnings_raised={str(k): int(n) for k, n in data.get("wr", {}).items()},
        registered=_members(data["rm"]) if "rm" in data else None,
        needs=tuple(need_of_row(row, _date(int(row[2]))) for row in data.get("nd", ())),
    )
    if data.get("f") in (BENEFIT_KEYS_FORMAT, FORMAT):
        return state
    days = [e.on for e in events] + ([state.registry_as_of] if state.registry_as_of else [])
    pending = name_beneficiaries(state.pending_offers, state.household_id, [*state.members, *state.deceased],
                                 [e.event_id for e in events], days)
    return replace(state, pending_offers=pending)
