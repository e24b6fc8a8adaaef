"""What `./run demo --keep` prints about the caseworker console works as written: its logins open the console of
the demo's casework API (which reads the demo run's data folder), and its command for another account, run as
printed from a newcomer's shell, makes an account that console accepts."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from services.core.settings import PROJECT_ROOT
from services.demo.console_logins import console_hint, create_logins

DISTRICT = "513433"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def demo_console(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The casework API as the demo starts it: ASSIST_DATA_DIR is the run's folder."""
    run_dir = tmp_path / "demo" / "run"
    run_dir.mkdir(parents=True)
    port = free_port()
    env = {**os.environ, "ASSIST_DATA_DIR": str(run_dir), "ASSIST_CASEWORK_WEB_PORT": str(port),
           "ASSIST_CASEWORK_WEB_HOST": "127.0.0.1"}
    log = (tmp_path / "casework-api.log").open("wb")
    api = subprocess.Popen([sys.executable, "-m", "services.casework", "api"], env=env, cwd=PROJECT_ROOT,
                           stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=1).read()
                break
            except OSError:
                assert api.poll() is None, (tmp_path / "casework-api.log").read_text()
                time.sleep(0.2)
        else:
            pytest.fail("the casework API did not answer within 20 s")
        yield url, run_dir
    finally:
        api.terminate()
        api.wait(timeout=30)
        log.close()


async def log_in(page: Page, url: str, user: str, password: str) -> None:
    await page.goto(f"{url}/login?lang=en")
    await page.get_by_label("User name").fill(user)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("alert")).to_have_count(0)
    await page.wait_for_url("**/console*")


def printed(url: str, run_dir: Path) -> list[str]:
    """What the demo prints for this run (the accounts are created the way the demo creates them)."""
    return console_hint(url, run_dir, create_logins(run_dir, [DISTRICT, "510107"]))


async def test_the_printed_logins_open_the_demo_console(chromium: Browser, demo_console: tuple[str, Path]) -> None:
    url, run_dir = demo_console
    lines = printed(url, run_dir)
    assert f"{url}/login" in "\n".join(lines)
    accounts = {m.group(1): (m.group(2), m.group(3)) for line in lines
                if (m := re.search(r"(caseworker|supervisor): user (\S+), password (\S+)", line))}
    assert set(accounts) == {"caseworker", "supervisor"}
    context = await chromium.new_context(locale="en-US")
    page = await context.new_page()
    await log_in(page, url, *accounts["caseworker"])
    await expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    await context.clear_cookies()
    await log_in(page, url, *accounts["supervisor"])
    await page.goto(f"{url}/console/overview")
    await expect(page.get_by_role("heading", name=re.compile(r"Supervisor overview · 510000"))).to_be_visible()
    await context.close()


async def test_the_printed_command_run_as_written_adds_an_account_the_demo_console_accepts(
        chromium: Browser, demo_console: tuple[str, Path], tmp_path: Path) -> None:
    url, run_dir = demo_console
    (command,) = [m.group(1) for line in printed(url, run_dir) if (m := re.search(r"`([^`]*staff add[^`]*)`", line))]
    # A newcomer's shell: the project folder, no ASSIST_DATA_DIR of the demo run (here a folder of its own stands for
    # the default .data, so the test never writes there).
    shell_env = {**os.environ, "ASSIST_DATA_DIR": str(tmp_path / "default-data"),
                 "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    done = await asyncio.to_thread(subprocess.run, ["bash", "-c", command.replace("NAME", "newcomer")],
                                   input="a long newcomer password\n", text=True, capture_output=True,
                                   cwd=PROJECT_ROOT, env=shell_env, timeout=60)
    assert done.returncode == 0, done.stderr
    context = await chromium.new_context(locale="en-US")
    page = await context.new_page()
    await log_in(page, url, "newcomer", "a long newcomer password")
    await expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    await context.close()
