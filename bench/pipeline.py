"""The platform as separate processes on the local stack, for benchmarks that measure it end to end: intake's
HTTP API, a matching worker, the casework worker and the casework API, each with its own ports and consumer group
started at the current end of its topics (a fresh deployment on a broker holding other runs' history)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

from services.casework.adapters.tokens import StaffTokens
from services.casework.domain.scope import staff
from services.core.codec import Contract
from services.core.kafka import commit_group_at_end
from services.core.settings import PROJECT_ROOT, Settings
from services.core.topics import APPLICATION_ANSWERS, MATCHING_INPUTS, TASKS
from services.intake.adapters.tokens import TokenFile
from services.matching.adapters.catalogue_feed import publish_catalogue
from services.notification.adapters.kafka_inbound import TOPICS as NOTIFICATION_INPUTS

CATALOGUE = PROJECT_ROOT / "policies" / "national-demo.yaml"
UNLIMITED = "1000000"
ALL = ("intake", "matching", "casework", "casework-api")
"""The processes a pipeline runs unless told otherwise; "notification" (the worker) is there on request."""


@dataclass(frozen=True)
class Ports:
    """Every port the pipeline's processes listen on, from one base so that runs side by side do not collide."""

    base: int

    @property
    def intake(self) -> int:
        return self.base

    @property
    def casework_web(self) -> int:
        return self.base + 2

    @property
    def casework_metrics(self) -> int:
        return self.base + 4

    @property
    def matching_web(self) -> int:
        return self.base + 6

    @property
    def notification_metrics(self) -> int:
        return self.base + 8


def port_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind: TIME_WAIT is no owner
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def stop_on_sigterm() -> None:
    """SIGTERM (a timeout of `./run bench all`) ends the benchmark like Ctrl-C, so it stops the processes it
    started instead of leaving them running."""
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))


