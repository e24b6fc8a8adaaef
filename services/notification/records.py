"""What the worker does with each record it consumes (assist.consents, assist.contacts, assist.offers,
assist.tasks, assist.decisions, assist.applications.answers, assist.disclosures). Every handler is idempotent: a
record read twice changes nothing the second time."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from typing import Any

from services.core.application_views import ApplicationStore
from services.notification.domain.answers import Answer
from services.notification.domain.consent import withdrawal_from_record
from services.notification.domain.data_use import contact_use
from services.notification.domain.reviews import REVIEW_PREFIX, decided, is_citizen_review, request_of
from services.notification.domain.revisions import NEW, Amended, change_of, figure_stands, withdrawn
from services.notification.ports import CitizenViews, ContactBook, DataUseLog, DeliveryJobs, OfferChains, OfferMemory
from services.notification.reviews import ReviewStore

log = logging.getLogger(__name__)


def recipient_of(offer: Mapping[str, Any], person_id: str | None = None) -> str:
    """Who is notified: the offer's beneficiary, else the household member matching names as its contact, else
    the person a decision names, else the household itself (a household may register a contact under its
    household id; without one a caseworker delivers in person)."""
    return str(offer.get("person_id") or offer.get("contact_person_id") or person_id or offer["household_id"])


class InboundRecords:
    def __init__(self, contacts: ContactBook, memory: OfferMemory, jobs: DeliveryJobs, views: CitizenViews,
                 chains: OfferChains, applications: ApplicationStore, data_use: DataUseLog,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
                 reviews: ReviewStore | None = None):
        self._contacts, self._memory, self._jobs, self._views = contacts, memory, jobs, views
        self._chains, self._applications, self._data_use = chains, applications, data_use
        self._clock, self._reviews = clock, reviews

    async def contact(self, person_id: str, record: Mapping[str, Any] | None) -> None:
        """A consented contact replaces the previous one; a tombstone (None) erases it."""
        if record is None:
            await self._contacts.forget(person_id)
        else:
            await self._contacts.put(record)

    async def consent(self, record: Mapping[str, Any]) -> None:
        """A resident's withdrawal of consent (assist.consents): the withdrawn details are erased from the contact
        and stay erased when the contact record is read again."""
        await self._contacts.withdraw(withdrawal_from_record(record))

    async def offer(self, offer: Mapping[str, Any]) -> None:
        """Offers made directly to the citizen are notified; verification offers wait for a caseworker. A revision
        or withdrawal (of a direct offer, or of a benefit already received) is applied to what the citizen was or
        is about to be told."""
        if change_of(offer) != NEW:
            await self._memory.remember_offer(offer)  # an approval still to come then notifies the latest figure
            await self._amend(offer, recipient_of(offer))
        elif offer.get("route") == "AUTO_OFFER":
            await self._notify(offer, recipient_of(offer), approved=False)

    async def task(self, task: Mapping[str, Any]) -> None:
        """Remember the offer a caseworker is asked to verify (its latest revision); notify it now if its approval
        came first. A revision or withdrawal before the approval only changes what will be notified."""
        if is_citizen_review(task) and task.get("person_id") and self._reviews is not None:
            await self._reviews.asked(str(task["person_id"]), request_of(task))  # a rebuild reads it back
            return
        offer = task.get("offer")
        if task.get("kind") != "VERIFY_ELIGIBILITY" or not offer:
            return
        if task.get("evidence_event_ids"):
            await self._data_use.evidence(str(offer["offer_id"]), [str(e) for e in task["evidence_event_ids"]],
                                          [str(t) for t in task.get("evidence_event_types") or ()])
        approved_for = await self._memory.remember_offer(offer)
        if approved_for is None or figure_stands(offer):
            return
        if change_of(offer) == NEW:
            await self._notify(offer, approved_for, approved=True)
        else:
            await self._amend(offer, approved_for, approved=True)

    async def application_answer(self, answer: Mapping[str, Any]) -> None:
        """Matching's answer to an application: shown in the applicant's "my applications"."""
        await self._applications.answered(answer)

    async def disclosure(self, disclosure: Mapping[str, Any]) -> None:
        """A disclosure of contact details to a member of staff: in the data-use log of each person shown."""
        use = contact_use(disclosure)
        for person_id in disclosure["person_ids"]:
            await self._data_use.disclosed(str(person_id), use)

    async def decision(self, decision: Mapping[str, Any]) -> None:
        action, offer_id = decision.get("action"), decision.get("offer_id")
        if str(decision.get("task_id") or "").startswith(REVIEW_PREFIX):
            await self._review_decided(decision)
            return
        if not offer_id:
            return
        if action == "APPROVED":
            offer = await self._memory.approve(str(offer_id), decision.get("person_id"))
            if offer is None:
                log.info("approval of offer %s arrived before its task; notified when the task arrives", offer_id)
                return
            if withdrawn(offer):  # the approval is kept: a task making the offer again is then told with its figure
                log.info("approval of offer %s read after its withdrawal; nothing to tell", offer_id)
                await self._views.add(recipient_of(offer, decision.get("person_id")), offer)
                return
            await self._notify(offer, recipient_of(offer, decision.get("person_id")), approved=True)
        elif action in ("ACCEPTED", "DECLINED"):
            person = str(decision.get("person_id") or decision["household_id"])
            await self._views.apply_answer(person, str(offer_id), Answer(str(action)), decision["at"])

    async def _review_decided(self, decision: Mapping[str, Any]) -> None:
        """A caseworker's decision on a resident's request for a review: its outcome on the resident's page."""
        person = decision.get("person_id")
        if self._reviews is None or not person:
            return
        request = await self._reviews.get(str(person), str(decision["task_id"]))
        outcome = decided(request, decision) if request is not None else None
        if outcome is not None:
            await self._reviews.decided(str(person), outcome)

    async def _amend(self, offer: Mapping[str, Any], recipient: str, approved: bool = False) -> None:
        """Replace or cancel the waiting message, tell the change when the citizen was told, or tell the offer
        made again after its withdrawal; the citizen's page shows the latest publication (a withdrawal says so and
        why)."""
        outcome = await self._chains.amend(offer, recipient, self._clock(), approved)
        if outcome is not Amended.STALE:
            await self._views.revise(recipient, offer,
                                     add=outcome in (Amended.NOTICE, Amended.REPLACED, Amended.REOPENED))

    async def _notify(self, offer: Mapping[str, Any], recipient: str, approved: bool) -> None:
        await self._views.add(recipient, offer)
        await self._jobs.add(offer, recipient, approved, self._clock())
