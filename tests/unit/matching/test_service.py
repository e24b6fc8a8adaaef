"""Matching's service on in-memory ports: typed messages, one dispatch table, routing by person, replay by position."""

from __future__ import annotations

import typing
from dataclasses import dataclass

import pytest
from prometheus_client import CollectorRegistry

from services.core.codec import decode_record, encode_event, encode_record, header, load_contract
from services.core.conformance import ContractError
from services.core.settings import PROJECT_ROOT
from services.core.topics import (
    APPLICATION_ANSWERS,
    DECISIONS,
    MATCHING_INBOX,
    MATCHING_MEMBERSHIP,
    OFFERS,
    REGISTRY,
    TASKS,
)
from services.matching.adapters.catalogue_feed import CatalogueFeed
from services.matching.adapters.messages import (
    KIND,
    CloudEventReader,
    decode_message,
    event_headers,
    reevaluation_headers,
)
from services.matching.domain.catalogue.policy_catalogue import load_catalogue
from services.matching.domain.household.risk import load_risk_model
from services.matching.domain.household.state import from_dict
from services.matching.handler import Matcher
from services.matching.messages import (
    Application,
    CaseworkDecision,
    ChangeEvent,
    Message,
    Reevaluation,
    RegistryRecord,
)
from services.matching.metrics import MatchingMetrics
from services.matching.runtime import MatchingRuntime
from services.matching.service import HANDLERS, WAITING_MAX, MatchingService
from services.matching.stored import CAUSE_HEADER
from tests.unit.matching.memory_stores import MemoryHouseholds, MemoryMemberships, MemoryWaiting
from tests.unit.matching.test_handler import NOW, job_lost, registry

CONTRACT = load_contract()
CATALOGUE = load_catalogue((PROJECT_ROOT / "policies" / "national-demo.yaml").read_text(), "demo")


@dataclass(frozen=True)
class At:
    topic: str
    partition: int
    offset: int


def service(households: MemoryHouseholds | None = None) -> MatchingService:
    households = households or MemoryHouseholds()
    runtime = MatchingRuntime(Matcher(load_risk_model((PROJECT_ROOT / "policies" / "risk.yaml").read_text())),
                              CONTRACT, MatchingMetrics(CollectorRegistry()),
                              CatalogueFeed("127.0.0.1:1", CONTRACT, "national-demo"), households, now=lambda: NOW)
    runtime.versions.adopt(CATALOGUE)
    return MatchingService(runtime, households, MemoryMemberships(), MemoryWaiting(), CloudEventReader(CONTRACT))


def registry_bytes() -> bytes:
    return encode_record(CONTRACT, "household", registry())


def event_wire(event_id: str = "e1") -> tuple[bytes, list[tuple[str, bytes]]]:
    value, headers = encode_event(CONTRACT, job_lost(event_id))
    return value, event_headers(headers)


def test_every_message_type_has_one_handler() -> None:
    assert set(HANDLERS) == set(typing.get_args(Message))


def test_each_topic_decodes_into_its_message_type() -> None:
    value, headers = event_wire()
    decision = {"decision_id": "d1", "task_id": None, "offer_id": "o-1", "household_id": "h1", "person_id": None,
                "policy_id": "subsistence_allowance", "action": "ACCEPTED", "actor": "citizen", "reason": None,
                "district": "510107", "at": NOW}
    assert isinstance(decode_message(CONTRACT, REGISTRY.name, registry_bytes(), []), RegistryRecord)
    assert isinstance(decode_message(CONTRACT, DECISIONS.name, encode_record(CONTRACT, "decision", decision), []),
                      CaseworkDecision)
    assert isinstance(decode_message(CONTRACT, MATCHING_INBOX.name, value, headers), ChangeEvent)
    assert decode_message(CONTRACT, MATCHING_INBOX.name, b"", reevaluation_headers("v2")) == Reevaluation("v2")


def test_an_inbox_record_without_its_kind_is_refused_naming_the_header() -> None:
    value, headers = event_wire()
    with pytest.raises(ContractError) as refused:
        decode_message(CONTRACT, MATCHING_INBOX.name, value, [h for h in headers if h[0] != KIND])
    assert [e.field for e in refused.value.errors] == [KIND]


def test_a_registry_tombstone_is_refused_naming_the_value() -> None:
    with pytest.raises(ContractError) as refused:
        decode_message(CONTRACT, REGISTRY.name, None, [])
    assert [e.field for e in refused.value.errors] == ["value"]


