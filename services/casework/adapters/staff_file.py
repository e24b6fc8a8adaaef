"""Staff accounts for the console: a JSON file of members of staff with PBKDF2-SHA256 password hashes, re-read
when it changes, so adding or removing an account needs no restart. Passwords are never stored or printed."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from pathlib import Path
from typing import Any

from services.casework.domain.scope import Staff, staff
from services.core.secret_file import SecretFile

ITERATIONS = 600_000
MIN_PASSWORD_CHARS = 10


class WeakPassword(ValueError):
    pass


def hash_password(password: str, iterations: int = ITERATIONS) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${_b64(salt)}${_b64(digest)}"


def password_matches(password: str, stored: str) -> bool:
    try:
        scheme, iterations, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256":
        return False
    computed = hashlib.pbkdf2_hmac("sha256", password.encode(), _unb64(salt), int(iterations))
    return hmac.compare_digest(computed, _unb64(digest))


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


class StaffFile:
    def __init__(self, path: Path, recheck_seconds: float = 1.0, iterations: int = ITERATIONS):
        self._file = SecretFile(path, recheck_seconds)
        self._iterations = iterations
        self._dummy: str | None = None

    def find(self, sub: str) -> Staff | None:
        """The member of staff with this user name, or None."""
        entry = self._file.current().get(sub)
        return _staff(sub, entry) if entry else None

    def authenticate(self, user: str, password: str) -> Staff | None:
        """The member of staff when the password is theirs (slow on purpose: PBKDF2); None otherwise."""
        entry = self._file.current().get(user)
        if entry is None:
            # Checking an unknown user costs as much as a known one: timing does not tell which accounts exist.
            self._dummy = self._dummy or hash_password(secrets.token_urlsafe(16), self._iterations)
            password_matches(password, self._dummy)
            return None
        return _staff(user, entry) if password_matches(password, entry["password"]) else None

    def add(self, member: Staff, password: str, replace: bool = False) -> None:
        if len(password) < MIN_PASSWORD_CHARS:
            raise WeakPassword(f"a password has at least {MIN_PASSWORD_CHARS} characters")
        entries = self._file.read()
        if member.sub in entries and not replace:
            raise KeyError(member.sub)
        entries[member.sub] = {**member.claims(), "password": hash_password(password, self._iterations),
                               "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        entries[member.sub].pop("sub", None)
        self._file.write(entries)

    def remove(self, sub: str) -> bool:
        entries = self._file.read()
        removed = entries.pop(sub, None)
        self._file.write(entries)
        return removed is not None

    def listing(self) -> list[Staff]:
        return [_staff(sub, entry) for sub, entry in sorted(self._file.read().items())]


def _staff(sub: str, entry: dict[str, Any]) -> Staff:
    return staff(sub, entry["role"], entry.get("districts") or (), entry.get("region"))
