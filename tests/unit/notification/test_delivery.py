"""The delivery service layer on in-memory ports: one message per offer and channel, retries, fallback, quiet
hours, opt-out, caseworkers in person, and what a step does after its worker died mid-way."""

from __future__ import annotations

import datetime as dt

from prometheus_client import CollectorRegistry

from services.notification.delivery import Delivery
from services.notification.domain.attempts import Outcome, SendResult
from services.notification.domain.contact import Channel
from services.notification.domain.ids import in_person_task_id, notification_id
from services.notification.domain.link import Signer
from services.notification.metrics import NotificationMetrics
from services.notification.rendering import MessageTemplates
from tests.unit.notification.memory_ports import Clock, MemoryContacts, MemoryJobs, MemoryLogs, ScriptedSender
from tests.unit.notification.offers import NOW, contact, offer

FAIL = SendResult(Outcome.TRANSIENT, "gateway HTTP 503")


class Rig:
    def __init__(self, **contact_fields):
        self.clock = Clock(NOW)
        self.jobs, self.logs = MemoryJobs(), MemoryLogs()
        self.contacts = MemoryContacts({"p1": contact(**contact_fields)} if contact_fields.get("person", True)
                                       else {})
        self.sms = ScriptedSender(Channel.SMS, idempotent=True)
        self.email = ScriptedSender(Channel.EMAIL, idempotent=False)
        self.inbox = ScriptedSender(Channel.INBOX, idempotent=True)
        self.delivery = Delivery(self.jobs, self.contacts, {s.channel: s for s in (self.sms, self.email, self.inbox)},
                                 self.logs, self.logs, MessageTemplates(), Signer("k"), "https://assist.example",
                                 NotificationMetrics(CollectorRegistry()), max_attempts=3, retry_base_seconds=2.0,
                                 draw=lambda: 0.5, clock=self.clock)

    async def run(self, value=None, until: dt.datetime | None = None) -> None:
        """Add the offer, then run every step that comes due, moving the clock, until nothing is scheduled."""
        await self.jobs.add(value or offer(), "p1", False, self.clock.now)
        while self.jobs.due and (until is None or min(self.jobs.due.values()) <= until):
            self.clock.now = max(self.clock.now, min(self.jobs.due.values()))
            for offer_id in await self.jobs.claim_due(self.clock.now, 10, 90):
                await self.delivery.step(offer_id)


async def test_offer_goes_once_on_the_first_preferred_channel():
    rig = Rig()
    await rig.run()
    assert rig.sms.sent == [("+8613800000001", notification_id("o-employme", "SMS"))]
    assert rig.logs.trail() == [("SMS", "SENT", 1)]
    assert not rig.email.sent and not rig.inbox.sent


async def test_gateway_failures_are_retried_with_backoff_then_the_next_channel_is_used():
    rig = Rig()
    rig.sms.script = [FAIL, FAIL, FAIL]
    await rig.run()
    assert rig.logs.trail() == [("SMS", "RETRYING", 1), ("SMS", "RETRYING", 2), ("SMS", "FELL_BACK", 3),
                                ("EMAIL", "SENT", 1)]
    assert len(rig.sms.sent) == 3 and len(rig.email.sent) == 1
    assert rig.clock.now == NOW + dt.timedelta(seconds=0.5 * 2 + 0.5 * 4)


async def test_every_channel_failing_ends_with_a_caseworker_delivering_in_person():
    rig = Rig(channels=["SMS"])
    rig.sms.script = [SendResult(Outcome.PERMANENT, "gateway HTTP 400")]
    await rig.run()
    assert rig.logs.trail() == [("SMS", "FAILED", 1), ("VISIT", "SENT", 1)]
    (task,) = rig.logs.tasks
    assert task["task_id"] == in_person_task_id("o-employme") and task["kind"] == "DELIVER_IN_PERSON"
    assert task["district"] == "510107" and "every channel failed" in task["reason"]


async def test_quiet_hours_defer_then_send_when_they_end():
    rig = Rig(quiet_from="11:00", quiet_until="13:00")
    await rig.run()
    assert rig.logs.trail() == [("SMS", "DEFERRED", 1), ("SMS", "SENT", 1)]
    assert rig.clock.now == dt.datetime(2026, 11, 20, 5, 0, tzinfo=dt.UTC)


async def test_opted_out_person_is_not_messaged_about_a_non_critical_offer():
    rig = Rig(opted_out_non_critical=True)
    await rig.run()
    assert rig.logs.trail() == [("SMS", "SUPPRESSED", 1)]
    assert not rig.sms.sent and not rig.logs.tasks


async def test_person_without_contact_details_gets_a_caseworker():
    rig = Rig(person=False)
    await rig.run()
    assert rig.logs.trail() == [("VISIT", "SENT", 1)]
    assert rig.logs.tasks[0]["person_id"] == "p1"


async def test_step_repeated_after_the_provider_accepted_and_sent_was_recorded_sends_nothing_new():
    rig = Rig()
    await rig.jobs.add(offer(), "p1", False, NOW)
    await rig.jobs.mark_sent(notification_id("o-employme", "SMS"), NOW)  # the worker died before the status
    await rig.run()
    assert not rig.sms.sent
    assert rig.logs.trail() == [("SMS", "SENT", 1)]


async def test_interrupted_sms_is_sent_again_with_the_same_key_for_the_gateway_to_drop():
    rig = Rig()
    await rig.jobs.add(offer(), "p1", False, NOW)
    await rig.jobs.claim_send(notification_id("o-employme", "SMS"), NOW, 60)  # a worker died mid-send
    rig.clock.now = NOW + dt.timedelta(minutes=5)
    await rig.run()
    assert rig.sms.sent == [("+8613800000001", notification_id("o-employme", "SMS"))]
    assert rig.logs.trail() == [("SMS", "SENT", 1)]


async def test_interrupted_email_is_never_sent_twice_the_next_channel_takes_over():
    rig = Rig(channels=["EMAIL", "INBOX"])
    await rig.jobs.add(offer(), "p1", False, NOW)
    await rig.jobs.claim_send(notification_id("o-employme", "EMAIL"), NOW, 60)  # a worker died mid-DATA
    rig.clock.now = NOW + dt.timedelta(minutes=5)
    await rig.run()
    assert not rig.email.sent
    assert rig.logs.trail() == [("EMAIL", "FELL_BACK", 1), ("INBOX", "SENT", 1)]


async def test_a_send_under_way_elsewhere_is_left_alone():
    rig = Rig()
    await rig.jobs.add(offer(), "p1", False, NOW)
    await rig.jobs.claim_send(notification_id("o-employme", "SMS"), NOW, 60)
    await rig.run(until=NOW)
    assert not rig.sms.sent and not rig.logs.statuses


async def test_a_redelivered_offer_adds_no_second_job():
    rig = Rig()
    await rig.run()
    assert not await rig.jobs.add(offer(), "p1", False, NOW)
    await rig.run()
    assert len(rig.sms.sent) == 1
