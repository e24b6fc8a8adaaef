"""ApplicationStore in Redis: per person, the applications made on the citizen page and matching's answers.

    <p>:applications:<person>         hash: application id -> {policy_id, applied_by, submitted_at} as JSON
    <p>:application-answers:<person>  hash: application id -> the ApplicationAnswer as JSON
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from redis.asyncio import Redis

from services.core.codec import jsonable
from services.notification.domain.applications import Application


class RedisApplications:
    def __init__(self, redis: Redis, prefix: str):
        self._redis, self._prefix = redis, prefix

    def _keys(self, person_id: str) -> tuple[str, str]:
        return f"{self._prefix}:applications:{person_id}", f"{self._prefix}:application-answers:{person_id}"

    async def submitted(self, person_id: str, application: Application) -> None:
        at = application.submitted_at or dt.datetime.now(dt.UTC)
        await self._redis.hsetnx(self._keys(person_id)[0], application.application_id, json.dumps(
            {"policy_id": application.policy_id, "applied_by": application.applied_by, "submitted_at": at.isoformat()}))

    async def answered(self, person_id: str, answer: Mapping[str, Any]) -> None:
        await self._redis.hset(self._keys(person_id)[1], str(answer["application_id"]),
                               json.dumps(jsonable(dict(answer)), ensure_ascii=False))

    async def all(self, person_id: str) -> list[Application]:
        submitted_key, answers_key = self._keys(person_id)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(submitted_key)
            pipe.hgetall(answers_key)
            submitted, answers = await pipe.execute()
        found: dict[str, Application] = {}
        for raw_id, raw in submitted.items():
            value = json.loads(raw)
            found[_text(raw_id)] = Application(_text(raw_id), value["policy_id"], value["applied_by"],
                                               dt.datetime.fromisoformat(value["submitted_at"]))
        for raw_id, raw in answers.items():
            answer = json.loads(raw)
            known = found.get(_text(raw_id))
            found[_text(raw_id)] = Application(
                _text(raw_id), str(answer["policy_id"]), str(answer["applied_by"]),
                known.submitted_at if known else None, answer)
        return sorted(found.values(), key=_newest, reverse=True)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _newest(application: Application) -> str:
    if application.submitted_at is not None:
        return application.submitted_at.isoformat()
    return str((application.answer or {}).get("answered_at") or "")
