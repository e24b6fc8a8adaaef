"""What to do next for one offer and one person: which channels in which order, in which language, now or after
quiet hours, suppressed, or handed to a caseworker to deliver in person.

Critical offers are the ones where silence or delay can leave a person without the means to live: subsistence
(tier basic: subsistence allowance, individual inclusion), special hardship (tier special), temporary assistance
(tier temporary), and anything matching ranked urgent (priority >= 80, e.g. medical or housing assistance).
They ignore quiet hours and the opt-out of non-critical messages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from services.notification.domain.contact import Channel, Contact, Language

CRITICAL_TIERS = frozenset({"basic", "special", "temporary"})
CRITICAL_PRIORITY = 80
NO_CONTACT = "no consented contact details"
NO_WORKING_CHANNEL = "no working channel"
ELDERLY_WITHOUT_PHONE = "aged 60 or over, living alone, without a phone"
EVERY_CHANNEL_FAILED = "every channel failed"


def is_critical(offer: Mapping[str, Any]) -> bool:
    return offer.get("tier") in CRITICAL_TIERS or int(offer.get("priority") or 0) >= CRITICAL_PRIORITY


@dataclass(frozen=True)
class DeliveryState:
    """Where delivery of one offer stands. `chain` is fixed when planned; `index` is the channel being tried,
    `attempt` the next attempt on it (1-based)."""

    chain: tuple[Channel, ...]
    language: Language
    critical: bool
    suppressed: bool = False
    index: int = 0
    attempt: int = 1
    in_person_reason: str | None = None
    in_person_done: bool = False

    @property
    def channel(self) -> Channel | None:
        return self.chain[self.index] if self.index < len(self.chain) else None


def plan_delivery(offer: Mapping[str, Any], contact: Contact | None) -> DeliveryState:
    """The initial plan. Opt-out suppresses non-critical offers entirely (no visit either); an elderly person
    living alone without a phone, or anyone with no working channel, gets a caseworker in person as well."""
    critical = is_critical(offer)
    if contact is None:
        return DeliveryState((), Language.ZH_CN, critical, in_person_reason=NO_CONTACT)
    chain = contact.usable_channels()
    if contact.opted_out_non_critical and not critical:
        return DeliveryState(chain, contact.language, critical, suppressed=True)
    reason = None
    if contact.elderly_living_alone and not contact.phone:
        reason = ELDERLY_WITHOUT_PHONE
    elif not chain:
        reason = NO_WORKING_CHANNEL
    return DeliveryState(chain, contact.language, critical, in_person_reason=reason)


def plan_withdrawal_notice(contact: Contact | None) -> DeliveryState:
    """A withdrawal told to someone already told about the offer: the in-app inbox only, at once (it is silent, so
    quiet hours and the opt-out of non-critical messages do not hold it back). See domain/revisions.py for why no
    SMS or e-mail."""
    return DeliveryState((Channel.INBOX,), contact.language if contact else Language.ZH_CN, critical=True)


@dataclass(frozen=True)
class Suppress:
    channel: Channel


@dataclass(frozen=True)
class Defer:
    channel: Channel
    attempt: int
    until: dt.datetime


@dataclass(frozen=True)
class DeliverInPerson:
    reason: str


@dataclass(frozen=True)
class Send:
    channel: Channel
    attempt: int


@dataclass(frozen=True)
class Finish:
    pass


Action = Suppress | Defer | DeliverInPerson | Send | Finish


def next_action(state: DeliveryState, contact: Contact | None, now: dt.datetime) -> Action:
    """The one next thing to do; a caller records its effect and asks again."""
    if state.suppressed:
        return Suppress(state.chain[0] if state.chain else Channel.INBOX)
    if state.in_person_reason and not state.in_person_done:
        return DeliverInPerson(state.in_person_reason)
    channel = state.channel
    if channel is None:
        return Finish()
    if not state.critical and contact is not None and contact.quiet_hours is not None:
        until = contact.quiet_hours.end_if_quiet(now, contact.zone())
        if until is not None:
            return Defer(channel, state.attempt, until)
    return Send(channel, state.attempt)


def in_person_done(state: DeliveryState) -> DeliveryState:
    return replace(state, in_person_done=True)
