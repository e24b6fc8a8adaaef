"""The fault suite (./run faults): collected only when ASSIST_FAULTS=1, so `pytest` and `./run test` never
start it. It runs on its own Kafka broker and Redis (see stack.py), which it starts and stops itself."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.core.settings import PROJECT_ROOT, Settings
from tests.faults.outcome import Results
from tests.faults.processes import Services
from tests.faults.sizes import Size, chosen
from tests.faults.stack import FaultStack

ENABLED = os.environ.get("ASSIST_FAULTS") == "1"
collect_ignore_glob = [] if ENABLED else ["test_*.py"]
RESULTS = Results(chosen().name)
RESULTS_DIR = Path(os.environ.get("ASSIST_FAULTS_RESULTS_DIR", str(PROJECT_ROOT / "bench" / "results")))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "faults" in item.path.parts:
            item.add_marker(pytest.mark.faults)
    # The privacy scan reads what every scenario left behind, so it runs last.
    items.sort(key=lambda item: item.path.name == "test_privacy_scan.py")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not RESULTS.outcomes and not RESULTS.privacy:
        return
    terminalreporter.section(f"fault suite ({RESULTS.size})")
    terminalreporter.write_line(RESULTS.table())
    if RESULTS.privacy:
        terminalreporter.write_line("")
        terminalreporter.write_line("privacy scan: findings per place (identity numbers, phones, e-mails)")
        width = max(len(place) for place, _ in RESULTS.privacy)
        for place, counts in RESULTS.privacy:
            terminalreporter.write_line(f"  {place.ljust(width)}  " + "  ".join(f"{k}={v}" for k, v in counts.items()))
    terminalreporter.write_line(f"written to {RESULTS.write(RESULTS_DIR)}; the stack's data and logs: "
                                f"{RESULTS.data_dir}")


@pytest.fixture(scope="session")
def fault_stack() -> Iterator[FaultStack]:
    stack = FaultStack.from_environment()
    RESULTS.data_dir = str(stack.data_dir)
    try:
        stack.up()
        yield stack
    finally:
        stack.down()


@pytest.fixture(scope="session")
def size() -> Size:
    return chosen()


@pytest.fixture(scope="session")
def results() -> Results:
    return RESULTS


@pytest.fixture
def fault_settings(fault_stack: FaultStack) -> Settings:
    return fault_stack.settings()


@pytest.fixture
def services(fault_stack: FaultStack) -> Iterator[Services]:
    running = Services(fault_stack.env(), fault_stack.logs)
    try:
        yield running
    finally:
        try:
            running.stop_all()
        finally:
            fault_stack.restore()
