"""Signed links to the citizen page, sessions and CSRF tokens: genuine ones pass, altered or expired ones do not."""

from __future__ import annotations

import datetime as dt

import pytest

from services.notification.domain.link import LINK_DAYS, LinkRefused, Signer
from tests.unit.notification.offers import NOW

SIGNER = Signer("test-key")


def test_genuine_link_names_its_person_and_offer():
    claims = SIGNER.read_link(SIGNER.link_token("p1", "o-abc", NOW), NOW + dt.timedelta(days=1))
    assert (claims.person_id, claims.offer_id) == ("p1", "o-abc")


@pytest.mark.parametrize("change", [
    lambda t: t.replace("p1", "p2"),
    lambda t: t.replace("o-abc", "o-abd"),
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
    lambda t: ".".join([*t.split(".")[:3], str(int(t.split(".")[3]) + 86400), *t.split(".")[4:]]),
    lambda t: t.rsplit(".", 1)[0],
    lambda t: "v2" + t[2:],
])
def test_altered_link_is_refused(change):
    token = SIGNER.link_token("p1", "o-abc", NOW)
    with pytest.raises(LinkRefused) as refused:
        SIGNER.read_link(change(token), NOW)
    assert refused.value.reason == "invalid"


def test_link_signed_with_another_key_is_refused():
    with pytest.raises(LinkRefused):
        SIGNER.read_link(Signer("other-key").link_token("p1", "o-abc", NOW), NOW)


def test_expired_link_is_refused():
    token = SIGNER.link_token("p1", "o-abc", NOW)
    assert SIGNER.read_link(token, NOW + dt.timedelta(days=LINK_DAYS) - dt.timedelta(seconds=1))
    with pytest.raises(LinkRefused) as refused:
        SIGNER.read_link(token, NOW + dt.timedelta(days=LINK_DAYS))
    assert refused.value.reason == "expired"


def test_a_link_cannot_pose_as_a_session_nor_a_session_as_a_link():
    link = SIGNER.link_token("p1", "o-abc", NOW)
    assert SIGNER.read_session(link, NOW) is None
    with pytest.raises(LinkRefused):
        SIGNER.read_link(SIGNER.session_token("p1", NOW), NOW)


def test_session_expires_and_its_csrf_token_is_bound_to_it():
    session = SIGNER.read_session(SIGNER.session_token("p1", NOW), NOW)
    assert session is not None and session.person_id == "p1"
    assert SIGNER.csrf_ok(session, SIGNER.csrf_token(session))
    other = SIGNER.read_session(SIGNER.session_token("p1", NOW), NOW)
    assert other is not None and not SIGNER.csrf_ok(other, SIGNER.csrf_token(session))
    assert not SIGNER.csrf_ok(session, None)
    assert SIGNER.read_session(SIGNER.session_token("p1", NOW), NOW + dt.timedelta(hours=3)) is None


def test_ids_that_could_break_the_token_format_are_not_signed():
    with pytest.raises(ValueError):
        SIGNER.link_token("p1.x", "o-abc", NOW)
