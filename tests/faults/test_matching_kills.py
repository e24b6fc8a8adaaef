"""(f) The matching worker SIGKILLed at random points and restarted gives the outcome of a clean run of the same
seeded input: the same offers and tasks held in the end (newest revision per id, not withdrawn: ids, amounts,
policies), their due dates and the same final household states; two clean runs give the same outcome too.
Duplicate records of one id are allowed (consumers keep one per id), counted and reported. A report that
arrives after a later one of its household corrects an offer by a revision, so how an id got to its end (its
revision history, an offer made and withdrawn in one run only) is reported, not compared."""

from __future__ import annotations

import asyncio
import json
import random
import statistics
from typing import Any

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
            await run.supervise(max(1.0, started + moment - loop.time()))
            recoveries.append(await run.kill_and_restart())
        await publishing
        await run.settled(set(data.first_members()), size.matching_settle_seconds)
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
    """lost and extra: offers and tasks held (newest revision per id, not withdrawn: id, amount, policy) by one run
    and not the other; dues: held tasks due at other times; history: newest revisions that differ (an id revised
    or withdrawn on the way in one run only); transient: ids one run offered and withdrew that the other never
    had."""
    held_clean, held_other = clean.held(), other.held()
    held_tasks = {i for kind, i, *_ in held_clean & held_other if kind == "task"}
    dues = {f"{t} {clean.tasks[t][3]}" for t, due in other.dues.items() if t in held_tasks and clean.dues[t] != due}
    seen_clean, seen_other = {*clean.offers, *clean.tasks}, {*other.offers, *other.tasks}
    transient = (seen_clean ^ seen_other) - {i for _, i, *_ in held_clean | held_other}
    states = sorted(h for h in clean.states if clean.states[h] != other.states.get(h))
    return {"lost": sorted(held_clean - held_other), "extra": sorted(held_other - held_clean), "states": states,
            "state_differences": [f"{h}: {'; '.join(differences(clean.states[h], other.states.get(h)))}"
                                  for h in states[:5]],
            "dues": sorted(dues), "history": sorted(clean.keys() ^ other.keys()), "transient": sorted(transient)}


def differences(one: str, other: str | None, limit: int = 6) -> list[str]:
    """Where two explanations (JSON text) differ: a path and both values for each of the first `limit` places."""
    found: list[str] = []

    def walk(path: str, a: Any, b: Any) -> None:
        if len(found) >= limit or a == b:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted({*a, *b}, key=str):
                walk(f"{path}.{key}", a.get(key), b.get(key))
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for n, (x, y) in enumerate(zip(a, b, strict=True)):
                walk(f"{path}[{n}]", x, y)
        else:
            found.append(f"{path or '.'}: {json.dumps(a)[:160]} | {json.dumps(b)[:160]}")

    walk("", json.loads(one), None if other is None else json.loads(other))
    return found


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
        f"{len(twice['states'])} states and {len(twice['dues'])} due dates differ; {len(twice['history'])} "
        f"newest revisions differ, {len(twice['transient'])} ids offered and withdrawn in one run only",
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
        "offers, tasks, dues and states = clean run",
        f"clean {len(first.offers)} offers {len(first.tasks)} tasks, killed {len(killed.offers)} offers "
        f"{len(killed.tasks)} tasks; {len(faulted['states'])} states differ; {len(faulted['history'])} newest "
        f"revisions differ, {len(faulted['transient'])} ids offered and withdrawn in one run only; "
        f"inbox {first.inbox_messages} → {killed.inbox_messages} messages; {killed.restarts} restarts after the "
        f"worker stopped itself; recovery median "
        f"{statistics.median(killed.recovery_seconds) if killed.recovery_seconds else 0:.1f} s",
        lost=len(faulted["lost"]), extra=len(faulted["extra"]), duplicates=killed.duplicates(),
        recovery_seconds=recovery, details={**{k: v[:10] for k, v in faulted.items()},
                                            "recoveries": killed.recovery_seconds,
                                            "stall_restarts": [first.restarts, second.restarts, killed.restarts]}))
    outcome.check(killed.kills == size.matching_kills, f"only {killed.kills} kills landed")
    outcome.check(not faulted["lost"], f"{len(faulted['lost'])} records of the clean run are missing")
    outcome.check(not faulted["extra"], f"{len(faulted['extra'])} records the clean run did not publish")
    outcome.check(not faulted["states"], f"{len(faulted['states'])} households end in other states")
    outcome.check(not faulted["dues"], f"{len(faulted['dues'])} tasks are due at other times")
    outcome.check(recovery is not None and recovery <= RECOVERY_MOST_SECONDS,
                  f"recovery took {recovery} s (at most {RECOVERY_MOST_SECONDS})")
    assert not deterministic.failures and not outcome.failures, \
        "; ".join(deterministic.failures + outcome.failures)
