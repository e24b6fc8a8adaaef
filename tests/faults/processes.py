"""The platform's services as real processes (python -m services.…), each writing its log into the suite's
data folder, so the privacy scan reads what they wrote."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from services.core.settings import PROJECT_ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Service:
    name: str
    args: tuple[str, ...]
    env: dict[str, str]
    log: Path
    metrics_url: str | None = None
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen([sys.executable, "-m", *self.args], env=self.env, stdout=out,
                                            stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)
        self.starts += 1

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=20)

    def stop(self) -> int | None:
        """SIGTERM and wait; the exit code (None if it had to be killed)."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.terminate()
        try:
            return self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def tail(self, characters: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-characters:] if self.log.exists() else ""


@dataclass
class Services:
    """The processes of one scenario; every one still running is stopped when the scenario ends."""

    env: dict[str, str]
    logs: Path
    started: list[Service] = field(default_factory=list)

    def start(self, name: str, *args: str, metrics_url: str | None = None, **env: str) -> Service:
        service = Service(name, args, {**self.env, **env}, self.logs / f"{name}.log", metrics_url)
        service.start()
        self.started.append(service)
        return service

    def stop_all(self) -> None:
        for service in self.started:
            service.stop()


async def wait_until_answers(url: str, service: Service, seconds: float = 90) -> None:
    """Poll `url` until it answers 200; fail early if the process exited."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not service.running:
            raise AssertionError(f"{service.name} exited:\n{service.tail()}")
        try:
            status = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=2).status)
            if status == 200:
                return
        except OSError:
            pass
        await asyncio.sleep(0.3)
    raise AssertionError(f"{service.name} did not answer {url} within {seconds:.0f} s:\n{service.tail()}")


async def fetch_text(url: str) -> str:
    return await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=5).read().decode(errors="replace"))
