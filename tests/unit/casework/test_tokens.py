"""Signed staff tokens."""

from __future__ import annotations

import time

import jwt
import pytest

from services.casework.adapters.tokens import AUDIENCE, StaffTokens
from services.casework.domain.scope import staff

KEY = "unit-test-staff-token-key-0123456789"
ALICE = staff("alice", "caseworker", ["110105"])


def test_issued_token_names_the_member_of_staff():
    tokens = StaffTokens(KEY)
    assert tokens.verify(tokens.issue(ALICE)) == ALICE


def test_expired_token_is_refused():
    tokens = StaffTokens(KEY)
    assert tokens.verify(tokens.issue(ALICE, ttl_seconds=60, now=time.time() - 3600)) is None


def test_token_signed_with_another_key_is_refused():
    forged = StaffTokens("another-key-of-at-least-thirty-two-bytes").issue(ALICE)
    assert StaffTokens(KEY).verify(forged) is None


def test_token_with_widened_districts_but_the_old_signature_is_refused():
    header, _, signature = StaffTokens(KEY).issue(ALICE).split(".")
    other = jwt.encode({"sub": "alice", "role": "caseworker", "districts": ["110105", "510107"], "aud": AUDIENCE,
                        "iss": AUDIENCE, "iat": int(time.time()), "exp": int(time.time()) + 60}, KEY)
    tampered = ".".join([header, other.split(".")[1], signature])
    assert StaffTokens(KEY).verify(tampered) is None


def test_unsigned_token_is_refused():
    unsigned = jwt.encode({"sub": "alice", "role": "caseworker", "districts": ["110105"], "aud": AUDIENCE,
                           "iss": AUDIENCE, "iat": int(time.time()), "exp": int(time.time()) + 60}, None,
                          algorithm="none")
    assert StaffTokens(KEY).verify(unsigned) is None


def test_token_for_another_audience_is_refused():
    other = jwt.encode({"sub": "alice", "role": "caseworker", "districts": ["110105"], "aud": "assist-citizen",
                        "iss": AUDIENCE, "iat": int(time.time()), "exp": int(time.time()) + 60}, KEY)
    assert StaffTokens(KEY).verify(other) is None


def test_token_without_expiry_is_refused():
    eternal = jwt.encode({"sub": "alice", "role": "caseworker", "districts": ["110105"], "aud": AUDIENCE,
                          "iss": AUDIENCE, "iat": int(time.time())}, KEY)
    assert StaffTokens(KEY).verify(eternal) is None


def test_signed_token_with_a_bad_role_is_refused():
    odd = jwt.encode({"sub": "alice", "role": "root", "districts": ["110105"], "aud": AUDIENCE, "iss": AUDIENCE,
                      "iat": int(time.time()), "exp": int(time.time()) + 60}, KEY)
    assert StaffTokens(KEY).verify(odd) is None


def test_short_keys_are_refused():
    with pytest.raises(ValueError):
        StaffTokens("short")


def test_garbage_is_refused():
    assert StaffTokens(KEY).verify("not.a.token") is None
