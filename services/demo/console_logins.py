"""What `./run demo --keep` tells a newcomer about the caseworker console: a caseworker and a supervisor account
of this run, and a command for another account that works as printed. The run's services read the run's data
folder (ASSIST_DATA_DIR), so the command names that folder; a plain `staff add` would write the default one."""

from __future__ import annotations

import secrets
import shlex
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from services.casework.adapters.staff_file import StaffFile
from services.casework.domain.scope import region_of, staff

STAFF_FILE = "casework-staff.json"
"""The staff file's name in a data folder (services/casework/wiring.py staff_file_path)."""


@dataclass(frozen=True)
class Login:
    role: str
    user: str
    password: str
    districts: tuple[str, ...] = ()
    region: str | None = None

    @property
    def scope(self) -> str:
        return f"region {self.region}" if self.region else "districts " + ", ".join(self.districts)


def demo_staff(districts: Sequence[str]) -> list[tuple[str, str, list[str], str | None]]:
    """The demo's accounts (user, role, districts, region): a caseworker of the story's districts and the supervisor
    of the first district's region (pure)."""
    return [("demo-caseworker", "caseworker", list(dict.fromkeys(districts)), None),
            ("demo-supervisor", "supervisor", [], region_of(districts[0]))]


def create_logins(run_dir: Path, districts: Sequence[str],
                  password: Callable[[], str] = lambda: secrets.token_urlsafe(12)) -> list[Login]:
    """Write the demo's accounts, each with a fresh password, to the run's staff file; return their logins."""
    store = StaffFile(run_dir / STAFF_FILE)
    logins = []
    for user, role, scope_districts, region in demo_staff(districts):
        secret = password()
        store.add(staff(user, role, scope_districts, region), secret, replace=True)
        logins.append(Login(role, user, secret, tuple(scope_districts), region))
    return logins


def console_hint(console_url: str, run_dir: Path, logins: Sequence[Login]) -> list[str]:
    """The lines printed after the demo, for the services left running (pure)."""
    district = next((login.districts[0] for login in logins if login.districts), "DISTRICT")
    command = (f"ASSIST_DATA_DIR={shlex.quote(str(run_dir.resolve()))} {shlex.quote(sys.executable)} -m "
               f"services.casework staff add NAME --role caseworker --districts {district} --password-stdin")
    return [f"console: {console_url}/login (this run's accounts, in {run_dir / STAFF_FILE}):",
            *(f"   {login.role}: user {login.user}, password {login.password} ({login.scope})" for login in logins),
            f"   another account: `{command}` (then type its password and Enter)"]
