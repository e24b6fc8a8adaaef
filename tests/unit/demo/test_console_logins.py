"""The console hint of `./run demo --keep` names the run's data folder and the run's accounts."""

from __future__ import annotations

from pathlib import Path

from services.casework.adapters.staff_file import StaffFile
from services.demo.console_logins import Login, console_hint, create_logins, demo_staff


def test_a_caseworker_of_the_story_districts_and_the_supervisor_of_the_first_ones_region() -> None:
    assert demo_staff(["513433", "441781", "513433"]) == [
        ("demo-caseworker", "caseworker", ["513433", "441781"], None),
        ("demo-supervisor", "supervisor", [], "510000")]


def test_the_accounts_are_written_to_the_runs_staff_file_with_fresh_passwords(tmp_path: Path) -> None:
    passwords = iter(["first long password", "second long password"])
    logins = create_logins(tmp_path, ["513433"], password=lambda: next(passwords))
    store = StaffFile(tmp_path / "casework-staff.json")
    assert store.authenticate("demo-caseworker", "first long password") is not None
    assert store.authenticate("demo-supervisor", "second long password") is not None
    assert [login.scope for login in logins] == ["districts 513433", "region 510000"]


def test_the_printed_command_sets_the_runs_data_folder(tmp_path: Path) -> None:
    lines = console_hint("http://127.0.0.1:8082", tmp_path / "run",
                         [Login("caseworker", "demo-caseworker", "pw", ("513433",))])
    text = "\n".join(lines)
    assert "http://127.0.0.1:8082/login" in text
    assert "caseworker: user demo-caseworker, password pw (districts 513433)" in text
    assert f"`ASSIST_DATA_DIR={tmp_path / 'run'} " in text
    assert "staff add NAME --role caseworker --districts 513433 --password-stdin`" in text
