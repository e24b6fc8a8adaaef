"""Catalogue versions from the compacted topic assist.policies, read whole by every worker (no consumer group):
each worker needs every version, not a share of them."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import AsyncIterator

from aiokafka import AIOKafkaConsumer

from services.core.codec import Contract, decode_record, encode_record
from services.core.conformance import ContractError
from services.core.kafka import durable_producer
from services.core.kafka_security import kafka_options
from services.core.topics import POLICIES
from services.matching.domain.catalogue.policy_catalogue import CatalogueError, PolicyCatalogue, load_catalogue

log = logging.getLogger(__name__)


class CatalogueFeed:
    def __init__(self, bootstrap: str, contract: Contract, catalogue: str):
        self._bootstrap = bootstrap
        self._contract = contract
        self._catalogue = catalogue
        self.rejected: list[str] = []
        """Why each refused version was refused (the worker goes on with the versions it has)."""

    async def versions(self) -> AsyncIterator[PolicyCatalogue]:
        consumer = AIOKafkaConsumer(POLICIES.name, **kafka_options(self._bootstrap), group_id=None,
                                    auto_offset_reset="earliest", enable_auto_commit=False,
                                    client_id="assist-matching-catalogue")
        await consumer.start()
        try:
            async for record in consumer:
                catalogue = self._load(record.value or b"", f"{POLICIES.name}@{record.offset}")
                if catalogue is not None:
                    yield catalogue
        finally:
            await consumer.stop()

    def _load(self, value: bytes, where: str) -> PolicyCatalogue | None:
        try:
            published = decode_record(self._contract, "policy_catalogue", value)
            if published["catalogue"] != self._catalogue:
                return None
            catalogue = load_catalogue(published["document"], f"{where} ({published['catalogue']} "
                                                               f"{published['version']})")
        except Exception as exc:  # fastavro raises several types on garbled bodies; none may end the feed
            known = isinstance(exc, ContractError | CatalogueError | ValueError | EOFError)
            problems = "; ".join(getattr(exc, "problems", ()) or [
                str(exc) if known else f"not a policy_catalogue record ({type(exc).__name__})"])
            log.error("catalogue version at %s refused: %s", where, problems)
            self.rejected.append(problems)
            return None
        if (catalogue.name, catalogue.version) != (published["catalogue"], published["version"]):
            log.error("catalogue version at %s refused: the record and its document name different versions", where)
            return None
        return catalogue


async def publish_catalogue(bootstrap: str, contract: Contract, document: str, origin: str) -> PolicyCatalogue:
    """Check a catalogue document, then publish it to assist.policies; CatalogueError lists every problem."""
    catalogue = load_catalogue(document, origin)
    record = {
        "catalogue": catalogue.name, "version": catalogue.version, "effective_from": catalogue.effective_from,
        "published_at": dt.datetime.now(dt.UTC), "document": document,
        "digest": hashlib.sha256(document.encode()).hexdigest(),
    }
    producer = durable_producer(bootstrap, "assist-policy-publisher")
    await producer.start()
    try:
        await producer.send_and_wait(POLICIES.name, encode_record(contract, "policy_catalogue", record),
                                     key=f"{catalogue.name}@{catalogue.version}".encode())
    finally:
        await producer.stop()
    return catalogue
