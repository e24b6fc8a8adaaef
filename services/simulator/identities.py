"""What the civil registry knows of who the synthetic residents are: a name, an address, a phone number, for the
identity vault (assist.identities). Derived from the household and person ids alone, so the same population gives
the same details; the phone numbers are drawn only for residents the registry says have one."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

from services.simulator.population import Household

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN_NAMES = ("伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
               "明", "超", "秀兰", "霞", "平", "刚", "桂英", "建国", "小梅", "德海", "桂芬")
STREETS = ("建设路", "人民路", "解放街", "新华路", "文化路", "团结巷", "和平路", "光明街")


def _draw(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("|".join(parts).encode()).digest()[:8], "big")


def household_address(household: Household) -> str:
    n = _draw("address", household.household_id)
    return f"{household.district.name_zh}{STREETS[n % len(STREETS)]}{n // 8 % 300 + 1}号"


def identity_records(household: Household, as_of: dt.datetime, names: Sequence[str] = ()) -> list[dict[str, Any]]:
    """One PersonIdentity record (schemas/records/person_identity.avsc) per member; `names` in member order
    overrides the drawn ones (the demo story's named residents)."""
    surname = SURNAMES[_draw("surname", household.household_id) % len(SURNAMES)]
    address = household_address(household)
    records = []
    for i, person in enumerate(household.members):
        n = _draw("person", person.person_id)
        name = names[i] if i < len(names) else surname + GIVEN_NAMES[n % len(GIVEN_NAMES)]
        phone = f"1{3 + n % 7}{n // 7 % 10**9:09d}" if person.has_phone else None
        records.append({"person_id": person.person_id, "household_id": household.household_id, "name": name,
                        "address": address, "phone": phone, "updated_at": as_of})
    return records