def wait_or_kill(process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    """Wait for a process told to stop; kill it past `seconds`."""
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def run_folder(settings: Settings, benchmark: str) -> Path:
    """A new folder for one run's logs and data under the data folder; the logs stay for reading afterwards."""
    folder = settings.data_dir / "bench" / f"{benchmark}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:4]}"
    folder.mkdir(parents=True)
    return folder


def drop_tables(run_dir: Path) -> None:
    """Remove the matching worker's RocksDB stores of a finished run (large; its logs stay)."""
    shutil.rmtree(run_dir / "matching", ignore_errors=True)


class Pipeline:
    """intake serve, matching worker, casework worker and casework api; logs in `run_dir`."""

    def __init__(self, settings: Settings, contract: Contract, run_dir: Path, ports: Ports,
                 notification_redis: str | None = None):
        self.settings, self.contract, self.run_dir, self.ports = settings, contract, run_dir, ports
        self.notification_redis = notification_redis or settings.redis_url
        self.notification_group = f"assist-notification-latency-{uuid.uuid4().hex[:8]}"
        self.run_id = uuid.uuid4().hex[:8]
        self.app_id = f"assist-matching-latency-{self.run_id}"
        self.casework_group = f"assist-casework-latency-{self.run_id}"
        self.catalogue = f"latency-{self.run_id}"
        tokens_file = run_dir / "tokens.json"
        self.tokens = {d: TokenFile(tokens_file).issue(d) for d in contract.departments}
        # Throttles are a separate concern: this pipeline is measured for speed, so intake and the API do not
        # throttle the benchmark's one department client or its one reader.
        self.env = {**os.environ, "ASSIST_MATCHING_APP_ID": self.app_id, "ASSIST_MATCHING_CATALOGUE": self.catalogue,
                    "ASSIST_INTAKE_TOKENS_FILE": str(tokens_file), "ASSIST_DATA_DIR": str(run_dir),
                    "ASSIST_INTAKE_PORT": str(ports.intake), "ASSIST_CASEWORK_WEB_PORT": str(ports.casework_web),
                    "ASSIST_CASEWORK_METRICS_PORT": str(ports.casework_metrics),
                    "ASSIST_MATCHING_WEB_PORT": str(ports.matching_web),
                    "ASSIST_INTAKE_RATE_PER_SECOND": UNLIMITED, "ASSIST_INTAKE_RATE_BURST": UNLIMITED,
                    "ASSIST_CASEWORK_RATE_PER_SECOND": UNLIMITED, "ASSIST_CASEWORK_RATE_BURST": UNLIMITED}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def intake_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.intake}"

    @property
    def casework_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.casework_web}"

    def staff_token(self, districts: list[str]) -> str:
        return StaffTokens(self.settings.staff_token_key).issue(staff("bench-latency", "caseworker", districts))

    async def start(self, only: tuple[str, ...] = ALL) -> None:
        """Publish the run's catalogue, start the consumer groups at the topics' ends and start `only` these of
        ALL, each once it answers."""
        bootstrap = self.settings.kafka_bootstrap
        document = CATALOGUE.read_text(encoding="utf-8").replace("catalogue: national-demo",
                                                                 f"catalogue: {self.catalogue}")
        await publish_catalogue(bootstrap, self.contract, document, str(CATALOGUE))
        await commit_group_at_end(bootstrap, self.app_id, MATCHING_INPUTS)
        await commit_group_at_end(bootstrap, self.casework_group, (TASKS, APPLICATION_ANSWERS))
        if "notification" in only:
            await commit_group_at_end(bootstrap, self.notification_group, NOTIFICATION_INPUTS)
        ports = {"intake": (self.ports.intake,), "matching": (self.ports.matching_web,),
                 "casework": (self.ports.casework_metrics,), "casework-api": (self.ports.casework_web,),
                 "notification": (self.ports.notification_metrics,)}
        taken = [port for name in only for port in ports[name] if port_taken(port)]
        if taken:  # a process of another run answering there would be measured instead of this run's
            raise RuntimeError(f"ports {taken} are in use on 127.0.0.1: stop what listens there or pass another "
                               "--port-base")
        for name in only:
            self._start(name, *self._command(name))
        for name in only:
            await self._until_answers(*self._answer(name))

    async def resume(self, name: str) -> None:
        """Start `name` again after stop(): the same group, ports and data folder."""
        self._start(name, *self._command(name))
        await self._until_answers(*self._answer(name))

    def _command(self, name: str) -> tuple[str, ...]:
        return {"intake": ("services.intake", "serve"), "matching": ("services.matching", "worker"),
                "casework": ("services.casework", "worker", "--group", self.casework_group, "--metrics-port",
                             str(self.ports.casework_metrics)),
                "casework-api": ("services.casework", "api"),
                "notification": ("services.notification", "worker", "--group", self.notification_group,
                                 "--metrics-port", str(self.ports.notification_metrics))}[name]

    def _answer(self, name: str) -> tuple[str, str]:
        """A URL of `name` and what its answer holds once the process is ready."""
        return {"intake": (f"{self.intake_url}/healthz", "ok"),
                "matching": (self._matching_metrics, "assist_matching_catalogue_info{"),
                "casework": (f"http://127.0.0.1:{self.ports.casework_metrics}/healthz", ""),
                "casework-api": (f"{self.casework_url}/healthz", "ok"),
                "notification": (f"http://127.0.0.1:{self.ports.notification_metrics}/healthz", "")}[name]

    def _start(self, name: str, *args: str) -> None:
        log = (self.run_dir / f"{name}.log").open("ab")
        env = {**self.env, "ASSIST_REDIS_URL": self.notification_redis} if name == "notification" else self.env
        self.processes[name] = subprocess.Popen([sys.executable, "-m", *args], env=env, stdout=log,
                                                stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)

    @property
    def _matching_metrics(self) -> str:
        return f"http://127.0.0.1:{self.ports.matching_web}/metrics"

    async def _until_answers(self, url: str, needle: str, seconds: float = 180) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                body = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=2).read().decode())
                if needle in body:
                    return
            except OSError:
                pass
            await asyncio.sleep(0.5)
        raise RuntimeError(f"{url} did not answer within {seconds:.0f} s; logs in {self.run_dir}")

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}; see {self.run_dir / name}.log")

    async def matching_processed(self, kind: str) -> float:
        """assist_matching_messages_processed_total{kind=...} of the worker (-1 when it does not answer)."""
        try:
            text = await asyncio.to_thread(
                lambda: urllib.request.urlopen(self._matching_metrics, timeout=2).read().decode())
        except OSError:
            return -1
        found = re.findall(r'assist_matching_messages_processed_total\{[^}]*kind="' + re.escape(kind)
                           + r'"[^}]*\} ([0-9.e+]+)', text)
        return sum(float(v) for v in found)

    async def until_processed(self, kind: str, target: float, seconds: float) -> float:
        """Seconds until matching processed `target` messages of `kind` (at most `seconds`; inf if never)."""
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            if await self.matching_processed(kind) >= target:
                return time.monotonic() - started
            self.check_alive()
            await asyncio.sleep(0.05)
        return float("inf")

    def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            wait_or_kill(process)
        self.processes.clear()
