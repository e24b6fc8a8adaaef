"""The task board in Redis: every transition is one Lua script (lua/), so a claim, its audit entry and its
outbox entry happen together or not at all. The client must be created with decode_responses=True."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from services.casework.adapters.redis_layout import (
    REVISED_FIELDS,
    Keys,
    progress_fields,
    receipt_entry,
    revision_entry,
    task_fields,
)
from services.casework.domain.revisions import REINSTATEMENT_RELEASER, next_number, withdrawn
from services.casework.domain.tasks import CaseworkerTask, received
from services.casework.service import Answer, Emitted, TakenIn

LUA = Path(__file__).parent / "lua"
_TAKEN_IN = {0: TakenIn.DUPLICATE, 1: TakenIn.NEW, 2: TakenIn.REVISED}
SCRIPTS = ("ingest", "claim", "claim_next", "unclaim", "decide", "reassign", "reap", "escalate")


def _source(name: str) -> str:
    return (LUA / "common.lua").read_text(encoding="utf-8") + "\n" + (LUA / f"{name}.lua").read_text(encoding="utf-8")


def _answer(raw: str) -> Answer:
    data: dict[str, Any] = json.loads(raw)
    emitted = data.pop("emitted", None)
    # cjson writes an empty Lua table as {}: no transitions.
    rows = tuple(Emitted(str(e["action"]), str(e["district"]), str(e["decision_id"])) for e in emitted
                 ) if isinstance(emitted, list) else ()
    return Answer(str(data.pop("status")), rows, data)


def _publication(task: CaseworkerTask) -> dict[str, Any]:
    """What lua/ingest.lua needs: the fields of the task as first taken in (its progress: queued, or withdrawn when
    its first publication already withdraws it), the revision it carries, and the actor of the release a
    reinstatement records (its time, the script's clock, is the publication's)."""
    revision = task.revision
    number = next_number(None, False, revision)
    assert number is not None
    progress = received(task)
    if revision is not None and revision.withdrawn:
        progress = withdrawn(progress)
    return {"fields": task_fields(task, number) | progress_fields(progress), "receipt": receipt_entry(task),
            "revision": revision_entry(revision) if revision else None,
            "number": -1 if revision is None or revision.number is None else revision.number,
            "revised": list(REVISED_FIELDS), "releaser": REINSTATEMENT_RELEASER}


class RedisTaskBoard:
    def __init__(self, redis: Redis, keys: Keys):
        self._redis = redis
        self._keys = keys
        self._scripts: dict[str, AsyncScript] = {name: redis.register_script(_source(name)) for name in SCRIPTS}

    async def _run(self, name: str, keys: list[str], now_ms: int, *args: str | int) -> Answer:
        raw = await self._scripts[name](keys=keys, args=[self._keys.prefix, now_ms, *args])
        return _answer(raw)

    async def take_in(self, tasks: Sequence[CaseworkerTask]) -> list[TakenIn]:
        if not tasks:
            return []
        pipe = self._redis.pipeline(transaction=False)
        for task in tasks:
            await self._scripts["ingest"](
                keys=[self._keys.task(task.task_id), self._keys.audit(task.task_id),
                      self._keys.revisions(task.task_id)],
                args=[self._keys.prefix, task.revision.at_ms if task.revision else 0,
                      json.dumps(_publication(task), ensure_ascii=False)], client=pipe)
        return [_TAKEN_IN[int(r)] for r in await pipe.execute()]

    async def claim(self, task_id: str, actor: str, scope: str, lease_ms: int, now_ms: int) -> Answer:
        return await self._run("claim", [self._keys.task(task_id)], now_ms, task_id, actor, scope, lease_ms)

    async def claim_next(self, actor: str, scope: str, queues: Sequence[str], lease_ms: int, window: int,
                         now_ms: int) -> Answer:
        return await self._run("claim_next", [], now_ms, actor, scope, lease_ms, window, *queues)

    async def unclaim(self, task_id: str, actor: str, scope: str, now_ms: int) -> Answer:
        return await self._run("unclaim", [self._keys.task(task_id)], now_ms, task_id, actor, scope)

    async def decide(self, task_id: str, actor: str, scope: str, action: str, reason: str, now_ms: int) -> Answer:
        return await self._run("decide", [self._keys.task(task_id)], now_ms, task_id, actor, scope, action, reason)

    async def reassign(self, task_id: str, actor: str, scope: str, district: str, assignee: str, reason: str,
                       now_ms: int) -> Answer:
        return await self._run("reassign", [self._keys.task(task_id)], now_ms, task_id, actor, scope, district,
                               assignee, reason)

    async def expire_leases(self, limit: int, now_ms: int) -> Answer:
        return await self._run("reap", [], now_ms, limit)

    async def escalate_breaches(self, limit: int, now_ms: int) -> Answer:
        return await self._run("escalate", [], now_ms, limit)
