"""After a failed attempt: retry with full-jitter backoff, the next channel, or a caseworker."""

from __future__ import annotations

from dataclasses import replace

from services.notification.domain.attempts import Outcome, after_failure, backoff_seconds
from services.notification.domain.contact import Channel
from services.notification.domain.plan import EVERY_CHANNEL_FAILED, plan_delivery
from tests.unit.notification.offers import contact, offer

STATE = plan_delivery(offer(), contact())


def test_transient_failure_is_retried_until_the_last_attempt_then_falls_back():
    first = after_failure(STATE, Outcome.TRANSIENT, idempotent=True, max_attempts=3)
    assert (first.status, first.state.attempt, first.wait) == ("RETRYING", 2, True)
    last = after_failure(replace(STATE, attempt=3), Outcome.TRANSIENT, idempotent=True, max_attempts=3)
    assert (last.status, last.state.channel, last.state.attempt, last.wait) == ("FELL_BACK", Channel.EMAIL, 1, False)


def test_permanent_failure_falls_back_at_once():
    moved = after_failure(STATE, Outcome.PERMANENT, idempotent=True, max_attempts=4)
    assert moved.status == "FELL_BACK" and moved.state.channel is Channel.EMAIL


def test_unknown_outcome_is_retried_only_where_the_provider_deduplicates():
    assert after_failure(STATE, Outcome.UNKNOWN, idempotent=True, max_attempts=4).status == "RETRYING"
    email = replace(STATE, index=1)
    moved = after_failure(email, Outcome.UNKNOWN, idempotent=False, max_attempts=4)
    assert moved.status == "FELL_BACK" and moved.state.channel is Channel.INBOX


def test_last_channel_failing_hands_the_notice_to_a_caseworker():
    last = replace(STATE, index=2, attempt=4)
    failed = after_failure(last, Outcome.TRANSIENT, idempotent=True, max_attempts=4)
    assert failed.status == "FAILED" and failed.state.channel is None
    assert failed.state.in_person_reason == EVERY_CHANNEL_FAILED and not failed.state.in_person_done


def test_a_caseworker_already_sent_is_not_sent_again_when_channels_fail():
    visited = replace(STATE, index=2, attempt=4, in_person_reason="x", in_person_done=True)
    failed = after_failure(visited, Outcome.PERMANENT, idempotent=True, max_attempts=4)
    assert failed.status == "FAILED" and failed.state.in_person_done


def test_backoff_doubles_its_ceiling_with_full_jitter_and_a_cap():
    assert backoff_seconds(1, 2.0, 0.999) < 2.0
    assert backoff_seconds(3, 2.0, 0.5) == 4.0
    assert backoff_seconds(4, 2.0, 0.0) == 0.0
    assert backoff_seconds(30, 2.0, 0.5, cap=300.0) == 150.0