def test_an_event_about_a_known_person_goes_to_the_households_inbox() -> None:
    matching = service()
    matching.memberships.put(b"p1", b"h1")
    value, headers = encode_event(CONTRACT, job_lost())
    routing = matching.route(b"p1", value, headers)
    [(topic, key, sent, sent_headers)] = routing.records
    assert (topic, key, sent, routing.refused) == (MATCHING_INBOX.name, b"h1", value, None)
    assert header(sent_headers, KIND) == "event"


def test_events_about_an_unknown_person_wait_for_the_registry_then_go_to_the_household() -> None:
    matching = service()
    value, headers = encode_event(CONTRACT, job_lost())
    for _ in range(WAITING_MAX):
        assert matching.route(b"p1", value, headers).records == ()
    refused = matching.route(b"p1", value, headers).refused
    assert refused is not None and refused.kind == "unregistered"
    released = matching.index(b"p1", b"h1")
    assert len(released) == WAITING_MAX and {(t, k) for t, k, _, _ in released} == {(MATCHING_INBOX.name, b"h1")}
    matching.delivered(b"p1")
    assert matching.waiting.count(b"p1") == 0


# A store's own state outlives a crash, the records the crash cut off do not: the 100,000-event kill run lost a
# held event when its worker forgot it and died before the inbox record was delivered.
def test_held_events_stay_held_until_their_release_was_delivered() -> None:
    matching = service()
    value, headers = encode_event(CONTRACT, job_lost())
    matching.route(b"p1", value, headers)
    assert len(matching.index(b"p1", b"h1")) == 1  # the worker dies before delivering this
    again = matching.index(b"p1", b"h1")  # its restart reads the membership again
    assert [(t, k, v) for t, k, v, _ in again] == [(MATCHING_INBOX.name, b"h1", value)]


def test_an_event_without_its_person_is_refused_naming_the_key() -> None:
    refused = service().route(b"", b"x", []).refused
    assert refused is not None and refused.fields == ("key",)


def test_a_household_message_is_stored_with_what_it_sent_and_a_replay_sends_the_same() -> None:
    matching = service()
    loaded = matching.handle(b"h1", At(REGISTRY.name, 0, 7), RegistryRecord(registry()))
    assert [k for t, k, _, _ in loaded if t == MATCHING_MEMBERSHIP.name] == [b"p1", b"p2", b"p3"]
    value, headers = event_wire()
    message = decode_message(CONTRACT, MATCHING_INBOX.name, value, headers)
    first = matching.handle(b"h1", At(MATCHING_INBOX.name, 0, 9), message)
    assert {t for t, *_ in first} <= {OFFERS.name, TASKS.name} and first
    stored = matching.households.get(b"h1")
    assert stored is not None and "e1" in from_dict(stored["state"]).applied_event_ids()
    assert matching.handle(b"h1", At(MATCHING_INBOX.name, 0, 9), message) == first


def test_offers_and_tasks_name_the_change_event_whose_handling_made_them() -> None:
    matching = service()
    loaded = matching.handle(b"h1", At(REGISTRY.name, 0, 7), RegistryRecord(registry()))
    assert all(CAUSE_HEADER not in dict(headers) for *_, headers in loaded)  # a registry record is no event
    value, headers = event_wire()
    records = matching.handle(b"h1", At(MATCHING_INBOX.name, 0, 9), decode_message(CONTRACT, MATCHING_INBOX.name,
                                                                                  value, headers))
    made = [dict(h) for t, _, _, h in records if t in (OFFERS.name, TASKS.name)]
    assert made and all(h[CAUSE_HEADER] == b"e1" for h in made)


def test_a_replayed_message_stores_its_household_again_so_its_changelog_has_what_a_crash_cut_off() -> None:
    class Written(MemoryHouseholds):
        def __init__(self) -> None:
            super().__init__()
            self.keys: list[bytes] = []

        def put(self, household_id: bytes, stored: dict[str, typing.Any]) -> None:
            self.keys.append(household_id)
            super().put(household_id, stored)

    households = Written()
    matching = service(households)
    matching.handle(b"h1", At(REGISTRY.name, 0, 7), RegistryRecord(registry()))
    value, headers = event_wire()
    message = decode_message(CONTRACT, MATCHING_INBOX.name, value, headers)
    matching.handle(b"h1", At(MATCHING_INBOX.name, 0, 9), message)
    stored, households.keys = households.get(b"h1"), []
    matching.handle(b"h1", At(MATCHING_INBOX.name, 0, 9), message)
    assert households.keys == [b"h1"] and households.get(b"h1") == stored


def test_messages_for_a_household_the_registry_has_not_introduced_change_nothing() -> None:
    matching = service()
    value, headers = event_wire()
    assert matching.handle(b"h9", At(MATCHING_INBOX.name, 0, 1),
                           decode_message(CONTRACT, MATCHING_INBOX.name, value, headers)) == []
    assert matching.households.get(b"h9") is None


