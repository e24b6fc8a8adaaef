"""The casework purge against the real broker and Redis with a fixed clock: tasks approved, rejected or withdrawn
longer ago than ASSIST_DECIDED_TASK_RETENTION_DAYS leave Redis whole (hash, audit, revisions, household index);
open tasks stay however old, and so do closed ones within the window. The Lua rule agrees with the domain's."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from services.casework.__main__ import purge
from services.casework.domain.retention import purgeable
from services.casework.domain.scope import staff
from services.core.retention import DAY_MS, RetentionRefused
from tests.integration.casework.test_casework import PASSWORD, open_desk, task_record
from tests.integration.casework.test_casework_recovery import act, unused_districts
from tests.integration.casework.test_casework_revisions import revised, settled


async def test_purge_removes_tasks_closed_past_the_window_and_never_an_open_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home, _ = unused_districts()
    dora = staff("dora", "caseworker", [home])
    async with open_desk(tmp_path) as desk:
        desk.parts.staff.add(dora, PASSWORD)
        approved, rejected, withdrawn = task_record(home), task_record(home), task_record(home)
        queued, claimed = task_record(home), task_record(home)
        await desk.publish(approved, rejected, withdrawn, queued, claimed)
        await desk.queued(dora, {t["task_id"] for t in (approved, rejected, withdrawn, queued, claimed)})
        for task, verdict in ((approved, {"action": "approve"}),
                              (rejected, {"action": "reject", "reason": "Income above the line"})):
            await act(desk, dora, task, "claim")
            await act(desk, dora, task, "decide", verdict)
        await act(desk, dora, claimed, "claim")
        await desk.publish(revised(withdrawn, 1, 0, change="WITHDRAWN"))
        for task, status in ((approved, "APPROVED"), (rejected, "REJECTED"), (withdrawn, "WITHDRAWN")):
            await settled(desk, dora, task, lambda p, s=status: p["status"] == s)

        redis, keys = desk.parts.redis, desk.parts.keys
        settings = replace(desk.settings, decided_task_retention_days=1826)
        now = dt.datetime.now(dt.UTC)

        within = await purge(settings, now + dt.timedelta(days=1000), keys.prefix)
        assert (within.removed, within.kept_closed, within.kept_open) == (0, 3, 2)

        later = now + dt.timedelta(days=1827)
        cutoff = int(later.timestamp() * 1000) - 1826 * DAY_MS
        for task in (approved, rejected, withdrawn, queued, claimed):
            status = str(await redis.hget(keys.task(task["task_id"]), "status"))
            assert purgeable(status, int(now.timestamp() * 1000), cutoff) == (status not in ("QUEUED", "CLAIMED"))
        capsys.readouterr()
        report = await purge(settings, later, keys.prefix)
        assert (report.removed, report.kept_closed, report.kept_open) == (3, 0, 2)
        assert "3 closed tasks removed" in capsys.readouterr().out
        for task in (approved, rejected, withdrawn):
            for key in (keys.task(task["task_id"]), keys.audit(task["task_id"]), keys.revisions(task["task_id"])):
                assert not await redis.exists(key)
            assert not await redis.sismember(keys.household(task["household_id"]), task["task_id"])
            status_code, _ = await desk.call("GET", f"/api/v1/tasks/{task['task_id']}", dora)
            assert status_code == 404
        rows = await desk.queued(dora, {queued["task_id"], claimed["task_id"]})
        assert {r["task_id"] for r in rows} == {queued["task_id"], claimed["task_id"]}

        with pytest.raises(RetentionRefused, match=r"^ASSIST_DECIDED_TASK_RETENTION_DAYS"):
            await purge(replace(settings, decided_task_retention_days=30), later, keys.prefix)
