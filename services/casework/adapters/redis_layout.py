"""How casework lays tasks out in Redis: key names and the fields of a task hash.

    <p>:task:<id>        hash: the task (fields below) and its progress
    <p>:audit:<id>       stream: one entry per transition, entry id '<seq>-1' (the receipt is '0-1')
    <p>:queue:<queue>    sorted set of queued task ids by queue score; queue 'd:<district>' or 'r:<region>'
    <p>:held:<queue>     sorted set of claimed task ids, same score
    <p>:leases           sorted set of claimed task ids by lease expiry (ms)
    <p>:due              sorted set of undecided, unescalated task ids by due time (ms)
    <p>:queues           set of queue names ever used
    <p>:outbox           stream of decisions not yet acknowledged by Kafka
    <p>:outbox:rejected  stream of outbox entries that are not valid decisions (never expected; kept to inspect)
    <p>:outbox:publisher the publisher's lease: one worker publishes at a time
    <p>:built            present once the view was built (a rebuild, or a first start on an empty topic)
    <p>:rebuilding       present while a rebuild runs; every script refuses to change anything meanwhile
The Lua scripts in lua/ use the same names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.casework.domain.ordering import queue_score
from services.casework.domain.tasks import Action, CaseworkerTask, Progress, Status, Transition

DEFAULT_PREFIX = "assist:casework"


@dataclass(frozen=True)
class Keys:
    prefix: str = DEFAULT_PREFIX

    def task(self, task_id: str) -> str:
        return f"{self.prefix}:task:{task_id}"

    def audit(self, task_id: str) -> str:
        return f"{self.prefix}:audit:{task_id}"

    def queue(self, queue: str) -> str:
        return f"{self.prefix}:queue:{queue}"

    def held(self, queue: str) -> str:
        return f"{self.prefix}:held:{queue}"

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


def task_fields(task: CaseworkerTask) -> dict[str, str]:
    """The task's own fields of its hash (set once, when the task is taken in)."""
    return {
        "id": task.task_id, "kind": task.kind, "household": task.household_id, "person": task.person_id or "",
        "origin": task.district, "priority": str(task.priority), "due": str(task.due_ms),
        "created": str(task.created_ms), "reason": task.reason, "offer": task.offer_id or "",
        "policy": task.policy_id or "", "policy_name": task.policy_name or "",
        "amount": "" if task.amount_fen is None else str(task.amount_fen), "body": task.body,
        "score": str(queue_score(task.priority, task.due_ms)),
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
