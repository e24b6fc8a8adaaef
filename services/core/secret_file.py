"""A small JSON file of credentials (hashes only), written atomically with owner-only permissions and re-read when
it changes, so adding or revoking an entry needs no restart. Intake's department tokens and casework's staff
accounts use it."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

Entries = dict[str, dict[str, Any]]


class SecretFile:
    def __init__(self, path: Path, recheck_seconds: float = 1.0):
        self._path = path
        self._recheck = recheck_seconds
        self._checked = 0.0
        self._mtime: float | None = None
        self._entries: Entries = {}

    def current(self) -> Entries:
        """The entries as of at most `recheck_seconds` ago (for the hot path: one stat a second at most)."""
        now = time.monotonic()
        if now - self._checked >= self._recheck:
            self._checked = now
            try:
                mtime = self._path.stat().st_mtime_ns
            except FileNotFoundError:
                self._entries, self._mtime = {}, None
            else:
                if mtime != self._mtime:
                    self._entries, self._mtime = self.read(), mtime
        return self._entries

    def read(self) -> Entries:
        """The entries as on disk now (for changes: read, modify, write)."""
        try:
            data: Entries = json.loads(self._path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return data

    def write(self, entries: Entries) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text(json.dumps(entries, indent=2, sort_keys=True, ensure_ascii=False), encoding="utf-8")
        os.chmod(tmp, 0o600)
        tmp.replace(self._path)
        self._checked = 0.0
