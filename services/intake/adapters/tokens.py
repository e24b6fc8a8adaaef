"""Department bearer tokens, stored as SHA-256 hashes in a JSON file that is re-read when it changes,
so adding or revoking a token needs no restart."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import time
from pathlib import Path


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenFile:
    def __init__(self, path: Path, recheck_seconds: float = 1.0):
        self._path = path
        self._recheck = recheck_seconds
        self._checked = 0.0
        self._mtime: float | None = None
        self._by_digest: dict[str, dict[str, str]] = {}

    def department(self, token: str) -> str | None:
        """The department a presented token belongs to, or None when unknown or revoked."""
        self._refresh()
        entry = self._by_digest.get(_digest(token))
        return entry["department"] if entry else None

    def issue(self, department: str) -> str:
        """Create a token for `department`; only its hash is stored. Returns the token (shown once)."""
        token = f"{department}.{secrets.token_urlsafe(24)}"
        entries = self._read()
        entries[_digest(token)] = {"department": department, "created_at": dt.datetime.now(dt.UTC).isoformat()}
        self._write(entries)
        return token

    def revoke(self, token_or_digest: str) -> bool:
        entries = self._read()
        removed = entries.pop(token_or_digest, None) or entries.pop(_digest(token_or_digest), None)
        self._write(entries)
        return removed is not None

    def listing(self) -> dict[str, dict[str, str]]:
        return self._read()

    def _refresh(self) -> None:
        now = time.monotonic()
        if now - self._checked < self._recheck:
            return
        self._checked = now
        try:
            mtime = self._path.stat().st_mtime
        except FileNotFoundError:
            self._by_digest, self._mtime = {}, None
            return
        if mtime != self._mtime:
            self._by_digest, self._mtime = self._read(), mtime

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            data: dict[str, dict[str, str]] = json.loads(self._path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return data

    def _write(self, entries: dict[str, dict[str, str]]) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text(json.dumps(entries, indent=2, sort_keys=True), encoding="utf-8")
        os.chmod(tmp, 0o600)
        tmp.replace(self._path)
        self._checked = 0.0
