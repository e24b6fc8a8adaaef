"""Takes the civil registry's PersonIdentity records from assist.identities into the sealed store. Offsets are
committed only after the batch is stored; a record read twice is stored once (by version); a tombstone erases the
person. A record that cannot be used goes to assist.vault.dlq with its reason and position, never its value."""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from services.core.codec import Contract, decode_record
from services.core.dead_letter import DeadLetters, DeadLetterSink, Reason
from services.core.kafka import consume_batches
from services.core.kafka_security import kafka_options
from services.core.topics import IDENTITIES, VAULT_DLQ
from services.core.unavailable import REDIS_UNAVAILABLE
from services.vault.service import Vault

log = logging.getLogger(__name__)
GROUP = "assist-vault"


def identities_consumer(bootstrap: str, group: str = GROUP) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(IDENTITIES.name, **kafka_options(bootstrap), group_id=group, client_id="assist-vault",
                            enable_auto_commit=False, auto_offset_reset="earliest", isolation_level="read_committed")


def vault_dead_letters(producer: AIOKafkaProducer) -> DeadLetters:
    """The vault's dead-letter topic: identity details are never copied there."""
    return DeadLetters(producer, VAULT_DLQ.name, keep_value=lambda topic: False)


class IdentityFeed:
    def __init__(self, consumer: AIOKafkaConsumer, vault: Vault, contract: Contract, dead_letters: DeadLetterSink):
        self._consumer, self._vault, self._contract, self._dead_letters = consumer, vault, contract, dead_letters

    async def run(self, stop: asyncio.Event) -> None:
        await consume_batches(self._consumer, self.take_in, REDIS_UNAVAILABLE, stop, "vault identities",
                              dead_letters=self._dead_letters)

    async def take_in(self, batch: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]) -> None:
        for record in (r for rs in batch.values() for r in rs):
            if record.value is None:
                if not record.key:
                    await self._dead_letters.send(record, Reason("a tombstone needs the person id as key", ("key",)))
                else:
                    await self._vault.forget(record.key.decode("utf-8", "replace"))
                continue
            try:
                identity = decode_record(self._contract, "person_identity", record.value)
            except Exception as exc:  # fastavro raises several types on garbled bodies; never quote the payload
                await self._dead_letters.send(record, Reason(f"not a person_identity record ({type(exc).__name__})",
                                                             ("value",)))
                continue
            if record.key != identity["person_id"].encode():
                await self._dead_letters.send(record, Reason("the key must be the record's person_id", ("key",)))
                continue
            await self._vault.take_in(identity)
