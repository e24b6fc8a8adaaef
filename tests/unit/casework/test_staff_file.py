"""Staff accounts: PBKDF2 hashes, never the password."""

from __future__ import annotations

import pytest

from services.casework.adapters.staff_file import StaffFile, WeakPassword, hash_password, password_matches
from services.casework.domain.scope import staff

ALICE = staff("alice", "caseworker", ["110105"])


def test_added_member_logs_in_with_their_password_only(tmp_path):
    store = StaffFile(tmp_path / "staff.json", iterations=1000)
    store.add(ALICE, "correct horse battery")
    assert store.authenticate("alice", "correct horse battery") == ALICE
    assert store.authenticate("alice", "wrong horse battery") is None
    assert store.authenticate("mallory", "correct horse battery") is None


def test_the_file_holds_a_salted_hash_not_the_password(tmp_path):
    path = tmp_path / "staff.json"
    StaffFile(path, iterations=1000).add(ALICE, "correct horse battery")
    text = path.read_text()
    assert "correct horse battery" not in text and "pbkdf2_sha256$1000$" in text
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_same_password_hashes_differently_each_time():
    assert hash_password("correct horse battery", 1000) != hash_password("correct horse battery", 1000)
    assert password_matches("correct horse battery", hash_password("correct horse battery", 1000))
    assert not password_matches("x", "not-a-hash")


def test_short_passwords_and_silent_overwrites_are_refused(tmp_path):
    store = StaffFile(tmp_path / "staff.json", iterations=1000)
    with pytest.raises(WeakPassword):
        store.add(ALICE, "short")
    store.add(ALICE, "correct horse battery")
    with pytest.raises(KeyError):
        store.add(ALICE, "another good password")
    store.add(staff("alice", "supervisor", region="110000"), "another good password", replace=True)
    assert store.find("alice").is_supervisor


def test_removed_member_is_gone(tmp_path):
    store = StaffFile(tmp_path / "staff.json", iterations=1000, recheck_seconds=0)
    store.add(ALICE, "correct horse battery")
    assert store.find("alice") == ALICE
    assert store.remove("alice")
    assert store.find("alice") is None
    assert store.authenticate("alice", "correct horse battery") is None
