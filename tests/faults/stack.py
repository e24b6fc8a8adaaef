"""The fault suite's own Kafka broker and Redis (deploy/local/stack.sh on dedicated ports and a fresh data
folder), so stopping them never disturbs anything else, and the faults it injects into them."""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

from redis import Redis
from redis.asyncio import Redis as AsyncRedis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from services.core.settings import PROJECT_ROOT, Settings, load_settings

STACK = PROJECT_ROOT / "deploy" / "local" / "stack.sh"
LOCK_WAIT_SECONDS = float(os.environ.get("ASSIST_FAULTS_LOCK_WAIT_SECONDS", "900"))
"""How long a run waits for another run on the same ports to end before it gives up."""


class PortsTaken(RuntimeError):
    """Another fault-suite run (or any other program) holds one of the suite's ports."""


def _lock_ports(ports: tuple[int, ...], wait_seconds: float) -> list[IO[str]]:
    """One exclusive lock per port, in the system's temporary folder (so every clone of the project sees it),
    held until the stack stops; the system drops it when the run dies. Without it a second run on the same ports
    would find the first run's broker and Redis answering, use them, and stop them under the first run."""
    held: list[IO[str]] = []
    deadline = time.monotonic() + wait_seconds
    for port in sorted(ports):
        lock = open(Path(tempfile.gettempdir()) / f"assist-faults-port-{port}.lock", "w")  # noqa: SIM115
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    lock.close()
                    _unlock(held)
                    raise PortsTaken(f"another fault-suite run holds port {port} for over {wait_seconds:.0f} s; "
                                     "give this run other ports (ASSIST_FAULTS_KAFKA_PORT, "
                                     "ASSIST_FAULTS_CONTROLLER_PORT, ASSIST_FAULTS_REDIS_PORT)") from None
                time.sleep(1.0)
        held.append(lock)
    return held


def _unlock(held: list[IO[str]]) -> None:
    for lock in held:
        lock.close()
    held.clear()


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


@dataclass
class FaultStack:
    kafka_port: int
    controller_port: int
    redis_port: int
    data_dir: Path
    _locks: list[IO[str]] = field(default_factory=list, init=False, repr=False)

    @classmethod
    def from_environment(cls) -> FaultStack:
        """Ports from ASSIST_FAULTS_KAFKA_PORT / _CONTROLLER_PORT / _REDIS_PORT (19392, 19393, 16679), data in a
        new temporary folder (or ASSIST_FAULTS_DATA_DIR, emptied by nobody: pass a new one).

        The ports must lie outside the kernel's ephemeral range (net.ipv4.ip_local_port_range, 32768-60999 by
        default): while the broker is down, clients' outgoing connections could take its port otherwise."""
        env = os.environ
        folder = env.get("ASSIST_FAULTS_DATA_DIR") or tempfile.mkdtemp(prefix="assist-faults-")
        return cls(int(env.get("ASSIST_FAULTS_KAFKA_PORT", "19392")),
                   int(env.get("ASSIST_FAULTS_CONTROLLER_PORT", "19393")),
                   int(env.get("ASSIST_FAULTS_REDIS_PORT", "16679")), Path(folder))

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    @property
    def logs(self) -> Path:
        return self.data_dir / "logs"

    def env(self) -> dict[str, str]:
        """The environment of every process of the suite: the stack's addresses, nothing of the default stack."""
        return {**os.environ, "ASSIST_KAFKA_PORT": str(self.kafka_port),
                "ASSIST_KAFKA_CONTROLLER_PORT": str(self.controller_port), "ASSIST_REDIS_PORT": str(self.redis_port),
                "ASSIST_DATA_DIR": str(self.data_dir), "ASSIST_KAFKA_BOOTSTRAP": self.bootstrap,
                "ASSIST_REDIS_URL": self.redis_url, "ASSIST_KAFKA_HEAP": os.environ.get("ASSIST_KAFKA_HEAP", "384M")}

    def settings(self) -> Settings:
        return replace(load_settings(self.env()), kafka_bootstrap=self.bootstrap, redis_url=self.redis_url,
                       data_dir=self.data_dir)

    def _run(self, command: str, timeout: float = 240) -> None:
        done = subprocess.run(["bash", str(STACK), command], env=self.env(), capture_output=True, text=True,
                              timeout=timeout)
        if done.returncode:
            raise RuntimeError(f"stack.sh {command} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")

    def up(self, wait_seconds: float = LOCK_WAIT_SECONDS) -> None:
        """Take the ports (waiting up to `wait_seconds` for a run that holds them), check nothing else listens on
        them, start."""
        ports = (self.kafka_port, self.controller_port, self.redis_port)
        self._locks = _lock_ports(ports, wait_seconds)
        taken = [p for p in ports if _answers(p)]
        if taken:
            _unlock(self._locks)
            raise PortsTaken(f"something already listens on 127.0.0.1 port(s) {taken}: the suite would use and stop "
                             "it; stop it or give this run other ports (ASSIST_FAULTS_KAFKA_PORT, "
                             "ASSIST_FAULTS_CONTROLLER_PORT, ASSIST_FAULTS_REDIS_PORT)")
        self.logs.mkdir(parents=True, exist_ok=True)
        self._run("up")

    def down(self) -> None:
        try:
            self._run("down", timeout=120)
        finally:
            _unlock(self._locks)

    def restore(self) -> None:
        """Start whatever a scenario left stopped (it may have failed between a stop and a start), so one failed
        scenario never leaves the next without its broker or Redis."""
        if not (self._redis_answers() and _answers(self.kafka_port)):
            self._run("up")

    def stop_broker(self) -> None:
        """A real process stop (SIGTERM, then SIGKILL after 30 s), not a pause."""
        self._run("kafka-down", timeout=120)

    def start_broker(self) -> None:
        """Start it again; returns once it answers metadata requests."""
        self._run("kafka-up")

    def redis(self) -> Redis:
        return Redis.from_url(self.redis_url, socket_timeout=5)

    def redis_async(self) -> AsyncRedis:
        """The test's own client; it reconnects after the restarts the suite causes."""
        return AsyncRedis.from_url(self.redis_url, socket_timeout=5, retry=Retry(ExponentialBackoff(cap=1), 10),
                                   retry_on_error=[RedisConnectionError, TimeoutError])

    def stop_redis(self) -> None:
        """SHUTDOWN: Redis writes its append-only file and exits, as on a planned restart or a crash after fsync."""
        # redis-py raises when the connection closes under it; the process is gone then.
        with contextlib.suppress(Exception):
            self.redis().shutdown(nosave=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and self._redis_answers():
            time.sleep(0.1)

    def start_redis(self) -> None:
        """stack.sh up starts what is not running (here Redis) and leaves the rest as it is."""
        self._run("up")

    def wipe_redis(self) -> None:
        self.redis().flushall()

    def _redis_answers(self) -> bool:
        try:
            return bool(self.redis().ping())
        except Exception:
            return False
