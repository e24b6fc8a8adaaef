"""Notification's Prometheus metrics (a registry per process, passed in). Labels are bounded: channel, status,
reason code, answer, topic. Never a person, an address or an offer id."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from services.notification.domain.plan import (
    ELDERLY_WITHOUT_PHONE,
    EVERY_CHANNEL_FAILED,
    NO_CONTACT,
    NO_WORKING_CHANNEL,
)

IN_PERSON_REASONS = {NO_CONTACT: "no_contact", NO_WORKING_CHANNEL: "no_working_channel",
                     ELDERLY_WITHOUT_PHONE: "elderly_without_phone", EVERY_CHANNEL_FAILED: "every_channel_failed"}


class NotificationMetrics:
    def __init__(self, registry: CollectorRegistry):
        self.registry = registry
        self._sent = Counter("assist_notification_sent_total", "Notifications a provider accepted, by channel.",
                             ["channel"], registry=registry)
        self._failed = Counter("assist_notification_failed_total",
                               "Failed send attempts, by channel and what followed (RETRYING, FELL_BACK, FAILED).",
                               ["channel", "status"], registry=registry)
        self._retries = Counter("assist_notification_retries_total", "Retries scheduled, by channel.", ["channel"],
                                registry=registry)
        self._deferred = Counter("assist_notification_deferred_total", "Messages held until quiet hours end.",
                                 registry=registry)
        self._suppressed = Counter("assist_notification_suppressed_total",
                                   "Non-critical messages not sent because the person opted out.", registry=registry)
        self._in_person = Counter("assist_notification_in_person_total",
                                  "DELIVER_IN_PERSON tasks handed to caseworkers, by reason.", ["reason"],
                                  registry=registry)
        self._latency = Histogram("assist_notification_delivery_seconds",
                                  "From an offer being ready to send (received, or quiet hours over) to a provider "
                                  "accepting it.", ["channel"], registry=registry,
                                  buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600))
        self._records = Counter("assist_notification_records_total", "Records consumed, by topic.", ["topic"],
                                registry=registry)
        self._unreadable = Counter("assist_notification_unreadable_records_total",
                                   "Records that could not be decoded and were skipped, by topic.", ["topic"],
                                   registry=registry)
        self.backlog = Gauge("assist_notification_scheduled_jobs", "Delivery jobs scheduled now or later.",
                             registry=registry)
        self._answers = Counter("assist_notification_citizen_answers_total",
                                "Answers citizens recorded on the citizen page.", ["answer"], registry=registry)
        self._links = Counter("assist_notification_links_total", "Signed links opened, by outcome.", ["outcome"],
                              registry=registry)

    def sent(self, channel: str, seconds: float) -> None:
        self._sent.labels(channel).inc()
        self._latency.labels(channel).observe(max(0.0, seconds))

    def failed(self, channel: str, status: str) -> None:
        self._failed.labels(channel, status).inc()
        if status == "RETRYING":
            self._retries.labels(channel).inc()

    def deferred(self) -> None:
        self._deferred.inc()

    def suppressed(self) -> None:
        self._suppressed.inc()

    def in_person(self, reason: str) -> None:
        self._in_person.labels(IN_PERSON_REASONS.get(reason, "other")).inc()

    def record(self, topic: str) -> None:
        self._records.labels(topic).inc()

    def unreadable(self, topic: str) -> None:
        self._unreadable.labels(topic).inc()

    def answered(self, answer: str) -> None:
        self._answers.labels(answer).inc()

    def link(self, outcome: str) -> None:
        self._links.labels(outcome).inc()
