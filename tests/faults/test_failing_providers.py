"""(c) The SMS gateway and the SMTP server each fail half of what they are sent: every offer still reaches its
person, and nothing is delivered twice (counted at the providers by offer and channel)."""

from __future__ import annotations

import time

from tests.faults.deployment import start_notification_worker
from tests.faults.notify import Workload, wait_reached
from tests.faults.outcome import Outcome
from tests.faults.providers import FlakyMailServer, FlakySmsGateway

FAILURE_RATE = 0.5


async def test_providers_failing_half_of_the_time_lose_nothing_and_send_nothing_twice(fault_stack, services, size,
                                                                                       results):
    gateway, mail = FlakySmsGateway(FAILURE_RATE, seed=11), FlakyMailServer(FAILURE_RATE, seed=12)
    await gateway.start()
    await mail.start()
    redis = fault_stack.redis_async()
    prefix = "faults:providers"
    work = Workload.seeded(31, "providers", size.provider_offers)
    try:
        worker = await start_notification_worker(
            services, "notification-providers", "faults-providers", sms_url=gateway.url, smtp_port=mail.port,
            key_prefix=prefix, ASSIST_NOTIFICATION_MAX_ATTEMPTS="8")
        await work.publish_contacts(fault_stack.bootstrap, redis, prefix)
        started = time.monotonic()
        await work.publish_offers(fault_stack.bootstrap)
        found = await wait_reached(fault_stack.bootstrap, work.offer_ids, timeout=60 + size.provider_offers / 2)
        seconds = time.monotonic() - started
    finally:
        await gateway.stop()
        await mail.stop()
        await redis.aclose()

    keys = work.first_channel_keys()
    delivered = set(gateway.sent.delivered) | set(mail.sent.delivered)
    on_two_channels = sum(len(channels) > 1 for channels in found.values())
    outcome = results.add(Outcome(
        "c providers fail 50%", f"{len(work.offers)} offers (half SMS, half e-mail)",
        "lost 0; sent twice 0",
        f"reached {len(found)}; SMS {len(gateway.sent.delivered)} (failed {gateway.sent.failed}), e-mail "
        f"{len(mail.sent.delivered)} (failed {mail.sent.failed}) in {seconds:.0f} s",
        lost=len(work.offer_ids - set(found)), extra=on_two_channels + len(delivered - set(keys)),
        duplicates=gateway.repeats + mail.sent.twice,
        details={"sms_repeats_absorbed": gateway.repeats, "mail_twice": mail.sent.twice,
                 "fell_back_to_inbox": len(set(keys) - delivered)}))
    outcome.check(outcome.lost == 0, f"{outcome.lost} offers reached nobody")
    outcome.check(mail.sent.twice == 0, f"{mail.sent.twice} e-mails delivered twice")
    outcome.check(gateway.sent.twice == 0, f"{gateway.sent.twice} SMS delivered twice")
    outcome.check(not delivered - set(keys), "a provider delivered a notification no offer asked for")
    outcome.check(worker.running, "the notification worker exited")
    assert not outcome.failures, "; ".join(outcome.failures) + "\n" + worker.tail()
