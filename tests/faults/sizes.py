"""How big each scenario runs: `full` (./run faults), `short` (./run faults --short, in CI) or `large`
(ASSIST_FAULTS_SIZE=large: the matching comparisons at 100,000 events and 10 kills, about half an hour)."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Size:
    name: str
    rate_per_second: int
    """Requests per second intake gets while the broker is stopped and started."""
    warm_seconds: float
    outage_seconds: float
    after_seconds: float
    """How long the load goes on after the broker answers again."""
    redis_events: int
    casework_tasks: int
    inbox_offers: int
    provider_offers: int
    kill_offers: int
    kill_tasks: int
    poison_records: int
    """Malformed records from the poison corpus (the corpus's valid records come with them)."""
    matching_households: int = 300
    matching_events: int = 3000
    matching_kills: int = 2
    """SIGKILLs of the matching worker at random points of one run."""
    matching_publish_seconds: float = 20.0
    """How long the events of a matching run are spread over (kills land within it)."""
    matching_settle_seconds: float = 240.0
    """How long a matching run may take, after its last event was published, to process its backlog."""
    rebalance_households: int = 150
    rebalance_events: int = 1500
    """The rebalance comparisons' input (small enough for CI: three runs of it take under three minutes)."""


FULL = Size("full", rate_per_second=100, warm_seconds=10, outage_seconds=15, after_seconds=40, redis_events=200,
            casework_tasks=500, inbox_offers=100, provider_offers=300, kill_offers=120, kill_tasks=1000,
            poison_records=2000, matching_households=2000, matching_events=20_000, matching_kills=6,
            matching_publish_seconds=60.0)
LARGE = Size("large", rate_per_second=100, warm_seconds=10, outage_seconds=15, after_seconds=40, redis_events=200,
             casework_tasks=500, inbox_offers=100, provider_offers=300, kill_offers=120, kill_tasks=1000,
             poison_records=2000, matching_households=10_000, matching_events=100_000, matching_kills=10,
             matching_publish_seconds=300.0, matching_settle_seconds=1500.0,
             rebalance_households=10_000, rebalance_events=100_000)
SHORT = Size("short", rate_per_second=40, warm_seconds=4, outage_seconds=6, after_seconds=25, redis_events=40,
             casework_tasks=80, inbox_offers=20, provider_offers=40, kill_offers=30, kill_tasks=200,
             poison_records=300)


def chosen() -> Size:
    """ASSIST_FAULTS_SIZE=short|full|large (default full)."""
    name = os.environ.get("ASSIST_FAULTS_SIZE", "full")
    sizes = {size.name: size for size in (SHORT, FULL, LARGE)}
    if name not in sizes:
        raise ValueError(f"ASSIST_FAULTS_SIZE={name!r}: one of {', '.join(sizes)}")
    return sizes[name]
