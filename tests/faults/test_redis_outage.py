"""(b) Redis stopped, started again and wiped (FLUSHALL) while the services run: intake's duplicate guard,
casework's queues (rebuilt from assist.tasks and assist.decisions) and notification's inboxes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections import Counter
from typing import Any

import aiohttp

from services.casework.adapters.tokens import StaffTokens
from services.casework.domain.scope import staff
from services.core.codec import header
from services.core.kafka import commit_group_at_end
from services.core.topics import EVENTS
from services.notification.adapters.kafka_inbound import TOPICS as NOTIFICATION_INPUTS
from services.notification.adapters.redis_citizen import RedisInbox
from tests.conftest import discharge
from tests.faults.casework_queue import statuses
from tests.faults.deployment import start_casework_api, start_casework_worker, start_intake, start_notification_worker
from tests.faults.load import SINGLE
from tests.faults.notify import Workload, wait_reached
from tests.faults.outcome import Outcome
from tests.faults.processes import Service
from tests.faults.providers import FlakyMailServer, FlakySmsGateway
from tests.faults.records import DISTRICT, Seeded, publish_tasks, read_topic

RECOVERY_LIMIT_SECONDS = 30.0
RATE_LIMITED_RETRIES = 10


async def post_all(session: aiohttp.ClientSession, url: str, headers: dict[str, str],
                   events: list[dict[str, Any]]) -> list[tuple[int, str | None]]:
    """Post each event (all at once, as requests pile up in an outage); (status, event status) per event."""
    async def one(event: dict[str, Any]) -> tuple[int, str | None]:
        for _ in range(RATE_LIMITED_RETRIES):  # a department slows down when told to (429 with Retry-After)
            try:
                async with session.post(f"{url}/v1/events", data=json.dumps(event), headers=headers) as response:
                    body = await response.json(content_type=None)
                    if response.status == 429:
                        await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
                        continue
                    events_ = body.get("events") if isinstance(body, dict) else None
                    return response.status, events_[0]["status"] if events_ else None
            except (aiohttp.ClientError, TimeoutError):
                return 0, None
        return 429, None
    return list(await asyncio.gather(*(one(e) for e in events)))


def answers(replies: list[tuple[int, str | None]]) -> str:
    return ", ".join(f"{n} {status} {event or ''}".rstrip() for (status, event), n in Counter(replies).items())


async def until_accepted(session: aiohttp.ClientSession, url: str, headers: dict[str, str], event: dict[str, Any],
                         seconds: float) -> float | None:
    """Seconds until the event is answered 2xx, re-sent every 0.2 s (None: never within `seconds`)."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if (await post_all(session, url, headers, [event]))[0][0] == 202:
            return time.monotonic() - start
        await asyncio.sleep(0.2)
    return None


