"""Signed staff tokens (JWT, HS256): who the bearer is, their role and their districts or region, until when.
The console's session cookie holds the same token."""

from __future__ import annotations

import time

import jwt

from services.casework.domain.scope import InvalidStaff, Staff, staff_from_claims

AUDIENCE = "assist-casework"
ISSUER = "assist-casework"
ALGORITHM = "HS256"
SESSION_SECONDS = 8 * 3600


class StaffTokens:
    def __init__(self, key: str):
        if len(key.encode()) < 32:
            raise ValueError("the staff token key must be at least 32 bytes")
        self._key = key

    def issue(self, member: Staff, ttl_seconds: int = SESSION_SECONDS, now: float | None = None) -> str:
        issued = int(time.time() if now is None else now)
        claims = {**member.claims(), "iat": issued, "exp": issued + ttl_seconds, "aud": AUDIENCE, "iss": ISSUER}
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def verify(self, token: str) -> Staff | None:
        """The member of staff a token names, or None when it is forged, expired, for another audience or
        does not describe a member of staff."""
        try:
            claims = jwt.decode(token, self._key, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER,
                                options={"require": ["exp", "iat", "sub", "aud", "iss"]})
            return staff_from_claims(claims)
        except (jwt.PyJWTError, InvalidStaff):
            return None
