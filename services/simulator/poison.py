"""A seeded corpus of raw Kafka records no department should send, interleaved with valid ones, each tagged with
what the raw path must do with it: forward it to assist.events or dead-letter it naming `field`.

The same seed, run and size give the same records. `run` prefixes every event id, so the corpus can be produced
again on the same broker without its valid events being taken for duplicates of an earlier run.

Every malformed kind is malformed for a reason that holds whatever the random draws (see each maker):
a foreign-type body is drawn only from a type whose Avro body has a different number of values than the claimed
type's (both without strings), so it can never be read to its last byte; random bodies are longer than any
event's longest possible body. Bodies of another type with the same shape are genuinely valid records of the
claimed type and are therefore not in the corpus.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from services.core.codec import Contract, encode_event, event_from_json
from services.core.identity import check_character
from services.simulator.departments import SYSTEMS, rfc3339, source_of

FORWARD = "forward"
DEAD_LETTER = "dead_letter"
RawHeaders = list[tuple[str, bytes | None]]
REQUIRED = ("ce_id", "ce_source", "ce_type", "ce_specversion", "ce_time", "ce_subject")
LONGEST_BODY = 40
"""No event body is this long: the longest is a date, an enum and two longs (5 + 1 + 10 + 10 bytes)."""


@dataclass(frozen=True)
class PoisonRecord:
    """One raw record and what the raw path must do with it; `field` is the field a dead letter must name."""

    kind: str
    key: bytes | None
    value: bytes | None
    headers: RawHeaders
    expected: str
    field: str | None
    event_id: str


@dataclass
class _Draft:
    """A valid record being spoiled: its event (structured), Avro body and headers."""

    structured: dict[str, Any]
    value: bytes | None
    headers: RawHeaders

    def set(self, name: str, value: bytes | None) -> None:
        self.headers = [(k, value if k == name else v) for k, v in self.headers]


def identity_number(rng: random.Random) -> str:
    """A synthetic resident identity number with a valid check character."""
    born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(25_000))
    first17 = f"{rng.choice(('110105', '310104', '440305', '510107', '650102'))}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + check_character(first17)


def valid_data(contract: Contract, type_: str, rng: random.Random) -> dict[str, Any]:
    """Data for `type_` meeting every constraint of its schema, as structured JSON."""
    data: dict[str, Any] = {}
    for spec in contract.event_types[type_].schema["fields"]:
        kind = spec["type"]
        if isinstance(kind, dict) and kind.get("logicalType") == "date":
            data[spec["name"]] = (dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(330))).isoformat()
        elif isinstance(kind, dict) and kind["type"] == "enum":
            data[spec["name"]] = rng.choice(kind["symbols"])
        elif "allowed" in spec:
            data[spec["name"]] = rng.choice(spec["allowed"])
        elif kind in ("int", "long"):
            data[spec["name"]] = rng.randint(spec.get("minimum", 0), spec.get("maximum", 5_000_000))
        elif kind == "string":
            data[spec["name"]] = f"{rng.randrange(110000, 660000)}"
        elif kind == "boolean":
            data[spec["name"]] = rng.random() < 0.5
        else:
            raise ValueError(f"no valid data drawn for fields of type {kind}")
    return data


def _draft(contract: Contract, rng: random.Random, event_id: str, type_: str | None = None) -> _Draft:
    type_ = type_ or rng.choice(sorted(contract.event_types))
    time = dt.datetime(2026, 11, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=rng.randrange(30 * 86400))
    structured = {"specversion": "1.0", "id": event_id, "type": type_, "time": rfc3339(time),
                  "source": source_of(contract.event_types[type_].department), "subject": identity_number(rng),
                  "data": valid_data(contract, type_, rng)}
    value, headers = encode_event(contract, event_from_json(contract, structured))
    return _Draft(structured, value, list(headers))


def _units(contract: Contract, type_: str) -> int | None:
    """How many Avro values a body of `type_` is (None when it holds a string, whose length varies)."""
    kinds = [spec["type"] for spec in contract.event_types[type_].schema["fields"]]
    return None if "string" in kinds else len(kinds)


Spoil = Callable[[Contract, random.Random, _Draft], str | None]
"""Spoils a draft in place; returns the field the dead letter must name (None: the record stays valid)."""


def _tombstone(contract: Contract, rng: random.Random, d: _Draft) -> str:
    d.value = None
    return "data"


def _null_header(contract: Contract, rng: random.Random, d: _Draft) -> str:
    name = rng.choice([*REQUIRED, "content-type", "ce_dataschema"])
    d.set(name, None)
    return name


def _truncated(contract: Contract, rng: random.Random, d: _Draft) -> str:
    assert d.value
    d.value = d.value[:rng.randrange(len(d.value))]
    return "data"


def _foreign_type(contract: Contract, rng: random.Random, d: _Draft) -> str:
    claimed = str(d.structured["type"])
    units = _units(contract, claimed)
    others = [t for t in sorted(contract.event_types) if _units(contract, t) not in (None, units)]
    if units is None or not others:  # the claimed type holds a string: claim one that does not
        claimed = rng.choice([t for t in sorted(contract.event_types) if _units(contract, t) is not None])
        fresh = _draft(contract, rng, str(d.structured["id"]), claimed)
        d.structured, d.headers = fresh.structured, fresh.headers
        units = _units(contract, claimed)
        others = [t for t in sorted(contract.event_types) if _units(contract, t) not in (None, units)]
    d.value = _draft(contract, rng, "foreign", rng.choice(others)).value
    return "data"


def _trailing(contract: Contract, rng: random.Random, d: _Draft) -> str:
    d.value = (d.value or b"") + rng.randbytes(rng.randint(1, 8))
    return "data"


def _random_body(contract: Contract, rng: random.Random, d: _Draft) -> str:
    d.value = rng.randbytes(rng.randint(LONGEST_BODY, 400))
    return "data"


def _garbled_string(contract: Contract, rng: random.Random, d: _Draft) -> str:
    fresh = _draft(contract, rng, str(d.structured["id"]), "school.enrolled")
    assert fresh.value
    at = fresh.value.index(str(fresh.structured["data"]["school_district"]).encode())
    d.structured, d.headers = fresh.structured, fresh.headers
    d.value = fresh.value[:at] + b"\xff\xfe" + fresh.value[at + 2:]
    return "data"


def _not_utf8(contract: Contract, rng: random.Random, d: _Draft) -> str:
    name = rng.choice(("ce_id", "ce_source", "ce_subject", "ce_type", "ce_time"))
    original = dict(d.headers)[name] or b""
    d.set(name, original[:3] + rng.choice((b"\xff", b"\xc3\x28", b"\xed\xa0\x80")) + original[3:])
    return name


def _missing_header(contract: Contract, rng: random.Random, d: _Draft) -> str:
    name = rng.choice(REQUIRED)
    d.headers = [(k, v) for k, v in d.headers if k != name]
    return name


def _duplicated_header(contract: Contract, rng: random.Random, d: _Draft) -> str:
    name = rng.choice(("ce_id", "ce_subject", "ce_type"))
    d.headers.append((name, dict(d.headers)[name]))
    return name


def _header_set_to(name: str, choices: tuple[bytes, ...]) -> Spoil:
    """A spoiler that gives header `name` one of `choices` (each breaks the contract on that header)."""
    def spoil(contract: Contract, rng: random.Random, d: _Draft) -> str:
        d.set(name, rng.choice(choices))
        return name
    return spoil


BAD_HEADER_VALUES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "bad_spec_version": ("ce_specversion", (b"0.3", b"2.0", b"", b"1.0.0", b"1")),
    "extreme_time": ("ce_time", (b"0001-01-01T00:00:00+01:00", b"0001-01-01T00:30:00+14:00",
                                 b"9999-12-31T23:59:59-01:00", b"9999-12-31T23:00:00-12:00")),
    "malformed_time": ("ce_time", (b"yesterday", b"2026-13-01T00:00:00Z", b"2026-02-30T00:00:00Z", b"",
                                   b"2026-11-20T25:00:00Z")),
    "unknown_source": ("ce_source", (b"/elsewhere/his", b"/departments/", b"departments", b"/departments/tax/x",
                                     b"https://example.org/health")),
    "wrong_content_type": ("content-type", (b"application/json", b"text/plain", b"application/avro; charset=x")),
    "unknown_type": ("ce_type", (b"job.found", b"pension.paid", b"HOSPITALISATION.ADMITTED", b"")),
}
"""Kinds that only give one header a value the contract refuses: years that leave UTC's range, spellings of the
spec version, sources naming no department, content types other than Avro, types no schema declares."""


def _oversize(contract: Contract, rng: random.Random, d: _Draft) -> str:
    name, limit = rng.choice((("ce_id", 256), ("ce_source", 512), ("ce_subject", 256), ("ce_type", 128)))
    d.set(name, b"a" * rng.choice((limit + 1, limit * 3, limit * 5, 100_000)))
    return name


def _control_characters(contract: Contract, rng: random.Random, d: _Draft) -> str:
    d.set("ce_id", str(d.structured["id"]).encode() + rng.choice((b"\x00", b"\n", b"\x1b[2J", b"\x7f")))
    return "ce_id"


def _bad_identity_number(contract: Contract, rng: random.Random, d: _Draft) -> str:
    number = str(d.structured["subject"])
    wrong = rng.choice([c for c in "0123456789X" if c != number[17]])
    d.set("ce_subject", rng.choice((number[:17] + wrong, number[:10] + "1332" + number[14:17] + wrong,
                                    number[:17], number + "0", "not-a-number")).encode())
    return "subject"


def _spoofed_source(contract: Contract, rng: random.Random, d: _Draft) -> str:
    owner = contract.event_types[str(d.structured["type"])].department
    d.set("ce_source", source_of(rng.choice([dept for dept in sorted(SYSTEMS) if dept != owner])).encode())
    return "ce_source"


def _wrong_dataschema(contract: Contract, rng: random.Random, d: _Draft) -> str:
    own = contract.event_types[str(d.structured["type"])].dataschema
    d.set("ce_dataschema", rng.choice([et.dataschema for et in contract.event_types.values()
                                       if et.dataschema != own]).encode())
    return "ce_dataschema"


def _constraint(contract: Contract, rng: random.Random, d: _Draft) -> str:
    """A body that is valid Avro of the type but breaks a minimum, maximum, allowed or pattern constraint."""
    type_, name, bad = rng.choice((("disability.certified", "grade", 9), ("age.milestone_reached", "age", 70),
                                   ("income.changed", "monthly_income_fen", -1),
                                   ("emergency.occurred", "place_district", "12ab56"),
                                   ("hospitalisation.discharged", "out_of_pocket_fen", -500)))
    fresh = _draft(contract, rng, str(d.structured["id"]), type_)
    d.structured, d.headers = fresh.structured, fresh.headers
    event = event_from_json(contract, fresh.structured)
    d.value = encode_event(contract, replace(event, data={**event.data, name: bad}))[0]
    return f"data.{name}"


def _hyphen_subject(contract: Contract, rng: random.Random, d: _Draft) -> str:
    """The HTTP-style spelling on Kafka: no ce_subject, the identity number in ce-subject (and in the key)."""
    d.headers = [("ce-subject" if k == "ce_subject" else k, v) for k, v in d.headers]
    return "ce_subject"


def _contacts_in_headers(contract: Contract, rng: random.Random, d: _Draft) -> str:
    """An invalid record whose extra headers hold a phone number, an e-mail address and another identity number."""
    phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
    d.headers += [("x-contact", f"tel {phone}, mail user{rng.randrange(1000)}@example.cn".encode()),
                  ("x-guardian", identity_number(rng).encode())]
    d.set("ce_specversion", b"0.3")
    return "ce_specversion"


SPOILERS: dict[str, Spoil] = {
    "tombstone": _tombstone, "null_header": _null_header, "truncated_avro": _truncated,
    "foreign_type_avro": _foreign_type, "trailing_bytes": _trailing, "random_bytes": _random_body,
    "garbled_string": _garbled_string, "not_utf8_header": _not_utf8, "missing_header": _missing_header,
    "duplicated_header": _duplicated_header, "oversize_attribute": _oversize,
    "control_characters": _control_characters, "bad_identity_number": _bad_identity_number,
    "spoofed_source": _spoofed_source, "wrong_dataschema": _wrong_dataschema, "constraint_violated": _constraint,
    "hyphen_subject": _hyphen_subject, "contacts_in_headers": _contacts_in_headers,
    **{kind: _header_set_to(name, values) for kind, (name, values) in BAD_HEADER_VALUES.items()},
}
"""Every malformed kind, by name."""

VALID_EVERY = 4
"""One record in VALID_EVERY is valid; the malformed kinds take turns in between."""


def poison_corpus(contract: Contract, size: int, seed: int = 0, run: str = "poison") -> list[PoisonRecord]:
    """`size` raw records: malformed ones of every kind in SPOILERS in turn, every VALID_EVERY-th one valid."""
    rng = random.Random(seed)
    kinds = list(SPOILERS)
    corpus: list[PoisonRecord] = []
    for i in range(size):
        event_id = f"{run}-{i:06d}"
        draft = _draft(contract, rng, event_id)
        kind = "valid" if i % VALID_EVERY == VALID_EVERY - 1 else kinds[(i - i // VALID_EVERY) % len(kinds)]
        field = None if kind == "valid" else SPOILERS[kind](contract, rng, draft)
        subject = str(draft.structured["subject"])
        key = (subject if kind in ("hyphen_subject", "contacts_in_headers") else
               f"{draft.structured['source']}/{event_id}").encode()
        corpus.append(PoisonRecord(kind, key, draft.value, draft.headers, FORWARD if field is None else DEAD_LETTER,
                                   field, event_id))
    return corpus
