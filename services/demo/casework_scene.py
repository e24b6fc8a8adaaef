"""The demo's second half: citizens' consented contacts, a caseworker approving a verification task through the
casework API, and the message that then reaches the citizen."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import aiohttp
from aiokafka import AIOKafkaProducer

from services.casework.adapters.tokens import StaffTokens
from services.casework.domain.scope import Role, Staff
from services.core.codec import Contract, encode_record
from services.core.topics import CONTACTS
from services.simulator.population import Household


def contact(person_id: str, n: int, has_phone: bool, alone_and_old: bool) -> dict[str, Any]:
    """Synthetic consented contact details: most people by SMS, every third also by e-mail, some in English."""
    channels = (["SMS"] if has_phone else []) + (["EMAIL"] if n % 3 == 0 else []) + ["INBOX"]
    return {
        "person_id": person_id,
        "phone": f"+86139{n % 100_000_000:08d}" if has_phone else None,
        "email": f"resident{n}@example.org" if n % 3 == 0 else None,
        "channels": channels, "language": "en" if n % 5 == 0 else "zh_CN", "time_zone": "Asia/Shanghai",
        "quiet_from": "22:00" if n % 4 == 3 else None, "quiet_until": "07:00" if n % 4 == 3 else None,
        "opted_out_non_critical": n % 50 == 49,
        "elderly_living_alone": alone_and_old, "consented_at": dt.datetime.now(dt.UTC),
    }


def contacts_of(households: Iterable[Household], on: dt.date) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for household in households:
        alone = len(household.members) == 1
        for member in household.members:
            old = member.age_on(on) >= 60
            records.append(contact(member.person_id, len(records), member.has_phone, alone and old))
    return records


async def publish_contacts(producer: AIOKafkaProducer, contract: Contract, records: list[dict[str, Any]]) -> None:
    futures = [await producer.send(CONTACTS.name, encode_record(contract, "contact", r), key=r["person_id"].encode())
               for r in records]
    await asyncio.gather(*futures)


async def caseworker_approves(base: str, staff_key: str, task: dict[str, Any]) -> list[str]:
    """A caseworker of the task's district claims and approves it through the casework API; returns what happened."""
    district = task["district"]
    token = StaffTokens(staff_key).issue(Staff("demo-caseworker", Role.CASEWORKER, frozenset({district})))
    headers = {"Authorization": f"Bearer {token}"}
    steps = []
    async with aiohttp.ClientSession(headers=headers) as session:
        for action, body in (("claim", None), ("decide", {"action": "approve"})):
            async with session.post(f"{base}/api/v1/tasks/{task['task_id']}/{action}", json=body) as response:
                steps.append(f"{action}: HTTP {response.status}")
                if response.status >= 300:
                    steps.append(await response.text())
                    break
    return steps


def _sms_to(sms_log: Path, phone: str, mentioning: str) -> dict[str, Any] | None:
    if sms_log.exists():
        for line in sms_log.read_text(encoding="utf-8").splitlines():
            message: dict[str, Any] = json.loads(line)
            if message.get("to") == phone and mentioning.lower() in str(message.get("text", "")).lower():
                return message
    return None


async def wait_for_sms(sms_log: Path, phone: str, mentioning: str, seconds: float = 30) -> dict[str, Any] | None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        message = await asyncio.to_thread(_sms_to, sms_log, phone, mentioning)
        if message is not None:
            return message
        await asyncio.sleep(0.5)
    return None


def delivered(sms_log: Path, mail_dir: Path) -> tuple[int, int]:
    sms = len(sms_log.read_text(encoding="utf-8").splitlines()) if sms_log.exists() else 0
    mails = len(list(mail_dir.glob("*.eml"))) if mail_dir.exists() else 0
    return sms, mails
