"""Reasons in plain words: an explanation's catalogue labels (schemas/records/explanation.avsc) rendered with their
values in the reader's language, money in yuan with its sign ("¥100", "100 元"), never fen or expressions.

Pure; notification (messages, the citizen page) and casework (the console) say reasons through it. An explanation
written before labels existed has none: its sentences are then empty and the reader falls back to its summary."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

ZH_CN = "zh-CN"
EN = "en"
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_REQUIRED = {ZH_CN: "需满足：{label}（未满足）", EN: "Required: {label} (not met)"}


def language_tag(language: str) -> str:
    """'zh-CN' for any spelling of Simplified Chinese ('zh_CN', 'zh-cn', 'zh'), else 'en'."""
    return ZH_CN if language.replace("_", "-").lower().startswith("zh") else EN


def money_text(fen: int, language: str) -> str:
    """Whole yuan without decimals, else two: 10000 -> '¥100' / '100 元'; 105050 -> '¥1,050.50' / '1,050.50 元'."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    amount = f"{sign}{whole:,}" if cents == 0 else f"{sign}{whole:,}.{cents:02d}"
    return f"{amount} 元" if language_tag(language) == ZH_CN else f"¥{amount}"


def value_text(value: Mapping[str, Any], language: str) -> str:
    """One typed value of an explanation in the reader's language."""
    kind = str(value.get("kind") or "text")
    raw = str(value.get("value") or "")
    if kind == "money":
        try:
            return money_text(int(raw), language)
        except ValueError:
            return raw
    if kind == "words":
        words = value.get("words") or {}
        return str(words.get(language_tag(language)) or words.get(EN) or raw)
    return raw


def render(template: str, values: Iterable[Mapping[str, Any]], language: str) -> str:
    """A label's text with each {name} replaced by its value; a name without a value shows as '—'."""
    by_name = {str(v.get("name")): v for v in values}

    def fill(match: re.Match[str]) -> str:
        found = by_name.get(match.group(1).strip())
        return value_text(found, language) if found is not None else "—"

    return _PLACEHOLDER.sub(fill, template)


def condition_sentence(condition: Mapping[str, Any], language: str) -> str | None:
    """What one condition says: its label when it holds, its `unmet` label when it does not (else the label as a
    requirement not met); None when the explanation carries no label for it."""
    tag = language_tag(language)
    label = (condition.get("label") or {}).get(tag)
    if not label:
        return None
    values = condition.get("label_values") or []
    if condition.get("holds", True):
        return render(label, values, tag)
    unmet = (condition.get("unmet") or {}).get(tag)
    if unmet:
        return render(unmet, values, tag)
    return _REQUIRED[tag].format(label=render(label, values, tag))


def condition_sentences(explanation: Mapping[str, Any], language: str, holding: bool | None = None) -> list[str]:
    """The sentences of the explanation's conditions, in catalogue order; `holding` keeps only those that hold
    (True) or do not (False)."""
    said = []
    for condition in explanation.get("conditions") or []:
        if holding is not None and bool(condition.get("holds")) != holding:
            continue
        sentence = condition_sentence(condition, language)
        if sentence:
            said.append(sentence)
    return said


def amount_sentence(explanation: Mapping[str, Any], language: str) -> str | None:
    """How the amount was reached, in words; None without an amount label."""
    label = (explanation.get("amount_label") or {}).get(language_tag(language))
    return render(label, explanation.get("amount_values") or [], language) if label else None


def policy_name(explanation: Mapping[str, Any], language: str) -> str | None:
    """The programme's name in the reader's language, from the catalogue; None when the explanation has none."""
    name = (explanation.get("policy_names") or {}).get(language_tag(language))
    return str(name) if name else None


def reason_text(explanation: Mapping[str, Any], language: str) -> str:
    """Why, in one line: the sentences of the conditions that decided it (those that hold when eligible, those that
    do not otherwise), joined; empty when the explanation carries no labels."""
    eligible = bool(explanation.get("eligible", True))
    sentences = condition_sentences(explanation, language, holding=eligible)
    if not sentences:
        return ""
    if language_tag(language) == ZH_CN:
        return "；".join(sentences) + "。"
    return ". ".join(sentences) + "."
