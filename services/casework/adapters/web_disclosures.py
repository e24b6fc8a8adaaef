"""Contact details over HTTP: the shape of a disclosure in the API (POST /api/v1/tasks/{task_id}/disclosures) and on
the task page. The details live only in the answer to the request that asked for them (Cache-Control: no-store),
never in a log line, a metric or a cache."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from services.casework.adapters.web_auth import STAFF
from services.casework.disclosing import Disclosing, StaffLine
from services.casework.domain.scope import Staff
from services.casework.domain.tasks import Status
from services.casework.domain.views import TaskPage
from services.casework.service import Unavailable
from services.vault.domain.disclosure import FIELDS, Purpose
from services.vault.service import Revealed

DISCLOSING = web.AppKey("disclosing", Disclosing)
PURPOSES = tuple((p.value, FIELDS[p]) for p in Purpose)
"""(purpose, fields it shows), in the order the console offers them."""


def disclosing_of(request: web.Request) -> Disclosing:
    disclosing = request.app.get(DISCLOSING)
    if disclosing is None:
        raise Unavailable("this process shows no contact details (no identity vault wired)", "unavailable")
    return disclosing


def may_ask(request: web.Request, who: Staff, page: TaskPage) -> bool:
    """Whether the task page offers the purposes: the vault is wired, the task open, and held by the viewer or
    seen by a supervisor (the vault decides again when they ask)."""
    progress = page.progress
    if DISCLOSING not in request.app or progress.status.closed:
        return False
    return who.is_supervisor or (progress.status is Status.CLAIMED and progress.holder == who.sub)


def persons_of(revealed: Revealed) -> list[dict[str, str]]:
    """Each member shown, person id first, with only the fields the purpose shows and the vault holds."""
    return [{"person_id": person_id, **{f: fields[f] for f in revealed.disclosure.fields if f in fields}}
            for person_id, fields in sorted(revealed.persons.items())]


def revealed_json(revealed: Revealed) -> dict[str, Any]:
    d = revealed.disclosure
    return {"disclosure_id": d.disclosure_id, "task_id": d.task_id, "household_id": d.household_id,
            "purpose": d.purpose.value, "fields": list(d.fields),
            "at": d.at.isoformat(timespec="milliseconds").replace("+00:00", "Z"), "persons": persons_of(revealed)}


async def staff_lines(request: web.Request, who: Staff) -> list[StaffLine] | None:
    """The supervisor's disclosure figures per member of staff of the region (None without a vault); counting them
    refreshes assist_casework_staff_browsing too."""
    disclosing = request.app.get(DISCLOSING)
    if disclosing is None:
        return None
    lines = await disclosing.staff_lines(who, request.app[STAFF].listing())
    await disclosing.refresh_browsing(max_age_seconds=0)
    return lines


def staff_line_json(line: StaffLine) -> dict[str, Any]:
    return {"actor": line.actor, "role": line.role, "disclosures": line.disclosures, "households": line.households,
            "by_purpose": line.by_purpose, "explained_households": line.explained, "browsing": line.browsing}
