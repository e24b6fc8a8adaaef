"""Matching's Prometheus metrics. Labels are bounded: event type, policy id, tier, priority band, reason."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


def priority_band(priority: int) -> str:
    return "urgent" if priority >= 80 else "high" if priority >= 60 else "normal" if priority >= 30 else "low"


class MatchingMetrics:
    def __init__(self, registry: CollectorRegistry):
        self.registry = registry
        self.processed = Counter("assist_matching_messages_processed_total", "Messages applied to household state.",
                                 ["kind"], registry=registry)
        self.offers = Counter("assist_matching_offers_total", "Offers emitted, by policy, tier and route.",
                              ["policy", "tier", "route"], registry=registry)
        self.tasks = Counter("assist_matching_tasks_total", "Caseworker tasks emitted, by kind and priority band.",
                             ["kind", "priority"], registry=registry)
        self.dead_lettered = Counter("assist_matching_dead_lettered_total",
                                     "Messages matching could not use, sent to assist.matching.dlq.", ["reason"],
                                     registry=registry)
        self.replayed = Counter("assist_matching_replayed_total",
                                "Messages seen again after a crash whose recorded outputs were sent again.",
                                registry=registry)
        self.applications = Counter("assist_matching_applications_answered_total",
                                    "Applications answered, by outcome.", ["outcome"], registry=registry)
        self.waiting = Counter("assist_matching_events_waiting_for_registry_total",
                               "Events held until the registry introduces their person.", registry=registry)
        self.seeks = Counter("assist_matching_seeks_total",
                             "Seeks back to an offset the consumer passed over without delivering it to an agent.",
                             ["topic"], registry=registry)
        self.skipped_offsets = Counter("assist_matching_offsets_skipped_total",
                                       "Offsets never delivered to an agent after every seek back (given up on).",
                                       ["topic"], registry=registry)
        self.latency = Histogram("assist_matching_processing_seconds", "Time to apply one message and evaluate.",
                                 buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1),
                                 registry=registry)
        self.reevaluation_progress = Gauge("assist_matching_reevaluation_progress_ratio",
                                           "Share of the current re-evaluation done (1 when idle).",
                                           registry=registry)
        self.reevaluation_seconds = Histogram("assist_matching_reevaluation_seconds",
                                              "Whole-population re-evaluation time.", registry=registry,
                                              buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60))
        self.newly_eligible = Counter("assist_matching_reevaluation_newly_eligible_total",
                                      "Households found newly eligible by re-evaluation, by policy.", ["policy"],
                                      registry=registry)
        self.monitored = Gauge("assist_matching_monitored_persons", "Persons in this worker's population mirror.",
                               registry=registry)
        self.catalogue = Gauge("assist_matching_catalogue_info", "Catalogue version deciding today.",
                               ["catalogue", "version"], registry=registry)
        self.partition_lag = Gauge("assist_matching_partition_lag_messages",
                                   "Messages on the partition not processed by this worker yet.",
                                   ["topic", "partition"], registry=registry)
        self.oldest_waiting_age = Gauge("assist_matching_oldest_unprocessed_age_seconds",
                                        "How long the oldest unprocessed message of the partition has waited "
                                        "without the partition moving (0 when none waits).",
                                        ["topic", "partition"], registry=registry)
        self.partition_stalled = Gauge("assist_matching_partition_stalled",
                                       "1 when messages wait on the partition and it has not moved for the stall "
                                       "time (120 s).", ["topic", "partition"], registry=registry)
        self.reevaluation_progress.set(1)
