"""Matching's faust app: topics, tables and agents, declared once in `build_app`.

    assist.events (by person) ──route_events_to_households──▶ assist.matching.households (by household)
    assist.registry ──keep_household_state──▶ assist.matching.membership (person → household)
    assist.registry, assist.decisions, assist.matching.households ──keep_household_state──▶ offers, tasks,
                                                                                         application answers

All topics have HOUSEHOLD_PARTITIONS partitions (a setting: services/core/topics.py) and are keyed with the same
partitioner, so a household's registry record, decisions and events meet on one partition number, and faust assigns
them to one worker together with the tables' changelog partitions; workers of one app id share the partitions.
Agents are thin: take a batch (batches.py), decode each message (adapters/messages.py), call the service on it
(service.py, on the tables as ports: faust_stores.py), send what it returns; a batch is acked once its records are
delivered and its household states written.

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
from faust.exceptions import PartitionsMismatch
from prometheus_client import generate_latest

from services.core.conformance import ContractError
from services.core.dead_letter import Reason, Source, dead_letter_headers, internal, invalid
from services.core.kafka import is_transient
from services.core.kafka_security import KafkaSecurity
from services.core.readiness import STALL_SECONDS
from services.core.settings import Settings
from services.core.topics import (
    APPLICATION_ANSWERS,
    DECISIONS,
    EVENTS,
    HOUSEHOLD_PARTITIONS,
    MATCHING_DLQ,
    MATCHING_INBOX,
    MATCHING_INPUTS,
    MATCHING_MEMBERSHIP,
    OFFERS,
    REGISTRY,
    TASKS,
)
from services.matching.adapters.agent_failures import (
    FAULT_HEADER,
    STALL_HOOK_SECONDS,
    InjectedFault,
    never_fetched,
    stall_seconds,
    stopping_supervisor,
    test_faults_enabled,
    worker_stops,
)
from services.matching.adapters.batches import Outbox, batches, handling, withheld
from services.matching.adapters.continuity import Admission, Continuity
from services.matching.adapters.faust_stores import FaustStores
from services.matching.adapters.fetched_gaps import fetched_gaps
from services.matching.adapters.messages import decode_message, reevaluation_headers
from services.matching.adapters.partition_watch import watch
from services.matching.adapters.read_offsets import held_read_offsets
from services.matching.progress import PartitionProgress
from services.matching.runtime import MatchingRuntime
from services.matching.service import MatchingService, Routing
from services.matching.stored import Record, StoredHousehold

log = logging.getLogger(__name__)
RAW: dict[str, Any] = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"}
ATTEMPTS = 3  # a message whose handling raises is tried this often (a table settling at start) before dead-lettering
RETRY_PAUSE_SECONDS = 1.0
METADATA_WAIT_SECONDS = 60.0
PRODUCER_LINGER_SECONDS = 0.005
FETCH_BYTES_PER_PARTITION = 64 * 1024
"""What one fetch takes of a partition at most (faust's default is 1 MiB). The worker hands each fetch's records to
its agents before it fetches again, so under a backlog one fetch of 1 MiB per partition (about 3,000 inbox messages
each, 24 partitions: minutes of work) left a partition drained early waiting for minutes with messages on the
broker: the stall check saw it stop and restarted the worker, which lost the uncommitted work and began again on
the same backlog (seen with 100,000 events and 10 kills). 64 KiB is a few seconds of work for all partitions."""
T = TypeVar("T")
PROMETHEUS_TEXT = "text/plain; version=0.0.4"  # aiohttp sets the charset itself


def faust_app(settings: Settings) -> faust.App:
    """The worker's faust app; its tables are declared by FaustStores.declare, its agents by `attach`."""
    return faust.App(
        settings.matching_app_id,
        broker=f"kafka://{settings.kafka_bootstrap}",
        broker_credentials=KafkaSecurity.from_settings(settings).faust_credentials(),
        store=settings.matching_store,
        datadir=str(settings.data_dir / "matching"),
        web_host=settings.matching_web_host,
        web_port=settings.matching_web_port,
        web_bind=settings.matching_web_host,
        topic_replication_factor=1,
        topic_partitions=HOUSEHOLD_PARTITIONS,
        producer_acks=-1,
        # A batch's records leave in a few produce requests rather than one per record (socket writes were 12 % of
        # the worker's time); a batch waits at most this long more for its deliveries.
        producer_linger=PRODUCER_LINGER_SECONDS,
        consumer_auto_offset_reset="earliest",
        consumer_max_fetch_size=FETCH_BYTES_PER_PARTITION,
        processing_guarantee="at_least_once",
        table_cleanup_interval=3600,
        # A crashed worker's partitions move on after 10 s rather than faust's default minute.
        broker_session_timeout=10.0,
        broker_heartbeat_interval=3.0,
        key_serializer="raw",
        value_serializer="json",
    )


def attach(app: faust.App, runtime: MatchingRuntime, service: MatchingService, stores: FaustStores) -> None:
    """Topics, agents, background duties and pages of the worker."""
    events = app.topic(EVENTS.name, **RAW)
    household_inputs = app.topic(REGISTRY.name, DECISIONS.name, MATCHING_INBOX.name, **RAW)
    inbox = app.topic(MATCHING_INBOX.name, **RAW)
    outputs = {t.name: app.topic(t.name, **RAW)
               for t in (OFFERS, TASKS, APPLICATION_ANSWERS, MATCHING_MEMBERSHIP, MATCHING_INBOX)}
    dlq = app.topic(MATCHING_DLQ.name, **RAW)
    faults = test_faults_enabled()
    progress = PartitionProgress(runtime.metrics, stall_seconds(STALL_SECONDS))
    continuity = Continuity(frozenset(t.name for t in MATCHING_INPUTS if not t.compacted))
    read_offsets = held_read_offsets(app)
    gaps = fetched_gaps(app, frozenset(t.name for t in MATCHING_INPUTS if t.compacted))
    if faults:
        never_fetched(app.consumer)

    def taken(event: Any) -> None:
        message = event.message
        progress.taken(message.topic, message.partition, message.offset)

    def done(event: Any) -> None:
        message = event.message
        progress.note(message.topic, message.partition, message.offset)

    async def admitted(event: Any) -> bool:
        """Whether the agent handles `event` now (continuity.py): the next message of its partition."""
        message = event.message
        if app.rebalancing:
            # faust resumes fetching a partition before it seeks it to the committed offset (its recovery's
            # _resume_streams), so what comes meanwhile is from wherever the fetch stood: fetched again after the seek.
            message.acked = True
            return False
        verdict = continuity.admit(message.topic, message.partition, message.offset, await reading_starts(message))
        if verdict.admission is Admission.HOLD:
            message.acked = True  # never recorded as done, so never committed: it is fetched again after the seek
            if verdict.seek_to is not None:
                runtime.metrics.seeks.labels(message.topic).inc()
                log.warning("%s:%d@%d came before @%d, which never reached the agent: seeking back to it",
                            message.topic, message.partition, message.offset, verdict.seek_to)
                read_offsets.hold(message.tp, verdict.seek_to)  # else the message there is dropped again
                await app.consumer.seek(message.tp, verdict.seek_to)
            elif verdict.missing is not None:
                await missing_for_good(message, verdict.missing)
            return False
        if verdict.admission is Admission.HANDLE:
            read_offsets.release(message.tp)
            return True
        return False

    starts: dict[Any, int] = {}

    async def reading_starts(message: Any) -> int | None:
        """Where the partition's reading starts: its committed offset, or with none (a partition the group never
        committed on) its earliest one, where the consumer starts (auto_offset_reset). Not the first message that
        came: faust may drop the first ones while it rebalances, and a worker killed before its first commit on a
        partition went on from the first message its restart admitted, past the ones before for good."""
        committed = service.commits.committed(message.topic, message.partition)
        if committed is not None or message.topic not in continuity.checked:
            return committed
        if message.tp not in starts:
            starts[message.tp] = (await app.consumer.earliest_offsets(message.tp)).get(message.tp, 0)
        return starts[message.tp]

    def forget_starts(*args: object, **kwargs: object) -> None:
        starts.clear()

    async def missing_for_good(message: Any, missing: int) -> None:
        """A missing offset that every seek back failed to bring: gone from the broker (given up on, counted),
        else the worker stops and its restart reads from the committed offset, which no held message passed."""
        earliest = (await app.consumer.earliest_offsets(message.tp)).get(message.tp, 0)
        skipped = continuity.give_up(message.topic, message.partition, earliest)
        if skipped:
            runtime.metrics.skipped_offsets.labels(message.topic).inc(skipped)
            log.error("%s:%d: %d offsets from @%d are no longer on the broker (retention); going on from @%d",
                      message.topic, message.partition, skipped, missing, earliest)
        else:
            died(f"{message.topic}:{message.partition}@{missing} never reached the agent after every seek back", None)

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
        once; a dependency's failure is not the message's fault: it ends the agent, and with it the worker.

        PartitionsMismatch is not the message's fault either: faust compares a table's changelog with the source
        topic in the consumer's metadata, where a changelog created at start shows no partitions until the next
        metadata update (seconds). The message waits for it, up to METADATA_WAIT_SECONDS, then the agent ends."""
        attempt = 0
        patience = time.monotonic() + METADATA_WAIT_SECONDS
        while True:
            try:
                return await handle(event)
            except PartitionsMismatch:
                if time.monotonic() > patience:
                    raise
                await asyncio.sleep(RETRY_PAUSE_SECONDS)
            except Exception as exc:
                if is_transient(exc):
                    raise
                attempt += 1
                message = event.message
                log.error("%s:%d@%d cannot be handled (%s), attempt %d of %d", message.topic, message.partition,
                          message.offset, type(exc).__name__, attempt, ATTEMPTS)
                if isinstance(exc, ContractError) or attempt >= ATTEMPTS:
                    await dead_letter(event, invalid(exc) if isinstance(exc, ContractError) else internal(exc))
                    return None
                await asyncio.sleep(RETRY_PAUSE_SECONDS)

    async def dead_lettered(event: Any, reason: Reason | None) -> None:
        if reason is not None:
            await dead_letter(event, reason)

    @app.agent(events, **supervised)
    async def route_events_to_households(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
        async for batch in batches(stream):
            with withheld(batch):
                outbox = Outbox(app, outputs)
                admitted_events = [event for event in batch if await admitted(event)]
                for event in admitted_events:
                    taken(event)
                    routing = await handled(event, route)
                    if routing is not None:
                        await dead_lettered(event, routing.refused)
                        await outbox.send(routing.records)
                await outbox.deliver()
                for event in admitted_events:
                    done(event)
            yield None

    async def route(event: Any) -> Routing:
        with handling(event):
            return service.route(event.key, event.value, event.message.headers or [])

    @app.agent(outputs[MATCHING_MEMBERSHIP.name], **supervised)
    async def index_memberships(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
        async for batch in batches(stream):
            with withheld(batch):
                outbox = Outbox(app, outputs)
                admitted_events = [event for event in batch if await admitted(event)]
                released = []
                for event in admitted_events:
                    taken(event)
                    records = await handled(event, index)
                    if records:
                        released.append(event)
                        await outbox.send(records)
                await outbox.deliver()
                for event in released:
                    with handling(event):
                        service.delivered(event.key)
                for event in admitted_events:
                    done(event)
            yield None

    async def index(event: Any) -> list[Record]:
        with handling(event):
            return service.index(event.key, event.value)

    @app.agent(household_inputs, **supervised)
    async def keep_household_state(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
        await runtime.catalogue_ready.wait()
        async for batch in batches(stream):
            with withheld(batch):
                outbox = Outbox(app, outputs)
                admitted_events = [event for event in batch if await admitted(event)]
                for event in admitted_events:
                    taken(event)
                    hook = _header(event.message.headers, FAULT_HEADER) if faults else None
                    if hook == "agent-dies":
                        raise InjectedFault("the household agent dies (test hook)")
                    if hook == "agent-stalls":
                        await asyncio.sleep(STALL_HOOK_SECONDS)  # a stream that stopped, with no error
                    started = time.perf_counter()
                    records = await handled(event, household_records)
                    if records is not None:
                        await outbox.send(records)
                        runtime.metrics.latency.observe(time.perf_counter() - started)
                stores.households.write_back()
                await outbox.deliver()
                for event in admitted_events:
                    done(event)
            yield None

    async def household_records(event: Any) -> list[Record]:
        message = event.message
        decoded = decode_message(runtime.contract, message.topic, event.value, message.headers or [])
        with handling(event):
            return service.handle(event.key, message, decoded)

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

    watch(app, runtime, service, progress, died)

    @app.page("/metrics")
    async def metrics_page(web_view: Any, request: Any) -> Any:
        return web_view.bytes(generate_latest(runtime.metrics.registry), content_type=PROMETHEUS_TEXT)

    @app.page("/explain/{person}/")
    @app.table_route(table=stores.memberships.table, match_info="person")
    async def explain_person(web_view: Any, request: Any, person: str) -> Any:
        household = stores.memberships.table.get(person.encode())
        stored = StoredHousehold.load(stores.households.get(household)) if household else StoredHousehold(None)
        return web_view.json(runtime.explain(stored.state))

    app.on_partitions_revoked.connect(runtime.partitions_revoked)
    app.on_partitions_revoked.connect(progress.revoked)
    app.on_partitions_revoked.connect(continuity.reset)
    app.on_partitions_revoked.connect(gaps.reset)
    app.on_partitions_revoked.connect(read_offsets.reset)
    app.on_partitions_revoked.connect(forget_starts)
    app.on_partitions_revoked.connect(stores.memberships.forget_cached)
    app.on_partitions_revoked.connect(stores.households.forget_cached)


def inbox_sender(inbox: faust.TopicT) -> Callable[[str, str], Any]:
    """Re-evaluation commands go through the household's own partition, so its state has one writer."""
    async def send(household_id: str, version: str) -> None:
        await inbox.send(key=household_id.encode(), value=b"", headers=reevaluation_headers(version), force=True)
    return send


def _header(headers: Any, name: str) -> str | None:
    for k, v in headers or []:
        if k == name:
            return bytes(v).decode()
    return None
