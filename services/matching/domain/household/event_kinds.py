"""The one table of event kinds: for each CloudEvents type of schemas/events/, what matching does with it.

Every part of matching that treats event types differently reads this table: applying an event to a household
(facts.apply_event), replaying member changes on a new registry record and storing recorded events
(household.state), the population columns (spending kinds), and risk monitoring (the signal an event can be).
The event's data field names come from the schemas themselves (vocabulary.event_fields); a unit test holds this
table to the schemas: one row per schema, no row without one.

Codes are how a recorded event's type is stored in the household table. They are explicit and append-only:
a new event type takes the next free code, and a code is never reused or renumbered. States written before
codes existed stored a type by its position in an alphabetical list (household.migration reads those).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

MEDICAL = "medical"
EDUCATION = "education"


class Change(StrEnum):
    """What an event about a living member changes about the member or the household."""

    INCOME = "income"
    """The member's monthly income becomes the event's amount (0 when the kind names no amount field)."""
    DISABILITY = "disability"
    """The member's disability grade becomes the event's detail."""
    DEATH = "death"
    """The member is no longer a member, and stays removed even if the registry still lists them."""
    SPENDING = "spending"
    """The household paid the event's amount out of pocket (an expenditure of the kind's spending kind)."""
    EMERGENCY = "emergency"
    """The household's latest emergency, if the event is not older than the one known."""
    RECORDED = "recorded"
    """Nothing but the record of the event (for risk windows, policies reading the event, redelivery)."""
    REQUEST = "request"
    """Not a change of facts but a request to matching (an application); it is answered, not applied."""


@dataclass(frozen=True)
class EventKind:
    """One event type. `amount_field` is the data field holding the money a recorded event keeps (cost, fees,
    new income); `detail_field` the text it keeps (severity, grade, reason, age reached); `spending` the kind of
    expenditure a SPENDING event is; `risk_signal` the signal of policies/risk.yaml the event can be."""

    type: str
    code: int
    day_field: str | None
    """The data field saying when the change happened; without one, the event's time."""
    change: Change
    amount_field: str | None = None
    detail_field: str | None = None
    spending: str | None = None
    risk_signal: str | None = None


_KINDS = (
    EventKind("hospitalisation.admitted", 1, "admitted_on", Change.RECORDED,
              amount_field="estimated_out_of_pocket_fen", risk_signal="hospitalisation_cost"),
    EventKind("hospitalisation.discharged", 2, "discharged_on", Change.SPENDING,
              amount_field="out_of_pocket_fen", spending=MEDICAL, risk_signal="hospitalisation_cost"),
    EventKind("medical_expense.settled", 3, "settled_on", Change.SPENDING,
              amount_field="out_of_pocket_fen", spending=MEDICAL, risk_signal="hospitalisation_cost"),
    EventKind("job.lost", 4, "lost_on", Change.INCOME, risk_signal="job_loss"),
    EventKind("income.changed", 5, "effective_on", Change.INCOME, amount_field="monthly_income_fen",
              risk_signal="income_drop"),
    EventKind("disability.certified", 6, "certified_on", Change.DISABILITY, detail_field="grade",
              risk_signal="disability_certified"),
    EventKind("death.registered", 7, "died_on", Change.DEATH, risk_signal="earner_death"),
    EventKind("age.milestone_reached", 8, "reached_on", Change.RECORDED, detail_field="age"),
    EventKind("emergency.occurred", 9, "occurred_on", Change.EMERGENCY, detail_field="severity",
              risk_signal="disaster"),
    EventKind("school.enrolled", 10, "enrolled_on", Change.SPENDING, amount_field="term_fees_fen",
              spending=EDUCATION),
    EventKind("housing.lost", 11, "lost_on", Change.RECORDED, detail_field="reason"),
    EventKind("application.submitted", 12, None, Change.REQUEST),
)

EVENT_KINDS: Mapping[str, EventKind] = MappingProxyType({k.type: k for k in _KINDS})
"""Event kinds by CloudEvents type."""
BY_CODE: Mapping[int, EventKind] = MappingProxyType({k.code: k for k in _KINDS})
SPENDING_KINDS: tuple[str, ...] = tuple(dict.fromkeys(k.spending for k in _KINDS if k.spending is not None))
"""The kinds of expenditure events stand for, in table order: each has a household.<kind>_12m_fen fact."""

assert len(BY_CODE) == len(_KINDS), "two event kinds share a code"


def kind_of(event_type: str) -> EventKind | None:
    """The row of `event_type`, None for a type the contract does not know."""
    return EVENT_KINDS.get(event_type)


def changes(event_type: str, change: Change) -> bool:
    """Whether events of `event_type` make `change`."""
    kind = EVENT_KINDS.get(event_type)
    return kind is not None and kind.change == change


def spending_fact(kind: str) -> str:
    """The household fact of 12-month out-of-pocket spending of `kind` (e.g. household.medical_12m_fen)."""
    return f"household.{kind}_12m_fen"
