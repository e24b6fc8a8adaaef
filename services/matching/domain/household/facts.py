"""How change events and decisions alter a household, and the facts policies read from it.

Fact names are the vocabulary shared with policy evaluation (`household.*`, `member.*`, `event.*`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from services.matching.domain.household.benefits import Item, beneficiary_of, policy_of
from services.matching.domain.household.event_kinds import SPENDING_KINDS, Change, changes, kind_of, spending_fact
from services.matching.domain.household.needs import need_of
from services.matching.domain.household.state import (
    HISTORY_DAYS,
    Emergency,
    Expenditure,
    HouseholdState,
    RecordedEvent,
    as_date,
    prune,
)

FactValue = int | float | bool | str
Facts = dict[str, FactValue]

SUBSISTENCE_ALLOWANCE = "subsistence_allowance"
"""Catalogue id of the minimum subsistence allowance (dibao): sets household.receives_subsistence_allowance."""
SPECIAL_HARDSHIP = "special_hardship"
"""Catalogue id of support for persons in special hardship (tekun): sets household.receives_special_hardship."""

SEVERITIES = ("NONE", "MINOR", "SERIOUS", "CATASTROPHIC")
DISASTER_DAYS = 90
SPENDING_DAYS = 365
WORKING_AGE = (16, 59)
ELDERLY_AGE = 60

ACCEPTING = frozenset({"ACCEPTED", "APPROVED"})
REFUSING = frozenset({"DECLINED", "REJECTED"})

def event_day(event_type: str, data: Mapping[str, Any], fallback: dt.date) -> dt.date:
    """The day the change happened according to the event's own date field (event_kinds), else `fallback`."""
    kind = kind_of(event_type)
    name = kind.day_field if kind is not None else None
    return as_date(data[name]) if name is not None and data.get(name) is not None else fallback


def apply_event(state: HouseholdState, event_type: str, subject: str, data: Mapping[str, Any], event_id: str,
                occurred_on: dt.date, reported_at: dt.datetime | None = None) -> HouseholdState:
    """The household after the event; the event is recorded (for windows and to recognise redelivery). What it
    changes is its kind's (event_kinds.EventKind.change).

    - An event id already applied returns the state unchanged, so nothing is counted twice.
    - When `subject` is not a living member (unknown person, already deceased, another household), or the type
      is unknown, nothing but the record of the event changes: its facts do not belong to this household.
    - An income change or disability certification dated before one of the same change already applied to the
      same person does not override it.
    History older than HISTORY_DAYS before the newest event is dropped, and an event older than that is ignored
    (its redelivery could no longer be recognised).
    """
    if event_id in state.applied_event_ids() or _beyond_history(state, occurred_on):
        return state
    member = state.members.get(subject)
    kind = kind_of(event_type)
    reported = int(reported_at.timestamp() * 1000) if reported_at is not None else 0
    record = RecordedEvent(event_id, event_type, occurred_on, subject, member is not None, reported_ms=reported)
    if member is None:
        return _record(state, record)
    if kind is None or kind.change == Change.REQUEST:
        return _record(state, replace(record, member=False))
    amount = int(data.get(kind.amount_field) or 0) if kind.amount_field is not None else 0
    detail = str(data.get(kind.detail_field, "")) if kind.detail_field is not None else ""
    record = replace(record, amount_fen=amount, detail=detail)
    members = dict(state.members)
    expenditures = state.expenditures
    emergency = state.last_emergency
    deceased = state.deceased
    change = kind.change
    if change == Change.INCOME:
        record = replace(record, previous_income_fen=_income_before(state, record, member.monthly_income_fen))
        if not _superseded(state, record, change):
            members[subject] = replace(member, monthly_income_fen=amount)
        state = _income_follows(state, record)
    elif change == Change.DEATH:
        record = replace(record, previous_income_fen=_income_before(state, record, member.monthly_income_fen))
        del members[subject]
        deceased = deceased | {subject}
    elif change == Change.DISABILITY:
        if not _superseded(state, record, change):
            members[subject] = replace(member, disability_grade=int(detail))
    elif change == Change.SPENDING and kind.spending is not None:
        expenditures = (*expenditures, Expenditure(occurred_on, kind.spending, amount, event_id))
    elif change == Change.EMERGENCY:
        destroyed = bool(data["home_destroyed"])
        record = replace(record, home_destroyed=destroyed)
        if emergency is None or (occurred_on, event_id) >= (emergency.on, emergency.event_id):
            emergency = Emergency(occurred_on, detail, str(data["place_district"]), destroyed, event_id)
    changed = replace(state, members=members, expenditures=expenditures, last_emergency=emergency, deceased=deceased)
    return _record(changed, record)


def _beyond_history(state: HouseholdState, on: dt.date) -> bool:
    if not state.recent_events:
        return False
    return on < max(e.on for e in state.recent_events) - dt.timedelta(days=HISTORY_DAYS)


