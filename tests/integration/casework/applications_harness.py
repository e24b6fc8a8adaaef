"""What the application tests share: a contract that knows application.submitted (the schema's specification is
copied into a temporary schema folder only while schemas/events lacks it), a catalogue of their own on
assist.policies, and matching's answers as ApplicationAnswer records."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import uuid
from pathlib import Path
from typing import Any

from services.core.codec import SCHEMA_DIR, Contract, encode_record, load_contract
from services.core.kafka import durable_producer
from services.core.settings import Settings
from services.core.topics import APPLICATION_ANSWERS, POLICIES

SPECIFICATION = Path("/work/brief/application_submitted.avsc")
SCHEMA = "application_submitted.avsc"


def application_contract(tmp_path: Path) -> Contract:
    """The platform's contract, with application.submitted from its specification while schemas/ lacks it."""
    if (SCHEMA_DIR / "events" / SCHEMA).exists():
        return load_contract()
    folder = tmp_path / "schemas"
    shutil.copytree(SCHEMA_DIR, folder)
    shutil.copy(SPECIFICATION, folder / "events" / SCHEMA)
    return load_contract(folder)


CATALOGUE = """
catalogue: {name}
version: "2026.test"
policies:
  - id: subsistence_allowance
    name: Subsistence allowance (dibao)
  - id: medical_assistance
    name: Medical assistance
"""


async def publish_catalogue(settings: Settings) -> str:
    """A catalogue version of a name of its own on assist.policies (effective since yesterday); its name."""
    name = f"test-{uuid.uuid4().hex[:10]}"
    document = CATALOGUE.format(name=name)
    record = {"catalogue": name, "version": "2026.test", "effective_from": dt.date.today() - dt.timedelta(days=1),
              "published_at": dt.datetime.now(dt.UTC), "document": document,
              "digest": hashlib.sha256(document.encode()).hexdigest()}
    producer = durable_producer(settings.kafka_bootstrap, "test-applications")
    await producer.start()
    try:
        await producer.send_and_wait(POLICIES.name, encode_record(load_contract(), "policy_catalogue", record),
                                     key=f"{name}:2026.test".encode())
    finally:
        await producer.stop()
    return name


def answer_record(application_id: str, person_id: str, household_id: str, outcome: str, applied_by: str = "citizen",
                  policy_id: str = "subsistence_allowance", **fields: Any) -> dict[str, Any]:
    value = {"application_id": application_id, "person_id": person_id, "household_id": household_id,
             "policy_id": policy_id, "policy_name": "Subsistence allowance (dibao)", "outcome": outcome,
             "offer_id": None, "task_id": None, "reasons": [], "explanation": None, "catalogue_version": "2026.test",
             "applied_by": applied_by, "answered_at": dt.datetime.now(dt.UTC)}
    value.update(fields)
    return value


async def publish_answers(settings: Settings, *answers: dict[str, Any]) -> None:
    producer = durable_producer(settings.kafka_bootstrap, "test-applications")
    await producer.start()
    try:
        for answer in answers:
            await producer.send_and_wait(APPLICATION_ANSWERS.name,
                                         encode_record(load_contract(), "application_answer", answer),
                                         key=str(answer["household_id"] or answer["person_id"]).encode())
    finally:
        await producer.stop()
