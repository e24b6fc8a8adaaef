"""Personal data masked where it does not belong, byte for byte in a raw record kept on the dead-letter topic."""

from __future__ import annotations

import random

from aiokafka import ConsumerRecord

from services.core.identity import Pseudonymiser, check_character
from services.core.personal_data import blanked, identity_number_spans
from services.intake.adapters.raw_forwarder import is_subject_header, parked
from tests.conftest import resident_id

PSEUDONYMS = Pseudonymiser("test-key")


def _naive_spans(data: bytes) -> list[tuple[int, int]]:
    text = data.decode("latin-1").upper()
    return [(i, i + 18) for i in range(len(text) - 17)
            if all(c in "0123456789" for c in text[i:i + 17]) and check_character(text[i:i + 17]) == text[i + 17]]


def test_identity_numbers_with_a_valid_check_character_are_masked_keeping_the_length():
    number = "11010519491231002X"
    wrong = number[:17] + "1"
    data = f"a {number} b {number.lower()} c {wrong}".encode()
    assert blanked(data) == f"a {'*' * 18} b {'*' * 18} c {wrong}".encode()


def test_an_identity_number_inside_a_longer_run_of_digits_is_masked():
    number = resident_id()
    data = f"99{number}77".encode()
    masked = blanked(data)
    assert len(masked) == len(data) and number.encode() not in masked


def test_rolling_check_finds_exactly_the_windows_a_direct_check_finds():
    rng = random.Random(11)
    for _ in range(500):
        data = "".join(rng.choice("0123456789") for _ in range(rng.randint(17, 80))) + rng.choice(["", "X", "x"])
        assert identity_number_spans(data.encode()) == _naive_spans(data.encode())


def test_mobile_numbers_and_email_addresses_are_masked_but_not_longer_numbers():
    data = b"tel 13912345678, 8613912345678x, mail li.wei@example.cn, order 139123456789"
    assert blanked(data) == (b"tel ***********, 8613912345678x, mail *****************, "
                                        b"order 139123456789")


def test_masking_an_avro_body_keeps_its_structure():
    number = resident_id().encode()
    body = b"\x02" + bytes([len(number) * 2]) + number + b"\x00"
    masked = blanked(body)
    assert masked[:2] == body[:2] and masked[-1:] == b"\x00" and masked[2:-1] == b"*" * 18


def test_long_values_are_masked_in_linear_time():
    for data in (b"1" * 200_000, b"a" * 200_000, b"a." * 100_000):
        assert len(blanked(data)) == len(data)


def test_subject_headers_in_any_spelling_are_recognised():
    assert all(map(is_subject_header, ("ce_subject", "ce-subject", "CE_Subject", "Ce-Subject")))
    assert not any(map(is_subject_header, ("ce_source", "subject", "ce_subjects")))


def test_a_parked_record_carries_pseudonyms_for_every_subject_spelling_and_masks_the_rest():
    person, other = resident_id(), resident_id()
    record = ConsumerRecord("assist.events.raw", 1, 7, 0, 0, None, f"x{person}".encode(), None, 0, 0, [
        ("ce-subject", person.encode()), ("CE_SUBJECT", b"\xff" + person.encode()), ("ce_subject", None),
        (f"note-{other}", f"guardian {other}, 13812345678".encode()),
    ])
    safe = parked(record, PSEUDONYMS.person_id)
    assert safe.key == b""  # a dead letter without value still needs a key
    assert safe.value == b"x" + b"*" * 18
    names = [k for k, _ in safe.headers]
    assert names == ["ce-subject", "CE_SUBJECT", "ce_subject", f"note-{'*' * 18}"]
    values = [v for _, v in safe.headers]
    assert values[0] == PSEUDONYMS.person_id(person).encode()
    assert values[1] == PSEUDONYMS.person_id("\ufffd" + person).encode()
    assert values[2] is None
    assert values[3] == b"guardian " + b"*" * 18 + b", " + b"*" * 11


def test_a_subject_that_cannot_be_pseudonymised_is_masked_whole():
    def failing(subject: str) -> str:
        raise RuntimeError(subject)

    record = ConsumerRecord("assist.events.raw", 0, 0, 0, 0, b"k", None, None, 0, 0,
                            [("ce_subject", b"secret-subject")])
    safe = parked(record, failing)
    assert safe.value is None and safe.key == b"k"
    assert safe.headers == [("ce_subject", b"*" * len(b"secret-subject"))]
