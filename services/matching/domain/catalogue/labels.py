"""Labels: what a condition or an amount says to a citizen, in Simplified Chinese and English, written in the
catalogue with `{name}` placeholders for the values it shows (a fact, parameter or definition the condition reads,
or one of the context words: the household's place, whether it is urban or rural, the amount).

The explanation carries each label with its values typed (money in fen, a number, a text, or words in each
language), so every reader renders them in its own language; services/core/reasons.py does that."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from services.matching.domain.policy_language.expressions import ABSENT, format_value

LANGUAGES = ("zh-CN", "en")
PLACE = "place"
"""The name of the household's county or district (else its region) in the reader's language."""
AREA = "area"
"""'urban' or 'rural' for the household, in the reader's language."""
AMOUNT = "amount"
"""The amount offered (amount labels only)."""
CONTEXT_WORDS = frozenset({PLACE, AREA})

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_AREA_WORDS = {True: {"zh-CN": "城市", "en": "urban"}, False: {"zh-CN": "农村", "en": "rural"}}
_YES_NO = {True: {"zh-CN": "是", "en": "yes"}, False: {"zh-CN": "否", "en": "no"}}
_SOMEWHERE = {"zh-CN": "当地", "en": "your area"}


@dataclass(frozen=True)
class Label:
    """One sentence in each language; an empty text is a language the author left out (a catalogue problem)."""

    zh_cn: str
    en: str

    def texts(self) -> dict[str, str]:
        return {"zh-CN": self.zh_cn, "en": self.en}


def placeholders(text: str) -> tuple[str, ...]:
    """The names a label's text shows, in order of first use."""
    return tuple(dict.fromkeys(m.strip() for m in _PLACEHOLDER.findall(text)))


def label_names(label: Label) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*placeholders(label.zh_cn), *placeholders(label.en))))


@dataclass(frozen=True)
class CatalogueWording:
    """What labels need beyond the facts: place names by division code, and which parameters and definitions are
    money in fen (facts ending in `_fen` always are)."""

    places: Mapping[str, Label] = field(default_factory=lambda: MappingProxyType({}))
    money: frozenset[str] = frozenset()

    def is_money(self, name: str) -> bool:
        return name == AMOUNT or name.endswith("_fen") or name in self.money

    def place(self, district: Any, region: Any) -> dict[str, str]:
        for code in (district, region):
            found = self.places.get(str(code)) if isinstance(code, str) else None
            if found is not None:
                return found.texts()
        return dict(_SOMEWHERE)

    def value(self, name: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """One placeholder's value as the explanation carries it: {name, kind, value, words}."""
        if name == PLACE:
            return _words(name, self.place(values.get("household.district"), values.get("household.region")))
        if name == AREA:
            return _words(name, _AREA_WORDS[bool(values.get("household.urban"))])
        try:
            raw = values[name]
        except KeyError:
            raw = ABSENT
        if raw is ABSENT or raw is None:
            return {"name": name, "kind": "text", "value": "—", "words": {}}
        if isinstance(raw, bool):
            return _words(name, _YES_NO[raw])
        if isinstance(raw, int | float) and self.is_money(name):
            return {"name": name, "kind": "money", "value": str(round(raw)), "words": {}}
        if isinstance(raw, int | float):
            return {"name": name, "kind": "number", "value": format_value(raw), "words": {}}
        return {"name": name, "kind": "text", "value": str(raw), "words": {}}

    def values(self, label: Label | None, values: Mapping[str, Any],
               amount_fen: int | None = None) -> list[dict[str, Any]]:
        """The values of every placeholder of `label` (both languages); `amount_fen` is what {amount} shows."""
        if label is None:
            return []
        return [self.value(name, values) if name != AMOUNT
                else {"name": AMOUNT, "kind": "money", "value": str(amount_fen or 0), "words": {}}
                for name in label_names(label)]


NO_WORDING = CatalogueWording()
"""A catalogue without places or money names."""


def _words(name: str, words: Mapping[str, str]) -> dict[str, Any]:
    return {"name": name, "kind": "words", "value": words.get("en", ""), "words": dict(words)}
