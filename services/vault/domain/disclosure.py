"""When identity details may be shown, which ones, and what is recorded.

A member of staff sees the details of a household's members only on a task of that household that is in their
scope and still open, after choosing a purpose; a caseworker only on a task they hold (claimed), a supervisor on
any task of their region. Each purpose shows only the fields it needs. Every disclosure
becomes a `Disclosure` record before anything is shown. `unexplained_share` measures how far one person's
openings go beyond what their tasks explain, for the alert on browsing.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass


class Purpose(enum.Enum):
    VISIT = "VISIT"
    """Go to the door: name, address and phone."""
    VERIFY = "VERIFY"
    """Check the registry's facts with the person: name and phone."""
    DELIVER_NOTICE = "DELIVER_NOTICE"
    """Hand over a written notice: name and address."""


FIELDS: dict[Purpose, tuple[str, ...]] = {
    Purpose.VISIT: ("name", "address", "phone"),
    Purpose.VERIFY: ("name", "phone"),
    Purpose.DELIVER_NOTICE: ("name", "address"),
}


@dataclass(frozen=True)
class TaskInScope:
    """What the vault needs to know of the task a disclosure is asked on, as casework sees it."""

    task_id: str
    household_id: str
    district: str
    open: bool
    """Not decided and not withdrawn."""
    claimed_by: str | None


@dataclass(frozen=True)
class DisclosureRequest:
    actor: str
    actor_role: str
    """CASEWORKER or SUPERVISOR."""
    task: TaskInScope | None
    """None when the task does not exist or is outside the actor's scope (casework answers both alike)."""
    purpose: str


@dataclass(frozen=True)
class Disclosure:
    """One disclosure, as recorded on assist.disclosures (the details themselves are never in it)."""

    disclosure_id: str
    actor: str
    actor_role: str
    district: str
    task_id: str
    household_id: str
    person_ids: tuple[str, ...]
    purpose: Purpose
    fields: tuple[str, ...]
    at: dt.datetime

    def to_record(self) -> dict[str, object]:
        return {"disclosure_id": self.disclosure_id, "actor": self.actor, "actor_role": self.actor_role,
                "district": self.district, "task_id": self.task_id, "household_id": self.household_id,
                "person_ids": list(self.person_ids), "purpose": self.purpose.value, "fields": list(self.fields),
                "at": self.at}


@dataclass(frozen=True)
class Refused:
    """Why nothing is shown: a sentence for the member of staff, and the field at fault."""

    field: str
    reason: str


def decide(request: DisclosureRequest, person_ids: Iterable[str], at: dt.datetime) -> Disclosure | Refused:
    """The disclosure `request` allows for the household members `person_ids`, or why it is refused."""
    try:
        purpose = Purpose(request.purpose)
    except ValueError:
        known = ", ".join(p.value for p in Purpose)
        return Refused("purpose", f"choose why you need the details: one of {known}")
    task = request.task
    if task is None:
        return Refused("task_id", "no such task in your scope")
    if not task.open:
        return Refused("task_id", "the task is closed (decided or withdrawn): details are shown only on open tasks")
    if request.actor_role == "CASEWORKER" and task.claimed_by != request.actor:
        return Refused("task_id", "claim the task first: details are shown to the caseworker who holds it")
    members = tuple(sorted(set(person_ids)))
    if not members:
        return Refused("household_id", "the vault holds no details for this household yet")
    digest = hashlib.sha256(f"{request.actor}|{task.task_id}|{purpose.value}|{at.isoformat()}".encode())
    return Disclosure(f"d-{digest.hexdigest()[:24]}", request.actor, request.actor_role, task.district, task.task_id,
                      task.household_id, members, purpose, FIELDS[purpose], at)


@dataclass(frozen=True)
class StaffFigures:
    """What one member of staff was shown over a period, for the supervisor's overview."""

    actor: str
    actor_role: str
    disclosures: int
    households: frozenset[str]
    """Distinct households whose details they saw."""
    by_purpose: dict[Purpose, int]

    def browsing(self, explained_households: Iterable[str]) -> bool:
        """Whether they opened far more households than their work explains: at least BROWSING_MIN_HOUSEHOLDS,
        more than BROWSING_SHARE of them without a decision or a held task of theirs."""
        return (len(self.households) >= BROWSING_MIN_HOUSEHOLDS
                and unexplained_share(self.households, explained_households) > BROWSING_SHARE)


BROWSING_MIN_HOUSEHOLDS = 10
BROWSING_SHARE = 0.5


def staff_figures(disclosures: Iterable[Disclosure]) -> dict[str, StaffFigures]:
    """The figures per member of staff of `disclosures`."""
    counts: dict[str, tuple[str, int, set[str], dict[Purpose, int]]] = {}
    for d in disclosures:
        role, n, households, by_purpose = counts.setdefault(d.actor, (d.actor_role, 0, set(), {}))
        households.add(d.household_id)
        by_purpose[d.purpose] = by_purpose.get(d.purpose, 0) + 1
        counts[d.actor] = (role, n + 1, households, by_purpose)
    return {actor: StaffFigures(actor, role, n, frozenset(households), by_purpose)
            for actor, (role, n, households, by_purpose) in counts.items()}


def unexplained_share(opened_households: Iterable[str], task_households: Iterable[str]) -> float:
    """The share of the distinct households a person opened that none of their tasks names (0.0 to 1.0)."""
    opened = set(opened_households)
    if not opened:
        return 0.0
    return len(opened - set(task_households)) / len(opened)
