"""From Kafka records to casework's terms and back: task records of assist.tasks, decisions of assist.decisions.

Decisions carry, besides the Avro Decision, headers that casework reads back when it rebuilds its view:
the transition's sequence number, the caseworker a task was reserved for, and the end of a claim's lease.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

from services.casework.domain.revisions import NEW, Revision
from services.casework.domain.tasks import Action, CaseworkerTask, Transition
from services.core.codec import header, jsonable

SEQ_HEADER = "casework_seq"
ASSIGNEE_HEADER = "casework_assignee"
LEASE_HEADER = "casework_lease_until"


def epoch_ms(t: dt.datetime) -> int:
    return int((t if t.tzinfo else t.replace(tzinfo=dt.UTC)).timestamp() * 1000)


def task_from_record(record: Mapping[str, Any], published_ms: int = 0) -> CaseworkerTask:
    """The casework view of a decoded CaseworkerTask record; `published_ms` is the record's timestamp on
    assist.tasks (when a revision was published)."""
    offer = record.get("offer") or {}
    return CaseworkerTask(
        task_id=record["task_id"], kind=record["kind"], household_id=record["household_id"],
        person_id=record.get("person_id"), district=record["district"], priority=int(record["priority"]),
        due_ms=epoch_ms(record["due_at"]), created_ms=epoch_ms(record["created_at"]), reason=record["reason"],
        offer_id=offer.get("offer_id"), policy_id=offer.get("policy_id"), policy_name=offer.get("policy_name"),
        amount_fen=offer.get("amount_fen"), body=json.dumps(record, ensure_ascii=False, default=_json_time),
        revision=revision_of(record, published_ms))


def revision_of(record: Mapping[str, Any], published_ms: int) -> Revision | None:
    """What a REVISED or WITHDRAWN task record changed: for a verification, the offer's revision block; for an exit
    review, its reasons (a review's withdrawal carries no number)."""
    change = str(record.get("change") or NEW)
    if change == NEW:
        return None
    offer = record.get("offer") or {}
    revised = offer.get("revision") or {}
    explanation = offer.get("explanation") or (record.get("review") or {}).get("explanation") or {}
    reasons = (record.get("review") or {}).get("reasons") or []
    return Revision(
        change=change, number=int(revised["number"]) if "number" in revised else None, at_ms=published_ms,
        reason=str(revised.get("reason") or record.get("reason") or ""),
        previous_amount_fen=revised.get("previous_amount_fen"), amount_fen=offer.get("amount_fen"),
        changed_facts=tuple(str(f) for f in (revised.get("changed_facts") or reasons)),
        previous_summary=str(revised.get("previous_summary") or ""),
        previous_computation=revised.get("previous_computation"),
        summary=str(explanation.get("summary") or ""), computation=explanation.get("computation"))


def _json_time(value: Any) -> Any:
    """Timestamps and dates of a decoded record as ISO text (the JSON encoder asks only for those)."""
    if isinstance(value, dt.datetime | dt.date):
        return jsonable(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def decision_from_outbox(entry: Mapping[str, str]) -> tuple[str, dict[str, Any], list[tuple[str, bytes]]]:
    """Key, Decision value and headers of an outbox entry written by the Lua scripts."""
    d = json.loads(entry["decision"])
    value = {
        "decision_id": d["decision_id"], "action": d["action"], "task_id": d["task_id"],
        "offer_id": _text(d.get("offer_id")), "household_id": d["household_id"],
        "person_id": _text(d.get("person_id")), "policy_id": _text(d.get("policy_id")), "district": d["district"],
        "actor": d["actor"], "reason": _text(d.get("reason")),
        "at": dt.datetime.fromtimestamp(int(d["at"]) / 1000, dt.UTC),
    }
    headers = [(SEQ_HEADER, str(d["seq"]).encode()), (ASSIGNEE_HEADER, str(d.get("assignee") or "").encode()),
               (LEASE_HEADER, str(d.get("lease_until") or "0").encode())]
    return d["household_id"], value, headers


def transition_from_decision(value: Mapping[str, Any], headers: Sequence[tuple[str, bytes]]) -> Transition | None:
    """The casework transition a decision records; None for citizens' answers and decisions of no task."""
    seq = header(headers, SEQ_HEADER)
    if not value.get("task_id") or seq is None or value["action"] not in Action.__members__:
        return None
    return Transition(seq=int(seq), action=Action(value["action"]), actor=value["actor"], at_ms=epoch_ms(value["at"]),
                      district=value["district"], reason=value.get("reason") or "",
                      assignee=header(headers, ASSIGNEE_HEADER) or "",
                      lease_until_ms=int(header(headers, LEASE_HEADER) or 0), decision_id=value["decision_id"])
