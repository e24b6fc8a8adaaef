"""The notification service's ports: what the service layer needs from the outside, as Protocols.

Production adapters are in adapters/ (Redis, Kafka, an HTTP SMS gateway, SMTP); the integration tests hand the
same adapters real Redis, Kafka, an SMTP server and an HTTP gateway.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from services.notification.domain.answers import Answer, OfferView
from services.notification.domain.attempts import SendResult
from services.notification.domain.consent import Withdrawal
from services.notification.domain.contact import Channel, Contact, Language
from services.notification.domain.data_use import ContactUse
from services.notification.domain.plan import DeliveryState
from services.notification.domain.revisions import Amended, Notice


class Unavailable(Exception):
    """A log (Kafka) did not durably acknowledge a record in time."""


@dataclass(frozen=True)
class Message:
    """One rendered notification: `short` for SMS, `subject` and `body` for e-mail and the inbox."""

    offer_id: str
    subject: str
    short: str
    body: str
    language: Language


class ChannelSender(Protocol):
    """Hands a message to one channel's provider."""

    channel: Channel
    idempotent: bool
    """Whether the provider drops a second message with the same idempotency key (then an interrupted send may
    safely be repeated)."""

    async def send(self, address: str, message: Message, idempotency_key: str) -> SendResult:
        """Deliver to `address`; never raises for provider failures, it reports them in the result."""


class Messages(Protocol):
    def render(self, offer: Mapping[str, Any], language: Language, link: str, link_expires: dt.datetime,
               approved: bool, zone: dt.tzinfo, notice: Notice = Notice.OFFER) -> Message:
        """The message about `offer` in `language`, from the policy's template or the default one; a notice of a
        revision or withdrawal from its own template."""


class ContactBook(Protocol):
    """Consented contact details by person id (from assist.contacts)."""

    async def put(self, contact: Mapping[str, Any]) -> None:
        """Store a decoded Contact record, replacing the previous one."""

    async def forget(self, person_id: str) -> None:
        """Consent withdrawn (a tombstone on the compacted topic): erase the details."""

    async def get(self, person_id: str) -> Contact | None: ...

    async def language(self, person_id: str) -> Language | None: ...

    async def withdraw(self, withdrawal: Withdrawal) -> Withdrawal:
        """Consent to SMS and/or e-mail withdrawn (assist.consents): erase those details now and whenever the
        contact is stored again; returns every channel withdrawn so far."""


class SendClaim(enum.Enum):
    FREE = "free"
    """Nobody sent this notification: it is now marked as being sent by the caller."""
    SENT = "sent"
    """Already sent."""
    BUSY = "busy"
    """Being sent by another worker right now."""
    STALE = "stale"
    """A send began long ago and never finished (its worker died): the provider may have taken it. Re-marked as
    being sent by the caller."""
    UNKNOWN = "unknown"
    """An earlier send was interrupted and recorded as of unknown outcome."""


@dataclass(frozen=True)
class Job:
    """Delivery of one offer to one recipient (a person id, or the household id for household offers)."""

    offer_id: str
    offer: dict[str, Any]
    recipient: str
    approved: bool
    """Notified after a caseworker approved it (VERIFICATION) rather than offered directly."""
    ready_at: dt.datetime
    """Since when the notification could have gone (received, or the end of a quiet-hours wait): latency base."""
    state: DeliveryState | None
    done: bool
    job_id: str = ""
    """The delivery's own id (domain/revisions.py delivery_id): the offer id, or one per revision notice; its
    notification ids (idempotency keys) are hash(job id, channel). Empty: the offer id."""
    notice: Notice = Notice.OFFER
    number: int = 0
    """The revision number of `offer`."""

    @property
    def key(self) -> str:
        return self.job_id or self.offer_id


class DeliveryJobs(Protocol):
    """Durable delivery jobs, their schedule (due times, leases) and per-notification send claims. Jobs are named by
    Job.key."""

    async def add(self, offer: Mapping[str, Any], recipient: str, approved: bool, now: dt.datetime) -> bool:
        """Record a job due now unless one exists for the offer; False when it did (a redelivered offer)."""

    async def claim_due(self, now: dt.datetime, limit: int, lease_seconds: float) -> list[str]:
        """Offer ids of due jobs, leased to the caller: a job not rescheduled or finished within the lease comes
        due again (its worker died)."""

    async def load(self, offer_id: str) -> Job | None: ...

    async def save(self, offer_id: str, state: DeliveryState, due: dt.datetime,
                   ready_at: dt.datetime | None = None) -> None:
        """Record the job's new state and when its next step is due."""

    async def finish(self, offer_id: str, state: DeliveryState, told: bool = False) -> None:
        """Nothing more to do; the job is kept (without the offer) to recognise a redelivered offer. `told`: its
        message went out (a revision that replaced it meanwhile is then told as a change)."""

    async def drop(self, offer_id: str) -> None:
        """Unschedule an id with no job behind it."""

    async def claim_send(self, notification_id: str, now: dt.datetime, stale_after_seconds: float) -> SendClaim: ...

    async def mark_sent(self, notification_id: str, now: dt.datetime) -> None: ...

    async def mark_unknown(self, notification_id: str, now: dt.datetime) -> None: ...

    async def release_send(self, notification_id: str) -> None:
        """The send definitely failed: the claim is withdrawn."""


