"""A real matching worker in a subprocess, with its own consumer group, data folder and catalogue name,
plus small builders for registry records and events."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from services.core.codec import Event, encode_event, encode_record, load_contract
from services.core.kafka import commit_group_at_end, durable_producer
from services.core.settings import PROJECT_ROOT, load_settings
from services.core.topics import EVENTS, MATCHING_INPUTS, POLICIES, REGISTRY
from services.matching.adapters.catalogue_feed import publish_catalogue

DEMO = (PROJECT_ROOT / "policies" / "national-demo.yaml").read_text(encoding="utf-8")
CONTRACT = load_contract()
BOOTSTRAP = load_settings().kafka_bootstrap


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def catalogue_text(name: str, version: str = "2026.1", effective_from: str = "2026-01-01",
                   replace: tuple[str, str] | None = None) -> str:
    text = DEMO.replace("catalogue: national-demo", f"catalogue: {name}")
    text = text.replace('version: "2026.1"', f'version: "{version}"')
    text = text.replace("effective_from: 2026-01-01", f"effective_from: {effective_from}", 1)
    if replace:
        assert replace[0] in text, replace[0]
        text = text.replace(*replace)
    return text


class MatchingWorker:
    def __init__(self, tmp: Path):
        self.app_id = f"assist-matching-test-{uuid.uuid4().hex[:8]}"
        self.catalogue = f"test-{uuid.uuid4().hex[:8]}"
        self.port = free_port()
        self.data_dir = tmp / "matching-worker"
        self.log = tmp / "matching-worker.log"
        self.process: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        return {**os.environ, "ASSIST_MATCHING_APP_ID": self.app_id, "ASSIST_MATCHING_CATALOGUE": self.catalogue,
                "ASSIST_MATCHING_WEB_PORT": str(self.port), "ASSIST_DATA_DIR": str(self.data_dir)}

    async def publish_catalogue(self, **kwargs: Any) -> None:
        await publish_catalogue(BOOTSTRAP, CONTRACT, catalogue_text(self.catalogue, **kwargs), "test")

    async def start_at_topic_ends(self) -> None:
        """The worker processes what the test publishes, not the history other tests left on the broker."""
        await commit_group_at_end(BOOTSTRAP, self.app_id, MATCHING_INPUTS)

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "services.matching", "worker"], env=self.env(),
                                            stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)

    async def wait_ready(self, timeout: float = 90) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            assert self.process and self.process.poll() is None, self.log.read_text()[-3000:]
            if "assist_matching_catalogue_info{" in await asyncio.to_thread(self.metrics):
                return
            await asyncio.sleep(0.5)
        raise AssertionError("matching worker not ready:\n" + self.log.read_text()[-3000:])

    def metrics(self) -> str:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=2) as r:
                return r.read().decode()
        except OSError:
            return ""

    def kill(self) -> None:
        """Crash: no shutdown, no final commit."""
        assert self.process
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def alive(self) -> bool:
        return bool(self.process and self.process.poll() is None)


def member(person_id: str, born: str, income_fen: int = 0, grade: int | None = None,
           phone: bool = True) -> dict[str, Any]:
    return {"person_id": person_id, "birth_date": dt.date.fromisoformat(born), "monthly_income_fen": income_fen,
            "disability_grade": grade, "has_phone": phone}


def household(household_id: str, members: list[dict[str, Any]], district: str = "510107", urban: bool = True,
              assets_fen: int = 0, benefits: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"household_id": household_id, "district": district, "region": district[:2] + "0000", "urban": urban,
            "financial_assets_fen": assets_fen, "members": members, "current_benefits": list(benefits),
            "as_of": dt.datetime.now(dt.UTC) - dt.timedelta(days=30)}


def event(type_: str, subject: str, data: dict[str, Any], department: str = "human_resources") -> Event:
    return Event(id=str(uuid.uuid4()), source=f"/departments/{department}/test", type=type_,
                 time=dt.datetime.now(dt.UTC), subject=subject, data=data)


async def publish(registry: list[dict[str, Any]] = (), events: list[Event] = (),  # type: ignore[assignment]
                  raw_events: list[tuple[bytes, bytes, list[tuple[str, bytes]]]] = ()) -> None:  # type: ignore[assignment]
    producer = durable_producer(BOOTSTRAP, "test-publisher")
    await producer.start()
    try:
        for record in registry:
            await producer.send_and_wait(REGISTRY.name, encode_record(CONTRACT, "household", record),
                                         key=record["household_id"].encode())
        for e in events:
            value, headers = encode_event(CONTRACT, e)
            await producer.send_and_wait(EVENTS.name, value, key=e.subject.encode(), headers=headers)
        for key, value, headers in raw_events:
            await producer.send_and_wait(EVENTS.name, value, key=key, headers=headers)
    finally:
        await producer.stop()


async def publish_raw_catalogue(value: bytes, key: bytes) -> None:
    producer = durable_producer(BOOTSTRAP, "test-publisher")
    await producer.start()
    try:
        await producer.send_and_wait(POLICIES.name, value, key=key)
    finally:
        await producer.stop()
