"""What a household has pending, receives and declined, per (policy, beneficiary).

A member-scope policy is offered, tracked, declined and received per member; a household-scope one per household.
Both are named by a *benefit key*: the policy id alone for the household, `policy@person` for a member; a one-off
benefit (benefit_period: event) adds its need, `policy#need` or `policy@person#need`, so each need has its own
offer, whatever other need of the same policy is pending or was received (domain/household/needs.py). A bare
policy id of a member-scope policy (written before keys named members, or listed by the registry without a
beneficiary) stands for the whole household: it covers every member.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

_SEPARATOR = "@"
_NEED = "#"


def benefit_key(policy_id: str, person_id: str | None, need: str | None = None) -> str:
    """The key of a policy for a member (person_id) or for the household (None), for one need of a one-off
    benefit."""
    key = policy_id if person_id is None else f"{policy_id}{_SEPARATOR}{person_id}"
    return key if need is None else f"{key}{_NEED}{need}"


def policy_of(key: str) -> str:
    return key.split(_NEED, 1)[0].split(_SEPARATOR, 1)[0]


def beneficiary_of(key: str) -> str | None:
    """The member a key names, None for the household (or the whole household)."""
    parts = key.split(_NEED, 1)[0].split(_SEPARATOR, 1)
    return parts[1] if len(parts) == 2 else None


def derived_id(prefix: str, *parts: str) -> str:
    """An id derived from what a record is about, so the same facts evaluated twice yield the same id."""
    return prefix + hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


def offer_id_of(beneficiary: str, policy_id: str, benefit_period: str) -> str:
    """offer id = hash(beneficiary, policy, benefit period); the beneficiary is a person id or the household id."""
    return derived_id("o-", beneficiary, policy_id, benefit_period)


def offered_again_id(decided: Item) -> str:
    """The id of an offer made again for a benefit key after the citizen declined or a caseworker rejected its
    offer and the facts changed: a new id, because a decision ends an id for good (casework keeps a decided task
    decided, the citizen's answer stands, and a second NEW of a known id is a duplicate to every consumer),
    derived from the decided id and its last revision so that the same history gives the same id."""
    return derived_id("o-", decided.offer_id, "offered again after a decision", str(decided.revision))


def task_id_of(subject_id: str, kind: str) -> str:
    """task id = hash(offer or warning or review subject, task kind)."""
    return derived_id("t-", subject_id, kind)


@dataclass(frozen=True)
class Item:
    """The offer last sent for a benefit key, pending or received: what a revision or withdrawal refers to.

    `revision` counts the revisions sent (0: only the first offer); `summary`, `computation` and `facts` are those
    of the explanation last sent, so a revision can show the previous one; `due_at` is the verification task's
    deadline (seconds since the epoch; 0 for a direct offer), which a revision keeps. `withdrawn`: the offer was
    withdrawn; offering the key again reinstates the same id with the next revision (offers.reinstated_output).
    """

    offer_id: str
    amount_fen: int | None
    route: str
    benefit_period: str
    revision: int = 0
    summary: str = ""
    computation: str | None = None
    facts: Mapping[str, str] = field(default_factory=dict)
    due_at: int = 0
    withdrawn: bool = False


@dataclass(frozen=True)
class Review:
    """An exit review raised for a received benefit: its task, the facts it was raised on, whether it is open.
    `withdrawn`: its task was withdrawn (the household qualified again), so it holds nothing back; `spent`: the ids
    of this key's review tasks withdrawn or decided, which a review raised again never takes (casework keeps such a
    task as it is)."""

    task_id: str
    fingerprint: str
    open: bool = True
    withdrawn: bool = False
    spent: tuple[str, ...] = ()


def item_row(item: Item) -> list[object]:
    return [item.offer_id, item.amount_fen, item.route, item.benefit_period, item.revision, item.summary,
            item.computation, dict(item.facts), item.due_at, *([1] if item.withdrawn else [])]


def item_of(row: list[object]) -> Item:
    offer_id, amount, route, period, revision, summary, computation, facts, due, *withdrawn = row
    return Item(str(offer_id), None if amount is None else int(str(amount)), str(route), str(period),
                int(str(revision)), str(summary), None if computation is None else str(computation),
                {str(k): str(v) for k, v in dict(facts).items()} if isinstance(facts, dict) else {},
                int(str(due)), bool(withdrawn and withdrawn[0]))


def review_row(review: Review) -> list[object]:
    extra = [int(review.withdrawn), list(review.spent)] if review.withdrawn or review.spent else []
    return [review.task_id, review.fingerprint, int(review.open), *extra]


def review_of(row: list[object]) -> Review:
    task_id, fingerprint, is_open, *extra = row
    withdrawn, spent = (bool(extra[0]), tuple(str(i) for i in extra[1])) if len(extra) == 2 \
        and isinstance(extra[1], list) else (False, ())
    return Review(str(task_id), str(fingerprint), bool(is_open), withdrawn, spent)
