"""Finding personal data in bytes: resident identity numbers with a valid check character, 11-digit mainland
mobile numbers and e-mail addresses. Pure functions; every search is linear in the length of what it reads."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from services.core.identity import resident_id_problem

KINDS = ("identity", "phone", "email")
_IDENTITY = re.compile(r"(?<![0-9])[0-9]{17}[0-9X](?![0-9])")
# Ids of the platform are hex after a prefix and a hyphen (n-…, t-…, uuid segments): a digit run there is no phone.
_PHONE = re.compile(r"(?<![0-9A-Za-z_-])(?:\+?86)?1[3-9][0-9]{9}(?![0-9A-Za-z])")
_LOCAL = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-")
_DOMAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
_TLD = re.compile(r"\.[A-Za-z]{2,}$")


def identity_numbers(text: str) -> list[str]:
    return [m for m in _IDENTITY.findall(text) if resident_id_problem(m) is None]


def phone_numbers(text: str) -> list[str]:
    return _PHONE.findall(text)


def email_addresses(text: str) -> list[str]:
    """Addresses around each '@' (local part up to 64, domain up to 255 characters, a dot and a TLD)."""
    found = []
    at = text.find("@")
    while at != -1:
        start = at
        while start > 0 and at - start < 64 and text[start - 1] in _LOCAL:
            start -= 1
        end = at + 1
        while end < len(text) and end - at <= 255 and text[end] in _DOMAIN:
            end += 1
        domain = text[at + 1:end].rstrip(".-")
        if start < at and "." in domain and _TLD.search(domain):
            found.append(text[start:at + 1] + domain)
        at = text.find("@", at + 1)
    return found


def findings(data: bytes | str) -> Counter[str]:
    """How many of each kind `data` holds (bytes read as Latin-1, so any byte string is searched as it is)."""
    text = data.decode("latin-1") if isinstance(data, bytes) else data
    return Counter({"identity": len(identity_numbers(text)), "phone": len(phone_numbers(text)),
                    "email": len(email_addresses(text))})


@dataclass
class Place:
    """Where data was read (a topic's keys, values or headers, a log file, a metrics page) and what it may hold."""

    name: str
    allowed: frozenset[str] = frozenset()
    found: Counter[str] = field(default_factory=Counter)
    items: int = 0

    def read(self, data: bytes | str | None) -> None:
        self.items += 1
        if data:
            self.found.update(findings(data))

    @property
    def leaks(self) -> int:
        return sum(n for kind, n in self.found.items() if kind not in self.allowed)

    def counts(self) -> dict[str, int]:
        return {"items": self.items, **{k: self.found[k] for k in KINDS}, "allowed": len(self.allowed),
                "leaks": self.leaks}


def store_place(path: Path, root: Path) -> Place:
    """A RocksDB state store (a faust table's partition), read as its keys and values. Its files are not searched
    byte by byte: the write-ahead log cuts records into 32 KiB blocks, and a block header inside a 13-digit
    timestamp leaves 11 digits that read as a mobile number."""
    from rocksdict import AccessType, Options, Rdict  # the fault suite's own dependency, through faust

    place = Place(f"store {path.relative_to(root)}")
    store = Rdict(str(path), options=Options(raw_mode=True), access_type=AccessType.read_only())
    try:
        for key, value in store.items():
            place.read(key)
            place.read(value)
    finally:
        store.close()
    return place


def stores_under(root: Path) -> list[Path]:
    """Every RocksDB directory under `root` (one holding a CURRENT file)."""
    return sorted(p.parent for p in root.rglob("CURRENT") if p.is_file())
