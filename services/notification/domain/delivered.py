"""What assist.notifications says was already delivered, as a rebuild needs it: nothing recorded there as sent may
be sent again, and an e-mail that may have left before its send was cut off is never repeated."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

FINAL = ("SENT", "SUPPRESSED")
"""Either ends an offer's delivery (SENT on VISIT included: a caseworker task was made)."""
MAYBE_TAKEN = ("FELL_BACK", "FAILED")
"""On a channel that cannot drop a repeat (e-mail) these may follow an interrupted send."""


@dataclass
class Delivered:
    """One offer's delivery as recorded."""

    sent: dict[str, dt.datetime] = field(default_factory=dict)
    """Channel -> when it was first recorded as sent."""
    final: bool = False
    maybe_taken: set[str] = field(default_factory=set)
    """Channels that gave up on the offer without a SENT: not to be repeated where the provider cannot deduplicate."""

    def not_to_repeat(self, idempotent: Mapping[str, bool]) -> set[str]:
        """Channels given up on whose provider cannot drop a repeated message."""
        return {c for c in self.maybe_taken - set(self.sent) if not idempotent.get(c, False)}


def delivered_offers(statuses: Iterable[Mapping[str, Any]]) -> dict[str, Delivered]:
    """Offer id -> its delivery, from NotificationStatus records in the order they were published."""
    offers: dict[str, list[Mapping[str, Any]]] = {}
    for status in statuses:
        offers.setdefault(str(status["offer_id"]), []).append(status)
    return {offer_id: delivery_of(seen) for offer_id, seen in offers.items()}


def by_notification(statuses: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """Notification id -> its statuses in the order they were published. A delivery's notification ids are
    hash(delivery id, channel), so each delivery of an offer (the offer, a revision notice) is told apart."""
    found: dict[str, list[Mapping[str, Any]]] = {}
    for status in statuses:
        found.setdefault(str(status["notification_id"]), []).append(status)
    return found


def delivery_of(statuses: Iterable[Mapping[str, Any]]) -> Delivered:
    """One delivery, from its statuses in the order they were published (per channel)."""
    seen = Delivered()
    for status in statuses:
        if status["status"] in FINAL:
            seen.final = True
        if status["status"] == "SENT":
            seen.sent.setdefault(str(status["channel"]), status["at"])
        elif status["status"] in MAYBE_TAKEN:
            seen.maybe_taken.add(str(status["channel"]))
    return seen
