"""Department bearer tokens, stored as SHA-256 hashes in a JSON file that is re-read when it changes,
so adding or revoking a token needs no restart."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from pathlib import Path
from typing import Any

from services.core.secret_file import SecretFile


def token_digest(token: str) -> str:
    """The SHA-256 of a token as stored; never fails, even on header text that is not UTF-8 (it matches nothing)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class TokenFile:
    def __init__(self, path: Path, recheck_seconds: float = 1.0):
        self._file = SecretFile(path, recheck_seconds)

    def department(self, token: str) -> str | None:
        """The department a presented token belongs to, or None when unknown or revoked."""
        entry = self._file.current().get(token_digest(token))
        return str(entry["department"]) if entry else None

    def issue(self, department: str) -> str:
        """Create a token for `department`; only its hash is stored. Returns the token (shown once)."""
        token = f"{department}.{secrets.token_urlsafe(24)}"
        entries = self._file.read()
        entries[token_digest(token)] = {"department": department, "created_at": dt.datetime.now(dt.UTC).isoformat()}
        self._file.write(entries)
        return token

    def revoke(self, token_or_digest: str) -> bool:
        entries = self._file.read()
        removed = entries.pop(token_or_digest, None) or entries.pop(token_digest(token_or_digest), None)
        self._file.write(entries)
        return removed is not None

    def listing(self) -> dict[str, dict[str, Any]]:
        return self._file.read()
