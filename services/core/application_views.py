"""Residents' applications as the citizen page and the casework console show them: what was applied for, by
whom, and matching's answer (schemas/records/application_answer.avsc); one Redis layout for both services (each
under its own key prefix), rebuilt from assist.events and assist.applications.answers.

    <p>:applications:<person>         hash: application id -> {policy_id, applied_by, submitted_at (ms)} as JSON
    <p>:application-answers:<person>  hash: application id -> the ApplicationAnswer as JSON
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from aiokafka import TopicPartition
from redis.asyncio import Redis

from services.core.codec import Contract, decode_event, header, jsonable
from services.core.conformance import ContractError
from services.core.history import HistoryReader
from services.core.resident_applications import APPLICATION_SUBMITTED, Programmes
from services.core.topics import EVENTS


@dataclass(frozen=True)
class Application:
    """One application of a resident: known from its submission (made here), its answer, or both."""

    application_id: str
    person_id: str
    policy_id: str
    applied_by: str
    submitted_at_ms: int | None = None
    answer: Mapping[str, Any] | None = None

    @property
    def outcome(self) -> str:
        """The answer's outcome, WAITING until it comes."""
        return str(self.answer["outcome"]) if self.answer else "WAITING"

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(str(r) for r in (self.answer or {}).get("reasons") or [])


class ProgrammeSource(Protocol):
    """Where the programmes one may apply for come from (the catalogue on assist.policies)."""

    async def current(self) -> Programmes | None:
        """The programmes of the current catalogue version; None when no catalogue was read."""


class ApplicationStore(Protocol):
    """Residents' applications and matching's answers (RedisApplications in production)."""

    async def submitted(self, application: Application) -> None:
        """Keep an application made here (the same id again changes nothing)."""

    async def answered(self, answer: Mapping[str, Any]) -> None:
        """Keep matching's answer to an application (the same answer again changes nothing)."""

    async def of_person(self, person_id: str) -> list[Application]:
        """A resident's applications, newest first."""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisApplications:
    """The store; works with clients that decode responses and with those that do not."""

    def __init__(self, redis: Redis, prefix: str):
        self._redis, self._prefix = redis, prefix

    def _keys(self, person_id: str) -> tuple[str, str]:
        return f"{self._prefix}:applications:{person_id}", f"{self._prefix}:application-answers:{person_id}"

    async def submitted(self, application: Application) -> None:
        """Keep an application made here (the same id again changes nothing)."""
        await self._redis.hsetnx(self._keys(application.person_id)[0], application.application_id, json.dumps(
            {"policy_id": application.policy_id, "applied_by": application.applied_by,
             "submitted_at": application.submitted_at_ms}))

    async def answered(self, answer: Mapping[str, Any]) -> None:
        """Keep matching's answer (the same answer again changes nothing)."""
        await self._redis.hset(self._keys(str(answer["person_id"]))[1], str(answer["application_id"]),
                               json.dumps(jsonable(dict(answer)), ensure_ascii=False))

    async def of_person(self, person_id: str) -> list[Application]:
        """A resident's applications, newest first."""
        submitted_key, answers_key = self._keys(person_id)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(submitted_key)
            pipe.hgetall(answers_key)
            submitted, answers = await pipe.execute()
        found = {i: Application(i, person_id, v["policy_id"], v["applied_by"], v["submitted_at"])
                 for i, v in ((_text(k), json.loads(raw)) for k, raw in submitted.items())}
        for key, raw in answers.items():
            answer, known = json.loads(raw), found.get(_text(key))
            found[_text(key)] = Application(_text(key), person_id, str(answer["policy_id"]),
                                            str(answer["applied_by"]), known.submitted_at_ms if known else None,
                                            answer)
        return sorted(found.values(), key=lambda a: (a.submitted_at_ms or 0, str((a.answer or {}).get(
            "answered_at") or "")), reverse=True)


async def submissions(reader: HistoryReader, contract: Contract, source: str,
                      since: Mapping[TopicPartition, int] | None = None) -> AsyncIterator[Application]:
    """The applications made from `source` on assist.events, for a rebuild (other events are skipped on their
    headers, without decoding)."""
    async for record in reader.records(EVENTS, since):
        if header(record.headers, "ce_type") != APPLICATION_SUBMITTED or header(record.headers, "ce_source") != source:
            continue
        try:
            event = decode_event(contract, record.value, record.headers)
        except ContractError:
            continue
        yield Application(event.id, event.subject, str(event.data["policy_id"]), str(event.data["applied_by"]),
                          int(event.time.timestamp() * 1000))
