"""A citizen's view of one offer and their answer to it: offered, then accepted or declined once."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.notification.domain.ids import answer_decision_id


class OfferState(enum.StrEnum):
    OFFERED = "OFFERED"
    ANSWERING = "ANSWERING"
    """An answer is being recorded on assist.decisions; becomes ACCEPTED or DECLINED, or OFFERED if it failed."""
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"


class Answer(enum.StrEnum):
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"

    @classmethod
    def parse(cls, value: str | None) -> Answer | None:
        text = (value or "").strip().upper()
        return {"ACCEPT": cls.ACCEPTED, "ACCEPTED": cls.ACCEPTED, "DECLINE": cls.DECLINED,
                "DECLINED": cls.DECLINED}.get(text)


@dataclass(frozen=True)
class OfferView:
    """What the citizen page shows of an offer: the offer itself (with its explanation) and where it stands."""

    offer: dict[str, Any]
    state: OfferState
    answered_at: dt.datetime | None = None

    @property
    def offer_id(self) -> str:
        return str(self.offer["offer_id"])

    @property
    def open(self) -> bool:
        return self.state is OfferState.OFFERED and not self.withdrawn

    @property
    def withdrawn(self) -> bool:
        """Matching withdrew the offer (the person no longer qualifies): nothing can be accepted any more."""
        return self.offer.get("change") == "WITHDRAWN"


def citizen_decision(view: OfferView, person_id: str, answer: Answer, now: dt.datetime) -> dict[str, Any]:
    """The Decision record (schemas/records/decision.avsc) of a citizen's answer, keyed by household id."""
    offer: Mapping[str, Any] = view.offer
    return {
        "decision_id": answer_decision_id(view.offer_id, answer.value),
        "action": answer.value,
        "task_id": None,
        "offer_id": view.offer_id,
        "household_id": offer["household_id"],
        "person_id": person_id,
        "policy_id": offer["policy_id"],
        "district": offer["district"],
        "actor": "citizen",
        "reason": None,
        "at": now,
    }


def answer_stands(answered_at: dt.datetime, made_again_at: dt.datetime | None) -> bool:
    """Whether an answer answers the offer as it stands: not when the offer was withdrawn and made again after the
    answer was given (`made_again_at`: that publication's created_at; None when it never was). The citizen answers
    the offer made again anew (domain/revisions.py). Matching's and the desk's clocks are compared: the answer to the
    offer made again comes after the citizen was told it, seconds at least after its publication."""
    return made_again_at is None or answered_at >= made_again_at
