"""(f) The matching worker SIGKILLed at random points and restarted gives the outcome of a clean run of the same
seeded input: the same distinct offers and tasks (ids, revisions, amounts) and the same final household states;
two clean runs give the same outcome too. Duplicate records of one id are allowed (consumers keep one per id),
counted and reported."""

from __future__ import annotations

import asyncio
import random
import statistics
from typing import Any

import pytest

from tests.faults.matching_run import Input, MatchingRun, Published, publish_input, seeded_input
from tests.faults.outcome import Outcome

SEED = 59
RECOVERY_MOST_SECONDS = 15.0
"""Per kill, from the SIGKILL until the restarted worker applies messages again (measured ~10 s before)."""


async def matching_run(stack: Any, services: Any, size: Any, data: Input, label: str, kills: int) -> Published:
    run = MatchingRun(stack, services, label)
    await run.start()
    publishing = asyncio.create_task(publish_input(stack.bootstrap, data, size.matching_publish_seconds))
    rng = random.Random(SEED + kills)
    moments = sorted(rng.uniform(2.0, size.matching_publish_seconds * 0.9) for _ in range(kills))
    recoveries: list[float] = []
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        for moment in moments:
            await asyncio.sleep(max(1.0, started + moment - loop.time()))
            recoveries.append(await run.kill_and_restart())
        await publishing
        await run.settled(set(data.first_members()))
        published = await run.published(data.first_members())
        published.restarts = run.restarts
    finally:
        if not publishing.done():
            publishing.cancel()
        run.stop()
    published.kills = len(recoveries)
    published.recovery_seconds = recoveries
    return published


def compared(clean: Published, other: Published) -> dict[str, Any]:
    clean_keys, other_keys = clean.keys(), other.keys()
    dues = {f"{t} {clean.tasks[t][3]}" for t, due in other.dues.items() if t in clean.dues and clean.dues[t] != due}
    return {"lost": sorted(clean_keys - other_keys), "extra": sorted(other_keys - clean_keys),
            "states": sorted(h for h in clean.states if clean.states[h] != other.states.get(h)),
            "dues": sorted(dues)}


# Known to fail until issue 9 point 2 is done: one-off decisions still use the facts as of a report's arrival, so the
# order of different members' reports (which kills widen) changes some offers (short size: 21 lost, 17 extra; 3 of
# 3,000 warning deadlines differ between clean runs). The figures go to the results table either way; remove the
# mark when it passes.
@pytest.mark.xfail(reason="order-dependent one-off decisions (issue 9 point 2 open)", strict=False)
async def test_killed_matching_worker_gives_the_outcome_of_a_clean_run(fault_stack, services, size, results):
    data = seeded_input(SEED, size.matching_households, size.matching_events)
    first = await matching_run(fault_stack, services, size, data, "clean-a", kills=0)
    second = await matching_run(fault_stack, services, size, data, "clean-b", kills=0)
    killed = await matching_run(fault_stack, services, size, data, "killed", kills=size.matching_kills)

    twice = compared(first, second)
    deterministic = results.add(Outcome(
        "f matching clean twice", f"{len(data.households)} households, {len(data.events)} events",
        "offers, tasks, dues and states of two clean runs equal",
        f"{len(first.offers)}/{len(second.offers)} offers, {len(first.tasks)}/{len(second.tasks)} tasks; "
        f"{len(twice['states'])} states and {len(twice['dues'])} due dates differ",
        lost=len(twice["lost"]), extra=len(twice["extra"]), duplicates=second.duplicates(),
        details={k: v[:10] for k, v in twice.items()}))
    deterministic.check(first.offers and first.tasks, "the clean run published no offers or no tasks")
    deterministic.check(not twice["lost"] and not twice["extra"], "two clean runs published different records")
    deterministic.check(not twice["states"], f"{len(twice['states'])} households end in different states")
    deterministic.check(not twice["dues"], f"{len(twice['dues'])} tasks are due at different times")

    faulted = compared(first, killed)
    recovery = max(killed.recovery_seconds) if killed.recovery_seconds else None
    outcome = results.add(Outcome(
        "f matching SIGKILL", f"{len(data.households)} households, {len(data.events)} events, {killed.kills} kills",
        "offers, tasks and states = clean run",
        f"clean {len(first.offers)} offers {len(first.tasks)} tasks, killed {len(killed.offers)} offers "
        f"{len(killed.tasks)} tasks; {len(faulted['states'])} states differ; inbox {first.inbox_messages} → "
        f"{killed.inbox_messages} messages; {killed.restarts} restarts after a stall; recovery median "
        f"{statistics.median(killed.recovery_seconds) if killed.recovery_seconds else 0:.1f} s",
        lost=len(faulted["lost"]), extra=len(faulted["extra"]), duplicates=killed.duplicates(),
        recovery_seconds=recovery, details={**{k: v[:10] for k, v in faulted.items()},
                                            "recoveries": killed.recovery_seconds,
                                            "stall_restarts": [first.restarts, second.restarts, killed.restarts]}))
    outcome.check(killed.kills == size.matching_kills, f"only {killed.kills} kills landed")
    outcome.check(not faulted["lost"], f"{len(faulted['lost'])} records of the clean run are missing")
    outcome.check(not faulted["extra"], f"{len(faulted['extra'])} records the clean run did not publish")
    outcome.check(not faulted["states"], f"{len(faulted['states'])} households end in other states")
    outcome.check(recovery is not None and recovery <= RECOVERY_MOST_SECONDS,
                  f"recovery took {recovery} s (at most {RECOVERY_MOST_SECONDS})")
    assert not deterministic.failures and not outcome.failures, \
        "; ".join(deterministic.failures + outcome.failures)
