"""Revisions and withdrawals of an offer (schemas/records/offer.avsc, Change): matching publishes the same offer
id again, REVISED with a new amount or WITHDRAWN when the person no longer qualifies. What the citizen is told:

- revised before anything was sent: the waiting message is replaced by one with the new figure (one message);
- revised after the citizen was told: a new message with the new figure (a revision notice);
- withdrawn before anything was sent: the waiting message is cancelled;
- withdrawn after the citizen was told: a notice in the in-app inbox. No SMS or e-mail: a withdrawal only ever
  concerns an offer still waiting (nothing was being paid), the offer page says so in plain words, and the inbox
  reaches the person without waking them for news that asks nothing of them.

Each delivery has its own id, so its idempotency keys are per (offer, revision number, channel): the first is the
offer id itself, a later one `<offer id>~<revision number>`. The highest revision number stands; an older or
repeated publication changes nothing.

A withdrawal closes the chain. Matching may make the withdrawn offer again under the same id (a fact reported late
reversed the withdrawal): REVISED, one revision above the withdrawal, no previous figure, a reason beginning
"Offered again:". A later publication that is NOT a withdrawal, with a higher revision number, reopens the chain:

- the citizen is told the offer again, as an offer (Notice.OFFER: the full offer message with its figure), through
  the usual channels under the usual quiet hours and consent, once: a delivery `<offer id>~<number>` (a replay
  sends nothing more). A withdrawal notice still waiting goes first: what the citizen hears stays true in order;
- told before or not (withdrawn before its message went), the offer is told; a verification offer is told when a
  caseworker approves it: again if its task was still open, or by the approval given before the withdrawal;
- the citizen page shows the publication, open again: an answer given before it was made again (its time before
  the publication's created_at) does not answer it;
- anything else after a withdrawal (another withdrawal, an older or equal number, NEW) changes nothing.

A revision with the figure unchanged (matching corrected a verification task's deadline) is remembered so that an
approval tells the latest publication, and tells the citizen nothing (figure_stands).

The live scripts (adapters/redis_chains.py, adapters/redis_citizen.py) apply this rule, and so does a rebuild, which
reads the topics back through the same handlers.
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
    """Older than, or the same as, what is known (or after a withdrawal, anything but the offer made again):
    nothing changed."""
    REPLACED = "replaced"
    """The message waiting to go was replaced by one with the new figure."""
    NOTICE = "notice"
    """The citizen was told before: a notice of the change was added."""
    CANCELLED = "cancelled"
    """Withdrawn before anything was sent: the waiting message was cancelled."""
    UNTOLD = "untold"
    """Withdrawn before the citizen was ever to be told: nothing to send."""
    REOPENED = "reopened"
    """Made again after its withdrawal: the offer is told again, as an offer."""


class Follows(enum.Enum):
    """What a publication does to the chain of its offer id, given what stands."""

    STALE = "stale"
    APPLIES = "applies"
    """A revision or withdrawal of an open chain."""
    REOPENS = "reopens"
    """The withdrawn offer made again."""


def follows(offer: Mapping[str, Any], standing: int, closed: bool) -> Follows:
    """The rule the scripts apply: `standing` is the highest revision number applied, `closed` whether the last
    one applied was a withdrawal."""
    if change_of(offer) == NEW or revision_number(offer) <= standing:
        return Follows.STALE
    if not closed:
        return Follows.APPLIES
    return Follows.STALE if withdrawn(offer) else Follows.REOPENS


def change_of(offer: Mapping[str, Any]) -> str:
    return str(offer.get("change") or NEW)


def revision_number(offer: Mapping[str, Any]) -> int:
    """0 for a NEW offer, else its revision's number."""
    revision = offer.get("revision") or {}
    return int(revision.get("number") or 0)


def withdrawn(offer: Mapping[str, Any]) -> bool:
    return change_of(offer) == WITHDRAWN


AGAIN = "Offered again:"


def offered_again(offer: Mapping[str, Any]) -> bool:
    """The publication makes a withdrawn offer again (its reason says so; it names no previous figure)."""
    revision = offer.get("revision") or {}
    return (change_of(offer) == REVISED and revision.get("previous_amount_fen") is None
            and str(revision.get("reason") or "").startswith(AGAIN))


def figure_stands(offer: Mapping[str, Any]) -> bool:
    """A revision that changes nothing the citizen is told: the same figure, neither withdrawn nor made again
    (matching moved the caseworker's deadline: a report dated earlier arrived late). Remembered, never told."""
    revision = offer.get("revision") or {}
    return (change_of(offer) == REVISED and not offered_again(offer) and not received(offer)
            and revision.get("previous_amount_fen") == offer.get("amount_fen"))


def received(offer: Mapping[str, Any]) -> bool:
    """A revision of a benefit already received: nothing is to be accepted again."""
    return bool((offer.get("revision") or {}).get("received"))


def delivery_id(offer_id: str, number: int) -> str:
    """The id of the delivery that tells revision `number` of an offer (0: the offer id itself)."""
    return offer_id if number == 0 else f"{offer_id}~{number}"
