"""(d) A notification worker and a casework worker killed (SIGKILL) in the middle of their work and restarted
give the outcome of a clean run of the same seeded input: the same (offer, channel) deliveries and the same
queued tasks, none lost, none extra."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from services.core.kafka import commit_group_at_end
from services.core.topics import TASKS
from services.notification.adapters.kafka_inbound import TOPICS as NOTIFICATION_INPUTS
from tests.faults.casework_queue import queue_entries, statuses
from tests.faults.deployment import start_casework_worker, start_notification_worker
from tests.faults.notify import Workload, wait_reached
from tests.faults.outcome import Outcome
from tests.faults.processes import Service
from tests.faults.providers import FlakyMailServer, FlakySmsGateway
from tests.faults.records import Seeded, publish_tasks, unlabelled

PROVIDER_DELAY = 0.2
"""Each provider holds a message this long before answering, so a kill lands while messages are in flight."""


async def notification_run(stack, services, size, label: str, kill: bool) -> dict[str, Any]:
    gateway, mail = FlakySmsGateway(delay=PROVIDER_DELAY), FlakyMailServer(delay=PROVIDER_DELAY)
    await gateway.start()
    await mail.start()
    redis = stack.redis_async()
    prefix, group = f"faults:{label}", f"faults-{label}"
    work = Workload.seeded(41, label, size.kill_offers)
    kills, before_kill = 0, 0
    try:
        await commit_group_at_end(stack.bootstrap, group, NOTIFICATION_INPUTS)
        worker = await start_notification_worker(services, f"notification-{label}", group, sms_url=gateway.url,
                                                 smtp_port=mail.port, key_prefix=prefix, concurrency=4,
                                                 send_timeout=1.0)
        await work.publish_contacts(stack.bootstrap, redis, prefix)
        await work.publish_offers(stack.bootstrap)
        if kill:
            # Placed by progress seen at the providers, not by the clock: on a loaded machine the whole run may
            # take less than one read of assist.notifications, or much longer than any fixed delay.
            before_kill = await delivered_at_least(gateway, mail, max(1, size.kill_offers // 4), timeout=60)
            worker.kill()
            kills += 1
            worker.start()
        found = await wait_reached(stack.bootstrap, work.offer_ids, timeout=90 + size.kill_offers)
        worker.stop()
    finally:
        await gateway.stop()
        await mail.stop()
        await redis.aclose()
    deliveries = {**gateway.sent.delivered, **mail.sent.delivered}
    keys = work.first_channel_keys()
    return {"reached": {unlabelled(o, label) for o in found},
            "delivered": {(unlabelled(keys[k][0], label), keys[k][1]) for k in deliveries if k in keys},
            "unknown": len(set(deliveries) - set(keys)), "twice": gateway.sent.twice + mail.sent.twice,
            "repeats": gateway.repeats, "kills": kills, "offers": len(work.offers),
            "before_kill": before_kill}


async def delivered_at_least(gateway: FlakySmsGateway, mail: FlakyMailServer, count: int, timeout: float) -> int:
    """Wait (at most `timeout`) until the providers took `count` messages; how many they took."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        taken = len(gateway.sent.delivered) + len(mail.sent.delivered)
        if taken >= count:
            return taken
        await asyncio.sleep(0.01)
    return len(gateway.sent.delivered) + len(mail.sent.delivered)


async def publish_paced(stack, tasks: list[dict[str, Any]], seconds: float) -> None:
    chunks = [tasks[i:i + 20] for i in range(0, len(tasks), 20)]
    for chunk in chunks:
        await publish_tasks(stack.bootstrap, chunk)
        await asyncio.sleep(seconds / len(chunks))