def _superseded(state: HouseholdState, event: RecordedEvent, change: Change) -> bool:
    """Whether a change of the same kind to the same member comes after `event` in the dated history: a later
    day, or the same day reported later, so the order reports arrive in never decides (one_off.as_of reads the
    history in this order too)."""
    return any(e.subject == event.subject and changes(e.type, change) and in_history_order(e) > in_history_order(event)
               for e in state.recent_events)


def _income_before(state: HouseholdState, event: RecordedEvent, current: int) -> int:
    """The subject's income just before `event` in the dated history, so an income drop or an earner's death
    weighs the same whatever order the reports came in: the income the latest earlier change set; with none, the
    income before the first later change; with neither, the member's income now."""
    earlier = _income_events(state, event.subject, lambda e: in_history_order(e) < in_history_order(event))
    if earlier:
        return max(earlier, key=in_history_order).amount_fen
    later = _income_events(state, event.subject, lambda e: in_history_order(e) > in_history_order(event))
    return min(later, key=in_history_order).previous_income_fen if later else current


def _income_follows(state: HouseholdState, event: RecordedEvent) -> HouseholdState:
    """The state with the change that follows `event` in the subject's dated history (one that arrived before
    it) counting its drop from `event`'s income."""
    later = _income_events(state, event.subject, lambda e: in_history_order(e) > in_history_order(event))
    if not later:
        return state
    following = min(later, key=in_history_order)
    if following.previous_income_fen == event.amount_fen:
        return state
    events = tuple(replace(e, previous_income_fen=event.amount_fen) if e is following else e
                   for e in state.recent_events)
    return replace(state, recent_events=events)


def _income_events(state: HouseholdState, subject: str, where: Callable[[RecordedEvent], bool]
                   ) -> list[RecordedEvent]:
    return [e for e in state.recent_events
            if e.subject == subject and e.member and (changes(e.type, Change.INCOME) or changes(e.type, Change.DEATH))
            and where(e)]


def in_history_order(event: RecordedEvent) -> tuple[dt.date, int, str]:
    """Where an event stands in the household's dated history: its day, then when it was reported, then its id."""
    return event.on, event.reported_ms, event.event_id


def _record(state: HouseholdState, record: RecordedEvent) -> HouseholdState:
    newest = max([record.on, *(e.on for e in state.recent_events)])
    return prune(replace(state, recent_events=(*state.recent_events, record)), newest)


def record_offer(state: HouseholdState, offer_id: str, key: str, item: Item | None = None) -> HouseholdState:
    """Remember an emitted offer for a benefit key (benefits.benefit_key) until the citizen or a caseworker
    decides on it; `item` is what was sent, kept so a later change of facts can revise or withdraw it."""
    if state.pending_offers.get(offer_id) == key and (item is None or state.items.get(key) == item):
        return state
    items = state.items if item is None else {**state.items, key: item}
    # A new offer voids an earlier decline of the same key: the citizen answers this one.
    declined = {k: f for k, f in state.declined.items() if k != key} if key in state.declined else state.declined
    return replace(state, pending_offers={**state.pending_offers, offer_id: key}, items=items, declined=declined)


def decided_key(state: HouseholdState, policy_id: str | None, offer_id: str | None) -> str | None:
    """The benefit key a decision is about: its offer's (pending, or sent before), else the policy for the whole
    household. The decision's person is not used: a citizen answering a household offer is not its beneficiary."""
    if offer_id is not None:
        key = state.pending_offers.get(offer_id)
        if key is not None:
            return key
        for item_key, item in state.items.items():
            if item.offer_id == offer_id:
                return item_key
    return policy_id


def apply_decision(state: HouseholdState, action: str, policy_id: str | None, offer_id: str | None,
                   fingerprint: str) -> HouseholdState:
    """ACCEPTED/APPROVED: the beneficiary receives the policy. DECLINED/REJECTED: it is not offered again while
    the facts' fingerprint (benefit_fingerprint of the key) stays `fingerprint`. Other actions (claims,
    reassignment...) change nothing. The key is found from the offer id (decided_key)."""
    if action not in ACCEPTING and action not in REFUSING:
        return state
    key = decided_key(state, policy_id, offer_id)
    if key is None:
        return state
    pending = {o: p for o, p in state.pending_offers.items() if o != offer_id}
    declined = {k: f for k, f in state.declined.items() if k != key}
    if action in ACCEPTING:
        # A benefit granted again starts afresh: an exit review settled on an earlier grant no longer holds it back.
        reviews = {k: r for k, r in state.reviews.items() if k != key or r.open}
        return replace(state, receiving=state.receiving | {key}, pending_offers=pending, declined=declined,
                       reviews=reviews)
    return replace(state, pending_offers=pending, declined={**declined, key: fingerprint},
                   receiving=state.receiving - {key})


def may_offer(state: HouseholdState, key: str, current_fingerprint: str,
              household_fingerprint: str | None = None) -> bool:
    """False when the beneficiary (or the whole household) already receives the policy, or declined it and the
    facts have not changed since. A decline for the whole household is compared with `household_fingerprint`."""
    policy = policy_of(key)
    received = state.benefit_keys()
    if key in received or policy in received:
        return False
    if state.declined.get(key) == current_fingerprint:
        return False
    return key == policy or state.declined.get(policy) != (household_fingerprint or current_fingerprint)