async def test_intake_duplicate_guard_recovers_from_a_redis_restart(fault_stack, services, size, results):
    intake = await start_intake(services, fault_stack)
    headers = {**intake.auth(), "Content-Type": SINGLE}
    seeded = Seeded(51, "redis")
    first = [discharge(subject=seeded.resident_id(), event_id=f"e-redis-first-{n:05d}")
             for n in range(size.redis_events)]
    during = [discharge(subject=seeded.resident_id(), event_id=f"e-redis-during-{n:05d}")
              for n in range(size.redis_events)]
    probe = discharge(subject=seeded.resident_id(), event_id="e-redis-probe")
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        before = await post_all(session, intake.url, headers, first)
        await asyncio.to_thread(fault_stack.stop_redis)
        outage = await post_all(session, intake.url, headers, during)
        await asyncio.to_thread(fault_stack.start_redis)
        recovery = await until_accepted(session, intake.url, headers, probe, RECOVERY_LIMIT_SECONDS)
        resent = await post_all(session, intake.url, headers, first)
        retried = await post_all(session, intake.url, headers, during)
        await asyncio.to_thread(fault_stack.wipe_redis)
        # Intake answers 503 with Retry-After while it rebuilds its window from assist.events; a client re-sends.
        rebuilt = await until_accepted(session, intake.url, headers, first[0], RECOVERY_LIMIT_SECONDS)
        after_wipe = await post_all(session, intake.url, headers, first)

    on_topic = Counter(header(r.headers, "ce_id") for r in await read_topic(fault_stack.bootstrap, EVENTS.name))
    mine = {e["id"] for e in first + during}
    accepted = {e["id"] for e, (status, _) in zip(first, before, strict=True) if status == 202} | \
               {e["id"] for e, (status, _) in zip(during, retried, strict=True) if status == 202}
    outage_statuses = Counter(s for s, _ in outage)
    twice_before_wipe = sum(1 for e in first if on_topic[e["id"]] > 2) + sum(1 for e in during if on_topic[e["id"]] > 1)
    republished_after_wipe = sum(1 for e in first if on_topic[e["id"]] == 2)
    outcome = results.add(Outcome(
        "b intake, Redis restart+wipe", f"{len(first)} events, {len(during)} during the outage, re-sent after",
        "503 during; 202 after; re-sent = duplicate, also after the wipe",
        f"during {dict(outage_statuses)}; re-sent after restart: {answers(resent)}; after wipe: "
        f"{republished_after_wipe} published again (window back in "
        f"{'-' if rebuilt is None else f'{rebuilt:.1f}'} s)",
        lost=len(accepted - set(on_topic)), extra=len({i for i in on_topic if i} & mine - accepted),
        duplicates=twice_before_wipe, recovery_seconds=recovery,
        details={"after_wipe_statuses": dict(Counter(st for _, st in after_wipe)),
                 "republished_after_wipe": republished_after_wipe, "window_rebuilt_seconds": rebuilt}))
    outcome.check(all(s == 202 for s, _ in before), "events before the outage were not all accepted")
    outcome.check(set(outage_statuses) <= {503}, f"answers during the outage other than 503: {dict(outage_statuses)}")
    outcome.check(recovery is not None, f"no 202 within {RECOVERY_LIMIT_SECONDS:.0f} s of Redis answering again")
    outcome.check(all(s == 202 and st == "duplicate" for s, st in resent),
                  f"events re-sent once Redis answered again (and intake had accepted one) were not all answered "
                  f"as duplicates: {answers(resent)}")
    outcome.check(all(s == 202 for s, _ in retried), "events refused during the outage were not accepted after it")
    outcome.check(twice_before_wipe == 0, f"{twice_before_wipe} events published twice before the wipe")
    outcome.check(outcome.lost == 0, f"{outcome.lost} accepted events are not on {EVENTS.name}")
    outcome.check(rebuilt is not None, f"no 202 within {RECOVERY_LIMIT_SECONDS:.0f} s of the wipe")
    outcome.check(all(s == 202 and st == "duplicate" for s, st in after_wipe),
                  f"events re-sent after the wipe were not all answered as duplicates: {answers(after_wipe)}")
    outcome.check(republished_after_wipe == 0, f"{republished_after_wipe} events published again after the wipe")
    assert not outcome.failures, "; ".join(outcome.failures) + "\n" + intake.service.tail()


CASEWORKER = staff("faults-cw", "caseworker", [DISTRICT])


async def act(session: aiohttp.ClientSession, url: str, token: str, task_id: str, command: str,
              body: dict[str, Any] | None = None) -> int:
    for _ in range(RATE_LIMITED_RETRIES):  # a caseworker's client waits when told to (429 with Retry-After)
        async with session.post(f"{url}/api/v1/tasks/{task_id}/{command}", json=body,
                                headers={"Authorization": f"Bearer {token}"}) as response:
            await response.read()
            if response.status != 429:
                return response.status
            await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
    return 429


async def wait_held(redis, ids: list[str], seconds: float) -> dict[str, str]:
    held = await statuses(redis, ids)
    deadline = time.monotonic() + seconds
    while len(held) < len(ids) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        held = await statuses(redis, ids)
    return held


