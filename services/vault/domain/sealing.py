"""Sealing identity details at rest: AES-256-GCM with a key ring.

A sealed value is `v1.<key id>.<base64url(nonce | ciphertext+tag)>`; the associated data binds it to its person
and field, so a sealed name cannot be moved to another person or field without failing to open. The ring's first
key seals; every key of the ring opens. Rotation: put a new key first (the old ones stay to open what they
sealed), re-seal the store (`python -m services.vault reseal`), then drop the old key.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "v1"
NONCE_BYTES = 12


class SealError(ValueError):
    """A key ring that cannot be read, or a sealed value that does not open (unknown key, tampered, misplaced)."""


@dataclass(frozen=True)
class Keyring:
    """Named 256-bit keys; the first seals. Built from settings text by `parse`."""

    keys: tuple[tuple[str, bytes], ...]
    nonce: Callable[[], bytes] = field(default=lambda: os.urandom(NONCE_BYTES), repr=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise SealError("the vault needs at least one key")
        for key_id, key in self.keys:
            if not key_id.isalnum() or len(key) != 32:
                raise SealError(f"vault key {key_id!r}: ids are letters and digits, keys 32 bytes")

    @classmethod
    def parse(cls, text: str) -> Keyring:
        """`id:base64key,id:base64key,...`, the sealing key first (ASSIST_VAULT_KEYS)."""
        keys = []
        for part in filter(None, (p.strip() for p in text.split(","))):
            key_id, sep, encoded = part.partition(":")
            try:
                key = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                raise SealError(f"vault key {key_id!r} is not base64") from None
            if not sep:
                raise SealError("vault keys are written id:base64key")
            keys.append((key_id, key))
        return cls(tuple(keys))

    @property
    def sealing_key_id(self) -> str:
        return self.keys[0][0]

    def seal(self, plaintext: str, context: str) -> str:
        key_id, key = self.keys[0]
        nonce = self.nonce()
        sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), context.encode())
        return f"{VERSION}.{key_id}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, sealed: str, context: str) -> str:
        version, _, rest = sealed.partition(".")
        key_id, _, body = rest.partition(".")
        if version != VERSION:
            raise SealError(f"sealed with an unknown format {version!r}")
        key = dict(self.keys).get(key_id)
        if key is None:
            raise SealError(f"sealed with key {key_id!r}, which the ring no longer has")
        try:
            raw = base64.urlsafe_b64decode(body)
            return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode()).decode()
        except (InvalidTag, binascii.Error, ValueError):
            raise SealError("a sealed value does not open: tampered, or not this person's") from None

    def needs_resealing(self, sealed: str) -> bool:
        """Whether `sealed` was sealed by a key other than the sealing key."""
        return sealed.split(".", 2)[1:2] != [self.sealing_key_id]
