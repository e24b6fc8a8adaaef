"""What reaches a household, as typed messages: the adapters decode each input into one of these
(adapters/messages.py), and the service dispatches on the type (service.py), never on header strings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.core.codec import Event


@dataclass(frozen=True)
class RegistryRecord:
    """The civil registry's record of a household (schemas/records/household.avsc): composition and baseline."""

    record: dict[str, Any]


@dataclass(frozen=True)
class CaseworkDecision:
    """A casework transition or a citizen's answer (schemas/records/decision.avsc)."""

    decision: dict[str, Any]


@dataclass(frozen=True)
class ChangeEvent:
    """A department's change event about a person of the household (schemas/events/, a kind that changes facts)."""

    event: Event


@dataclass(frozen=True)
class Reevaluation:
    """Matching's own command: look at the household again under `catalogue_version` (rules or standards
    changed)."""

    catalogue_version: str


@dataclass(frozen=True)
class Application:
    """A resident applied for a programme (application.submitted): the event id is the application id, the
    subject the applicant."""

    event: Event

    @property
    def application_id(self) -> str:
        return self.event.id

    @property
    def person_id(self) -> str:
        return self.event.subject

    @property
    def policy_id(self) -> str:
        return str(self.event.data["policy_id"])

    @property
    def applied_by(self) -> str:
        return str(self.event.data["applied_by"])


Message = RegistryRecord | CaseworkDecision | ChangeEvent | Reevaluation | Application

LABELS: dict[type[Any], str] = {RegistryRecord: "registry", CaseworkDecision: "decision", ChangeEvent: "event",
                                Reevaluation: "reevaluate", Application: "application"}
"""The metrics label of each message type (bounded)."""


def cause_of(message: Message) -> str | None:
    """The id of the change event a message is (an event or an application), else None."""
    return message.event.id if isinstance(message, ChangeEvent | Application) else None
