"""Every Kafka topic of the platform, declared once: name, partitions, retention, compaction.

The topics keyed by person or household (events, registry, decisions, offers, tasks, answers and matching's own)
have HOUSEHOLD_PARTITIONS partitions, from ASSIST_HOUSEHOLD_PARTITIONS (8 locally; 64 or more in production,
where that many matching workers may share them). All of them have the same count, so a household's records meet
on one partition number, which matching's tables follow; topics are created with it (services.core topics)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

DAY_MS = 24 * 3600 * 1000
PARTITIONS_SETTING = "ASSIST_HOUSEHOLD_PARTITIONS"


def household_partitions(env: dict[str, str] | None = None) -> int:
    """The partition count of the topics keyed by person or household; ValueError naming the setting if bad."""
    raw = (os.environ if env is None else env).get(PARTITIONS_SETTING, "8")
    try:
        count = int(raw)
    except ValueError:
        count = 0
    if not 1 <= count <= 10_000:
        raise ValueError(f"{PARTITIONS_SETTING} must be a whole number from 1 to 10000, not {raw!r}")
    return count


HOUSEHOLD_PARTITIONS = household_partitions()


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    purpose: str
    compacted: bool = False
    retention_ms: int = 30 * DAY_MS
    extra: dict[str, str] = field(default_factory=dict)

    def config(self) -> dict[str, str]:
        if self.compacted:
            return {"cleanup.policy": "compact", "min.compaction.lag.ms": "60000", **self.extra}
        return {"cleanup.policy": "delete", "retention.ms": str(self.retention_ms), **self.extra}


EVENTS_RAW = Topic(
    "assist.events.raw", 4, "Department events as produced over Kafka, before validation.", retention_ms=3 * DAY_MS
)
EVENTS = Topic(
    "assist.events", HOUSEHOLD_PARTITIONS, "Validated, pseudonymised change events keyed by person id.",
    retention_ms=90 * DAY_MS
)
EVENTS_DLQ = Topic(
    "assist.events.dlq", 1, "Rejected raw events: original bytes, reason in headers.", retention_ms=90 * DAY_MS
)
REGISTRY = Topic(
    "assist.registry", HOUSEHOLD_PARTITIONS, "Household composition and baseline facts keyed by household id.",
    compacted=True
)
POLICIES = Topic("assist.policies", 1, "Policy catalogue versions keyed by catalogue name.", compacted=True)
OFFERS = Topic("assist.offers", HOUSEHOLD_PARTITIONS, "Assistance offers keyed by household id.",
               retention_ms=365 * DAY_MS)
TASKS = Topic("assist.tasks", HOUSEHOLD_PARTITIONS, "Caseworker tasks keyed by household id.",
              retention_ms=365 * DAY_MS)
NOTIFICATIONS = Topic("assist.notifications", 4, "Delivery status per offer and channel.", retention_ms=90 * DAY_MS)
DECISIONS = Topic(
    "assist.decisions",
    HOUSEHOLD_PARTITIONS,
    "Casework transitions and citizens' answers keyed by household id.",
    retention_ms=365 * DAY_MS,
)

APPLICATION_ANSWERS = Topic("assist.applications.answers", HOUSEHOLD_PARTITIONS, "Matching's answers to applications "
                            "keyed by household id (person id when the household is unknown).",
                            retention_ms=365 * DAY_MS)

CONTACTS = Topic("assist.contacts", 4, "Consented contact details and preferences keyed by person id; read only by "
                 "notification.", compacted=True)
CONSENTS = Topic("assist.consents", 4, "Residents' withdrawals of consent to SMS and e-mail, keyed by person id; "
                 "written from the citizen page and read only by notification.", compacted=True)

# The identity vault's: names, addresses and phones held apart from the pseudonymised pipeline, and the audit of
# every disclosure (kept for three years).
IDENTITIES = Topic("assist.identities", 4, "Names, addresses and phones keyed by person id; read only by the vault.",
                   compacted=True)
DISCLOSURES = Topic("assist.disclosures", 4, "Every disclosure of identity details, keyed by household id (audit).",
                    retention_ms=3 * 365 * DAY_MS)
VAULT_DLQ = Topic("assist.vault.dlq", 1, "Identity records the vault could not use: reason and position only (the "
                  "value stays on its topic).", retention_ms=90 * DAY_MS)

# Matching's own topics: events re-keyed by household (and re-evaluation commands), person → household index.
MATCHING_INBOX = Topic("assist.matching.households", HOUSEHOLD_PARTITIONS,
                       "Events re-keyed by household id; re-evaluation commands.",
                       retention_ms=7 * DAY_MS)
MATCHING_MEMBERSHIP = Topic("assist.matching.membership", HOUSEHOLD_PARTITIONS,
                            "Person id → household id, from registry records.",
                            compacted=True)

# Dead letters, one topic per consuming service, so the owners of a service replay their own records
# (services/core/dead_letter.py writes them; assist.events.dlq is intake's).
MATCHING_DLQ = Topic("assist.matching.dlq", 1, "Records matching could not use: original bytes, reason in headers.",
                     retention_ms=90 * DAY_MS)
CASEWORK_DLQ = Topic("assist.casework.dlq", 1, "Task records casework could not take in: original bytes, reason.",
                     retention_ms=90 * DAY_MS)
NOTIFICATION_DLQ = Topic("assist.notification.dlq", 1, "Records notification could not use: original bytes (none for "
                         "contacts), reason in headers.", retention_ms=90 * DAY_MS)

ALL_TOPICS: tuple[Topic, ...] = (
    EVENTS_RAW,
    EVENTS,
    EVENTS_DLQ,
    REGISTRY,
    POLICIES,
    OFFERS,
    TASKS,
    NOTIFICATIONS,
    DECISIONS,
    APPLICATION_ANSWERS,
    CONTACTS,
    CONSENTS,
    IDENTITIES,
    DISCLOSURES,
    VAULT_DLQ,
    MATCHING_INBOX,
    MATCHING_MEMBERSHIP,
    MATCHING_DLQ,
    CASEWORK_DLQ,
    NOTIFICATION_DLQ,
)

MATCHING_INPUTS: tuple[Topic, ...] = (EVENTS, REGISTRY, DECISIONS, MATCHING_INBOX, MATCHING_MEMBERSHIP)
"""What the matching worker's consumer group reads."""
HOUSEHOLD_TOPICS: tuple[Topic, ...] = (EVENTS, REGISTRY, OFFERS, TASKS, DECISIONS, APPLICATION_ANSWERS, MATCHING_INBOX,
                                       MATCHING_MEMBERSHIP)
"""The topics keyed by person or household: as many partitions each (ASSIST_HOUSEHOLD_PARTITIONS), so a
household's records meet on one partition number."""