async def test_casework_queues_come_back_from_the_topics_after_a_wipe(fault_stack, services, fault_settings, size,
                                                                      results):
    worker: Service = await start_casework_worker(services, "casework-redis")
    _, api = await start_casework_api(services, "casework-api-redis")
    token = StaffTokens(fault_settings.staff_token_key).issue(CASEWORKER)
    seeded = Seeded(53, "cw-redis")
    tasks = [seeded.task(n) for n in range(size.casework_tasks)]
    later = [seeded.task(size.casework_tasks + n) for n in range(size.casework_tasks // 5)]
    ids, later_ids = [t["task_id"] for t in tasks], [t["task_id"] for t in later]
    redis = fault_stack.redis_async()
    try:
        await publish_tasks(fault_stack.bootstrap, tasks)
        taken = await wait_held(redis, ids, 60)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            answers = Counter()
            for task_id in ids[: len(ids) // 3]:
                answers[await act(session, api, token, task_id, "claim")] += 1
                answers[await act(session, api, token, task_id, "decide", {"action": "approve"})] += 1
            for task_id in ids[len(ids) // 3: len(ids) // 2]:
                answers[await act(session, api, token, task_id, "claim")] += 1
        for _ in range(200):  # the outbox publisher sends every decision to assist.decisions
            if not await redis.xlen("assist:casework:outbox"):
                break
            await asyncio.sleep(0.1)
        before = await statuses(redis, ids)

        await asyncio.to_thread(fault_stack.stop_redis)
        await publish_tasks(fault_stack.bootstrap, later)  # the worker cannot write them yet
        await asyncio.sleep(2)
        await asyncio.to_thread(fault_stack.start_redis)
        through_outage = await wait_held(redis, later_ids, 60)

        wiped = time.monotonic()
        await asyncio.to_thread(fault_stack.wipe_redis)
        back = await wait_held(redis, ids + later_ids, 120)
        recovery = time.monotonic() - wiped
        rebuilt = await asyncio.to_thread(lambda: subprocess.run(
            [sys.executable, "-m", "services.casework", "rebuild"], env=fault_stack.env(), capture_output=True,
            text=True, timeout=300))
        after_rebuild = await statuses(redis, ids + later_ids)
    finally:
        await redis.aclose()

    lost = [t for t in ids + later_ids if t not in back]
    changed = [t for t in ids if back.get(t) != before.get(t)]
    outcome = results.add(Outcome(
        "b casework, Redis restart+wipe", f"{len(ids)} tasks ({len(ids) // 3} approved, "
        f"{len(ids) // 2 - len(ids) // 3} claimed), {len(later)} during the outage",
        "0 lost; states back after wipe",
        f"taken in {len(taken)}+{len(through_outage)}; back {len(back)}; states changed {len(changed)}; "
        f"CLI: {rebuilt.stdout.strip().split(' (')[0]}",
        lost=len(lost), extra=0, duplicates=0, recovery_seconds=recovery,
        details={"api_answers": dict(answers), "rebuild_rc": rebuilt.returncode}))
    outcome.check(len(taken) == len(ids), f"{len(ids) - len(taken)} tasks were never taken in")
    outcome.check(set(answers) == {200}, f"casework API answers: {dict(answers)}")
    outcome.check(len(through_outage) == len(later), f"{len(later) - len(through_outage)} tasks published during "
                  "the outage were never taken in")
    outcome.check(not lost, f"{len(lost)} tasks missing after the wipe")
    outcome.check(not changed, f"{len(changed)} tasks came back in another state, e.g. {changed[:3]}")
    outcome.check(rebuilt.returncode == 0 and after_rebuild == back,
                  f"the rebuild command failed or changed the view: {rebuilt.stderr[-500:]}")
    outcome.check(worker.running, "the casework worker exited")
    assert not outcome.failures, "; ".join(outcome.failures) + "\n" + worker.tail()


async def inbox_run(stack, services, size, redis) -> dict[str, Any]:
    gateway, mail = FlakySmsGateway(), FlakyMailServer()
    await gateway.start()
    await mail.start()
    prefix, group = "faults:inbox", "faults-inbox"
    work = Workload.seeded(57, "inbox", size.inbox_offers)
    for contact in work.contacts:
        contact["channels"] = ["INBOX"]
    half = len(work.offers) // 2
    try:
        await commit_group_at_end(stack.bootstrap, group, NOTIFICATION_INPUTS)
        worker = await start_notification_worker(services, "notification-inbox", group, sms_url=gateway.url,
                                                 smtp_port=mail.port, key_prefix=prefix)
        await work.publish_contacts(stack.bootstrap, redis, prefix)
        early, late = Workload(work.label, [], work.offers[:half]), Workload(work.label, [], work.offers[half:])
        await early.publish_offers(stack.bootstrap)
        await wait_reached(stack.bootstrap, early.offer_ids, timeout=60)
        await asyncio.to_thread(stack.stop_redis)
        await late.publish_offers(stack.bootstrap)
        await asyncio.sleep(2)
        await asyncio.to_thread(stack.start_redis)
        restarted = time.monotonic()
        found = await wait_reached(stack.bootstrap, work.offer_ids, timeout=90)
        recovery = time.monotonic() - restarted
        inbox = RedisInbox(redis, prefix)
        after_restart = {c["person_id"]: len(await inbox.items(c["person_id"])) for c in work.contacts}
        sends_before = gateway_and_mail_sends(gateway, mail)
        await asyncio.to_thread(stack.wipe_redis)
        wiped = time.monotonic()
        after_wipe: dict[str, int] = {}
        while time.monotonic() - wiped < 60:  # the worker notices the missing marker within a second and rebuilds
            after_wipe = {c["person_id"]: len(await inbox.items(c["person_id"])) for c in work.contacts}
            if sum(after_wipe.values()) >= len(work.offers):
                break
            await asyncio.sleep(0.5)
        rebuilt = time.monotonic() - wiped
        await asyncio.sleep(2)  # an item delivered again would show by now
        settled = {c["person_id"]: len(await inbox.items(c["person_id"])) for c in work.contacts}
    finally:
        await gateway.stop()
        await mail.stop()
    return {"offers": len(work.offers), "reached": len(found), "after_restart": sum(after_restart.values()),
            "after_wipe": sum(after_wipe.values()), "settled": sum(settled.values()), "rebuilt": rebuilt,
            "sends_before": sends_before, "sends": gateway_and_mail_sends(gateway, mail), "recovery": recovery,
            "running": worker.running,
            "log": worker.tail()}


async def test_notification_inboxes_survive_a_redis_restart(fault_stack, services, size, results):
    redis = fault_stack.redis_async()
    try:
        run = await inbox_run(fault_stack, services, size, redis)
    finally:
        await redis.aclose()
    outcome = results.add(Outcome(
        "b notification, Redis restart", f"{run['offers']} inbox offers, half during the outage",
        "every offer in its inbox after restart",
        f"reached {run['reached']}; inbox items {run['after_restart']}",
        lost=run["offers"] - run["after_restart"], extra=max(0, run["after_restart"] - run["offers"]),
        recovery_seconds=run["recovery"]))
    outcome.check(run["reached"] == run["offers"], f"{run['offers'] - run['reached']} offers reached nobody")
    outcome.check(run["after_restart"] == run["offers"], "inbox items missing after the restart")
    outcome.check(run["running"], "the notification worker exited")
    wipe = results.add(Outcome(
        "b notification, Redis wipe", f"{run['offers']} inbox items, then FLUSHALL",
        "inboxes rebuilt from the topics, nothing delivered twice",
        f"inbox items back: {run['after_wipe']} in {run['rebuilt']:.1f} s, {run['settled']} 2 s later; "
        f"provider requests {run['sends_before']} before, {run['sends']} after",
        lost=run["offers"] - run["settled"], extra=max(0, run["settled"] - run["offers"]),
        recovery_seconds=run["rebuilt"]))
    wipe.check(run["settled"] == run["offers"], f"{run['offers'] - run['settled']} inbox items lost to the wipe")
    wipe.check(run["sends"] == run["sends_before"], "a provider was asked to send again after the wipe")
    assert not outcome.failures and not wipe.failures, \
        "; ".join(outcome.failures + wipe.failures) + "\n" + run["log"]


def gateway_and_mail_sends(gateway: FlakySmsGateway, mail: FlakyMailServer) -> int:
    """Requests the SMS gateway and the SMTP server received."""
    return sum(gateway.sent.delivered.values()) + gateway.sent.failed + sum(mail.sent.delivered.values()) \
        + mail.sent.failed
