"""Revisions and withdrawals of an offer (schemas/records/offer.avsc, Change): matching publishes the same offer
id again, REVISED with a new amount or WITHDRAWN when the person no longer qualifies. What the citizen is told:

- revised before anything was sent: the waiting message is replaced by one with the new figure (one message);
- revised after the citizen was told: a new message with the new figure (a revision notice);
- withdrawn before anything was sent: the waiting message is cancelled;
- withdrawn after the citizen was told: a notice in the in-app inbox. No SMS or e-mail: a withdrawal only ever
  concerns an offer still waiting (nothing was being paid), the offer page says so in plain words, and the inbox
  reaches the person without waking them for news that asks nothing of them.

Each delivery has its own id, so its idempotency keys are per (offer, revision number, channel): the first is the
offer id itself, a later one `<offer id>~<revision number>`. The highest revision number stands; a withdrawal ends
the chain; an older or repeated publication changes nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

NEW, REVISED, WITHDRAWN = "NEW", "REVISED", "WITHDRAWN"


class Notice(enum.StrEnum):
    """What a delivery tells: the offer itself (with whatever figure stands), or a change to one already told."""

    OFFER = ""
    REVISED = "revised"
    WITHDRAWN = "withdrawn"


class Amended(enum.Enum):
    """What a revision or withdrawal did to the offer's deliveries."""

    STALE = "stale"
    """Older than, or the same as, what is known (or after a withdrawal): nothing changed."""
    REPLACED = "replaced"
    """The message waiting to go was replaced by one with the new figure."""
    NOTICE = "notice"
    """The citizen was told before: a notice of the change was added."""
    CANCELLED = "cancelled"
    """Withdrawn before anything was sent: the waiting message was cancelled."""
    UNTOLD = "untold"
    """Withdrawn before the citizen was ever to be told: nothing to send."""


def change_of(offer: Mapping[str, Any]) -> str:
    return str(offer.get("change") or NEW)


def revision_number(offer: Mapping[str, Any]) -> int:
    """0 for a NEW offer, else its revision's number."""
    revision = offer.get("revision") or {}
    return int(revision.get("number") or 0)


def withdrawn(offer: Mapping[str, Any]) -> bool:
    return change_of(offer) == WITHDRAWN


def received(offer: Mapping[str, Any]) -> bool:
    """A revision of a benefit already received: nothing is to be accepted again."""
    return bool((offer.get("revision") or {}).get("received"))


def delivery_id(offer_id: str, number: int) -> str:
    """The id of the delivery that tells revision `number` of an offer (0: the offer id itself)."""
    return offer_id if number == 0 else f"{offer_id}~{number}"
