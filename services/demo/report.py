"""What the demo prints: each story household's offers and tasks with their reasons, then the totals."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import ConsumerRecord

from services.core.codec import Contract, decode_record, header
from services.core.topics import EVENTS_DLQ, OFFERS, TASKS
from services.simulator.adapters.intake_http import DeliveryReport
from services.simulator.story import StoryHousehold


@dataclass
class Outputs:
    offers: dict[str, dict[str, Any]] = field(default_factory=dict)
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    dead_letters: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def read(cls, contract: Contract, records: Sequence[ConsumerRecord[bytes, bytes]]) -> Outputs:
        out = cls()
        for r in records:
            if r.topic == OFFERS.name:
                offer = decode_record(contract, "offer", r.value)
                out.offers[offer["offer_id"]] = offer
            elif r.topic == TASKS.name:
                task = decode_record(contract, "caseworker_task", r.value)
                out.tasks[task["task_id"]] = task
            elif r.topic == EVENTS_DLQ.name:
                out.dead_letters.append((header(r.headers, "ce_type") or "?", header(r.headers, "dlq_reason") or "?"))
        return out

    def of(self, household_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return ([o for o in self.offers.values() if o["household_id"] == household_id],
                [t for t in self.tasks.values() if t["household_id"] == household_id])

    def totals(self) -> dict[str, Any]:
        return {
            "offers_by_policy": dict(Counter(o["policy_id"] for o in self.offers.values()).most_common()),
            "tasks_by_kind": dict(Counter(t["kind"] for t in self.tasks.values()).most_common()),
            "verifications_by_policy": dict(Counter(t["offer"]["policy_id"] for t in self.tasks.values()
                                                    if t["offer"]).most_common()),
            "dead_letters": len(self.dead_letters),
        }


def yuan(fen: int | None, period: str) -> str:
    if fen is None:
        return "service"
    per = {"MONTHLY": " a month", "ONE_OFF": " once", "PER_TERM": " a term"}.get(period, "")
    return f"{fen / 100:,.2f} yuan{per}"


def _metric(text: str, name: str, labels: str = "") -> float:
    pattern = re.escape(name) + (r"\{" + labels + r"[^}]*\}" if labels else r"(\{[^}]*\})?") + r" ([0-9.e+]+)"
    return sum(float(m.group(m.lastindex or 1)) for m in re.finditer(pattern, text))


def print_report(story: Sequence[StoryHousehold], outputs: Outputs, report: DeliveryReport, resent: DeliveryReport,
                 stream: DeliveryReport, raw_sent: int, matching_metrics: str, intake_metrics: str) -> None:
    print("\n" + "=" * 100 + "\nPOLICIES FIND PEOPLE: the story\n" + "=" * 100)
    for s in story:
        offers, tasks = outputs.of(s.household.household_id)
        print(f"\n## {s.title}")
        for line in s.narrative:
            print(f"   {line}")
        print(f"   Departments reported: {', '.join(e['type'] for e in s.events)}")
        for offer in offers:
            amount = yuan(offer["amount_fen"], offer["amount_period"])
            print(f"   → OFFERED to the citizen: {offer['policy_name']}, {amount}")
            print(f"       why: {offer['explanation']['summary']}")
        for task in sorted(tasks, key=lambda t: -t["priority"]):
            what = task["offer"]["policy_name"] if task["offer"] else f"{task['risk_tier']} risk warning"
            amount = f", {yuan(task['offer']['amount_fen'], task['offer']['amount_period'])}" if task["offer"] else ""
            print(f"   → CASEWORKER in {task['district']}: {task['kind'].replace('_', ' ').lower()} — {what}{amount} "
                  f"(priority {task['priority']}, due {task['due_at']:%Y-%m-%d %H:%M} UTC)")
            print(f"       why: {task['reason']}")
        if not offers and not tasks:
            print("   → nothing offered")
    totals = outputs.totals()
    print("\n" + "=" * 100 + "\nTOTALS\n" + "=" * 100)
    print(f"intake (HTTP): story {report.accepted} accepted; re-sent batch {resent.duplicates} answered as duplicates; "
          f"stream {stream.accepted} accepted, {len(stream.rejected)} rejected with reasons, {stream.duplicates} dup.")
    print(f"intake (Kafka): {raw_sent} records produced to assist.events.raw; "
          f"{_metric(intake_metrics, 'assist_intake_events_rejected_total'):.0f} HTTP events refused in all")
    for event_type, reason in outputs.dead_letters[:5]:
        print(f"   dead-lettered {event_type}: {reason}")
    print(f"matching: {_metric(matching_metrics, 'assist_matching_messages_processed_total'):.0f} messages applied; "
          f"{len(outputs.offers)} offers to citizens, {len(outputs.tasks)} caseworker tasks")
    for policy, n in totals["offers_by_policy"].items():
        print(f"   offer  {policy:<38} {n:>5}")
    for policy, n in totals["verifications_by_policy"].items():
        print(f"   verify {policy:<38} {n:>5}")
    for kind, n in totals["tasks_by_kind"].items():
        print(f"   task   {kind:<38} {n:>5}")
    newly = _metric(matching_metrics, "assist_matching_reevaluation_newly_eligible_total")
    print(f"re-evaluation after the standard rose: {newly:.0f} newly eligible found across the monitored population "
          f"({_metric(matching_metrics, 'assist_matching_monitored_persons'):.0f} persons)")


def notification_summary(metrics: str) -> str:
    """Sent by channel, deferred to the end of quiet hours, suppressed by opt-out, handed to a caseworker."""
    sent = {m.group(1): float(m.group(2)) for m in re.finditer(
        r'assist_notification_sent_total\{channel="(\w+)"[^}]*\} ([0-9.e+]+)', metrics)}
    by_channel = ", ".join(f"{n:.0f} by {c.lower()}" for c, n in sorted(sent.items())) or "none sent"
    return (f"sent {by_channel}; {_metric(metrics, 'assist_notification_deferred_total'):.0f} deferred past quiet "
            f"hours, {_metric(metrics, 'assist_notification_suppressed_total'):.0f} suppressed by opt-out, "
            f"{_metric(metrics, 'assist_notification_in_person_total'):.0f} handed to caseworkers to deliver")