# ---- facts -----------------------------------------------------------------------------------------------------

def age_on(birth_date: dt.date, on_date: dt.date) -> int:
    """Age in whole years at `on_date` (a 29 February birthday counts from 1 March in other years)."""
    return on_date.year - birth_date.year - ((on_date.month, on_date.day) < (birth_date.month, birth_date.day))


def household_facts(state: HouseholdState, on_date: dt.date) -> Facts:
    """The household.* facts at `on_date`. With no living member, per-capita values are 0."""
    ages = [age_on(m.birth_date, on_date) for m in state.members.values()]
    incomes = [m.monthly_income_fen for m in state.members.values()]
    size = len(ages)
    income = sum(incomes)
    benefits = state.benefits()
    return {
        "household.id": state.household_id,
        "household.district": state.district,
        "household.region": state.region,
        "household.urban": state.urban,
        "household.members": size,
        "household.monthly_income_fen": income,
        "household.per_capita_income_fen": income / size if size else 0.0,
        "household.annual_income_fen": 12 * income,
        "household.financial_assets_fen": state.financial_assets_fen,
        "household.assets_per_capita_fen": state.financial_assets_fen / size if size else 0.0,
        "household.earners_working_age": sum(
            1 for a, i in zip(ages, incomes, strict=True) if WORKING_AGE[0] <= a <= WORKING_AGE[1] and i > 0),
        "household.elderly_members": sum(1 for a in ages if a >= ELDERLY_AGE),
        "household.children": sum(1 for a in ages if a < WORKING_AGE[0]),
        "household.severe_disability_members": sum(
            1 for m in state.members.values() if m.disability_grade in (1, 2)),
        **{spending_fact(kind): spending_12m(state, kind, on_date) for kind in SPENDING_KINDS},
        "household.receives_subsistence_allowance": SUBSISTENCE_ALLOWANCE in benefits,
        "household.receives_special_hardship": SPECIAL_HARDSHIP in benefits,
        "household.lives_alone": size == 1,
        "household.disaster_severity": disaster_severity(state, on_date),
    }


def spending_12m(state: HouseholdState, kind: str, on_date: dt.date) -> int:
    """Out-of-pocket spending of `kind` within the SPENDING_DAYS up to and including `on_date`."""
    start = on_date - dt.timedelta(days=SPENDING_DAYS)
    return sum(x.amount_fen for x in state.expenditures if x.kind == kind and start < x.on <= on_date)


def disaster_severity(state: HouseholdState, on_date: dt.date) -> str:
    """Severity of the latest emergency within DISASTER_DAYS up to `on_date`, else NONE."""
    em = state.last_emergency
    if em is None or not 0 <= (on_date - em.on).days <= DISASTER_DAYS:
        return "NONE"
    return em.severity


def member_facts(state: HouseholdState, on_date: dt.date) -> dict[str, Facts]:
    """The member.* facts of each living member at `on_date`, by person id."""
    out: dict[str, Facts] = {}
    for pid, m in state.members.items():
        age = age_on(m.birth_date, on_date)
        out[pid] = {
            "member.id": pid,
            "member.age": age,
            "member.monthly_income_fen": m.monthly_income_fen,
            "member.disability_grade": m.disability_grade or 0,
            "member.has_phone": m.has_phone,
            "member.working_age": WORKING_AGE[0] <= age <= WORKING_AGE[1],
        }
    return out


def event_facts(event_type: str, event_id: str, subject: str, data: Mapping[str, Any],
                occurred_on: dt.date | None = None) -> Facts:
    """The event.* facts: type, id, subject and each data field by name (dates as ISO strings); with
    `occurred_on`, event.need: the need it stands for (needs.py), which names a one-off benefit."""
    out: Facts = {"event.type": event_type, "event.id": event_id, "event.subject": subject}
    if occurred_on is not None:
        out["event.need"] = need_of(event_type, subject, data, occurred_on)
    for name, value in data.items():
        if isinstance(value, dt.date):  # datetime is a date too
            out[f"event.{name}"] = value.isoformat()
        elif isinstance(value, bool | int | float | str):
            out[f"event.{name}"] = value
    return out


def fingerprint(facts: Mapping[str, FactValue], member: Mapping[str, FactValue] | None = None) -> str:
    """Stable hash of the household facts eligibility depends on (everything but the household id), and of one
    member's facts for a member's benefit (everything but the person id)."""
    relevant = {k: v for k, v in facts.items() if k.startswith("household.") and k != "household.id"}
    if member is not None:
        relevant.update({k: v for k, v in member.items() if k.startswith("member.") and k != "member.id"})
    text = json.dumps(relevant, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def benefit_fingerprint(state: HouseholdState, key: str, on_date: dt.date) -> str:
    """The fingerprint a decision on `key` is remembered with: the household's facts, and the member's when the
    key names a living member."""
    person = beneficiary_of(key)
    members = member_facts(state, on_date) if person is not None else {}
    return fingerprint(household_facts(state, on_date), members.get(person) if person is not None else None)
