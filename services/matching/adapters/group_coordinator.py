"""Waiting at start for the broker to name the consumer group's coordinator.

Why: a broker that has just been created (or is still loading its offsets topic) answers FindCoordinator with
COORDINATOR_NOT_AVAILABLE for a moment. aiokafka retries that, but logs every retry as an ERROR ("Group
Coordinator Request failed"), which tells an operator watching a fresh deployment that something is broken when
nothing is. Asking first, before faust starts its consumer, turns the wait into one INFO line; the consumer then
finds the coordinator at once. We wait rather than filter aiokafka's log: a coordinator that stays unavailable
later (not at start) is still logged as the error it is. The wait is bounded: past it, the worker starts anyway
and aiokafka's own retries (and errors) take over.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time

from aiokafka.client import AIOKafkaClient, CoordinationType
from aiokafka.errors import KafkaError

from services.core.kafka_security import kafka_options

log = logging.getLogger(__name__)
WAIT_SECONDS = 60.0
PAUSE_SECONDS = 0.5


async def wait_for_group_coordinator(bootstrap: str, group: str, wait_seconds: float = WAIT_SECONDS) -> bool:
    """True once the broker names the coordinator of `group`; False when it did not within `wait_seconds`, or
    the broker does not answer at all (faust then reports that itself). A non-retriable error is raised."""
    client = AIOKafkaClient(**kafka_options(bootstrap), client_id=f"{group}-start")
    deadline = time.monotonic() + wait_seconds
    try:
        try:
            await client.bootstrap()
        except KafkaError:
            return False
        told = False
        while True:
            try:
                await client.coordinator_lookup(CoordinationType.GROUP, group)
                return True
            except KafkaError as err:
                if not err.retriable:
                    raise
                if time.monotonic() >= deadline:
                    return False
                if not told:
                    log.info("waiting for the broker to name the coordinator of group %s (%s)", group,
                             type(err).__name__)
                    told = True
                await client.force_metadata_update()
                await asyncio.sleep(PAUSE_SECONDS)
    finally:
        await client.close()


def wait_before_start(bootstrap: str, group: str, wait_seconds: float = WAIT_SECONDS,
                      handler: logging.Handler | None = None) -> bool:
    """wait_for_group_coordinator on a loop of its own, closed afterwards (faust then runs its own loop). Logging
    is not configured yet (faust does it when its worker starts), so the wait is told on stderr meanwhile (or by
    `handler`, e.g. the platform's JSON lines)."""
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("[%(asctime)s] [%(process)d] [%(levelname)s] %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(wait_for_group_coordinator(bootstrap, group, wait_seconds))
    finally:
        loop.close()
        log.removeHandler(handler)
