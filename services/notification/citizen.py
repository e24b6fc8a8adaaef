"""The citizen desk, the service layer behind the citizen page and API: open a session from a signed link, show a
person their own offers (with why) and inbox, and record their answer on assist.decisions exactly once."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from services.notification.domain.answers import Answer, OfferState, OfferView, citizen_decision
from services.notification.domain.contact import Language
from services.notification.domain.link import LinkClaims, LinkRefused, Session, Signer
from services.notification.metrics import NotificationMetrics
from services.notification.ports import CitizenViews, ContactBook, DecisionLog, InboxItem, InboxReader, Unavailable


class Answered(enum.Enum):
    RECORDED = "recorded"
    NOT_FOUND = "not_found"
    ALREADY_ANSWERED = "already_answered"
    IN_PROGRESS = "in_progress"
    WITHDRAWN = "withdrawn"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class AnswerResult:
    outcome: Answered
    view: OfferView | None = None


class CitizenDesk:
    def __init__(self, views: CitizenViews, inbox: InboxReader, contacts: ContactBook, decisions: DecisionLog,
                 signer: Signer, metrics: NotificationMetrics,
                 usable: Callable[[], Awaitable[None]] | None = None,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)):
        self._views, self._inbox, self._contacts, self._decisions = views, inbox, contacts, decisions
        self.signer, self._metrics, self._clock = signer, metrics, clock
        self._usable = usable
        """Raises (a Redis ConnectionError, answered 503 with Retry-After) while the state is being rebuilt, rather
        than showing offers and an inbox not yet back."""

    async def _check(self) -> None:
        if self._usable is not None:
            await self._usable()

    def open_link(self, token: str) -> tuple[LinkClaims, str]:
        """The link's claims and a new session cookie for its person; LinkRefused when altered or expired."""
        try:
            claims = self.signer.read_link(token, self._clock())
        except LinkRefused as refused:
            self._metrics.link(refused.reason)
            raise
        self._metrics.link("opened")
        return claims, self.signer.session_token(claims.person_id, self._clock())

    def session(self, cookie: str | None) -> Session | None:
        return self.signer.read_session(cookie, self._clock()) if cookie else None

    async def offers(self, person_id: str) -> list[OfferView]:
        await self._check()
        return await self._views.all(person_id)

    async def offer(self, person_id: str, offer_id: str) -> OfferView | None:
        await self._check()
        return await self._views.get(person_id, offer_id)

    async def inbox(self, person_id: str) -> list[InboxItem]:
        await self._check()
        return await self._inbox.items(person_id)

    async def language(self, person_id: str) -> Language | None:
        return await self._contacts.language(person_id)

    async def answer(self, person_id: str, offer_id: str, answer: Answer) -> AnswerResult:
        """Record ACCEPTED or DECLINED once: the offer is marked as being answered, the decision is durably on
        assist.decisions, then the answer is shown. If the log is unreachable the offer is open again."""
        await self._check()
        now = self._clock()
        before = await self._views.begin_answer(person_id, offer_id, now)
        if before is None:
            return AnswerResult(Answered.NOT_FOUND)
        if before.withdrawn:
            return AnswerResult(Answered.WITHDRAWN, before)
        if before.state is OfferState.ANSWERING:
            return AnswerResult(Answered.IN_PROGRESS, before)
        if before.state is not OfferState.OFFERED:
            return AnswerResult(Answered.ALREADY_ANSWERED, before)
        try:
            await self._decisions.append_decision(citizen_decision(before, person_id, answer, now))
        except Unavailable:
            await self._views.abandon_answer(person_id, offer_id)
            return AnswerResult(Answered.UNAVAILABLE, before)
        await self._views.finish_answer(person_id, offer_id, answer, now)
        self._metrics.answered(answer.value)
        return AnswerResult(Answered.RECORDED, OfferView(before.offer, OfferState(answer.value), now))
