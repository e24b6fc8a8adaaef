"""What a rebuild takes from assist.notifications: which (offer, channel) was sent, which offers are done, and
which e-mails must never be repeated."""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.notification.domain.delivered import delivered_offers

AT = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
IDEMPOTENT = {"SMS": True, "INBOX": True, "EMAIL": False, "VISIT": False}


def status(offer_id: str, channel: str, value: str, minutes: int = 0) -> dict[str, Any]:
    return {"offer_id": offer_id, "channel": channel, "status": value, "at": AT + dt.timedelta(minutes=minutes)}


def test_a_sent_offer_is_done_and_keeps_its_first_delivery_time() -> None:
    offers = delivered_offers([status("o1", "INBOX", "SENT", 0), status("o1", "INBOX", "SENT", 5)])
    assert offers["o1"].final and offers["o1"].sent == {"INBOX": AT}


def test_retrying_and_deferred_offers_are_not_done() -> None:
    offers = delivered_offers([status("o1", "SMS", "RETRYING"), status("o2", "EMAIL", "DEFERRED")])
    assert not offers["o1"].final and not offers["o2"].final
    assert not offers["o1"].sent and not offers["o2"].sent


def test_a_suppressed_offer_is_done_without_a_send() -> None:
    offers = delivered_offers([status("o1", "SMS", "SUPPRESSED")])
    assert offers["o1"].final and not offers["o1"].sent


def test_an_email_given_up_on_is_never_repeated_but_an_sms_may_be() -> None:
    offers = delivered_offers([status("o1", "EMAIL", "FELL_BACK"), status("o1", "SMS", "FAILED")])
    assert offers["o1"].not_to_repeat(IDEMPOTENT) == {"EMAIL"}
    assert not offers["o1"].final


def test_a_channel_sent_after_giving_up_once_is_not_marked_unknown() -> None:
    offers = delivered_offers([status("o1", "EMAIL", "FELL_BACK"), status("o1", "EMAIL", "SENT", 1)])
    assert offers["o1"].not_to_repeat(IDEMPOTENT) == set()
    assert offers["o1"].final


def test_a_caseworker_visit_ends_the_delivery() -> None:
    offers = delivered_offers([status("o1", "SMS", "FAILED"), status("o1", "VISIT", "SENT")])
    assert offers["o1"].final and set(offers["o1"].sent) == {"VISIT"}
