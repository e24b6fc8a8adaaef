"""How casework lays tasks out in Redis: key names and the fields of a task hash.

    <p>:task:<id>        hash: the task (fields below) and its progress
    <p>:audit:<id>       stream: one entry per transition, entry id '<seq>-1' (the receipt is '0-1')
    <p>:revisions:<id>   stream: one entry per revision or withdrawal matching published, entry id '<number>-1'
    <p>:queue:<queue>    sorted set of queued task ids by queue score; queue 'd:<district>' or 'r:<region>'
    <p>:held:<queue>     sorted set of claimed task ids, same score
    <p>:leases           sorted set of claimed task ids by lease expiry (ms)
    <p>:due              sorted set of undecided, unescalated task ids by due time (ms)
    <p>:queues           set of queue names ever used
    <p>:household:<id>   set of the household's task ids (which households a member of staff's work explains)
    <p>:outbox           stream of decisions not yet acknowledged by Kafka
    <p>:outbox:rejected  stream of outbox entries that are not valid decisions (never expected; kept to inspect)
    <p>:outbox:publisher the publisher's lease: one worker publishes at a time
    <p>:built            present once the view was built (a rebuild, or a first start on an empty topic)
    <p>:rebuilding       present while a rebuild runs; every script refuses to change anything meanwhile
The Lua scripts in lua/ use the same names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from services.casework.domain.ordering import queue_score
from services.casework.domain.revisions import NEW, Revision
from services.casework.domain.tasks import Action, CaseworkerTask, Progress, Status, Transition

DEFAULT_PREFIX = "assist:casework"


@dataclass(frozen=True)
class Keys:
    prefix: str = DEFAULT_PREFIX

    def task(self, task_id: str) -> str:
        return f"{self.prefix}:task:{task_id}"

    def audit(self, task_id: str) -> str:
        return f"{self.prefix}:audit:{task_id}"

    def revisions(self, task_id: str) -> str:
        return f"{self.prefix}:revisions:{task_id}"

    def queue(self, queue: str) -> str:
        return f"{self.prefix}:queue:{queue}"

    def held(self, queue: str) -> str:
        return f"{self.prefix}:held:{queue}"

    def household(self, household_id: str) -> str:
        return f"{self.prefix}:household:{household_id}"

    @property
    def leases(self) -> str:
        return f"{self.prefix}:leases"

    @property
    def due(self) -> str:
        return f"{self.prefix}:due"

    @property
    def queues(self) -> str:
        return f"{self.prefix}:queues"

    @property
    def outbox(self) -> str:
        return f"{self.prefix}:outbox"

    @property
    def outbox_rejected(self) -> str:
        return f"{self.prefix}:outbox:rejected"

    @property
    def built(self) -> str:
        return f"{self.prefix}:built"

    @property
    def rebuilding(self) -> str:
        return f"{self.prefix}:rebuilding"

    @property
    def publisher(self) -> str:
        return f"{self.prefix}:outbox:publisher"


REVISED_FIELDS = ("kind", "household", "person", "priority", "due", "reason", "offer", "policy", "policy_name",
                  "amount", "body", "score", "change", "change_reason")
"""The fields a revision or withdrawal replaces (lua/ingest.lua); id, district of origin and creation stay."""


def task_fields(task: CaseworkerTask, number: int = 0) -> dict[str, str]:
    """The task's own fields of its hash: set when the task is taken in, REVISED_FIELDS again by a revision;
    `number` is the revision number that stands."""
    return {
        "id": task.task_id, "kind": task.kind, "household": task.household_id, "person": task.person_id or "",
        "origin": task.district, "priority": str(task.priority), "due": str(task.due_ms),
        "created": str(task.created_ms), "reason": task.reason, "offer": task.offer_id or "",
        "policy": task.policy_id or "", "policy_name": task.policy_name or "",
        "amount": "" if task.amount_fen is None else str(task.amount_fen), "body": task.body,
        "score": str(queue_score(task.priority, task.due_ms)), "rev": str(number),
        "change": task.revision.change if task.revision else NEW,
        "change_reason": task.revision.reason if task.revision else "",
    }


def progress_fields(progress: Progress) -> dict[str, str]:
    return {
        "status": progress.status.value, "district": progress.district, "queue": progress.queue,
        "holder": progress.holder, "lease_until": str(progress.lease_until_ms),
        "claimed_at": str(progress.claimed_at_ms), "assignee": progress.assignee,
        "escalated": "1" if progress.escalated else "0", "info_requested": str(progress.info_requested_ms),
        "decided_at": str(progress.decided_at_ms), "decided_by": progress.decided_by, "seq": str(progress.seq),
    }


def task_of(fields: Mapping[str, str]) -> CaseworkerTask:
    return CaseworkerTask(
        task_id=fields["id"], kind=fields["kind"], household_id=fields["household"],
        person_id=fields["person"] or None, district=fields["origin"], priority=int(fields["priority"]),
        due_ms=int(fields["due"]), created_ms=int(fields["created"]), reason=fields["reason"],
        offer_id=fields["offer"] or None, policy_id=fields["policy"] or None,
        policy_name=fields["policy_name"] or None, amount_fen=int(fields["amount"]) if fields["amount"] else None,
        body=fields["body"])


def revision_entry(revision: Revision) -> dict[str, str]:
    """The fields of a revision's entry in the task's revisions stream."""
    return {
        "change": revision.change, "at": str(revision.at_ms), "reason": revision.reason,
        "previous_amount": "" if revision.previous_amount_fen is None else str(revision.previous_amount_fen),
        "amount": "" if revision.amount_fen is None else str(revision.amount_fen),
        "changed_facts": json.dumps(list(revision.changed_facts), ensure_ascii=False),
        "previous_summary": revision.previous_summary, "previous_computation": revision.previous_computation or "",
        "summary": revision.summary, "computation": revision.computation or "", "held_by": revision.held_by,
    }


def revision_of_entry(entry_id: str, fields: Mapping[str, str]) -> Revision:
    return Revision(
        change=fields["change"], number=int(entry_id.split("-")[0]), at_ms=int(fields["at"]), reason=fields["reason"],
        previous_amount_fen=int(fields["previous_amount"]) if fields["previous_amount"] else None,
        amount_fen=int(fields["amount"]) if fields["amount"] else None,
        changed_facts=tuple(json.loads(fields["changed_facts"])), previous_summary=fields["previous_summary"],
        previous_computation=fields["previous_computation"] or None, summary=fields["summary"],
        computation=fields["computation"] or None, held_by=fields["held_by"])


def progress_of(fields: Mapping[str, str]) -> Progress:
    return Progress(
        status=Status(fields["status"]), district=fields["district"], queue=fields["queue"],
        holder=fields["holder"], lease_until_ms=int(fields["lease_until"]),
        claimed_at_ms=int(fields["claimed_at"]), assignee=fields["assignee"], escalated=fields["escalated"] == "1",
        info_requested_ms=int(fields["info_requested"]), decided_at_ms=int(fields["decided_at"]),
        decided_by=fields["decided_by"], seq=int(fields["seq"]))


RECEIPT_ENTRY_ID = "0-1"


def receipt_entry(task: CaseworkerTask) -> dict[str, str]:
    """The first audit entry: the task was taken in (at its creation time, so a rebuild writes the same)."""
    return {"action": "RECEIVED", "actor": "matching", "reason": task.reason, "at": str(task.created_ms),
            "decision": "", "district": task.district, "assignee": "", "lease_until": "0"}


def audit_entry(step: Transition) -> tuple[str, dict[str, str]]:
    """Entry id and fields of a transition's audit entry."""
    return f"{step.seq}-1", {
        "action": step.action.value, "actor": step.actor, "reason": step.reason, "at": str(step.at_ms),
        "decision": step.decision_id, "district": step.district, "assignee": step.assignee,
        "lease_until": str(step.lease_until_ms)}


def transition_of(entry_id: str, fields: Mapping[str, str]) -> Transition | None:
    """A transition from its audit entry; None for the receipt."""
    if fields.get("action") == "RECEIVED":
        return None
    return Transition(seq=int(entry_id.split("-")[0]), action=Action(fields["action"]), actor=fields["actor"],
                      at_ms=int(fields["at"]), district=fields["district"], reason=fields["reason"],
                      assignee=fields["assignee"], lease_until_ms=int(fields["lease_until"]),
                      decision_id=fields["decision"])
