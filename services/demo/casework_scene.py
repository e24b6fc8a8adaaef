"""The demo's second half: citizens' consented contacts, a caseworker who claims a verification task, chooses
"visit" and sees where the family lives, then approves it through the casework API; the message that then reaches
the citizen, and what the family's own page says: why, in Chinese, and who saw their details."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
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


@dataclass
class Visit:
    """What the caseworker did on the task, and the household members' details the vault showed for the visit."""

    steps: list[str] = field(default_factory=list)
    persons: list[dict[str, str]] = field(default_factory=list)


async def caseworker_visits_and_approves(base: str, staff_key: str, task: dict[str, Any]) -> Visit:
    """A caseworker of the task's district claims it, chooses "visit" (the vault shows the household's names,
    address and phones, and records the disclosure first), then approves it, all through the casework API."""
    district = task["district"]
    token = StaffTokens(staff_key).issue(Staff("demo-caseworker", Role.CASEWORKER, frozenset({district})))
    headers = {"Authorization": f"Bearer {token}"}
    visit = Visit()
    async with aiohttp.ClientSession(headers=headers) as session:
        for action, body in (("claim", None), ("disclosures", {"purpose": "VISIT"}),
                             ("decide", {"action": "approve"})):
            async with session.post(f"{base}/api/v1/tasks/{task['task_id']}/{action}", json=body) as response:
                visit.steps.append(f"{action}: HTTP {response.status}")
                if response.status >= 300:
                    visit.steps.append(await response.text())
                    break
                if action == "disclosures":
                    visit.persons = list((await response.json())["persons"])
    return visit


@dataclass
class FamilyPage:
    """What the family's citizen page says, read through its API with the link from their message, in zh-CN."""

    reasons: list[str] = field(default_factory=list)
    """Why the subsistence allowance, in plain words."""
    contact_uses: list[str] = field(default_factory=list)
    """Who saw their contact details and why."""


LINK = re.compile(r"https?://[^\s]+/c/[A-Za-z0-9._~-]+")


async def family_page(message_text: str, policy_id: str) -> FamilyPage | None:
    """Open the signed link of `message_text` and read the page's offer reasons and data-use log (None: no link)."""
    found = LINK.search(message_text)
    if found is None:
        return None
    link = found.group()
    site = link.split("/c/")[0]
    page = FamilyPage()
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.get(link, allow_redirects=False) as opened:
            if opened.status >= 400:
                return None
        async with session.get(f"{site}/api/v1/offers", params={"lang": "zh_CN"}) as response:
            offers = (await response.json()).get("offers", []) if response.status == 200 else []
        for offer in offers:
            if offer.get("policy_id") == policy_id:
                page.reasons = [c["text"] for c in offer.get("condition_sentences", []) if c.get("text")]
                if offer.get("amount_reason"):
                    page.reasons.append(offer["amount_reason"])
        async with session.get(f"{site}/api/v1/data-use", params={"lang": "zh_CN"}) as response:
            uses = (await response.json()).get("contact_uses", []) if response.status == 200 else []
        page.contact_uses = [f"{u['at_text']} {u['role_text']}（{u['district']}）{u['purpose_text']}："
                             f"{'、'.join(u['fields_text'])}" for u in uses]
    return page


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
