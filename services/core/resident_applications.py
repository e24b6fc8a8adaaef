"""Applications by residents ("people finding policies"): the citizen page and the casework console both turn an
application into an `application.submitted` CloudEvent (schemas/events/application_submitted.avsc) published
onto assist.events, keyed by the applicant's pseudonymous person id, which is also its subject; the event id is the
application id. The programmes one may apply for are the policies of the current catalogue version, read from the
compacted assist.policies topic. Matching answers on assist.applications.answers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from services.core.codec import Contract, Event, check_event, decode_record, encode_event
from services.core.history import HistoryReader
from services.core.topics import EVENTS, POLICIES

log = logging.getLogger(__name__)
APPLICATION_SUBMITTED = "application.submitted"
CITIZEN_PAGE_SOURCE = "/civil_affairs/citizen-page"
CASEWORK_CONSOLE_SOURCE = "/civil_affairs/casework-console"
CITIZEN = "citizen"
_APPLIED_BY = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
_POLICY_ID = re.compile(r"[a-z0-9_]{1,64}")
_PERSON_ID = re.compile(r"[A-Za-z0-9_.:-]{1,256}")
READ_TIMEOUT_SECONDS = 10.0


class ApplicationRefused(ValueError):
    """An application that cannot be made as given; `field` names what is wrong. `kind`: 'invalid' (malformed),
    'unknown' (no such programme in the catalogue) or 'unavailable' (no catalogue read yet: try again later)."""

    def __init__(self, field: str, reason: str, kind: str = "invalid"):
        super().__init__(f"{field}: {reason}")
        self.field, self.reason, self.kind = field, reason, kind


@dataclass(frozen=True)
class Programme:
    policy_id: str
    name: str
    name_zh: str = ""
    """The programme's name in Chinese, from the catalogue (empty when it gives none)."""


@dataclass(frozen=True)
class Programmes:
    """The policies of one catalogue version, in catalogue order."""

    catalogue: str
    version: str
    items: tuple[Programme, ...]

    def find(self, policy_id: str) -> Programme | None:
        return next((p for p in self.items if p.policy_id == policy_id), None)


def programmes_of(version: Mapping[str, Any]) -> Programmes:
    """The programmes of a decoded PolicyCatalogueVersion record (its YAML document's `policies`)."""
    document = yaml.safe_load(str(version["document"])) or {}
    items = tuple(Programme(str(p["id"]), str(p.get("name") or p["id"]), str(p.get("name_zh") or ""))
                  for p in document.get("policies") or [] if isinstance(p, dict) and "id" in p)
    return Programmes(str(version["catalogue"]), str(version["version"]), items)


def current_version(versions: Iterable[Mapping[str, Any]], catalogue: str, today: dt.date
                    ) -> Mapping[str, Any] | None:
    """The version of `catalogue` that decides today: the latest effective date not after today (then the latest
    published)."""
    usable = [v for v in versions if v["catalogue"] == catalogue and v["effective_from"] <= today]
    return max(usable, key=lambda v: (v["effective_from"], v["published_at"]), default=None)


def application_event(person_id: str, policy_id: str, programmes: Programmes | None, channel: str, applied_by: str,
                      now: dt.datetime, application_id: str | None = None) -> Event:
    """The ApplicationSubmitted event; ApplicationRefused naming the field when the application cannot be made."""
    if programmes is None:
        raise ApplicationRefused("policy_id", "no policy catalogue has been read yet, so no programme can be "
                                              "applied for; try again in a few minutes", "unavailable")
    if not _POLICY_ID.fullmatch(policy_id):
        raise ApplicationRefused("policy_id", "must be a policy id: 1 to 64 lower-case letters, digits or _")
    if programmes.find(policy_id) is None:
        raise ApplicationRefused("policy_id", f"{policy_id!r} is not a programme of catalogue "
                                              f"{programmes.catalogue} version {programmes.version}", "unknown")
    if not _APPLIED_BY.fullmatch(applied_by):
        raise ApplicationRefused("applied_by", "must be 'citizen' or a caseworker id of 1 to 64 letters, digits "
                                               "or _.@-")
    if not _PERSON_ID.fullmatch(person_id):
        raise ApplicationRefused("person_id", "must be a pseudonymous person id")
    source = CITIZEN_PAGE_SOURCE if channel == "CITIZEN_PAGE" else CASEWORK_CONSOLE_SOURCE
    return Event(id=application_id or f"a-{uuid.uuid4().hex}", source=source, type=APPLICATION_SUBMITTED,
                 time=now, subject=person_id,
                 data={"policy_id": policy_id, "channel": channel, "applied_by": applied_by})


async def read_programmes(bootstrap: str, contract: Contract, catalogue: str, today: dt.date,
                          client_id: str) -> Programmes | None:
    """The programmes of the current version of `catalogue` on assist.policies; None when there is none."""
    versions = []
    async with HistoryReader(bootstrap, (POLICIES,), client_id) as reader:
        async for record in reader.records(POLICIES):
            try:
                versions.append(decode_record(contract, "policy_catalogue", record.value or b""))
            except Exception as exc:  # a garbled record is matching's to dead-letter; never quote it here
                log.info("policy catalogue record skipped (%s)", type(exc).__name__)
    chosen = current_version(versions, catalogue, today)
    return programmes_of(chosen) if chosen is not None else None


class CatalogueProgrammes:
    """The programmes of the current version of one catalogue on assist.policies, read again when older than `ttl`
    (a catalogue that cannot be read keeps the last one read)."""

    def __init__(self, bootstrap: str, contract: Contract, catalogue: str, client_id: str, ttl_seconds: float = 60.0):
        self._bootstrap, self._contract, self._catalogue = bootstrap, contract, catalogue
        self._client_id, self._ttl = client_id, ttl_seconds
        self._read_at = -ttl_seconds
        self._programmes: Programmes | None = None
        self._lock = asyncio.Lock()

    async def current(self) -> Programmes | None:
        async with self._lock:
            if time.monotonic() - self._read_at >= self._ttl:
                try:
                    async with asyncio.timeout(READ_TIMEOUT_SECONDS):
                        self._programmes = await read_programmes(self._bootstrap, self._contract, self._catalogue,
                                                                 dt.date.today(), self._client_id)
                    self._read_at = time.monotonic()
                except (KafkaError, TimeoutError, OSError) as exc:
                    log.warning("policy catalogue not read (%s); keeping the last one read", type(exc).__name__)
            return self._programmes


async def publish_application(producer: AIOKafkaProducer, contract: Contract, event: Event) -> None:
    """Onto assist.events, keyed by the applicant's person id, in CloudEvents binary mode; raises when the broker
    does not acknowledge it."""
    if event.type not in contract.event_types:
        raise LookupError(f"the contract has no {event.type} event (schemas/events/application_submitted.avsc)")
    check_event(contract, event)
    value, headers = encode_event(contract, event)
    await producer.send_and_wait(EVENTS.name, value, key=event.subject.encode(), headers=headers)
