"""Reading the queue filters and command fields of requests (query strings, forms, JSON bodies)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from services.casework.domain.ordering import PriorityBand, QueueFilter, SlaState
from services.casework.domain.scope import DIVISION_CODE
from services.casework.domain.tasks import Verdict
from services.casework.service import Invalid

E = TypeVar("E", PriorityBand, SlaState)
CHINA = dt.timezone(dt.timedelta(hours=8), "CST")
MAX_LIMIT = 200
INTEGER = re.compile(r"-?[0-9]{1,9}")
STATES = {"queued": False, "claimed": True, "all": None}
VERDICTS = {"approve": Verdict.APPROVE, "reject": Verdict.REJECT, "request_information": Verdict.REQUEST_INFORMATION,
            **{v.value: v for v in Verdict}}


@dataclass(frozen=True)
class QueueQuery:
    keep: QueueFilter
    state: str
    offset: int
    limit: int

    @property
    def claimed(self) -> bool | None:
        return STATES[self.state]


def queue_query(query: Mapping[str, str], default_limit: int = 50) -> QueueQuery:
    """Filters of a queue listing; Invalid names the first bad one. Empty values count as absent."""
    q = {k: v.strip() for k, v in query.items() if v.strip()}
    districts = None
    if "district" in q:
        codes = frozenset(c.strip() for c in q["district"].split(",") if c.strip())
        if not codes or not all(DIVISION_CODE.fullmatch(c) for c in codes):
            raise Invalid("district must be six-digit codes, comma-separated", "filter")
        districts = codes
    keep = QueueFilter(districts=districts, band=_choice(q, "band", PriorityBand),
                       due_before_ms=_due_before(q.get("due_before")), sla=_choice(q, "sla", SlaState),
                       policy_id=q.get("policy"))
    state = q.get("state", "queued")
    if state not in STATES:
        raise Invalid("state must be queued, claimed or all", "filter")
    return QueueQuery(keep, state, _int(q, "offset", 0, 0, 1_000_000), _int(q, "limit", default_limit, 1, MAX_LIMIT))


def verdict_of(value: str | None) -> Verdict:
    verdict = VERDICTS.get((value or "").strip())
    if verdict is None:
        raise Invalid("action must be approve, reject or request_information", "action")
    return verdict


def _choice(q: Mapping[str, str], name: str, kind: type[E]) -> E | None:
    if name not in q:
        return None
    try:
        return kind(q[name])
    except ValueError:
        raise Invalid(f"{name} must be one of {', '.join(str(m.value) for m in kind)}", "filter") from None


def _due_before(value: str | None) -> int | None:
    """An RFC 3339 time, or a date meaning the start of that day in China Standard Time."""
    if not value:
        return None
    try:
        if len(value) == 10:
            moment = dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), CHINA)
        else:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            moment = moment if moment.tzinfo else moment.replace(tzinfo=CHINA)
    except ValueError:
        raise Invalid("due_before must be a date (YYYY-MM-DD) or an RFC 3339 time", "filter") from None
    return int(moment.timestamp() * 1000)


def _int(q: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    text = q.get(name, str(default))
    if not INTEGER.fullmatch(text):  # int() would also take '٣', '1_000' and ' +3'
        raise Invalid(f"{name} must be an integer", "filter")
    value = int(text)
    if not low <= value <= high:
        raise Invalid(f"{name} must be between {low} and {high}", "filter")
    return value
