"""Casework's Prometheus metrics (one registry per process, passed in so tests can read their own).

Labels are bounded: transition actions, priority bands, division codes of queues and districts; never a person.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from services.casework.domain.ordering import PriorityBand


class CaseworkMetrics:
    def __init__(self, registry: CollectorRegistry):
        self.registry = registry
        self._claims = Counter("assist_casework_claims_total", "Tasks claimed (a lease taken).", registry=registry)
        self._transitions = Counter("assist_casework_decisions_total",
                                    "Transitions recorded and queued for assist.decisions, by action.", ["action"],
                                    registry=registry)
        self._expiries = Counter("assist_casework_lease_expiries_total",
                                 "Leases that ran out and returned their task to its queue.", registry=registry)
        self._breaches = Counter("assist_casework_sla_breaches_total",
                                 "Undecided tasks escalated past their deadline, by district.", ["district"],
                                 registry=registry)
        self._claim_to_decision = Histogram(
            "assist_casework_claim_to_decision_seconds", "Time from a claim to the decision on the task.",
            buckets=(1, 5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600), registry=registry)
        self._refused = Counter("assist_casework_commands_refused_total",
                                "Commands refused, by reason (conflict, not_found, invalid, forbidden).", ["reason"],
                                registry=registry)
        self._taken_in = Counter("assist_casework_tasks_taken_in_total",
                                 "Task records read from assist.tasks, by outcome (new, revised, duplicate, invalid).",
                                 ["outcome"], registry=registry)
        self._published = Counter("assist_casework_outbox_published_total",
                                  "Decisions acknowledged by Kafka and removed from the outbox.", registry=registry)
        self.outbox_pending = Gauge("assist_casework_outbox_pending", "Decisions waiting in the outbox.",
                                    registry=registry)
        self._depth = Gauge("assist_casework_queue_depth",
                            "Undecided tasks (queued and claimed) by district queue and priority band; a region code "
                            "(ending 0000) is the region's supervisor queue of escalated tasks.",
                            ["district", "band"], registry=registry)
        self._unclaimed = Gauge("assist_casework_unclaimed_tasks",
                                "Queued tasks nobody has claimed, by district queue and priority band (a part of "
                                "assist_casework_queue_depth).", ["district", "band"], registry=registry)
        self._disclosures = Counter("assist_casework_disclosures_total",
                                    "Household contact details shown on a task, by purpose and role of the viewer "
                                    "(each one recorded on assist.disclosures first).", ["purpose", "role"],
                                    registry=registry)
        self._browsing = Gauge("assist_casework_staff_browsing",
                               "Members of staff who opened at least 10 households over 30 days, more than half "
                               "of them explained by none of their held or decided tasks.", registry=registry)
        self._store_up = Gauge("assist_casework_store_up",
                               "1 when the task store answered this scrape, 0 when it did not (the queue depths "
                               "shown are then those of the last scrape it answered).", registry=registry)

    def transitioned(self, emitted: Iterable[tuple[str, str]]) -> None:
        """Count transitions given as (action, district)."""
        for action, district in emitted:
            self._transitions.labels(action).inc()
            if action == "CLAIMED":
                self._claims.inc()
            elif action == "LEASE_EXPIRED":
                self._expiries.inc()
            elif action == "ESCALATED":
                self._breaches.labels(district).inc()

    def decided_after(self, seconds: float) -> None:
        self._claim_to_decision.observe(max(seconds, 0.0))

    def refused(self, reason: str) -> None:
        self._refused.labels(reason).inc()

    def taken_in(self, outcome: str, n: int = 1) -> None:
        if n:
            self._taken_in.labels(outcome).inc(n)

    def published(self, n: int) -> None:
        if n:
            self._published.inc(n)

    def queue_depth(self, depth: Mapping[str, Mapping[PriorityBand, int]]) -> None:
        """Set the depth of each queue, named by its division code."""
        for code, bands in depth.items():
            for band in PriorityBand:
                self._depth.labels(code, band.value).set(bands.get(band, 0))

    def unclaimed(self, queued: Mapping[str, Mapping[PriorityBand, int]]) -> None:
        """Set the unclaimed tasks of each queue, named by its division code."""
        for code, bands in queued.items():
            for band in PriorityBand:
                self._unclaimed.labels(code, band.value).set(bands.get(band, 0))

    def disclosed(self, purpose: str, role: str) -> None:
        self._disclosures.labels(purpose, role).inc()

    def staff_browsing(self, flagged: int) -> None:
        self._browsing.set(flagged)

    def store_answered(self, answered: bool) -> None:
        self._store_up.set(1 if answered else 0)
