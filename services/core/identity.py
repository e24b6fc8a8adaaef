"""Resident identity numbers (GB 11643-1999) and the pseudonymous person id that replaces them."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import operator
import re

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # 2**(17 - position) mod 11
CHECK_CHARACTERS = "10X98765432"
"""The check character for each value of the weighted digit sum mod 11."""
_SHAPE = re.compile(r"[0-9]{17}[0-9X]")


def check_character(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits."""
    return CHECK_CHARACTERS[sum(map(operator.mul, map(int, first17), _WEIGHTS)) % 11]


def resident_id_problem(value: str) -> str | None:
    """Why `value` is not a valid 18-character resident identity number, or None when it is.

    The reason never repeats the number itself, so it can be returned to the caller and logged.
    """
    if len(value) != 18:
        return "must be an 18-character resident identity number"
    if not _SHAPE.fullmatch(value):
        return "must be a resident identity number: 17 digits followed by a digit or X"
    try:
        dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "is not a resident identity number: its date of birth is impossible"
    if check_character(value[:17]) != value[17]:
        return "is not a resident identity number: its check character is wrong (ISO 7064 MOD 11-2)"
    return None


class Pseudonymiser:
    """Keyed HMAC-SHA256 of the identity number: stable per key, not reversible without the key."""

    def __init__(self, key: str):
        self._key = key.encode()

    def person_id(self, resident_id: str) -> str:
        return "p" + hmac.digest(self._key, resident_id.upper().encode(), hashlib.sha256).hex()[:31]