class StatusLog(Protocol):
    async def publish_statuses(self, statuses: Sequence[dict[str, Any]]) -> None:
        """NotificationStatus records to assist.notifications, keyed by offer id; raises Unavailable."""


class TaskLog(Protocol):
    async def publish_task(self, task: dict[str, Any]) -> None:
        """A CaseworkerTask record to assist.tasks, keyed by household id; raises Unavailable."""


class DecisionLog(Protocol):
    async def append_decision(self, decision: dict[str, Any]) -> None:
        """A Decision record to assist.decisions, keyed by household id; raises Unavailable."""


class OfferChains(Protocol):
    """Revisions and withdrawals applied to an offer's deliveries (domain/revisions.py)."""

    async def amend(self, offer: Mapping[str, Any], recipient: str, now: dt.datetime,
                    approved: bool = False) -> Amended:
        """Apply a REVISED or WITHDRAWN offer atomically: replace or cancel the waiting message, or add a notice
        when the citizen was told; after a withdrawal, tell the offer made again (REOPENED); STALE when it is not
        newer than what is known (or follows a withdrawal without making the offer again). `approved`: a caseworker
        approved the offer (a message not told before says so)."""


class OfferMemory(Protocol):
    """Offers waiting for a caseworker (from VERIFY_ELIGIBILITY tasks) and approvals waiting for their offer."""

    async def remember_offer(self, offer: Mapping[str, Any]) -> str | None:
        """Keep the offer unless a later revision of it is kept already; when its approval came first, return the
        approved recipient."""

    async def approve(self, offer_id: str, recipient: str | None) -> dict[str, Any] | None:
        """Note the approval; return the offer when it is known (else it is notified when its task arrives)."""


class CitizenViews(Protocol):
    """Each citizen's offers and where their answers stand."""

    async def add(self, person_id: str, offer: Mapping[str, Any]) -> None:
        """Show the offer to the person (kept as is when already shown)."""

    async def revise(self, person_id: str, offer: Mapping[str, Any], add: bool) -> None:
        """Show a revision or withdrawal in place of an earlier publication of the offer (never an older one over a
        newer; after a withdrawal only the offer made again, open again: an answer given before its created_at does
        not answer it); `add`: show it even when the offer was not shown yet."""

    async def get(self, person_id: str, offer_id: str) -> OfferView | None: ...

    async def all(self, person_id: str) -> list[OfferView]: ...

    async def begin_answer(self, person_id: str, offer_id: str, now: dt.datetime) -> OfferView | None:
        """Mark an open offer as being answered (ANSWERING); return its view as it was, or None when unknown.
        A view returned in another state than OFFERED was not changed."""

    async def finish_answer(self, person_id: str, offer_id: str, answer: Answer, at: dt.datetime) -> None: ...

    async def abandon_answer(self, person_id: str, offer_id: str) -> None: ...

    async def apply_answer(self, person_id: str, offer_id: str, answer: Answer, at: dt.datetime) -> None:
        """An answer read from assist.decisions: applied unless a later one is already recorded."""


@dataclass(frozen=True)
class InboxItem:
    notification_id: str
    offer_id: str
    subject: str
    body: str
    at: dt.datetime


class InboxReader(Protocol):
    async def items(self, person_id: str, limit: int = 50) -> list[InboxItem]: ...


class DataUseLog(Protocol):
    """What the citizen's data-use log is made of beside their offers: the evidence events of verified offers and
    every disclosure of their contact details (from assist.disclosures, without who saw them)."""

    async def evidence(self, offer_id: str, event_ids: Sequence[str], event_types: Sequence[str] = ()) -> None:
        """Remember the events a verification task for `offer_id` gave as evidence (the latest task's), with their
        CloudEvents types where the task names them ('' where not)."""

    async def evidence_of(self, offer_ids: Sequence[str]) -> dict[str, list[str]]:
        """offer id → its evidence event ids, for the offers that have any."""

    async def evidence_types_of(self, offer_ids: Sequence[str]) -> dict[str, str]:
        """event id → CloudEvents type, for the evidence of these offers whose type is known."""

    async def disclosed(self, person_id: str, use: ContactUse) -> None:
        """Note one disclosure of the person's details; the same disclosure again changes nothing."""

    async def contact_uses(self, person_id: str) -> list[ContactUse]:
        """Every disclosure of the person's details, newest first."""
