"""Personal data (identity numbers, phone numbers, e-mail addresses) masked wherever it does not belong, declared
once for every service. Two ways, for two kinds of bytes:

`labelled` is for text a person reads (dead-letter headers and reasons): each match is replaced by what it is
("[identity number]", "[phone]", "[e-mail]"), and it errs on the side of masking: any standalone 18-character or
15-digit identity shape, mainland and international phone numbers with spaces or dashes.

`blanked` is for record bodies kept as they came (a raw record parked on assist.events.dlq): each match is replaced
by as many `*` as it had bytes, so an Avro body keeps its structure and every length prefix stays true. It is
narrower, so ordinary binary data is not defaced:

- any 18 characters, 17 digits and a digit or X (either case), whose last is the ISO 7064 MOD 11-2 check
  character of the first 17: a resident identity number, even when it sits inside a longer run of digits;
- a mainland mobile number: 11 digits 1[3-9]xxxxxxxxx not inside a longer run of digits;
- an e-mail address: local@domain.tld.
"""

from __future__ import annotations

import re

from services.core.identity import CHECK_CHARACTERS

# Identity numbers: 18 characters (17 digits and a digit or X) or the older 15 digits, not inside a longer number.
_IDENTITY_SHAPE = re.compile(rb"(?<![0-9])(?:[0-9]{17}[0-9Xx]|[0-9]{15})(?![0-9A-Za-z])")
# Bounded parts (RFC 5321 lengths): unbounded ones make a long run of letters without an '@' quadratic.
_ANY_EMAIL = re.compile(rb"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+")
# Mainland mobiles (with or without +86) and international numbers written with a leading +.
_ANY_PHONE = re.compile(rb"(?<![0-9])(?:(?:\+|00)?86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]){8}(?![0-9])"
                        rb"|\+[1-9][0-9](?:[ -]?[0-9]){6,13}(?![0-9])")
_LABELS = ((_ANY_EMAIL, b"[e-mail]"), (_IDENTITY_SHAPE, b"[identity number]"), (_ANY_PHONE, b"[phone]"))

_DIGIT_RUN = re.compile(rb"[0-9]{17,}[Xx]?")
_MOBILE = re.compile(rb"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
# Bounded parts (RFC 5321 lengths), so a long run of letters without an '@' stays linear to scan.
_EMAIL = re.compile(rb"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}")
MASK = ord("*")
CHECK_BYTES = CHECK_CHARACTERS.encode()


def identity_number_spans(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of every 18-character window of `data` that is an identity number with a valid check
    character (windows may overlap). Linear in the length of the digit runs: the weighted sum of a window
    (weights 2**17 ... 2**1 mod 11) is rolled from the previous one."""
    spans: list[tuple[int, int]] = []
    for run in _DIGIT_RUN.finditer(data):
        text = run.group().upper()
        digits = text.rstrip(b"X")
        total = sum(int(chr(d)) * pow(2, 17 - j, 11) for j, d in enumerate(digits[:17])) % 11
        for i in range(len(text) - 17):
            if text[i + 17] == CHECK_BYTES[total]:
                spans.append((run.start() + i, run.start() + i + 18))
            if i + 17 < len(digits):  # roll the window one digit on
                total = (2 * (total - (digits[i] - 48) * 7) + (digits[i + 17] - 48) * 2) % 11
    return spans


def blanked(data: bytes) -> bytes:
    """`data` with identity numbers, mainland mobile numbers and e-mail addresses replaced by `*` in place."""
    if not data:
        return data
    out = bytearray(data)
    spans = identity_number_spans(data)
    spans += [m.span() for pattern in (_MOBILE, _EMAIL) for m in pattern.finditer(data)]
    for start, end in spans:
        out[start:end] = bytes([MASK]) * (end - start)
    return bytes(out)


def blanked_text(text: str) -> str:
    """`text` masked like `blanked` (for header names); invalid UTF-8 in `text` is kept as is."""
    raw = text.encode("utf-8", "surrogateescape")
    masked = blanked(raw)
    return text if masked == raw else masked.decode("utf-8", "surrogateescape")


def labelled(value: bytes) -> bytes:
    """`value` with identity numbers, e-mail addresses and phone numbers replaced by what they are."""
    for pattern, label in _LABELS:
        value = pattern.sub(label, value)
    return value