async def casework_run(stack, services, size, label: str, kill: bool) -> dict[str, Any]:
    seeded = Seeded(43, label)
    tasks = [seeded.task(n) for n in range(size.kill_tasks)]
    ids = [t["task_id"] for t in tasks]
    group = f"faults-casework-{label}"
    await commit_group_at_end(stack.bootstrap, group, (TASKS,))
    redis = stack.redis_async()
    kills, before_kill = 0, 0
    try:
        worker: Service = await start_casework_worker(services, f"casework-{label}", group)
        publishing = asyncio.create_task(publish_paced(stack, tasks, seconds=4))
        if kill:
            for _ in range(1200):  # at most 60 s
                if len(await statuses(redis, ids)) >= len(ids) // 4:
                    break
                await asyncio.sleep(0.05)
            worker.kill()
            before_kill = len(await statuses(redis, ids))
            kills += 1
            worker.start()
        await publishing
        deadline = time.monotonic() + 90
        held = await statuses(redis, ids)
        while len(held) < len(ids) and time.monotonic() < deadline:
            await asyncio.sleep(0.3)
            held = await statuses(redis, ids)
        entries = await queue_entries(redis, set(ids))
        worker.stop()
    finally:
        await redis.aclose()
    return {"queued": {unlabelled(t, label) for t, s in held.items() if s == "QUEUED"},
            "held": len(held), "twice": sum(n - 1 for n in entries.values() if n > 1), "kills": kills,
            "tasks": len(tasks), "before_kill": before_kill}


async def test_killed_notification_worker_gives_the_outcome_of_a_clean_run(fault_stack, services, size, results):
    clean = await notification_run(fault_stack, services, size, "notify-clean", kill=False)
    killed = await notification_run(fault_stack, services, size, "notify-killed", kill=True)
    outcome = results.add(Outcome(
        "d notification SIGKILL", f"{killed['offers']} offers, kill after {killed['before_kill']} sent",
        "delivered (offer, channel) = clean run",
        f"clean {len(clean['delivered'])} delivered, killed {len(killed['delivered'])}; reached "
        f"{len(killed['reached'])}; gateway repeats absorbed {killed['repeats']}",
        lost=len(clean["reached"] - killed["reached"]),
        extra=len(killed["delivered"] - clean["delivered"]) + killed["unknown"],
        duplicates=killed["twice"] + killed["repeats"],
        details={"delivered_only_in_clean": len(clean["delivered"] - killed["delivered"])}))
    outcome.check(len(clean["reached"]) == clean["offers"], "the clean run itself lost offers")
    outcome.check(0 < killed["before_kill"] < killed["offers"], "the kill did not land mid-way")
    outcome.check(outcome.lost == 0, f"{outcome.lost} offers reached nobody after the kill")
    outcome.check(killed["twice"] == 0, f"{killed['twice']} messages delivered twice")
    outcome.check(killed["delivered"] <= clean["delivered"] and not killed["unknown"],
                  "the killed run delivered something the clean run did not")
    # An e-mail cut off by the kill is not repeated (SMTP has no idempotency): the inbox carries that notice.
    missing = clean["delivered"] - killed["delivered"]
    outcome.check(all(channel == "EMAIL" for _, channel in missing),
                  f"{len(missing)} deliveries of the clean run are missing: {sorted(missing)[:5]}")
    assert not outcome.failures, "; ".join(outcome.failures)


async def test_killed_casework_worker_queues_what_a_clean_run_queues(fault_stack, services, size, results):
    clean = await casework_run(fault_stack, services, size, "cw-clean", kill=False)
    killed = await casework_run(fault_stack, services, size, "cw-killed", kill=True)
    outcome = results.add(Outcome(
        "d casework SIGKILL", f"{killed['tasks']} tasks, kill after {killed['before_kill']} taken in",
        "queued task ids = clean run", f"clean {len(clean['queued'])} queued, killed {len(killed['queued'])}",
        lost=len(clean["queued"] - killed["queued"]), extra=len(killed["queued"] - clean["queued"]),
        duplicates=killed["twice"]))
    outcome.check(len(clean["queued"]) == clean["tasks"], f"the clean run queued {len(clean['queued'])} tasks")
    outcome.check(0 < killed["before_kill"] < killed["tasks"], "the kill did not land mid-way")
    outcome.check(outcome.lost == 0 and outcome.extra == 0, "the killed run queued other tasks than the clean run")
    outcome.check(killed["twice"] == 0, f"{killed['twice']} tasks are in two queues")
    assert not outcome.failures, "; ".join(outcome.failures)
