"""Intake while the broker is down: 503 with Retry-After, never a 2xx; recovery once it is back."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest

from services.core.codec import header
from services.core.topics import EVENTS
from tests.conftest import discharge

STACK = Path(__file__).resolve().parents[2] / "deploy" / "local" / "stack.sh"
SINGLE = "application/cloudevents+json"

pytestmark = pytest.mark.outage


def _stack(command: str) -> None:
    subprocess.run(["bash", str(STACK), command], check=True, capture_output=True, timeout=180)


async def test_intake_answers_503_while_kafka_is_down_and_recovers_after_restart(api, probe):
    events = await probe(EVENTS.name)
    headers = {**api.auth("health"), "Content-Type": SINGLE}
    await asyncio.to_thread(_stack, "kafka-down")
    try:
        during = discharge()
        response = await api.client.post("/v1/events", data=json.dumps(during), headers=headers)
        assert response.status == 503
        assert int(response.headers["Retry-After"]) > 0
    finally:
        await asyncio.to_thread(_stack, "kafka-up")

    after = discharge()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    status = 0
    while loop.time() < deadline:
        # The client does what the 503 told it: retry the same event later.
        response = await api.client.post("/v1/events", data=json.dumps(after), headers=headers)
        status = response.status
        if status == 202:
            break
        assert status == 503
        await asyncio.sleep(float(response.headers["Retry-After"]))
    assert status == 202
    assert await events.collect(lambda r: header(r.headers, "ce_id") == after["id"], 1, timeout=30)
    # The event refused during the outage may be re-sent now and is accepted as new, not as a duplicate.
    retried = await api.client.post("/v1/events", data=json.dumps(during), headers=headers)
    assert retried.status == 202
    assert (await retried.json())["events"][0]["status"] in ("accepted", "duplicate")
