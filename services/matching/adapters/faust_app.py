"""Matching's faust app: topics, tables and agents, declared once in `build_app`.

    assist.events (by person) ──route_events_to_households──▶ assist.matching.households (by household)
    assist.registry ──keep_household_state──▶ assist.matching.membership (person → household)
    assist.registry, assist.decisions, assist.matching.households ──keep_household_state──▶ offers, tasks

All topics have 8 partitions and are keyed with the same partitioner, so a household's registry record,
decisions and events meet on one partition number, and faust assigns them to one worker together with the
tables' changelog partitions. Agents are thin: decode, call the Matcher, publish what it returns.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import faust
from prometheus_client import generate_latest

from services.core.codec import decode_event, decode_record
from services.core.conformance import ContractError
from services.core.settings import Settings
from services.core.topics import (
    DECISIONS,
    EVENTS,
    EVENTS_DLQ,
    MATCHING_INBOX,
    MATCHING_MEMBERSHIP,
    OFFERS,
    REGISTRY,
    TASKS,
)
from services.matching.adapters.read_cache import ReadCache
from services.matching.adapters.stored import StoredHousehold, dead_letter_headers, unwait, waiting_entry
from services.matching.handler import Result
from services.matching.metrics import priority_band
from services.matching.runtime import MatchingRuntime

log = logging.getLogger(__name__)
RAW: dict[str, Any] = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"}
KIND = "assist_kind"
WAITING_MAX = 20  # events held per person the registry has not introduced yet; later ones are dead-lettered
PROMETHEUS_TEXT = "text/plain; version=0.0.4"  # aiohttp sets the charset itself


def build_app(settings: Settings, runtime: MatchingRuntime) -> faust.App:
    app = faust.App(
        settings.matching_app_id,
        broker=f"kafka://{settings.kafka_bootstrap}",
        store=settings.matching_store,
        datadir=str(settings.data_dir / "matching"),
        web_host=settings.matching_web_host,
        web_port=settings.matching_web_port,
        web_bind=settings.matching_web_host,
        topic_replication_factor=1,
        topic_partitions=8,
        producer_acks=-1,
        consumer_auto_offset_reset="earliest",
        processing_guarantee="at_least_once",
        table_cleanup_interval=3600,
        # A crashed worker's partitions move on after 10 s rather than faust's default minute.
        broker_session_timeout=10.0,
        broker_heartbeat_interval=3.0,
        key_serializer="raw",
        value_serializer="json",
    )
    events = app.topic(EVENTS.name, **RAW)
    household_inputs = app.topic(REGISTRY.name, DECISIONS.name, MATCHING_INBOX.name, **RAW)
    inbox = app.topic(MATCHING_INBOX.name, **RAW)
    outputs = {t.name: app.topic(t.name, **RAW) for t in (OFFERS, TASKS, MATCHING_MEMBERSHIP)}
    dlq = app.topic(EVENTS_DLQ.name, **RAW)

    # Keys are raw bytes (ids); households and waiting hold JSON, memberships raw household ids.
    households = app.Table("households", partitions=8, key_type=bytes)
    memberships = app.Table("memberships", partitions=8, key_type=bytes, value_type=bytes)
    waiting = app.Table("waiting", partitions=8, key_type=bytes)
    runtime.households = households
    # Person → household as the index agent last wrote it, so routing an event costs no table read (read_cache).
    known_households: ReadCache[bytes, bytes | None] = ReadCache(500_000)

    @app.agent(events)
    async def route_events_to_households(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
        async for event in stream.events():
            person = event.key
            household = known_households.get(person, memberships.get)
            if household:
                await inbox.send(key=household, value=event.value, headers=_headers(event, "event"))
                yield None
                continue
            held = waiting.get(person, [])
            if len(held) >= WAITING_MAX:
                await dlq.send(key=None, value=event.value, headers=dead_letter_headers(
                    event.message, f"person not in the registry after {WAITING_MAX} events; replay when it is"))
                runtime.metrics.dead_lettered.labels("unregistered").inc()
            else:
                waiting[person] = [*held, waiting_entry(event.value, event.message.headers)]
                runtime.metrics.waiting.inc()
            yield None

    @app.agent(outputs[MATCHING_MEMBERSHIP.name])
    async def index_memberships(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
        async for event in stream.events():
            person, household = event.key, event.value
            known_households.put(person, household or None)
            if not household:
                memberships.pop(person, None)
            else:
                memberships[person] = household
                for value, headers in unwait(waiting.pop(person, [])):
                    await inbox.send(key=household, value=value, headers=[*headers, (KIND, b"event")])
            yield None

    @app.agent(household_inputs)
    async def keep_household_state(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
        await runtime.catalogue_ready.wait()
        async for event in stream.events():
            started = time.perf_counter()
            message = event.message
            stored = StoredHousehold.load(households.get(event.key))
            records = stored.replayed(message)
            if records is not None:
                runtime.metrics.replayed.inc()
            else:
                try:
                    result = _apply(runtime, stored, _kind(message), event.value, message.headers)
                except ContractError as exc:
                    await dlq.send(key=None, value=event.value,
                                   headers=dead_letter_headers(message, "; ".join(map(str, exc.errors))))
                    runtime.metrics.dead_lettered.labels("invalid").inc()
                    continue
                if result.state is None:
                    continue
                records = stored.outgoing(runtime.contract, result)
                households[event.key] = stored.store(result.state, message, records)
                runtime.population_changed(result.state)
                _count(runtime, _kind(message), result)
            for topic_name, key, value, headers in records:
                await outputs[topic_name].send(key=key, value=value, headers=headers)
            runtime.metrics.latency.observe(time.perf_counter() - started)
            yield None

    @app.task
    async def follow_catalogue() -> None:
        await runtime.follow_catalogue(inbox_sender(inbox))

    @app.timer(interval=60.0)
    async def notice_date_changes() -> None:
        await runtime.reevaluate_if_due(inbox_sender(inbox))

    @app.page("/metrics")
    async def metrics_page(web_view: Any, request: Any) -> Any:
        return web_view.bytes(generate_latest(runtime.metrics.registry), content_type=PROMETHEUS_TEXT)

    @app.page("/explain/{person}/")
    @app.table_route(table=memberships, match_info="person")
    async def explain_person(web_view: Any, request: Any, person: str) -> Any:
        household = memberships.get(person.encode())
        stored = StoredHousehold.load(households.get(household)) if household else StoredHousehold(None)
        return web_view.json(runtime.explain(stored.state))

    app.on_partitions_revoked.connect(runtime.partitions_revoked)
    app.on_partitions_revoked.connect(known_households.clear)
    return app


def inbox_sender(inbox: faust.TopicT) -> Callable[[str, str], Any]:
    """Re-evaluation commands go through the household's own partition, so its state has one writer."""
    async def send(household_id: str, version: str) -> None:
        await inbox.send(key=household_id.encode(), value=b"",
                         headers=[(KIND, b"reevaluate"), ("assist_catalogue_version", version.encode())],
                         force=True)
    return send


