"""The worker's watch on its partitions: every WATCH_SECONDS each assigned partition's position (what faust
committed there, else what the agents processed) is compared with its highwater (progress.py); a partition that
does not move while messages wait, or a table recovery that does not move, stops the worker for its supervisor to
start it again. /healthz and /readyz say why meanwhile."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import faust

from services.core.readiness import STALL_SECONDS
from services.core.topics import MATCHING_INPUTS
from services.matching.adapters.agent_failures import stall_seconds
from services.matching.progress import PartitionProgress, RecoveryProgress
from services.matching.runtime import MatchingRuntime
from services.matching.service import MatchingService

log = logging.getLogger(__name__)
WATCH_SECONDS = 5.0
"""How often each partition's progress is compared with its highwater."""
READ = frozenset(t.name for t in MATCHING_INPUTS)
Partition = tuple[str, int]


def watch(app: faust.App, runtime: MatchingRuntime, service: MatchingService, progress: PartitionProgress,
          died: Callable[[str, BaseException | None], None]) -> None:
    """The watch timer and the health and readiness pages of the worker."""
    recovering = RecoveryProgress(stall_seconds(STALL_SECONDS))

    @app.timer(interval=WATCH_SECONDS)
    async def watch_partitions() -> None:
        recovery = getattr(app.tables, "recovery", None)  # TableManager has it; its type does not say so
        if getattr(recovery, "in_recovery", False):
            progress.waiting_by_design()
            stuck = recovering.observe(sum(getattr(recovery, "active_offsets", {}).values()))
            if stuck:
                died(stuck, None)
            return
        recovering.finished()
        if not runtime.catalogue_ready.is_set():
            progress.waiting_by_design()
            return
        consumer = app.consumer
        assigned = {(tp.topic, tp.partition): tp for tp in consumer.assignment() if tp.topic in READ}
        # What faust committed per partition: a stalled commit holds back the records attached to the offsets after
        # it, so it counts as a stall as much as stopped processing.
        known = {key: service.commits.committed(*key) for key in assigned}
        committed = {key: offset for key, offset in known.items() if offset is not None}
        highwaters: dict[Partition, int | None] = {key: consumer.highwater(tp) for key, tp in assigned.items()}
        await from_the_broker(assigned, highwaters, committed)
        stalled = progress.observe(assigned, highwaters.get, committed)
        if stalled:
            # A graceful restart clears such a stall (seen in the fault suite); /healthz says why meanwhile.
            died("partition stalled: " + "; ".join(stalled), None)

    async def from_the_broker(assigned: dict[Partition, Any], highwaters: dict[Partition, int | None],
                              committed: dict[Partition, int]) -> None:
        """What the client does not know, asked of the broker: a partition not fetched since its assignment has no
        highwater in the client (it comes with fetch responses), and one with no commit and nothing processed
        stands at its earliest offset. Without them such a partition looked idle however much waited on it (a
        worker left alone after a rebalance handled nothing for four minutes, with no stall reported)."""
        consumer = app.consumer
        unfetched = [assigned[key] for key, high in highwaters.items() if high is None]
        unstarted = [tp for key, tp in assigned.items() if key not in committed and key not in progress.processed]
        try:
            if unfetched:
                for tp, end in (await consumer.highwaters(*unfetched)).items():
                    highwaters[(tp.topic, tp.partition)] = end
            if unstarted:
                for tp, earliest in (await consumer.earliest_offsets(*unstarted)).items():
                    committed[(tp.topic, tp.partition)] = earliest
        except Exception as exc:  # the broker not answering is for the next look (and the consumer) to find
            log.warning("offsets of %d partitions not known from the broker: %s", len(unfetched) + len(unstarted),
                        type(exc).__name__)

    @app.page("/healthz")
    async def healthz(web_view: Any, request: Any) -> Any:
        """Failing once an agent or the catalogue feed died, or a partition stopped moving with messages waiting
        (a restart is what clears such a stall)."""
        health = runtime.health
        if health.ok and not progress.stalled:
            return web_view.json({"status": "ok"})
        reason = health.failure or "; ".join(progress.stalled)
        return web_view.json({"status": "failing", "reason": reason}, status=503)

    @app.page("/readyz")
    async def readyz(web_view: Any, request: Any) -> Any:
        """Ready: a catalogue decides today, the worker has partitions and none is stalled."""
        checks = {"catalogue": "ok" if runtime.catalogue_ready.is_set() else "no catalogue decides today",
                  "partitions": "; ".join(progress.stalled) or (
                      "ok" if any(tp.topic in READ for tp in app.consumer.assignment())
                      else "no partitions assigned (yet)")}
        ready = all(v == "ok" for v in checks.values()) and runtime.health.ok
        return web_view.json({"status": "ready" if ready else "not ready", "checks": checks},
                             status=200 if ready else 503)
