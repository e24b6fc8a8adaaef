"""Reads what the outcome figures need from the topics, up to their ends at the start: offers and tasks (decoded),
decisions (decoded), and of assist.events only the CloudEvents headers (id, type, time), never the bodies."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from services.core.codec import Contract, decode_record, header
from services.core.history import HistoryReader
from services.core.topics import DECISIONS, EVENTS, OFFERS, TASKS, Topic
from services.outcomes.domain.figures import DecisionSeen, EventSeen, OfferSeen, Outcomes, TaskSeen, outcomes

log = logging.getLogger(__name__)
T = TypeVar("T")


def _ms(value: dt.datetime) -> int:
    return int(value.timestamp() * 1000)


def offer_seen(value: dict[str, Any], change: str | None = None) -> OfferSeen:
    return OfferSeen(value["offer_id"], value["policy_id"], value["district"], _ms(value["created_at"]),
                     value.get("trigger_event_id"), change or value.get("change") or "NEW")


def _task(value: dict[str, Any]) -> TaskSeen:
    change = value.get("change") or "NEW"
    offer = offer_seen(value["offer"], change) if value.get("offer") else None
    return TaskSeen(value["task_id"], value["district"], _ms(value["created_at"]), value.get("risk_tier"), offer,
                    change)


def _decision(value: dict[str, Any]) -> DecisionSeen:
    return DecisionSeen(value["action"], value.get("task_id"), value.get("offer_id"), _ms(value["at"]))


async def _read(history: HistoryReader, topic: Topic, contract: Contract, record_name: str,
                seen: Callable[[dict[str, Any]], T], skipped: list[int], since_ms: int | None) -> list[T]:
    found = []
    start = None if since_ms is None else await history.offsets_since(topic, since_ms)
    async for record in history.records(topic, start):
        try:
            found.append(seen(decode_record(contract, record_name, record.value)))
        except Exception:  # fastavro raises several types on garbled bodies; never quote the payload
            skipped[0] += 1
    return found


async def read_outcomes(bootstrap: str, contract: Contract, since: dt.datetime | None = None) -> Outcomes:
    """The outcome figures of everything on the topics now (of what was written at or after `since`, if given).
    A record that cannot be decoded is left out and counted in the log (its consumers dead-letter it)."""
    skipped = [0]
    since_ms = None if since is None else _ms(since)
    async with HistoryReader(bootstrap, (OFFERS, TASKS, DECISIONS, EVENTS), "assist-outcomes") as history:
        offers = await _read(history, OFFERS, contract, "offer", offer_seen, skipped, since_ms)
        tasks = await _read(history, TASKS, contract, "caseworker_task", _task, skipped, since_ms)
        decisions = await _read(history, DECISIONS, contract, "decision", _decision, skipped, since_ms)
        events = []
        async for record in history.records(EVENTS, None if since_ms is None
                                            else await history.offsets_since(EVENTS, since_ms)):
            event_id, type_ = header(record.headers, "ce_id"), header(record.headers, "ce_type")
            if event_id and type_:
                events.append(EventSeen(event_id, type_, int(record.timestamp)))
    if skipped[0]:
        log.warning("outcomes: %d records could not be decoded and were left out", skipped[0])
    return outcomes(offers, tasks, decisions, events)
