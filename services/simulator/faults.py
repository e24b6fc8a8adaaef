"""Deliberately broken department events, to show rejections (HTTP 400) and dead-lettering (Kafka)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from services.simulator.departments import local_day, source_of

WRONG_CHECK_CHARACTER = "wrong_check_character"
UNKNOWN_TYPE = "unknown_type"
IMPOSSIBLE_GRADE = "impossible_grade"
FAULTS = (WRONG_CHECK_CHARACTER, UNKNOWN_TYPE, IMPOSSIBLE_GRADE)
UNKNOWN_EVENT_TYPE = "job.found"
_CHECK_CHARACTERS = "0123456789X"


def spoil(event: dict[str, Any], rng: random.Random, fault: str | None = None) -> dict[str, Any]:
    """A copy of `event` broken one way (`fault`, or one drawn from FAULTS); it keeps its id and time.

    wrong_check_character: the subject's last character no longer matches ISO 7064 MOD 11-2.
    unknown_type: a type that no schema declares. impossible_grade: a disability certification of grade 7.
    """
    fault = fault or rng.choice(FAULTS)
    broken = dict(event)
    if fault == WRONG_CHECK_CHARACTER:
        subject = str(event["subject"])
        broken["subject"] = subject[:17] + rng.choice([c for c in _CHECK_CHARACTERS if c != subject[17:]])
    elif fault == UNKNOWN_TYPE:
        broken["type"] = UNKNOWN_EVENT_TYPE
        broken.pop("dataschema", None)
    elif fault == IMPOSSIBLE_GRADE:
        day = local_day(dt.datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00")))
        broken.update(source=source_of("disabled_persons_federation"), type="disability.certified",
                      dataschema="schemas/events/disability_certified.avsc",
                      data={"certified_on": day.isoformat(), "category": "PHYSICAL", "grade": 7})
    else:
        raise ValueError(f"unknown fault {fault!r}; choose one of {', '.join(FAULTS)}")
    return broken
