"""Shared test fixtures: synthetic resident identity numbers and CloudEvents."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from typing import Any

import pytest

from services.core.identity import check_character

_sequence = itertools.count(100)


def resident_id(district: str = "110105", born: dt.date = dt.date(1980, 5, 17)) -> str:
    """A valid, synthetic 18-character resident identity number, new on every call."""
    first17 = f"{district}{born:%Y%m%d}{next(_sequence) % 1000:03d}"
    return first17 + check_character(first17)


def structured_event(type_: str, data: dict[str, Any], subject: str | None = None,
                     department: str = "health", event_id: str | None = None) -> dict[str, Any]:
    return {
        "specversion": "1.0", "id": event_id or str(uuid.uuid4()), "source": f"/departments/{department}/test",
        "type": type_, "time": "2026-11-20T08:30:00Z", "subject": subject or resident_id(), "data": data,
    }


def discharge(subject: str | None = None, event_id: str | None = None, out_of_pocket_fen: int = 1_200_000
              ) -> dict[str, Any]:
    return structured_event("hospitalisation.discharged", {
        "discharged_on": "2026-11-19", "diagnosis_category": "CRITICAL", "total_cost_fen": 8_000_000,
        "out_of_pocket_fen": out_of_pocket_fen}, subject=subject, event_id=event_id)


@pytest.fixture
def new_resident_id() -> str:
    return resident_id()
