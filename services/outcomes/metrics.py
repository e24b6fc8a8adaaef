"""The outcome figures as Prometheus gauges, set from each fold of the topics. Labels are bounded: policy ids of the
catalogue, the outcome, the span measured, the warning state; never a district or a person (the report has those)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge

from services.outcomes.domain.figures import OUTCOMES, Outcomes, totals


class OutcomeMetrics:
    def __init__(self, registry: CollectorRegistry):
        self.registry = registry
        self._offers = Gauge("assist_outcome_offers", "Offers recorded on the topics, by policy and what became of "
                             "them (made, accepted, declined, approved, rejected, withdrawn).", ["policy", "outcome"],
                             registry=registry)
        self._medians = Gauge("assist_outcome_median_seconds", "Median seconds from the triggering event to the offer "
                              "(event_to_offer) and from the offer to its first decision (offer_to_decision), by "
                              "policy.", ["policy", "span"], registry=registry)
        self._warnings = Gauge("assist_outcome_warnings", "Warnings (tasks with a risk tier) raised, confirmed by a "
                               "visit or check, not confirmed.", ["state"], registry=registry)
        self._folded = Gauge("assist_outcome_last_fold_timestamp_seconds", "When the topics were last folded.",
                             registry=registry)

    def update(self, result: Outcomes, at_seconds: float) -> None:
        for policy, row in totals(result, 0).items():
            self._offers.labels(policy, "made").set(row.made)
            for outcome in OUTCOMES:
                self._offers.labels(policy, outcome).set(row.counts[outcome])
            for span, value in (("event_to_offer", row.median_event_to_offer_s),
                                ("offer_to_decision", row.median_offer_to_decision_s)):
                if value is not None:
                    self._medians.labels(policy, span).set(value)
        w = result.all_warnings
        for state, value in (("raised", w.raised), ("confirmed", w.confirmed), ("rejected", w.rejected)):
            self._warnings.labels(state).set(value)
        self._folded.set(at_seconds)
