"""Links, sessions and CSRF tokens made of any text at all: refused as invalid, never an exception of another kind
(hmac.compare_digest raises TypeError on non-ASCII str; header bytes that were not UTF-8 arrive as surrogates)."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notification.domain.link import LinkRefused, Signer
from tests.unit.notification.offers import NOW

SIGNER = Signer("test-key")
GENUINE = SIGNER.link_token("p1", "o-abc", NOW)
SESSION = SIGNER.read_session(SIGNER.session_token("p1", NOW), NOW)
ODD = ["é", "你好", "\udcff", "\ud800", "\x00", "\U0001f600", "\ufffd"]


def _changed(token: str, odd: str) -> list[str]:
    body, _, signature = token.rpartition(".")
    return [f"{body}.{odd}", f"{body}.{signature[:-1]}{odd}", token.replace("p1", f"p{odd}"), odd, token + odd,
            f"v1.{odd}.{odd}.{odd}.{odd}"]


@pytest.mark.parametrize("odd", ODD)
def test_links_with_odd_characters_are_refused_as_invalid(odd):
    for token in _changed(GENUINE, odd):
        with pytest.raises(LinkRefused) as refused:
            SIGNER.read_link(token, NOW)
        assert refused.value.reason == "invalid"


@pytest.mark.parametrize("odd", ODD)
def test_sessions_and_csrf_tokens_with_odd_characters_are_refused(odd):
    assert SESSION is not None
    for token in _changed(SIGNER.session_token("p1", NOW), odd):
        assert SIGNER.read_session(token, NOW) is None
    genuine = SIGNER.csrf_token(SESSION)
    for presented in (odd, genuine + odd, genuine[:-1] + odd):
        assert SIGNER.csrf_ok(SESSION, presented) is False
    assert SIGNER.csrf_ok(SESSION, genuine)


def test_overlong_and_out_of_range_tokens_are_refused():
    for token in ("v1." * 5000, "v1.p1.o.99999999999999999999999.AAAA", "v1.p1.o.-1e9.AAAA"):
        with pytest.raises(LinkRefused):
            SIGNER.read_link(token, NOW)


@given(st.text(max_size=200))
def test_any_text_is_a_link_or_refused(text):
    with contextlib.suppress(LinkRefused):
        SIGNER.read_link(text, NOW)
    assert SIGNER.read_session(text, NOW) is None
    assert SESSION is not None and SIGNER.csrf_ok(SESSION, text) is (text == SIGNER.csrf_token(SESSION))


def test_a_genuine_link_still_opens():
    assert SIGNER.read_link(GENUINE, NOW + dt.timedelta(days=1)).offer_id == "o-abc"
