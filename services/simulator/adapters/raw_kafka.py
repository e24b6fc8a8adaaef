"""Produces department events to assist.events.raw in CloudEvents Kafka binary mode (Avro body, ce_* headers).

The key is the event's source and id, never the identity number. An event that breaks the contract is still
produced as the department sent it, so the intake's raw path has something to dead-letter.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer

from services.core.codec import ATTRIBUTES, Contract, Event, Headers, encode_event, event_from_json
from services.core.conformance import ContractError, FieldError, conform
from services.core.topics import EVENTS_RAW
from services.simulator.pacing import Pacer


@dataclass(frozen=True)
class RawRecord:
    key: bytes
    value: bytes
    headers: Headers


def raw_record(contract: Contract, event: dict[str, Any]) -> RawRecord:
    """The Kafka record of a structured event: Avro of `data` and the CloudEvents binary-mode headers."""
    key = f"{event.get('source', '')}/{event.get('id', '')}".encode()
    try:
        value, headers = encode_event(contract, event_from_json(contract, event))
    except ContractError:
        value, headers = _as_sent(contract, event)
    return RawRecord(key, value, headers)


def _as_sent(contract: Contract, event: dict[str, Any]) -> tuple[bytes, Headers]:
    """Encode a contract-breaking event as faithfully as its content allows: Avro when its type is known and its
    data still has Avro's types (a grade out of range does), otherwise the data as JSON bytes."""
    event_type = contract.event_types.get(str(event.get("type")))
    if event_type is not None:
        ignored: list[FieldError] = []
        data = conform(event_type.schema, event.get("data"), "data", contract.named, ignored)
        try:
            time = dt.datetime.fromisoformat(str(event.get("time")).replace("Z", "+00:00"))
            return encode_event(contract, Event(
                id=str(event["id"]), source=str(event["source"]), type=event_type.name, time=time,
                subject=str(event["subject"]), data=data, dataschema=event_type.dataschema))
        except (KeyError, ValueError, TypeError, AttributeError):
            pass  # data or attributes unusable as Avro: fall through to JSON
    headers: Headers = [(f"ce_{name}", str(event[name]).encode()) for name in ATTRIBUTES
                        if name not in ("dataschema", "datacontenttype") and event.get(name) is not None]
    headers.append(("content-type", b"application/json"))
    return json.dumps(event.get("data")).encode(), headers


class RawEventProducer:
    """Produces structured events to assist.events.raw through a durable producer the caller started."""

    def __init__(self, producer: AIOKafkaProducer, contract: Contract, topic: str = EVENTS_RAW.name,
                 in_flight: int = 2_000):
        self._producer = producer
        self._contract = contract
        self._topic = topic
        self._in_flight = in_flight

    async def deliver(self, events: Iterable[dict[str, Any]], pacer: Pacer) -> int:
        """Produce every event at the pacer's rate; return the count once Kafka acknowledged them all."""
        pending: list[asyncio.Future[Any]] = []
        count = 0
        for event in events:
            await pacer.take()
            record = raw_record(self._contract, event)
            pending.append(await self._producer.send(self._topic, record.value, key=record.key,
                                                     headers=record.headers))
            count += 1
            if len(pending) >= self._in_flight:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
        return count

