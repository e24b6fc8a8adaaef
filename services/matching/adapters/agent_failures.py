"""What matching does when an agent or task of its faust worker dies anyway (a record never kills one: each agent
dead-letters what it cannot use). faust's default supervisor restarts a crashed agent, whose failed message then
holds its partition's commits back for good while the worker looks alive; an app task that ends is not noticed at
all. Here the worker instead says why on /healthz (503), logs it at ERROR, and stops with a non-zero exit code for
its supervisor to restart it, and the restarted worker re-reads from the last commit.

Test hook (documented, off unless set): with ASSIST_MATCHING_TEST_FAULTS=1 a message carrying the header
`assist_test_fault: agent-dies` makes the household agent raise outside its per-record guard. No real input can
kill an agent any more, so the tests use it to prove the path from a dead agent to a non-zero exit.
`assist_test_fault: agent-stalls` holds the household agent without an error, as a stream that stopped does, to
prove that a stalled partition shows on /healthz, /readyz and the metrics (after ASSIST_MATCHING_STALL_SECONDS).
ASSIST_MATCHING_TEST_UNFETCHED=<topic> leaves that topic's partitions as a client that never fetched them since
their assignment knows them: no highwater, no records handed over (`never_fetched`), to prove that what waits on
them is still seen.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable
from typing import Any

from mode import ServiceT, SupervisorStrategy

from services.core.process import EXIT_TASK_DIED, GRACE_SECONDS, HARD_EXIT_SECONDS, Health, exit_hard_later, where

log = logging.getLogger(__name__)
TEST_FAULTS = "ASSIST_MATCHING_TEST_FAULTS"
FAULT_HEADER = "assist_test_fault"


class InjectedFault(Exception):
    """Raised by the test hook above."""


STALL_HOOK_SECONDS = 3600.0
"""How long the `agent-stalls` test hook holds the household agent (it stands for a stream that stopped)."""
STALL_SECONDS_SETTING = "ASSIST_MATCHING_STALL_SECONDS"
UNFETCHED_SETTING = "ASSIST_MATCHING_TEST_UNFETCHED"


def test_faults_enabled() -> bool:
    return os.environ.get(TEST_FAULTS) == "1"


def stall_seconds(default: float) -> float:
    """After how long a partition that does not move while messages wait counts as stalled."""
    return float(os.environ.get(STALL_SECONDS_SETTING) or default)


def worker_stops(health: Health, reason: str, exc: BaseException | None = None,
                 grace_seconds: float = GRACE_SECONDS) -> None:
    """Mark the worker failing, then ask it to stop (SIGTERM: faust shuts down in order) after the grace period;
    the entry point turns the failure into a non-zero exit code, and a hung shutdown is cut short."""
    if not health.ok:
        return
    health.fail(reason)
    log.error("%s; the worker stops and exits with %d%s", reason, EXIT_TASK_DIED, where(exc))
    asyncio.get_running_loop().call_later(grace_seconds, os.kill, os.getpid(), signal.SIGTERM)
    exit_hard_later(EXIT_TASK_DIED, grace_seconds + HARD_EXIT_SECONDS)


def stopping_supervisor(on_death: Callable[[str, BaseException | None], None]) -> type[SupervisorStrategy]:
    """A supervisor strategy for faust agents: a crashed actor is not restarted; `on_death(reason, exc)` is told."""

    class StopTheWorker(SupervisorStrategy):
        async def restart_services(self, services: list[ServiceT]) -> None:
            for service in services:
                exc = service.crash_reason
                on_death(f"agent {_agent_name(service)} died: {type(exc).__name__}", exc)
            await self.stop_services(services)

    return StopTheWorker


def _agent_name(service: Any) -> str:
    agent = getattr(service, "agent", None)
    return str(getattr(agent, "name", service)).rsplit(".", 1)[-1]


def never_fetched(consumer: Any) -> None:
    """The test hook above, on faust's consumer, when its setting names a topic (and test faults are on)."""
    topic = os.environ.get(UNFETCHED_SETTING) if test_faults_enabled() else None
    if not topic:
        return
    highwater: Callable[[Any], int | None] = consumer.highwater
    getmany: Callable[..., Any] = consumer._getmany

    def no_highwater(tp: Any) -> int | None:
        return None if tp.topic == topic else highwater(tp)

    async def fetching(active_partitions: Any, **kwargs: Any) -> Any:
        if active_partitions is not None:
            active_partitions = {tp for tp in active_partitions if tp.topic != topic}
        return await getmany(active_partitions=active_partitions, **kwargs)

    consumer.highwater = no_highwater
    consumer._getmany = fetching
    log.warning("test hook: %s is never fetched", topic)
