"""From what arrives on matching's topics to typed messages (services/matching/messages.py): the one place that
reads topics and headers to tell what a record is.

    assist.registry            → RegistryRecord (Avro household record, no CloudEvents headers)
    assist.decisions           → CaseworkDecision (Avro decision record)
    assist.matching.households → by its `assist_kind` header, which matching itself writes:
                                 event      → ChangeEvent, or Application for a request kind (event_kinds)
                                 reevaluate → Reevaluation under the `assist_catalogue_version` header

Anything else is refused with a ContractError naming the header or field, and is dead-lettered by the agent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from services.core.codec import Contract, decode_event, decode_record, header
from services.core.conformance import ContractError, FieldError
from services.core.topics import DECISIONS, MATCHING_INBOX, REGISTRY
from services.matching.domain.household.event_kinds import EVENT_KINDS, Change, kind_of
from services.matching.messages import (
    Application,
    CaseworkDecision,
    ChangeEvent,
    Message,
    Reevaluation,
    RegistryRecord,
)
from services.matching.ports import Headers, RawHeaders

KIND = "assist_kind"
VERSION = "assist_catalogue_version"
EVENT = "event"
REEVALUATE = "reevaluate"
REQUEST_TYPES = frozenset(t for t, k in EVENT_KINDS.items() if k.change == Change.REQUEST)


def decode_message(contract: Contract, topic: str, value: bytes | None, headers: RawHeaders) -> Message:
    """The typed message a record of `topic` carries; ContractError when it is not one."""
    decoder = _BY_TOPIC.get(topic)
    if decoder is None:
        raise ContractError([FieldError("topic", f"matching reads no messages from {topic}")])
    return decoder(contract, value, headers)


def decode_event_message(contract: Contract, value: bytes | None, headers: RawHeaders) -> ChangeEvent | Application:
    """A CloudEvent (binary mode) as a change event, or as an application for a request kind."""
    event = decode_event(contract, value, headers)
    kind = kind_of(event.type)
    if kind is not None and kind.change == Change.REQUEST:
        return Application(event)
    return ChangeEvent(event)


def names_a_request(headers: RawHeaders) -> bool:
    """Whether a CloudEvent's headers name a request kind (an application), before its body is decoded: the
    route to a household decodes only those when the person is not known."""
    return header(headers, "ce_type") in REQUEST_TYPES


def _registry(contract: Contract, value: bytes | None, headers: RawHeaders) -> Message:
    return RegistryRecord(decode_record(contract, "household", _body(value)))


def _decision(contract: Contract, value: bytes | None, headers: RawHeaders) -> Message:
    return CaseworkDecision(decode_record(contract, "decision", _body(value)))


def _inbox(contract: Contract, value: bytes | None, headers: RawHeaders) -> Message:
    kind = header(headers, KIND)
    if kind == EVENT:
        return decode_event_message(contract, value, headers)
    if kind == REEVALUATE:
        version = header(headers, VERSION)
        if not version:
            raise ContractError([FieldError(VERSION, "a re-evaluation command names the catalogue version")])
        return Reevaluation(version)
    raise ContractError([FieldError(KIND, f"must be {EVENT} or {REEVALUATE} on {MATCHING_INBOX.name}")])


def _body(value: bytes | None) -> bytes:
    if value is None:
        raise ContractError([FieldError("value", "a record is required (no tombstones on this topic)")])
    return value


_BY_TOPIC: Mapping[str, Callable[[Contract, bytes | None, RawHeaders], Message]] = {
    REGISTRY.name: _registry, DECISIONS.name: _decision, MATCHING_INBOX.name: _inbox}


def event_headers(headers: Iterable[tuple[str, bytes | None]]) -> Headers:
    """The headers of a change event re-keyed onto the household inbox: its own, marked as an event."""
    return [*[(k, bytes(v)) for k, v in headers if k != KIND and v is not None], (KIND, EVENT.encode())]


def reevaluation_headers(version: str) -> Headers:
    return [(KIND, REEVALUATE.encode()), (VERSION, version.encode())]


@dataclass(frozen=True)
class CloudEventReader:
    """The EventReader port (services/matching/ports.py) on the contract's CloudEvents binary mode."""

    contract: Contract

    def read(self, value: bytes | None, headers: RawHeaders) -> ChangeEvent | Application:
        return decode_event_message(self.contract, value, headers)

    def names_a_request(self, headers: RawHeaders) -> bool:
        return names_a_request(headers)

    def inbox_headers(self, headers: RawHeaders) -> Headers:
        return event_headers(headers)