def test_the_population_is_rebuilt_from_the_household_store() -> None:
    matching = service()
    matching.handle(b"h1", At(REGISTRY.name, 0, 7), RegistryRecord(registry()))
    population = matching.runtime.population()
    assert list(population.household_ids()) == ["h1"] and population.persons == 3


def test_a_message_without_its_household_key_is_refused() -> None:
    with pytest.raises(ContractError):
        service().handle(b"", At(REGISTRY.name, 0, 1), RegistryRecord(registry()))


def application_wire(person: str, application_id: str = "a-1") -> tuple[bytes, list[tuple[str, bytes]]]:
    from tests.unit.matching.test_applications import application

    return encode_event(CONTRACT, application(person=person, application_id=application_id).event)


def test_an_application_by_a_person_the_registry_does_not_know_is_answered_at_once_not_held() -> None:
    matching = service()
    value, headers = application_wire("p-unknown")
    routing = matching.route(b"p-unknown", value, headers)
    [(topic, key, answer, _)] = routing.records
    assert (topic, key) == (APPLICATION_ANSWERS.name, b"p-unknown")
    assert decode_record(CONTRACT, "application_answer", answer)["outcome"] == "UNKNOWN_PERSON"
    assert matching.waiting.count(b"p-unknown") == 0


def test_an_application_reaches_the_household_as_a_typed_message_and_is_answered() -> None:
    matching = service()
    matching.handle(b"h1", At(REGISTRY.name, 0, 7), RegistryRecord(registry()))
    value, headers = application_wire("p1")
    message = decode_message(CONTRACT, MATCHING_INBOX.name, value, event_headers(headers))
    assert isinstance(message, Application)
    records = matching.handle(b"h1", At(MATCHING_INBOX.name, 0, 8), message)
    answers = [decode_record(CONTRACT, "application_answer", v) for t, _, v, _ in records
               if t == APPLICATION_ANSWERS.name]
    assert [a["outcome"] for a in answers] == ["NOT_ELIGIBLE"]


def test_a_replay_after_a_long_outage_sends_the_same_though_the_household_was_stored_again_before_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker dies after a message's new state reached the changelog but before its records left; it comes back
    20 minutes later and handles another uncommitted message of the household first (a registry record): the
    message, handled again, must still send what it sent the first time."""
    import services.matching.stored as stored_module

    matching = service()
    matching.handle(b"h1", At(REGISTRY.name, 0, 7), RegistryRecord(registry()))
    value, headers = event_wire()
    message = decode_message(CONTRACT, MATCHING_INBOX.name, value, headers)
    first = matching.handle(b"h1", At(MATCHING_INBOX.name, 0, 9), message)
    assert first
    later = stored_module.time.time() + 1200
    monkeypatch.setattr(stored_module.time, "time", lambda: later)
    matching.handle(b"h1", At(REGISTRY.name, 0, 8), RegistryRecord(registry()))
    assert matching.handle(b"h1", At(MATCHING_INBOX.name, 0, 9), message) == first


def test_what_a_message_sent_is_kept_until_the_group_committed_past_it() -> None:
    committed: dict[tuple[str, int], int] = {}
    matching = service()
    matching.commits = Committed(committed)
    matching.handle(b"h1", At(REGISTRY.name, 0, 7), RegistryRecord(registry()))
    value, headers = event_wire()
    matching.handle(b"h1", At(MATCHING_INBOX.name, 0, 9), decode_message(CONTRACT, MATCHING_INBOX.name, value, headers))
    assert set(matching.households.get(b"h1")["sent"]) == {f"{REGISTRY.name}:0:7", f"{MATCHING_INBOX.name}:0:9"}
    committed[(REGISTRY.name, 0)] = 8
    committed[(MATCHING_INBOX.name, 0)] = 9  # the next to read: 9 itself is not committed yet
    value, headers = event_wire("e2")
    matching.handle(b"h1", At(MATCHING_INBOX.name, 0, 10), decode_message(CONTRACT, MATCHING_INBOX.name, value,
                                                                          headers))
    assert set(matching.households.get(b"h1")["sent"]) >= {f"{MATCHING_INBOX.name}:0:9"}
    assert f"{REGISTRY.name}:0:7" not in matching.households.get(b"h1")["sent"]


@dataclass(frozen=True)
class Committed:
    offsets: dict[tuple[str, int], int]

    def committed(self, topic: str, partition: int) -> int | None:
        return self.offsets.get((topic, partition))
