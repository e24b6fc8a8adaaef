"""(a) The broker stopped and started again while intake takes about `rate` requests a second: every 202 is on
assist.events afterwards, and intake answers 202 again within seconds of the broker answering."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from services.core.codec import header
from services.core.topics import EVENTS
from tests.faults.deployment import start_intake
from tests.faults.load import SteadyLoad
from tests.faults.outcome import Outcome
from tests.faults.records import Seeded, read_topic

RECOVERY_LIMIT_SECONDS = 30.0
STEADY_AFTER_RECOVERY_SECONDS = 5.0
BROKER_STOP_START_LIMIT_SECONDS = 360.0
"""stack.sh allows 120 s to stop the broker and 240 s to start it."""


async def test_every_acknowledged_event_survives_a_broker_restart_under_load(fault_stack, services, size, results):
    intake = await start_intake(services, fault_stack)
    load = SteadyLoad(intake.url, intake.auth(), size.rate_per_second, Seeded(7, "broker"))
    # The load lasts until stopped below; the bound covers the broker's own stop and start limits as well.
    most = size.warm_seconds + size.outage_seconds + size.after_seconds + BROKER_STOP_START_LIMIT_SECONDS
    running = asyncio.create_task(load.run(most))
    await asyncio.sleep(size.warm_seconds)
    stopping = time.monotonic()
    await asyncio.to_thread(fault_stack.stop_broker)
    stopped = time.monotonic()
    await asyncio.sleep(size.outage_seconds)
    starting = time.monotonic()
    await asyncio.to_thread(fault_stack.start_broker)
    back = time.monotonic()
    deadline = back + size.after_seconds
    while time.monotonic() < deadline and not running.done():
        await asyncio.sleep(0.5)
        firsts = [a.answered for a in load.answers if a.status == 202 and a.sent >= back]
        if firsts and time.monotonic() > min(firsts) + STEADY_AFTER_RECOVERY_SECONDS + 5:
            break
    load.stop()
    await running

    answers = load.answers
    statuses = Counter(a.status for a in answers)
    accepted = {a.event_id for a in answers if a.status == 202}
    on_topic = Counter(header(r.headers, "ce_id") for r in await read_topic(fault_stack.bootstrap, EVENTS.name))
    firsts = [a.answered for a in answers if a.status == 202 and a.sent >= back]
    recovery = min(firsts) - back if firsts else None
    after_recovery = [a for a in answers if recovery is not None and a.sent >= back + recovery + 2]
    outcome = results.add(Outcome(
        "a broker restart under load",
        f"{len(answers)} requests at {size.rate_per_second}/s, broker down {back - stopping:.0f} s (stop "
        f"{stopped - stopping:.0f} s, start {back - starting:.0f} s)",
        "lost 0; only 202/503; 202 again <= 30 s",
        " ".join(f"{status or 'no-answer'}:{n}" for status, n in sorted(statuses.items())),
        lost=len(accepted - set(on_topic)), extra=len(set(on_topic) - accepted),
        duplicates=sum(n - 1 for n in on_topic.values() if n > 1), recovery_seconds=recovery,
        details={"statuses": dict(statuses), "down_seconds": back - stopping,
                 "stop_seconds": stopped - stopping, "start_seconds": back - starting}))
    outcome.check(outcome.lost == 0, f"{outcome.lost} events answered 202 are not on {EVENTS.name}")
    outcome.check(recovery is not None and recovery <= RECOVERY_LIMIT_SECONDS,
                  f"no 202 within {RECOVERY_LIMIT_SECONDS:.0f} s of the broker answering (recovery {recovery})")
    bad = {s: n for s, n in statuses.items() if s not in (202, 503)}
    outcome.check(not bad, f"answers other than 202/503: {bad}")
    outcome.check(all(a.retry_after for a in answers if a.status == 503), "a 503 came without Retry-After")
    refused_after = sum(a.status != 202 for a in after_recovery)
    outcome.check(refused_after == 0, f"{refused_after} of {len(after_recovery)} requests refused after recovery")
    outcome.check(any(a.sent >= back for a in answers), "the load ended before the broker answered again")
    outcome.check(intake.service.running, "intake exited")
    assert not outcome.failures, "; ".join(outcome.failures) + "\n" + intake.service.tail()
