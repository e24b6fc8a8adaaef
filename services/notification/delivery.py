"""Delivery, the service layer that takes an offer to a person: plan, then one step at a time (suppress, defer,
hand to a caseworker, send, retry, fall back), each step recorded in the job store before the next is taken.

Crash safety, step by step:
- a job is stored before the offer's Kafka offset is committed, and stored once (a redelivered offer adds nothing);
- a step runs under a lease: if its worker dies the job comes due again and the step is repeated;
- before a provider call the notification is claimed as being sent ('sending:<ms>'); after the provider accepts,
  'sent' is recorded before anything else, then the SENT status is published. A repeated step that finds 'sent'
  only publishes the status again (statuses are at-least-once: read them by notification id and attempt);
- the one window left is a worker dying after the provider accepted and before 'sent' is recorded (the time of one
  Redis write). The claim then stays 'sending' and goes stale; the next step cannot know whether the provider took
  the message. On a channel whose provider deduplicates by idempotency key (the SMS gateway, the inbox) it sends
  again with the same key and the provider drops the duplicate. On one that cannot (SMTP) it never repeats the
  send: it records the outcome as unknown and moves to the next channel, so a person may in that rare case get the
  notice on two channels, but never twice on the same one, and is never left without it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import replace

from services.core.logs import record_ids
from services.notification.domain.attempts import Outcome, SendResult, after_failure, backoff_seconds
from services.notification.domain.contact import Channel, Contact
from services.notification.domain.ids import notification_id
from services.notification.domain.in_person import delivery_task
from services.notification.domain.link import LINK_DAYS, Signer
from services.notification.domain.plan import (
    Defer,
    DeliverInPerson,
    DeliveryState,
    Finish,
    Send,
    Suppress,
    next_action,
    plan_delivery,
    plan_withdrawal_notice,
)
from services.notification.domain.revisions import Notice
from services.notification.metrics import NotificationMetrics
from services.notification.ports import (
    ChannelSender,
    ContactBook,
    DeliveryJobs,
    Job,
    Message,
    Messages,
    SendClaim,
    StatusLog,
    TaskLog,
)

log = logging.getLogger(__name__)
SEND_TIMEOUT_SECONDS = 30.0
"""A provider call is cut off after this long (outcome unknown); so a 'sending' claim older than twice this belongs
to a dead worker, and a step is leased for three times this."""
MAX_ACTIONS_PER_STEP = 8


class Delivery:
    def __init__(self, jobs: DeliveryJobs, contacts: ContactBook, senders: Mapping[Channel, ChannelSender],
                 statuses: StatusLog, tasks: TaskLog, messages: Messages, signer: Signer, link_base: str,
                 metrics: NotificationMetrics, max_attempts: int, retry_base_seconds: float,
                 send_timeout_seconds: float = SEND_TIMEOUT_SECONDS, draw: Callable[[], float] = random.random,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)):
        self._jobs, self._contacts, self._senders = jobs, contacts, senders
        self._statuses, self._tasks, self._messages = statuses, tasks, messages
        self._signer, self._link_base = signer, link_base.rstrip("/")
        self._metrics = metrics
        self._max_attempts, self._retry_base = max(1, max_attempts), retry_base_seconds
        self._send_timeout, self._draw, self._clock = send_timeout_seconds, draw, clock

    def idempotent(self, channel: Channel) -> bool:
        """Whether the channel's provider drops a repeated send (so an interrupted one may be repeated)."""
        sender = self._senders.get(channel)
        return sender is not None and sender.idempotent

    @property
    def lease_seconds(self) -> float:
        """How long a claimed job is left to its worker before it comes due again."""
        return 3 * self._send_timeout

    async def step(self, offer_id: str) -> None:
        """Take the job `offer_id` (a delivery id, Job.key) as far as it can go now; raises when a log or store is
        unreachable (the lease then brings the job back)."""
        job = await self._jobs.load(offer_id)
        if job is None or job.done:
            await self._jobs.drop(offer_id)
            return
        contact = await self._contacts.get(job.recipient)
        state = job.state or self.plan(job, contact)
        for _ in range(MAX_ACTIONS_PER_STEP):
            next_state = await self._act(job, state, contact)
            if next_state is None:
                return
            state = next_state
        await self._jobs.save(offer_id, state, self._clock())  # a long chain continues on the next step

    @staticmethod
    def plan(job: Job, contact: Contact | None) -> DeliveryState:
        """How the job's message goes: a withdrawal notice to the inbox only, anything else by the person's plan."""
        if job.notice is Notice.WITHDRAWN:
            return plan_withdrawal_notice(contact)
        return plan_delivery(job.offer, contact)

    async def _act(self, job: Job, state: DeliveryState, contact: Contact | None) -> DeliveryState | None:
        """Do the next action; return the state to continue with at once, or None when the job waits or is done."""
        now = self._clock()
        action = next_action(state, contact, now)
        if isinstance(action, Finish):
            await self._jobs.finish(job.key, state, told=state.in_person_done)
        elif isinstance(action, Suppress):
            await self._publish(job, action.channel, "SUPPRESSED", 1, "opted out of non-critical messages")
            self._metrics.suppressed()
            await self._jobs.finish(job.key, state)
        elif isinstance(action, Defer):
            await self._publish(job, action.channel, "DEFERRED", action.attempt,
                                f"quiet hours until {action.until.isoformat()}")
            self._metrics.deferred()
            await self._jobs.save(job.key, state, action.until, ready_at=action.until)
        elif isinstance(action, DeliverInPerson):
            return await self._in_person(job, state, action.reason, now)
        elif isinstance(action, Send):
            return await self._send(job, state, contact, action.channel, action.attempt)
        return None

    async def _in_person(self, job: Job, state: DeliveryState, reason: str, now: dt.datetime) -> DeliveryState:
        person = job.recipient if job.recipient != job.offer["household_id"] else None
        task = delivery_task(job.offer, person, reason, now)
        await self._tasks.publish_task(task)
        await self._publish(job, Channel.VISIT, "SENT", 1, f"caseworker task {task['task_id']}: {reason}")
        self._metrics.in_person(reason)
        log.info("notification handed to a caseworker (%s)", reason,
                 extra={**self._ids(job, Channel.VISIT, "SENT"), "task_id": task["task_id"]})
        done = replace(state, in_person_done=True)
        await self._jobs.save(job.key, done, self._clock() + dt.timedelta(seconds=self.lease_seconds))
        return done

    async def _send(self, job: Job, state: DeliveryState, contact: Contact | None, channel: Channel,
                    attempt: int) -> DeliveryState | None:
        sender = self._senders[channel]
        key = notification_id(job.key, channel.value)
        message = self.message(job, state, contact)
        claim = await self._jobs.claim_send(key, self._clock(), 2 * self._send_timeout)
        if claim is SendClaim.SENT:
            await self._sent(job, state, channel, attempt)
            return None
        if claim is SendClaim.BUSY:
            await self._jobs.save(job.key, state, self._clock() + dt.timedelta(seconds=self._send_timeout))
            return None
        address = contact.address(channel) if contact else None
        if address is None and channel is Channel.INBOX and job.notice is Notice.WITHDRAWN:
            address = job.recipient  # the inbox needs no contact detail: the page the offer was shown on
        if claim in (SendClaim.STALE, SendClaim.UNKNOWN) and not sender.idempotent:
            result = SendResult(Outcome.UNKNOWN, "an earlier send was interrupted; its outcome is unknown")
        elif address is None:
            result = SendResult(Outcome.PERMANENT, f"no consented {channel.value.lower()} detail")
        elif message is None:
            result = SendResult(Outcome.PERMANENT, "the message could not be rendered")
        else:
            result = await self._call(sender, address, message, key)
        if result.outcome is Outcome.ACCEPTED:
            await self._jobs.mark_sent(key, self._clock())
            await self._sent(job, state, channel, attempt)
            return None
        return await self._failed(job, state, channel, attempt, result, key, sender.idempotent)

    async def _call(self, sender: ChannelSender, address: str, message: Message, key: str) -> SendResult:
        try:
            async with asyncio.timeout(self._send_timeout):
                return await sender.send(address, message, key)
        except TimeoutError:
            return SendResult(Outcome.UNKNOWN, "the provider did not answer in time")

    async def _sent(self, job: Job, state: DeliveryState, channel: Channel, attempt: int) -> None:
        await self._publish(job, channel, "SENT", attempt, None)
        log.info("notification sent on %s, attempt %d", channel.value, attempt,
                 extra=self._ids(job, channel, "SENT"))
        self._metrics.sent(channel.value, (self._clock() - job.ready_at).total_seconds())
        await self._jobs.finish(job.key, state, told=True)

    async def _failed(self, job: Job, state: DeliveryState, channel: Channel, attempt: int, result: SendResult,
                      key: str, idempotent: bool) -> DeliveryState | None:
        if result.outcome is Outcome.UNKNOWN and not idempotent:
            await self._jobs.mark_unknown(key, self._clock())
        else:
            await self._jobs.release_send(key)
        transition = after_failure(state, result.outcome, idempotent, self._max_attempts)
        await self._publish(job, channel, transition.status, attempt, result.detail or None)
        self._metrics.failed(channel.value, transition.status)
        log.info("offer %s: %s on %s attempt %d (%s)", job.offer_id, transition.status, channel.value, attempt,
                 result.detail, extra=self._ids(job, channel, transition.status))
        if transition.wait:
            delay = backoff_seconds(attempt, self._retry_base, self._draw())
            await self._jobs.save(job.key, transition.state, self._clock() + dt.timedelta(seconds=delay))
            return None
        await self._jobs.save(job.key, transition.state, self._clock() + dt.timedelta(seconds=self.lease_seconds))
        return transition.state

    def message(self, job: Job, state: DeliveryState, contact: Contact | None) -> Message | None:
        """The message, or None when it cannot be rendered (a template or data fault: the channel is skipped, so the
        person is still reached another way, in the end by a caseworker)."""
        now = self._clock()
        try:
            token = self._signer.link_token(job.recipient, job.offer_id, now)
            zone = contact.zone() if contact else dt.UTC
            return self._messages.render(job.offer, state.language, f"{self._link_base}/c/{token}",
                                         now + dt.timedelta(days=LINK_DAYS), job.approved, zone, job.notice)
        except Exception:
            log.exception("offer %s: message not rendered", job.offer_id)
            return None

    @staticmethod
    def _ids(job: Job, channel: Channel, status: str) -> dict[str, str]:
        """The line's ids: the notification's, its offer's and the trace of the event behind the offer."""
        return {**record_ids("offer", job.offer), "notification_id": notification_id(job.key, channel.value),
                "channel": channel.value, "status": status}

    async def _publish(self, job: Job, channel: Channel, status: str, attempt: int, detail: str | None) -> None:
        await self._statuses.publish_statuses([{
            "notification_id": notification_id(job.key, channel.value), "offer_id": job.offer_id,
            "person_id": job.recipient, "channel": channel.value, "status": status, "attempt": attempt,
            "detail": detail, "at": self._clock(),
        }])
