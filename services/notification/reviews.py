"""Reviews from the citizen page, the service layer: a signed-in resident sees the decisions they may ask a review
of (offers withdrawn from them, applications answered "not eligible"), asks once per decision with a short reason,
and sees the outcome. The request is a REVIEW task on assist.tasks for the decision's district (casework takes it
into the district queue like any task); the caseworker's decision on assist.decisions brings the outcome back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from services.core.application_views import ApplicationStore
from services.notification.domain.reviews import (
    Reviewable,
    ReviewRefused,
    ReviewRequest,
    request_of,
    review_reason,
    review_task,
    review_task_id,
)
from services.notification.ports import CitizenViews, TaskLog


class ReviewStore(Protocol):
    """Residents' requests for a review (RedisReviews)."""

    async def asked(self, person_id: str, request: ReviewRequest) -> None: ...

    async def decided(self, person_id: str, request: ReviewRequest) -> None: ...

    async def get(self, person_id: str, task_id: str) -> ReviewRequest | None: ...

    async def of_person(self, person_id: str) -> list[ReviewRequest]: ...


@dataclass(frozen=True)
class ReviewChoice:
    """A decision the page offers to review, with the request already made for it (if any)."""

    subject: Reviewable
    request: ReviewRequest | None


class ReviewDesk:
    def __init__(self, views: CitizenViews, applications: ApplicationStore, log: TaskLog, store: ReviewStore,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)):
        self._views, self._applications, self._log, self._store = views, applications, log, store
        self._clock = clock

    async def choices(self, person_id: str) -> list[ReviewChoice]:
        subjects = await self._reviewable(person_id)
        return [ReviewChoice(s, await self._store.get(person_id, review_task_id(person_id, s.subject_id)))
                for s in subjects]

    async def requests(self, person_id: str) -> list[ReviewRequest]:
        return await self._store.of_person(person_id)

    async def ask(self, person_id: str, subject_id: object, reason: object) -> ReviewRequest:
        """Ask for a review of `subject_id` (an offer or application id of the person's); ReviewRefused naming the
        field (reason, subject_id) when it cannot be asked, ports.Unavailable when not recorded."""
        said = review_reason(reason)
        subject = next((s for s in await self._reviewable(person_id) if s.subject_id == subject_id), None)
        if subject is None:
            raise ReviewRefused("subject_id: not a decision of yours that can be reviewed (a withdrawn offer or an "
                                "application found not eligible)", "subject_id", "not_found")
        if await self._store.get(person_id, review_task_id(person_id, subject.subject_id)) is not None:
            raise ReviewRefused("subject_id: a review of this decision was already asked for", "subject_id",
                                "already")
        task = review_task(subject, person_id, said, self._clock().replace(microsecond=0))
        await self._log.publish_task(task)
        request = request_of(task)
        await self._store.asked(person_id, request)
        return request

    async def _reviewable(self, person_id: str) -> list[Reviewable]:
        views = await self._views.all(person_id)
        districts = [str(v.offer["district"]) for v in views if v.offer.get("district")]
        subjects = [_withdrawn(v.offer) for v in views if v.withdrawn]
        for application in await self._applications.of_person(person_id):
            answer = application.answer or {}
            if application.outcome != "NOT_ELIGIBLE":
                continue
            subjects.append(Reviewable(
                application.application_id, "NOT_ELIGIBLE", application.policy_id,
                str(answer.get("policy_name") or application.policy_id),
                str(answer.get("household_id") or person_id), districts[0] if districts else None,
                answer.get("explanation"), None, application.reasons))
        return subjects


def _withdrawn(offer: dict[str, Any] | Any) -> Reviewable:
    revision = offer.get("revision") or {}
    return Reviewable(str(offer["offer_id"]), "WITHDRAWN", str(offer["policy_id"]),
                      str(offer.get("policy_name") or offer["policy_id"]), str(offer["household_id"]),
                      str(offer["district"]), offer.get("explanation"), offer.get("amount_fen"),
                      (str(revision["reason"]),) if revision.get("reason") else (),
                      offer.get("trigger_event_id"))
