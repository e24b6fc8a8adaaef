"""What one send attempt can come to, and what follows: retry with backoff, the next channel, or a caseworker."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from services.notification.domain.plan import EVERY_CHANNEL_FAILED, DeliveryState

BACKOFF_CAP_SECONDS = 300.0


class Outcome(enum.Enum):
    ACCEPTED = "accepted"
    """The provider took the message."""
    TRANSIENT = "transient"
    """Not taken, worth retrying (connection refused, 5xx, 429, SMTP 4xx)."""
    PERMANENT = "permanent"
    """Not taken and retrying cannot help (invalid address, SMTP 5xx, 4xx other than 408/429)."""
    UNKNOWN = "unknown"
    """Interrupted after the message left: the provider may or may not have taken it."""


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    detail: str = ""
    """Status code or error class only: never an address or provider text that might echo one."""


ACCEPTED = SendResult(Outcome.ACCEPTED)


@dataclass(frozen=True)
class Transition:
    """After a failed attempt: the status to publish (RETRYING, FELL_BACK or FAILED), the new state, and whether
    the next step waits for a backoff delay."""

    status: str
    state: DeliveryState
    wait: bool


def after_failure(state: DeliveryState, outcome: Outcome, idempotent: bool, max_attempts: int) -> Transition:
    """Retry transient failures up to `max_attempts`, then move to the next channel; move on at once after a
    permanent failure, or after an unknown outcome on a channel whose provider cannot deduplicate (repeating it
    could deliver the message twice). With no channel left, a caseworker delivers in person."""
    retryable = outcome is Outcome.TRANSIENT or (outcome is Outcome.UNKNOWN and idempotent)
    if retryable and state.attempt < max_attempts:
        return Transition("RETRYING", replace(state, attempt=state.attempt + 1), wait=True)
    moved = replace(state, index=state.index + 1, attempt=1)
    if moved.channel is not None:
        return Transition("FELL_BACK", moved, wait=False)
    if not moved.in_person_done:
        moved = replace(moved, in_person_reason=EVERY_CHANNEL_FAILED)
    return Transition("FAILED", moved, wait=False)


def backoff_seconds(attempt: int, base: float, fraction: float, cap: float = BACKOFF_CAP_SECONDS) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2^(attempt-1))); `fraction` is the
    uniform draw in [0, 1), passed in so the rule stays deterministic to test. `attempt` is the one that failed."""
    return fraction * min(cap, base * 2.0 ** max(0, attempt - 1))
