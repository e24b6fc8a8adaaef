"""Matching's faust app: topics, tables and agents, declared once in `build_app`.

    assist.events (by person) ──route_events_to_households──▶ assist.matching.households (by household)
    assist.registry ──keep_household_state──▶ assist.matching.membership (person → household)
    assist.registry, assist.decisions, assist.matching.households ──keep_household_state──▶ offers, tasks

All topics have 8 partitions and are keyed with the same partitioner, so a household's registry record,
decisions and events meet on one partition number, and faust assigns them to one worker together with the
tables' changelog partitions. Agents are thin: decode, call the Matcher, publish what it returns.

Each agent decides per message: a message it cannot use (it does not decode, or handling it raises) goes to
assist.matching.dlq with the reason and its position, and the agent goes on. A transient failure (Kafka not
answering) is not a message's fault: it ends the agent, and a dead agent stops the worker (agent_failures).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import faust
from prometheus_client import generate_latest

from services.core.codec import decode_event, decode_record
from services.core.conformance import ContractError, FieldError
from services.core.dead_letter import Reason, Source, dead_letter_headers, internal, invalid
from services.core.kafka import is_transient
from services.core.settings import Settings
from services.core.topics import (
    DECISIONS,
    EVENTS,
    MATCHING_DLQ,
    MATCHING_INBOX,
    MATCHING_MEMBERSHIP,
    OFFERS,
    REGISTRY,
    TASKS,
)
from services.matching.adapters.agent_failures import (
    FAULT_HEADER,
    InjectedFault,
    stopping_supervisor,
    test_faults_enabled,
    worker_stops,
)
from services.matching.adapters.read_cache import ReadCache
from services.matching.adapters.stored import Record, StoredHousehold, unwait, waiting_entry
from services.matching.handler import Result
from services.matching.metrics import priority_band
from services.matching.runtime import MatchingRuntime

log = logging.getLogger(__name__)
RAW: dict[str, Any] = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"}
KIND = "assist_kind"
WAITING_MAX = 20  # events held per person the registry has not introduced yet; later ones are dead-lettered
ATTEMPTS = 3  # a message whose handling raises is tried this often (a table settling at start) before dead-lettering
RETRY_PAUSE_SECONDS = 1.0
T = TypeVar("T")
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
    dlq = app.topic(MATCHING_DLQ.name, **RAW)
    faults = test_faults_enabled()

    def died(reason: str, exc: BaseException | None) -> None:
        worker_stops(runtime.health, reason, exc)

    supervised: dict[str, Any] = {"supervisor_strategy": stopping_supervisor(died)}

    async def dead_letter(event: Any, reason: Reason) -> None:
        message = event.message
        headers = dead_letter_headers([(k, None if v is None else bytes(v)) for k, v in message.headers or []],
                                      Source(message.topic, message.partition, message.offset), reason, runtime.now())
        value = event.value if event.value is not None or event.key is not None else b""
        await dlq.send(key=event.key, value=value, headers=headers)  # type: ignore[arg-type]  # None values are Kafka's
        runtime.metrics.dead_lettered.labels(reason.kind).inc()
        log.warning("%s:%d@%d dead-lettered to %s (%s)", message.topic, message.partition, message.offset,
                    MATCHING_DLQ.name, reason.kind)

    async def handled(event: Any, handle: Callable[[Any], Awaitable[T]]) -> T | None:
        """`handle(event)`, tried ATTEMPTS times; None once the event is dead-lettered. A ContractError is final at
        once; a dependency's failure is not the message's fault: it ends the agent, and with it the worker."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return await handle(event)
            except Exception as exc:
                if is_transient(exc):
                    raise
                message = event.message
                log.error("%s:%d@%d cannot be handled (%s), attempt %d of %d", message.topic, message.partition,
                          message.offset, type(exc).__name__, attempt, ATTEMPTS)
                if isinstance(exc, ContractError) or attempt == ATTEMPTS:
                    await dead_letter(event, invalid(exc) if isinstance(exc, ContractError) else internal(exc))
                    return None
                await asyncio.sleep(RETRY_PAUSE_SECONDS)
        return None

    # Keys are raw bytes (ids); households and waiting hold JSON, memberships raw household ids.
    households = app.Table("households", partitions=8, key_type=bytes)
    memberships = app.Table("memberships", partitions=8, key_type=bytes, value_type=bytes)
    waiting = app.Table("waiting", partitions=8, key_type=bytes)
    runtime.households = households
    # Person → household as the index agent last wrote it, so routing an event costs no table read (read_cache).
    known_households: ReadCache[bytes, bytes | None] = ReadCache(500_000)

    @app.agent(events, **supervised)
    async def route_events_to_households(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
        async for event in stream.events():
            await handled(event, route)
            yield None

    async def route(event: Any) -> None:
        person = event.key
        if event.value is None or not person:
            await dead_letter(event, Reason("a change event needs the person id as its key and a value",
                                            ("key" if not person else "value",)))
            return
        household = known_households.get(person, memberships.get)
        if household:
            await inbox.send(key=household, value=event.value, headers=_headers(event, "event"))
            return
        held = waiting.get(person, [])
        if len(held) >= WAITING_MAX:
            await dead_letter(event, Reason(f"person not in the registry after {WAITING_MAX} events; replay when it "
                                            "is", ("key",), "unregistered"))
        else:
            waiting[person] = [*held, waiting_entry(event.value, event.message.headers)]
            runtime.metrics.waiting.inc()

    @app.agent(outputs[MATCHING_MEMBERSHIP.name], **supervised)
    async def index_memberships(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
        async for event in stream.events():
            await handled(event, index)
            yield None

    async def index(event: Any) -> None:
        person, household = event.key, event.value
        if not person:
            await dead_letter(event, Reason("a membership needs the person id as its key", ("key",)))
            return
        known_households.put(person, household or None)
        if not household:
            memberships.pop(person, None)
        else:
            memberships[person] = household
            for value, headers in unwait(waiting.pop(person, [])):
                await inbox.send(key=household, value=value, headers=[*headers, (KIND, b"event")])

    @app.agent(household_inputs, **supervised)
    async def keep_household_state(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
        await runtime.catalogue_ready.wait()
        async for event in stream.events():
            if faults and _header(event.message.headers, FAULT_HEADER) == "agent-dies":
                raise InjectedFault("the household agent dies (test hook)")
            started = time.perf_counter()
            records = await handled(event, household_records)
            if records is None:
                continue
            for topic_name, key, value, headers in records:
                await outputs[topic_name].send(key=key, value=value, headers=headers)
            runtime.metrics.latency.observe(time.perf_counter() - started)
            yield None

    async def household_records(event: Any) -> list[Record]:
        """What a message to a household sends; its new state is stored before (see stored.py)."""
        message = event.message
        if not event.key:
            raise ContractError([FieldError("key", "a household message needs the household id as its key")])
        stored = StoredHousehold.load(households.get(event.key))
        records = stored.replayed(message)
        if records is not None:
            runtime.metrics.replayed.inc()
            return records
        kind = _kind(message)
        result = _apply(runtime, stored, kind, event.value, message.headers)
        if result.state is None:
            return []
        records = stored.outgoing(runtime.contract, result)
        households[event.key] = stored.store(result.state, message, records)
        runtime.population_changed(result.state)
        _count(runtime, kind, result)
        return records

    @app.task
    async def follow_catalogue() -> None:
        try:
            await runtime.follow_catalogue(inbox_sender(inbox))
        except Exception as exc:
            died(f"catalogue feed died: {type(exc).__name__}", exc)
            return
        died("catalogue feed ended unexpectedly", None)

    @app.timer(interval=60.0)
    async def notice_date_changes() -> None:
        await runtime.reevaluate_if_due(inbox_sender(inbox))

    @app.page("/healthz")
    async def healthz(web_view: Any, request: Any) -> Any:
        health = runtime.health
        if health.ok:
            return web_view.json({"status": "ok"})
        return web_view.json({"status": "failing", "reason": health.failure}, status=503)

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
        return runtime.matcher.on_decision(stored.state, decode_record(contract, "decision", value), now,
                                           catalogue)
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


