"""Consent to be reached by SMS and e-mail, and its withdrawal (schemas/records/consent.avsc).

A resident may withdraw consent to SMS and e-mail on the citizen page; the in-app inbox and notices delivered in
person stay, for critical notices. The withdrawal is the resident's own record (assist.consents), kept apart from
the consent registry's contact record (assist.contacts), so a rebuild that reads the contacts again reads the
withdrawal as well and never brings an erased phone number or address back. A contact the registry records with a
consent given after the withdrawal (a later `consented_at`) is the resident consenting again, and is used whole.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from services.notification.domain.contact import Channel

WITHDRAWABLE = (Channel.SMS, Channel.EMAIL)
_DETAIL = {Channel.SMS: "phone", Channel.EMAIL: "email"}


class ConsentRefused(ValueError):
    """A withdrawal that names no channel, or one that cannot be withdrawn; `field` names what was wrong."""

    def __init__(self, message: str, field: str = "withdraw"):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Withdrawal:
    """Every channel one person withdrew consent to, and when they last did."""

    person_id: str
    channels: frozenset[Channel]
    at: dt.datetime

    def merged(self, earlier: Withdrawal | None) -> Withdrawal:
        """This withdrawal with the channels withdrawn before it (withdrawing is never undone here)."""
        if earlier is None:
            return self
        return Withdrawal(self.person_id, self.channels | earlier.channels, max(self.at, earlier.at))


def withdrawn_channels(names: Iterable[object]) -> frozenset[Channel]:
    """The channels a resident asks to withdraw ('SMS', 'EMAIL'); ConsentRefused naming `withdraw` otherwise."""
    chosen: set[Channel] = set()
    for name in names:
        if not isinstance(name, str) or name not in {c.value for c in WITHDRAWABLE}:
            raise ConsentRefused(f"withdraw: only SMS and EMAIL can be withdrawn, not {str(name)[:20]!r}")
        chosen.add(Channel(str(name)))
    if not chosen:
        raise ConsentRefused("withdraw: choose SMS, EMAIL or both")
    return frozenset(chosen)


def withdrawal_record(withdrawal: Withdrawal) -> dict[str, Any]:
    """The ConsentWithdrawal record of `withdrawal`, channels in a stable order."""
    return {"person_id": withdrawal.person_id, "at": withdrawal.at,
            "withdrawn": [c.value for c in WITHDRAWABLE if c in withdrawal.channels]}


def withdrawal_from_record(record: Mapping[str, Any]) -> Withdrawal:
    at = record["at"]
    if isinstance(at, (int, float)):
        at = dt.datetime.fromtimestamp(at / 1000, dt.UTC)
    elif isinstance(at, str):
        at = dt.datetime.fromisoformat(at)
    return Withdrawal(str(record["person_id"]), withdrawn_channels(record.get("withdrawn") or ()), at)


def consented_after(contact: Mapping[str, Any], withdrawal: Withdrawal) -> bool:
    """Whether the registry recorded this contact's consent after the withdrawal (the resident consented again)."""
    consented = contact.get("consented_at")
    if isinstance(consented, str):
        consented = dt.datetime.fromisoformat(consented)
    if isinstance(consented, (int, float)):
        consented = dt.datetime.fromtimestamp(consented / 1000, dt.UTC)
    return isinstance(consented, dt.datetime) and consented > withdrawal.at


def without_withdrawn(contact: Mapping[str, Any], withdrawal: Withdrawal | None) -> dict[str, Any]:
    """The contact record as it may be used: the withdrawn channels gone and their details erased, the in-app
    inbox kept (added when missing), so later messages go to the inbox or in person. Unchanged without a
    withdrawal, or when the consent was given again after it."""
    record = dict(contact)
    if withdrawal is None or consented_after(record, withdrawal):
        return record
    for channel in withdrawal.channels:
        record[_DETAIL[channel]] = None
    channels = [c for c in record.get("channels") or () if Channel(c) not in withdrawal.channels]
    if Channel.INBOX.value not in channels:
        channels.append(Channel.INBOX.value)
    record["channels"] = channels
    return record
