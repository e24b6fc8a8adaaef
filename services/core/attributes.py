"""CloudEvents context attributes as text: how long each may be and what characters it may hold.

Both bindings use these rules: structured JSON (`event_from_json`) and Kafka or HTTP binary mode
(`decode_event`, where each attribute is a `ce_*` header and `datacontenttype` is `content-type`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from services.core.conformance import FieldError

ATTRIBUTE_LIMITS: dict[str, int] = {
    "id": 256,
    "source": 512,
    "type": 128,
    "specversion": 8,
    "time": 64,
    "subject": 256,
    "dataschema": 512,
    "datacontenttype": 256,
}
"""Longest accepted value of each attribute, in characters.

An inbound subject is an 18-character identity number and a pseudonym is 32 characters; ids are usually
UUIDs (36); sources are /departments/<department>/<system>. The limits keep every accepted event far below
the broker's 1 MB record limit, so an oversized attribute is refused as the caller's mistake (naming the
attribute) instead of failing later as an outage the caller would retry forever. A binary-mode header longer
than four bytes per allowed character is refused before it is decoded at all.
"""

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

HEADER_NAMES: dict[str, str] = {**{f"ce_{a}": a for a in ATTRIBUTE_LIMITS if a != "datacontenttype"},
                                "content-type": "datacontenttype"}
"""Kafka binary-mode header name → attribute (CloudEvents Kafka protocol binding: `ce_` prefix)."""


def text_problem(attribute: str, value: str) -> str | None:
    """Why `value` is not acceptable text for `attribute`, or None; the reason never repeats the value."""
    limit = ATTRIBUTE_LIMITS.get(attribute)
    if limit is not None and len(value) > limit:
        return f"must be at most {limit} characters"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "must be valid Unicode text (no lone surrogates)"
    if _CONTROL.search(value):
        return "must not contain control characters"
    return None


def header_texts(headers: Sequence[tuple[object, object]], errors: list[FieldError]) -> dict[str, str]:
    """The attribute headers of a binary-mode record as text, strictly decoded as UTF-8.

    Other headers are ignored. Appends a FieldError naming the header when it has no value, is given more than
    once, is too long, is not UTF-8 (never replaced, so distinct ids cannot collide) or is not clean text.
    """
    seen: dict[str, int] = {}
    texts: dict[str, str] = {}
    for name, raw in headers:
        if not isinstance(name, str) or name not in HEADER_NAMES:
            continue
        seen[name] = seen.get(name, 0) + 1
        if seen[name] == 2:
            errors.append(FieldError(name, "header is given more than once"))
            texts.pop(name, None)
        if seen[name] > 1:
            continue
        text = _header_text(name, raw, errors)
        if text is not None:
            texts[name] = text
    return texts


def _header_text(name: str, raw: object, errors: list[FieldError]) -> str | None:
    attribute = HEADER_NAMES[name]
    if raw is None:
        errors.append(FieldError(name, "header has no value"))
        return None
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        errors.append(FieldError(name, "header value must be bytes"))
        return None
    limit = ATTRIBUTE_LIMITS[attribute]
    if len(raw) > 4 * limit:
        errors.append(FieldError(name, f"must be at most {limit} characters"))
        return None
    try:
        text = bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        errors.append(FieldError(name, "header is not UTF-8 text"))
        return None
    problem = text_problem(attribute, text)
    if problem:
        errors.append(FieldError(name, problem))
        return None
    return text
