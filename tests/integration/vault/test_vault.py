"""The identity vault against the real broker and Redis: registry details are stored sealed, shown only by the
rules with a durable audit record first, survive a key rotation; bad records are parked without their values."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import uuid
from dataclasses import replace

from aiokafka import AIOKafkaProducer
from redis.asyncio import Redis

from services.core.codec import decode_record, encode_record, load_contract
from services.core.settings import Settings
from services.core.topics import DISCLOSURES, IDENTITIES, VAULT_DLQ
from services.vault.adapters.identity_feed import IdentityFeed, identities_consumer, vault_dead_letters
from services.vault.domain.disclosure import DisclosureRequest, Refused, TaskInScope
from services.vault.domain.sealing import Keyring
from services.vault.service import Revealed
from services.vault.wiring import vault_parts

CONTRACT = load_contract()
NEW_KEY = base64.b64encode(b"k" * 32).decode()


def identity(person: str, household: str, name: str, phone: str | None) -> bytes:
    return encode_record(CONTRACT, "person_identity", {
        "person_id": person, "household_id": household, "name": name, "address": "冕宁县城厢镇建设路 12 号",
        "phone": phone, "updated_at": dt.datetime.now(dt.UTC)})


async def until(check, seconds: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.2)


async def test_details_are_sealed_shown_by_the_rules_audited_first_and_survive_a_key_rotation(
        settings: Settings, probe) -> None:
    run = uuid.uuid4().hex[:8]
    prefix = f"test:vault:{run}"
    household, father, daughter, gone = f"h-{run}", f"p-{run}-1", f"p-{run}-2", f"p-{run}-3"
    disclosures, dead = await probe(DISCLOSURES.name), await probe(VAULT_DLQ.name)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(IDENTITIES.name, identity(father, household, "杨建国", "13812345678"),
                                     key=father.encode())
        await producer.send_and_wait(IDENTITIES.name, identity(daughter, household, "杨小梅", None),
                                     key=daughter.encode())
        await producer.send_and_wait(IDENTITIES.name, identity(gone, household, "杨老三", "13900001111"),
                                     key=gone.encode())
        await producer.send_and_wait(IDENTITIES.name, None, key=gone.encode())
        await producer.send_and_wait(IDENTITIES.name, b"\x00garbled 13812345678", key=f"p-{run}-x".encode())
    finally:
        await producer.stop()

    async with vault_parts(settings, prefix) as parts:
        consumer = identities_consumer(settings.kafka_bootstrap, group=f"test-vault-{run}")
        await consumer.start()
        stop = asyncio.Event()
        feed = IdentityFeed(consumer, parts.vault, parts.contract, vault_dead_letters(parts.producer))
        running = asyncio.create_task(feed.run(stop))
        try:
            async def both_members_stored() -> bool:
                return await parts.store.members(household) == sorted([father, daughter])
            await until(both_members_stored)
        finally:
            stop.set()
            await running
            await consumer.stop()

        raw = Redis.from_url(settings.redis_url)
        stored = b""
        for key in await raw.keys(f"{prefix}:person:*"):
            stored += b"".join((await raw.hgetall(key)).values())
        assert "杨建国".encode() not in stored and b"13812345678" not in stored and b"v1.dev1." in stored

        parked = await dead.collect(lambda r: r.key == f"p-{run}-x".encode(), 1)
        assert len(parked) == 1 and parked[0].value is None
        assert dict(parked[0].headers)["dlq_reason"].startswith(b"not a person_identity record")

        task = TaskInScope(f"t-{run}", household, "513433", open=True, claimed_by="cw-1")
        refused = await parts.vault.disclose(DisclosureRequest("cw-2", "CASEWORKER", task, "VISIT"))
        assert isinstance(refused, Refused) and refused.field == "task_id"
        revealed = await parts.vault.disclose(DisclosureRequest("cw-1", "CASEWORKER", task, "VISIT"))
        assert isinstance(revealed, Revealed)
        assert revealed.persons == {father: {"name": "杨建国", "address": "冕宁县城厢镇建设路 12 号",
                                             "phone": "13812345678"},
                                    daughter: {"name": "杨小梅", "address": "冕宁县城厢镇建设路 12 号"}}
        audited = await disclosures.collect(lambda r: r.key == household.encode(), 2, timeout=5)
        assert len(audited) == 1, "a refused request leaves no record; a disclosure leaves one"
        record = decode_record(CONTRACT, "disclosure", audited[0].value)
        assert (record["actor"], record["task_id"], record["purpose"], record["person_ids"], record["fields"]) == (
            "cw-1", f"t-{run}", "VISIT", [father, daughter], ["name", "address", "phone"])
        assert b"13812345678" not in audited[0].value and "杨".encode() not in audited[0].value

    rotated = replace(settings, vault_keys=f"k2:{NEW_KEY},{settings.vault_keys}")
    async with vault_parts(rotated, prefix) as parts:
        # The feed read the whole compacted topic, so the store holds earlier runs' persons too: all sealed by dev1.
        stored_persons = [p async for batch in parts.store.person_ids(100) for p in batch]
        assert {father, daughter} <= set(stored_persons) and gone not in stored_persons
        assert await parts.vault.reseal(batch=1) == len(set(stored_persons))
        assert await parts.vault.reseal() == 0
        sealed = await parts.store.sealed([father], ["name", "phone"])
        assert all(v.startswith("v1.k2.") for v in sealed[father].values())
    only_new = replace(settings, vault_keys=f"k2:{NEW_KEY}")
    async with vault_parts(only_new, prefix) as parts:
        again = await parts.vault.disclose(DisclosureRequest("sv-1", "SUPERVISOR", task, "VERIFY"))
        assert isinstance(again, Revealed) and again.persons[father] == {"name": "杨建国", "phone": "13812345678"}
        figures = await parts.vault.figures(days=1)
        assert {a: (f.disclosures, set(f.households)) for a, f in figures.items()} == {
            "cw-1": (1, {household}), "sv-1": (1, {household})}
        assert figures["sv-1"].actor_role == "SUPERVISOR" and not figures["cw-1"].browsing([])
        assert Keyring.parse(settings.vault_keys).sealing_key_id == "dev1"
    for key in await raw.keys(f"{prefix}:*"):
        await raw.delete(key)
    await raw.aclose()