def _kind(message: Any) -> str:
    if message.topic == REGISTRY.name:
        return "registry"
    if message.topic == DECISIONS.name:
        return "decision"
    return _header(message.headers, KIND) or "event"


def _apply(runtime: MatchingRuntime, stored: StoredHousehold, kind: str, value: bytes,
           headers: list[tuple[str, bytes]]) -> Result:
    now = runtime.now()
    catalogue = runtime.versions.active(now.date())
    assert catalogue is not None, "the agent starts only once a catalogue decides today"
    contract = runtime.contract
    if kind == "registry":
        return runtime.matcher.on_registry(stored.state, decode_record(contract, "household", value), catalogue, now)
    if stored.state is None:
        return Result(None)  # decisions or events for a household the registry has not introduced
    if kind == "decision":
        return runtime.matcher.on_decision(stored.state, decode_record(contract, "decision", value), now)
    if kind == "reevaluate":
        return runtime.matcher.on_reevaluation(stored.state, catalogue, now)
    return runtime.matcher.on_event(stored.state, decode_event(contract, value, headers), catalogue, now)


def _count(runtime: MatchingRuntime, kind: str, result: Result) -> None:
    metrics = runtime.metrics
    metrics.processed.labels(kind).inc()
    for output in result.outputs:
        offer = output.value.get("offer") if output.record == "caseworker_task" else output.value
        if offer:
            metrics.offers.labels(offer["policy_id"], offer["tier"], offer["route"]).inc()
        if output.record == "caseworker_task":
            metrics.tasks.labels(output.value["kind"], priority_band(output.value["priority"])).inc()


def _headers(event: Any, kind: str) -> list[tuple[str, bytes]]:
    return [*[(k, bytes(v)) for k, v in event.message.headers or [] if k != KIND], (KIND, kind.encode())]


def _header(headers: Any, name: str) -> str | None:
    for k, v in headers or []:
        if k == name:
            return bytes(v).decode()
    return None


