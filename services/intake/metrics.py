"""Intake's Prometheus metrics (one registry per process, passed in so tests can read their own)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class IntakeMetrics:
    def __init__(self, registry: CollectorRegistry):
        self.registry = registry
        self._accepted = Counter("assist_intake_events_accepted_total", "Events durably published to assist.events.",
                                 ["department"], registry=registry)
        self._rejected = Counter("assist_intake_events_rejected_total", "Events refused, by reason.",
                                 ["reason"], registry=registry)
        self._duplicates = Counter("assist_intake_events_duplicate_total",
                                   "Events answered as duplicates of an id already published.", registry=registry)
        self._publish = Histogram("assist_intake_publish_seconds", "Time for Kafka to acknowledge a submission.",
                                  buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
                                  registry=registry)
        self._dead_lettered = Counter("assist_intake_raw_dead_lettered_total",
                                      "Raw Kafka records sent to assist.events.dlq, by reason.", ["reason"],
                                      registry=registry)
        self._forwarded = Counter("assist_intake_raw_forwarded_total",
                                  "Raw Kafka records validated and forwarded to assist.events.", registry=registry)
        self._renewals = Counter("assist_intake_producer_renewals_total",
                                 "Kafka producers replaced because their sequence state could no longer match the "
                                 "broker's, by reason.", ["reason"], registry=registry)
        self._limited = Counter("assist_intake_requests_rate_limited_total",
                                "Requests answered 429 because the department's rate was exceeded.",
                                ["department"], registry=registry)
        self._unexpected = Counter("assist_intake_unexpected_errors_total",
                                   "Requests that failed with an unexpected exception (answered 500).",
                                   registry=registry)
        self._answers = Counter("assist_intake_http_responses_total", "HTTP answers, by status code.", ["code"],
                                registry=registry)

    def accepted(self, department: str, n: int) -> None:
        if n:
            self._accepted.labels(department).inc(n)

    def rejected(self, reason: str, n: int = 1) -> None:
        if n:
            self._rejected.labels(reason).inc(n)

    def duplicates(self, n: int) -> None:
        if n:
            self._duplicates.inc(n)

    def published(self, seconds: float) -> None:
        self._publish.observe(seconds)

    def forwarded(self, n: int) -> None:
        if n:
            self._forwarded.inc(n)

    def dead_lettered(self, reason: str) -> None:
        self._dead_lettered.labels(reason).inc()

    def producer_renewed(self, reason: str) -> None:
        self._renewals.labels(reason).inc()

    def rate_limited(self, department: str) -> None:
        self._limited.labels(department).inc()

    def unexpected_error(self) -> None:
        self._unexpected.inc()

    def answered(self, code: int) -> None:
        self._answers.labels(str(code)).inc()
