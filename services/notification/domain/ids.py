"""Deterministic ids, so a record handled twice yields the same id and consumers keep one of each."""

from __future__ import annotations

import hashlib


def stable_id(prefix: str, *parts: str) -> str:
    """prefix + 24 hex of sha256 over the parts joined by '|' (the platform's id scheme)."""
    return prefix + hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


def notification_id(offer_id: str, channel: str) -> str:
    """hash(offer id, channel): one notification per offer and channel, also the provider's idempotency key."""
    return stable_id("n-", offer_id, channel)


def in_person_task_id(offer_id: str) -> str:
    """hash(offer id, kind) for the DELIVER_IN_PERSON caseworker task."""
    return stable_id("t-", offer_id, "DELIVER_IN_PERSON")


def answer_decision_id(offer_id: str, action: str) -> str:
    """The citizen answers an offer once: one decision id per offer and answer."""
    return stable_id("d-", offer_id, "citizen", action)
