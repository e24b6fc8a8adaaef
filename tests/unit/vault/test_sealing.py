"""Identity details are sealed at rest: they open only with the ring, for the same person and field."""

from __future__ import annotations

import base64

import pytest

from services.vault.domain.sealing import Keyring, SealError

OLD = base64.b64encode(b"o" * 32).decode()
NEW = base64.b64encode(b"n" * 32).decode()


def test_a_sealed_value_opens_to_the_same_text_and_does_not_contain_it():
    ring = Keyring.parse(f"k1:{OLD}")
    sealed = ring.seal("杨秀英, 13812345678", "p1/name")
    assert "13812345678" not in sealed and "杨" not in sealed
    assert ring.open(sealed, "p1/name") == "杨秀英, 13812345678"


def test_two_seals_of_the_same_text_differ():
    ring = Keyring.parse(f"k1:{OLD}")
    assert ring.seal("Yang", "p1/name") != ring.seal("Yang", "p1/name")


def test_a_value_moved_to_another_person_or_field_does_not_open():
    ring = Keyring.parse(f"k1:{OLD}")
    sealed = ring.seal("Yang", "p1/name")
    for context in ("p2/name", "p1/address"):
        with pytest.raises(SealError, match="not this person's"):
            ring.open(sealed, context)


def test_a_tampered_value_does_not_open():
    ring = Keyring.parse(f"k1:{OLD}")
    sealed = ring.seal("Yang", "p1/name")
    head, body = sealed.rsplit(".", 1)
    raw = bytearray(base64.urlsafe_b64decode(body))
    for position in (0, 12, len(raw) - 1):  # the nonce, the ciphertext, the tag
        tampered = raw.copy()
        tampered[position] ^= 1
        with pytest.raises(SealError):
            ring.open(f"{head}.{base64.urlsafe_b64encode(bytes(tampered)).decode()}", "p1/name")


def test_after_rotation_the_new_key_seals_and_the_old_one_still_opens():
    before = Keyring.parse(f"k1:{OLD}")
    after = Keyring.parse(f"k2:{NEW},k1:{OLD}")
    old_sealed = before.seal("Yang", "p1/name")
    assert after.open(old_sealed, "p1/name") == "Yang"
    assert after.needs_resealing(old_sealed)
    resealed = after.seal("Yang", "p1/name")
    assert not after.needs_resealing(resealed) and resealed.startswith("v1.k2.")
    with pytest.raises(SealError, match="no longer has"):
        Keyring.parse(f"k2:{NEW}").open(old_sealed, "p1/name")


@pytest.mark.parametrize("text, message", [
    ("", "at least one key"),
    ("k1", "id:base64key"),
    ("k1:not base64!", "not base64"),
    (f"k1:{base64.b64encode(b'short').decode()}", "32 bytes"),
    (f"k-1:{OLD}", "letters and digits"),
])
def test_a_key_ring_that_cannot_be_read_is_refused_with_the_reason(text, message):
    with pytest.raises(SealError, match=message):
        Keyring.parse(text)
