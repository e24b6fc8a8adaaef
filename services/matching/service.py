"""Matching's service: what each agent does with a message, on the state stores passed in as ports.

- route: a change event keyed by person goes to the person's household inbox, or waits for the registry;
- index: a membership change updates person → household, and releases the events that waited for it;
- handle: a typed message to a household goes through ONE dispatch table (HANDLERS, message type → Matcher
  entry point); its new state is stored with what it sends, so a message seen again after a crash sends the
  same records again (stored.py).

The faust agents (adapters/faust_app.py) only decode, call these and publish what they return.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from services.core.conformance import ContractError, FieldError
from services.core.dead_letter import Reason
from services.core.logs import record_ids
from services.core.topics import MATCHING_INBOX
from services.matching.answers import answer_output
from services.matching.domain.applications import NOT_KNOWN, Decision, Outcome, decide
from services.matching.domain.catalogue.policy_catalogue import PolicyCatalogue
from services.matching.domain.household.state import HouseholdState
from services.matching.handler import Matcher, Result
from services.matching.messages import (
    LABELS,
    Application,
    CaseworkDecision,
    ChangeEvent,
    Message,
    Reevaluation,
    RegistryRecord,
    cause_of,
)
from services.matching.metrics import priority_band
from services.matching.ports import Commits, EventReader, HouseholdStore, Memberships, NothingCommitted, WaitingEvents
from services.matching.runtime import MatchingRuntime
from services.matching.stored import Record, StoredHousehold

WAITING_MAX = 20
"""Events held per person the registry has not introduced yet; later ones are dead-lettered."""

log = logging.getLogger(__name__)


class Position(Protocol):
    """Where a message was read: what recognises it when it is delivered again."""

    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class Routing:
    """What becomes of a change event keyed by person: records to send (to the household inbox), or the reason
    it is dead-lettered; neither when it waits for the registry."""

    records: tuple[Record, ...] = ()
    refused: Reason | None = None


Handler = Callable[[Matcher, HouseholdState | None, Any, PolicyCatalogue, dt.datetime], Result]


def _registry(matcher: Matcher, state: HouseholdState | None, message: RegistryRecord, catalogue: PolicyCatalogue,
              now: dt.datetime) -> Result:
    return matcher.on_registry(state, message.record, catalogue, now)


def _decision(matcher: Matcher, state: HouseholdState | None, message: CaseworkDecision,
              catalogue: PolicyCatalogue, now: dt.datetime) -> Result:
    return Result(None) if state is None else matcher.on_decision(state, message.decision, now, catalogue)


def _event(matcher: Matcher, state: HouseholdState | None, message: ChangeEvent, catalogue: PolicyCatalogue,
           now: dt.datetime) -> Result:
    return Result(None) if state is None else matcher.on_event(state, message.event, catalogue, now)


def _application(matcher: Matcher, state: HouseholdState | None, message: Application,
                 catalogue: PolicyCatalogue, now: dt.datetime) -> Result:
    return matcher.on_application(state, message, catalogue, now)


def _reevaluation(matcher: Matcher, state: HouseholdState | None, message: Reevaluation,
                  catalogue: PolicyCatalogue, now: dt.datetime) -> Result:
    return Result(None) if state is None else matcher.on_reevaluation(state, catalogue, now)


HANDLERS: Mapping[type[Any], Handler] = {
    RegistryRecord: _registry,
    CaseworkDecision: _decision,
    ChangeEvent: _event,
    Reevaluation: _reevaluation,
    Application: _application,
}
"""Message type → what the household does with it. A household the registry has not introduced takes only its
registry record: anything else for it changes nothing (an application is answered UNKNOWN_PERSON)."""


@dataclass
class MatchingService:
    runtime: MatchingRuntime
    households: HouseholdStore
    memberships: Memberships
    waiting: WaitingEvents
    reader: EventReader
    """How change events are read off the wire (adapters/messages.py in the worker)."""
    commits: Commits = field(default_factory=NothingCommitted)
    """What the group committed: a household keeps what its messages sent until then (stored.py)."""

    def route(self, person: bytes | None, value: bytes | None, headers: Iterable[tuple[str, bytes | None]]
              ) -> Routing:
        """A change event keyed by person: to its household's inbox, held, or refused."""
        if value is None or not person:
            return Routing(refused=Reason("a change event needs the person id as its key and a value",
                                          ("key" if not person else "value",)))
        household = self.memberships.household_of(person)
        listed = list(headers)
        if household:
            return Routing(((MATCHING_INBOX.name, household, value, self.reader.inbox_headers(listed)),))
        if self.reader.names_a_request(listed):
            return Routing(self._unknown_applicant(value, listed))
        if self.waiting.count(person) >= WAITING_MAX:
            return Routing(refused=Reason(f"person not in the registry after {WAITING_MAX} events; replay when it "
                                          "is", ("key",), "unregistered"))
        self.waiting.hold(person, value, [(k, v) for k, v in listed if v is not None])
        self.runtime.metrics.waiting.inc()
        return Routing()

    def _unknown_applicant(self, value: bytes, headers: list[tuple[str, bytes | None]]) -> tuple[Record, ...]:
        """An application by a person the registry has not introduced is answered at once (UNKNOWN_PERSON),
        not held: the applicant is waiting for an answer."""
        runtime = self.runtime
        message = self.reader.read(value, headers)
        if not isinstance(message, Application):
            return ()
        now = runtime.now()
        catalogue = runtime.versions.active(now.date())
        decision = decide(None, catalogue, message.person_id, message.policy_id, now.date()) \
            if catalogue is not None else Decision(Outcome.UNKNOWN_PERSON, reasons=(NOT_KNOWN,))
        result = Result(None, (answer_output(message, None, decision, catalogue, now),))
        self._count(LABELS[Application], result)
        return tuple(StoredHousehold(None).outgoing(runtime.contract, result))

    def index(self, person: bytes | None, household: bytes | None) -> list[Record]:
        """A membership change (household None: the person left); the events that waited for the person go to
        the household's inbox. They stay held until `delivered` says they reached it (a crash before sends them
        again; the household recognises an event it has)."""
        if not person:
            raise ContractError([FieldError("key", "a membership needs the person id as its key")])
        self.memberships.put(person, household or None)
        if not household:
            return []
        return [(MATCHING_INBOX.name, household, value, self.reader.inbox_headers(headers))
                for value, headers in self.waiting.held(person)]

    def delivered(self, person: bytes | None) -> None:
        """What `index` sent for the person reached the household's inbox: the events held for them are done."""
        if person:
            self.waiting.forget(person)

    def handle(self, household_id: bytes | None, position: Position, message: Message) -> list[Record]:
        """What a message to a household sends; its new state is stored first, with those records."""
        if not household_id:
            raise ContractError([FieldError("key", "a household message needs the household id as its key")])
        runtime = self.runtime
        raw = self.households.get(household_id)
        stored = StoredHousehold.load(raw)
        replayed = stored.replayed(position)
        if replayed is not None and raw is not None:
            runtime.metrics.replayed.inc()
            # Stored again: the store may have kept the first write while its changelog record was cut off by a
            # crash; a worker restoring the partition from the changelog would miss the message's changes.
            self.households.put(household_id, raw)
            return replayed
        now = runtime.now()
        catalogue = runtime.versions.active(now.date())
        assert catalogue is not None, "the household agent starts only once a catalogue decides today"
        result = HANDLERS[type(message)](runtime.matcher, stored.state, message, catalogue, now)
        records = stored.outgoing(runtime.contract, result, cause_of(message))
        if result.state is not None:
            self.households.put(household_id, stored.store(result.state, position, records, self.commits.committed))
            runtime.population_changed(result.state)
        if result.state is not None or result.outputs:
            self._count(LABELS[type(message)], result)
        return records

    def _count(self, label: str, result: Result) -> None:
        metrics = self.runtime.metrics
        metrics.processed.labels(label).inc()
        for output in result.outputs:
            offer = output.value.get("offer") if output.record == "caseworker_task" else output.value
            if output.record == "application_answer":
                metrics.applications.labels(output.value["outcome"]).inc()
            elif offer:
                metrics.offers.labels(offer["policy_id"], offer["tier"], offer["route"]).inc()
            if output.record == "caseworker_task":
                metrics.tasks.labels(output.value["kind"], priority_band(output.value["priority"])).inc()
            if output.record in ("offer", "caseworker_task"):
                log.info("%s emitted (%s)", "task" if output.record == "caseworker_task" else "offer",
                         output.value.get("change") or "NEW", extra=record_ids(output.record, output.value))
