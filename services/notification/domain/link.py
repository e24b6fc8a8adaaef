"""Signed, expiring links to the citizen page, and the session and CSRF tokens that follow from them.

A link token is `v1.<person id>.<offer id>.<expiry, unix seconds>.<signature>`, the signature being the first 16
bytes of HMAC-SHA256 over the other fields, base64url: short enough for an SMS, refused when altered or expired.
Each use of the key is separated by a label, so a link signature can never pass as a session or CSRF token.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

LINK_DAYS = 30
"""How long a link in a message stays valid: the time a citizen has to open it, not to answer."""
SESSION_HOURS = 2
_VERSION = "v1"
_MAX_TOKEN_CHARS = 512
_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


class LinkRefused(Exception):
    """The token was altered, malformed or has expired; `reason` is 'invalid' or 'expired'."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class LinkClaims:
    person_id: str
    offer_id: str
    expires: dt.datetime


@dataclass(frozen=True)
class Session:
    person_id: str
    expires: dt.datetime
    nonce: str


class Signer:
    """Signs and checks link, session and CSRF tokens with one secret (settings.link_signing_key)."""

    def __init__(self, key: str):
        if not key:
            raise ValueError("a signing key is required")
        self._key = key.encode()

    def link_token(self, person_id: str, offer_id: str, now: dt.datetime, days: int = LINK_DAYS) -> str:
        _check_ids(person_id, offer_id)
        expires = int((now + dt.timedelta(days=days)).timestamp())
        body = f"{_VERSION}.{person_id}.{offer_id}.{expires}"
        return f"{body}.{self._mac('link', body)}"

    def read_link(self, token: str, now: dt.datetime) -> LinkClaims:
        """The claims of a genuine, unexpired token; LinkRefused otherwise."""
        body, expires = self._verified(token, "link", 5)
        _, person_id, offer_id, _ = body.split(".")
        if expires <= now:
            raise LinkRefused("expired")
        return LinkClaims(person_id, offer_id, expires)

    def session_token(self, person_id: str, now: dt.datetime, hours: int = SESSION_HOURS) -> str:
        _check_ids(person_id)
        expires = int((now + dt.timedelta(hours=hours)).timestamp())
        body = f"{_VERSION}.{person_id}.{expires}.{secrets.token_urlsafe(12)}"
        return f"{body}.{self._mac('session', body)}"

    def read_session(self, token: str, now: dt.datetime) -> Session | None:
        """The session of a genuine, unexpired session cookie, else None."""
        try:
            body, expires = self._verified(token, "session", 5, expiry_field=2)
        except LinkRefused:
            return None
        _, person_id, _, nonce = body.split(".")
        return Session(person_id, expires, nonce) if expires > now else None

    def csrf_token(self, session: Session) -> str:
        return self._mac("csrf", f"{session.person_id}.{session.nonce}")

    def csrf_ok(self, session: Session, presented: str | None) -> bool:
        """Whether `presented` is the session's CSRF token; any text may be presented (compared as bytes)."""
        return bool(presented) and _same(self.csrf_token(session), presented or "")

    def _verified(self, token: str, label: str, parts: int, expiry_field: int = 3) -> tuple[str, dt.datetime]:
        if not token.isascii() or len(token) > _MAX_TOKEN_CHARS:  # every genuine token is short ASCII
            raise LinkRefused("invalid")
        fields = token.split(".")
        if len(fields) != parts or fields[0] != _VERSION:
            raise LinkRefused("invalid")
        body, signature = token.rsplit(".", 1)
        if not _same(self._mac(label, body), signature):
            raise LinkRefused("invalid")
        try:
            return body, dt.datetime.fromtimestamp(int(fields[expiry_field]), dt.UTC)
        except (ValueError, OverflowError, OSError):
            raise LinkRefused("invalid") from None

    def _mac(self, label: str, body: str) -> str:
        digest = hmac.new(self._key, f"{label}|{body}".encode(), hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _same(expected: str, presented: str) -> bool:
    """Constant-time comparison as bytes: hmac.compare_digest refuses str with non-ASCII characters, and header
    bytes that were not UTF-8 arrive as lone surrogates."""
    return hmac.compare_digest(expected.encode(), presented.encode("utf-8", "surrogatepass"))


def _check_ids(*ids: str) -> None:
    for value in ids:
        if not value or not set(value) <= _ID_CHARS:
            raise ValueError("ids in tokens are letters, digits, '-' and '_'")
