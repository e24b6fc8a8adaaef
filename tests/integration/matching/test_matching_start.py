"""A matching worker starting against a broker that has just been created: the group coordinator is not ready
yet (the broker is still creating its offsets topic), and that wait is not an error."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.core.settings import PROJECT_ROOT
from tests.integration.matching.matching_harness import free_port

STACK = PROJECT_ROOT / "deploy" / "local" / "stack.sh"


@pytest.fixture
def fresh_broker(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A broker of its own, formatted just now, with the project's topics; stopped at the end."""
    env = {**os.environ, "ASSIST_KAFKA_PORT": str(free_port()), "ASSIST_KAFKA_CONTROLLER_PORT": str(free_port()),
           "ASSIST_DATA_DIR": str(tmp_path / "stack")}
    env["ASSIST_KAFKA_BOOTSTRAP"] = f"127.0.0.1:{env['ASSIST_KAFKA_PORT']}"
    try:
        subprocess.run(["bash", str(STACK), "kafka-up"], env=env, check=True, timeout=180, capture_output=True)
        subprocess.run([sys.executable, "-m", "services.core", "create-topics"], env=env, check=True, timeout=120,
                       capture_output=True, cwd=PROJECT_ROOT)
        yield env
    finally:
        subprocess.run(["bash", str(STACK), "kafka-down"], env=env, timeout=120, capture_output=True)


def test_a_worker_on_a_new_broker_waits_for_the_group_coordinator_without_logging_an_error(
        fresh_broker: dict[str, str], tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    env = {**fresh_broker, "ASSIST_MATCHING_WEB_PORT": str(free_port()), "ASSIST_MATCHING_APP_ID": "start-test",
           "ASSIST_DATA_DIR": str(tmp_path / "worker")}
    with log.open("wb") as out:
        worker = subprocess.Popen([sys.executable, "-m", "services.matching", "worker"], env=env, stdout=out,
                                  stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)
    try:
        deadline = time.monotonic() + 90
        while "Discovered coordinator" not in log.read_text() and time.monotonic() < deadline:
            assert worker.poll() is None, log.read_text()[-3000:]
            time.sleep(0.5)
        assert "Discovered coordinator" in log.read_text(), log.read_text()[-3000:]
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=30)
    lines = log.read_text().splitlines()
    errors = [line for line in lines if "[ERROR]" in line]
    assert not [line for line in errors if "oordinator" in line], errors
    waited = [line for line in lines if "waiting for the broker to name the coordinator" in line]
    assert all("[INFO]" in line for line in waited), waited


def test_a_worker_whose_partition_setting_differs_from_the_broker_s_topics_does_not_start(tmp_path: Path) -> None:
    """On the suite's broker the topics have 8 partitions; a worker told 4 would split households across
    partitions no other worker pairs up, so it stops at once naming the topics and the setting."""
    env = {**os.environ, "ASSIST_HOUSEHOLD_PARTITIONS": "4", "ASSIST_MATCHING_WEB_PORT": str(free_port()),
           "ASSIST_MATCHING_APP_ID": "partitions-test", "ASSIST_DATA_DIR": str(tmp_path / "worker")}
    done = subprocess.run([sys.executable, "-m", "services.matching", "worker"], env=env, capture_output=True,
                          timeout=120, cwd=PROJECT_ROOT, text=True)
    assert done.returncode == 78, done.stderr[-3000:]
    assert "assist.events has 8 partitions on the broker, this process expects 4" in done.stderr
    assert "ASSIST_HOUSEHOLD_PARTITIONS" in done.stderr
