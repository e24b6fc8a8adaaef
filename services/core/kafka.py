"""Kafka wiring shared by the services: the durable producer, topic creation and the one consume loop (aiokafka).
Every client is made with kafka_options (services/core/kafka_security.py): the brokers and the process's security."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import CommitFailedError, KafkaError, KafkaTimeoutError
from aiokafka.structs import OffsetAndMetadata

from services.core.dead_letter import DeadLetterSink, internal
from services.core.kafka_security import kafka_options
from services.core.producer import RenewingProducer
from services.core.topics import ALL_TOPICS, Topic

log = logging.getLogger(__name__)


def durable_producer(bootstrap: str, client_id: str, request_timeout_ms: int = 10_000, *,
                     renewed: Callable[[str], None] = lambda reason: None) -> RenewingProducer:
    """The services' producer: acknowledged sends are on every in-sync replica and never duplicated by its retries,
    and it renews itself when aiokafka's idempotent producer cannot recover (services/core/producer.py);
    `renewed(reason)` is told of each renewal. Start it before use, stop it after."""
    return RenewingProducer(lambda: kafka_producer(bootstrap, client_id, request_timeout_ms),
                            start_timeout_seconds=max(request_timeout_ms / 1000, 5.0), renewed=renewed, what=client_id)


def kafka_producer(bootstrap: str, client_id: str, request_timeout_ms: int = 10_000) -> AIOKafkaProducer:
    """One aiokafka producer, acks=all and idempotent: what durable_producer renews."""
    return AIOKafkaProducer(
        **kafka_options(bootstrap),
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=2,
        compression_type=None,
        request_timeout_ms=request_timeout_ms,
        max_batch_size=256 * 1024,
    )


async def create_topics(bootstrap: str, topics: tuple[Topic, ...] = ALL_TOPICS) -> list[str]:
    """Create the platform's topics that do not exist yet; return the names created."""
    admin = AIOKafkaAdminClient(**kafka_options(bootstrap), client_id="assist-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t.name not in existing]
        if missing:
            await admin.create_topics([
                NewTopic(name=t.name, num_partitions=t.partitions, replication_factor=1, topic_configs=t.config())
                for t in missing
            ])
        return [t.name for t in missing]
    finally:
        await admin.close()


async def partition_counts(bootstrap: str, topics: tuple[Topic, ...]) -> dict[str, int]:
    """How many partitions each of `topics` that exists has on the broker (a missing topic is left out)."""
    admin = AIOKafkaAdminClient(**kafka_options(bootstrap), client_id="assist-admin")
    await admin.start()
    try:
        described = await admin.describe_topics([t.name for t in topics])
        return {str(d["topic"]): len(d["partitions"]) for d in described if not d.get("error_code")}
    finally:
        await admin.close()


def partition_mismatches(topics: tuple[Topic, ...], counts: Mapping[str, int]) -> list[str]:
    """The topics whose partitions on the broker (`counts`) are not what this process declares, each said."""
    return [f"{t.name} has {counts[t.name]} partitions on the broker, this process expects {t.partitions}"
            for t in topics if t.name in counts and counts[t.name] != t.partitions]


class GroupInUse(RuntimeError):
    """The group still has members, so its positions cannot be set from outside it."""


async def commit_group_at_end(bootstrap: str, group: str, topics: tuple[Topic, ...],
                              wait_seconds: float = 30.0) -> None:
    """Start a new consumer group at the current end of `topics`: a fresh deployment on a broker that already
    holds other deployments' history (the demo, the tests) processes only what comes after.

    The broker refuses this while the group has members (a consumer of an earlier run that has not left yet):
    tried again each second for `wait_seconds` (a member that died leaves within its session timeout), then
    GroupInUse is raised naming the group."""
    partitions = [TopicPartition(t.name, p) for t in topics for p in range(t.partitions)]
    deadline = asyncio.get_running_loop().time() + wait_seconds
    while True:
        consumer = AIOKafkaConsumer(**kafka_options(bootstrap), group_id=group, enable_auto_commit=False)
        await consumer.start()
        try:
            consumer.assign(partitions)
            ends = await consumer.end_offsets(partitions)
            await consumer.commit({tp: OffsetAndMetadata(offset, "") for tp, offset in ends.items()})
            return
        except CommitFailedError as exc:
            if asyncio.get_running_loop().time() >= deadline:
                raise GroupInUse(f"consumer group {group!r} still has members after {wait_seconds:.0f} s: stop "
                                 "them or use another group name") from exc
        finally:
            await consumer.stop()
        await asyncio.sleep(1.0)


Batch = dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
Handler = Callable[[Batch], Awaitable[None]]
BATCH_ATTEMPTS = 3
"""How often a batch failing with an unexpected exception is tried whole before its records are tried apart."""


async def consume_batches(consumer: AIOKafkaConsumer, handle: Handler, retry_on: tuple[type[BaseException], ...],
                          stop: asyncio.Event, what: str, *, dead_letters: DeadLetterSink | None = None,
                          attempts: int = BATCH_ATTEMPTS, pause_seconds: float = 1.0) -> None:
    """At-least-once consumption shared by the services: handle each batch, then commit its offsets.

    The handler decides per record: it routes a record where it belongs or sends it to `dead_letters` with its
    reason. A batch failing with one of `retry_on` (a dependency unavailable), a timeout or a retriable Kafka error
    is read again after a pause, so nothing is skipped. Any other exception is taken as a record the handler cannot
    cope with: the batch is tried `attempts` times, then its records are tried apart (halving) until the records
    that fail alone are found; those are dead-lettered with "internal: <ExceptionType>" and the rest is handled.
    Without `dead_letters` such a record ends the loop with its exception (the process supervisor reports it).
    A commit lost to a rebalance means the new owner reads the batch again, which the idempotent handlers absorb."""
    def transient(exc: BaseException) -> bool:
        return is_transient(exc, retry_on)

    while not stop.is_set():
        batch = await consumer.getmany(timeout_ms=500, max_records=500)
        if not batch:
            continue
        try:
            poison = await handled_or_isolated(handle, batch, transient, attempts, pause_seconds, what)
            for record, exc in poison:
                log.error("%s: %s:%d@%d fails alone (%s)", what, record.topic, record.partition, record.offset,
                          type(exc).__name__)
                if dead_letters is None:
                    raise exc
                await dead_letters.send(record, internal(exc))
        except Exception as exc:
            if not transient(exc):
                raise
            log.warning("%s: batch not handled (%s); reading it again", what, type(exc).__name__)
            for tp, records in batch.items():
                consumer.seek(tp, records[0].offset)
            await asyncio.sleep(pause_seconds)
            continue
        try:
            await consumer.commit({tp: records[-1].offset + 1 for tp, records in batch.items()})
        except KafkaError as exc:
            log.warning("%s: offsets not committed (%s)", what, type(exc).__name__)


def is_transient(exc: BaseException, retry_on: tuple[type[BaseException], ...] = ()) -> bool:
    """Whether `exc` means "try again later" (a dependency unavailable) rather than "this record cannot be used"."""
    if isinstance(exc, (*retry_on, TimeoutError, KafkaTimeoutError)):
        return True
    return isinstance(exc, KafkaError) and bool(exc.retriable)


async def handled_or_isolated(handle: Handler, batch: Batch, transient: Callable[[BaseException], bool],
                              attempts: int = BATCH_ATTEMPTS, pause_seconds: float = 1.0, what: str = "batch"
                              ) -> list[tuple[ConsumerRecord[bytes, bytes], Exception]]:
    """Handle `batch`; when it keeps failing with a non-transient exception, handle its records apart and return
    those that fail alone, each with its exception. Transient exceptions propagate at once. Records are handled at
    least once (some twice), in their partition's order."""
    for attempt in range(1, attempts + 1):
        try:
            await handle(batch)
            return []
        except Exception as exc:
            if transient(exc):
                raise
            log.warning("%s: batch of %d failed (%s), attempt %d of %d", what, sum(map(len, batch.values())),
                        type(exc).__name__, attempt, attempts)
            if attempt < attempts:
                await asyncio.sleep(pause_seconds)
    records = [r for rs in batch.values() for r in rs]
    return await _isolated(handle, records, transient) if len(records) > 1 else await _alone(handle, records[0],
                                                                                              transient)


async def _isolated(handle: Handler, records: list[ConsumerRecord[bytes, bytes]],
                    transient: Callable[[BaseException], bool]) -> list[tuple[ConsumerRecord[bytes, bytes], Exception]]:
    middle = len(records) // 2
    failing: list[tuple[ConsumerRecord[bytes, bytes], Exception]] = []
    for half in (records[:middle], records[middle:]):
        if len(half) == 1:
            failing += await _alone(handle, half[0], transient)
            continue
        try:
            await handle(batch_of(half))
        except Exception as exc:
            if transient(exc):
                raise
            failing += await _isolated(handle, half, transient)
    return failing


async def _alone(handle: Handler, record: ConsumerRecord[bytes, bytes], transient: Callable[[BaseException], bool]
                 ) -> list[tuple[ConsumerRecord[bytes, bytes], Exception]]:
    try:
        await handle(batch_of([record]))
        return []
    except Exception as exc:
        if transient(exc):
            raise
        return [(record, exc)]


def batch_of(records: list[ConsumerRecord[bytes, bytes]]) -> Batch:
    """Records grouped by partition, keeping their order."""
    batch: Batch = {}
    for record in records:
        batch.setdefault(TopicPartition(record.topic, record.partition), []).append(record)
    return batch
