"""Household risk monitoring: a score from recent events in sliding windows, a tier (red, orange, yellow) and the
caseworker task each tier calls for. Weights, windows, thresholds and tasks are data (policies/risk.yaml)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml

from services.matching.domain.household.event_kinds import kind_of
from services.matching.domain.household.state import HISTORY_DAYS, HouseholdState, RecordedEvent

TIER_NAMES = ("red", "orange", "yellow")
# The TaskKind symbols of schemas/records/caseworker_task.avsc.
TASK_KINDS = frozenset({"VERIFY_ELIGIBILITY", "VISIT", "PHONE_CHECK", "REVIEW", "DELIVER_IN_PERSON"})
DISASTER_SEVERITIES = ("MINOR", "SERIOUS", "CATASTROPHIC")
NEAR_THRESHOLD_MARGIN = 0.10


class RiskModelError(ValueError):
    """The risk model text is unusable; `problems` names every bad entry by its path."""

    def __init__(self, problems: list[str]):
        super().__init__("risk model: " + "; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Signal:
    """One kind of warning sign. Only the parameters of its own kind are set (see policies/risk.yaml)."""

    name: str
    window_days: int
    weight: int = 0
    max_count: int = 1
    min_out_of_pocket_fen: int = 0
    min_drop_ratio: float = 0.0
    max_grade: int = 4
    severity_weights: Mapping[str, int] = field(default_factory=dict)
    home_destroyed_weight: int = 0


@dataclass(frozen=True)
class TierTask:
    """The caseworker task a tier calls for."""

    kind: str
    priority: int
    sla_hours: int


@dataclass(frozen=True)
class Tier:
    name: str
    min_score: int
    task: TierTask | None


@dataclass(frozen=True)
class RiskModel:
    """Signals and tiers; tiers ordered from the highest threshold down."""

    signals: tuple[Signal, ...]
    tiers: tuple[Tier, ...]

    def tier_for(self, score: int) -> Tier | None:
        """The highest tier whose threshold `score` reaches, or None."""
        return next((t for t in self.tiers if score >= t.min_score), None)


class Contribution(NamedTuple):
    """One signal found: its name, the weight it adds and the event behind it."""

    signal: str
    weight: int
    event_id: str


@dataclass(frozen=True)
class RiskAssessment:
    score: int
    tier: str | None
    contributions: tuple[Contribution, ...]
    task: TierTask | None = None

    @property
    def evidence_event_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.event_id for c in self.contributions))


# ---- assessment --------------------------------------------------------------------------------------------------

def _weight(signal: Signal, event: RecordedEvent) -> int:
    """The weight `event` adds for `signal`, 0 when it is not that sign. Which signal an event can be is its
    kind's (event_kinds.EventKind.risk_signal); the signal's parameters then decide whether it is."""
    kind = kind_of(event.type)
    if kind is None or kind.risk_signal != signal.name:
        return 0
    if signal.name == "hospitalisation_cost":
        return signal.weight if event.amount_fen >= signal.min_out_of_pocket_fen else 0
    if signal.name == "disaster":
        return signal.severity_weights.get(event.detail, 0) + (signal.home_destroyed_weight if event.home_destroyed
                                                               else 0)
    if signal.name == "earner_death":
        return signal.weight if event.previous_income_fen > 0 else 0
    if signal.name == "income_drop":
        before = event.previous_income_fen
        return signal.weight if before > 0 and (before - event.amount_fen) / before >= signal.min_drop_ratio else 0
    if signal.name == "disability_certified":
        return signal.weight if event.detail.isdigit() and int(event.detail) <= signal.max_grade else 0
    return signal.weight


def assess(state: HouseholdState, model: RiskModel, on_date: dt.date) -> RiskAssessment:
    """Score the household at `on_date`. Only events about living members count, each signal within its window
    (0..window_days days before `on_date`) and at most max_count times (heaviest, then most recent, first)."""
    contributions: list[Contribution] = []
    for signal in model.signals:
        found = []
        for event in state.recent_events:
            age = (on_date - event.on).days
            if not event.member or not 0 <= age <= signal.window_days:
                continue
            weight = _weight(signal, event)
            if weight > 0:
                found.append((weight, event.on, event.event_id))
        found.sort(reverse=True)
        contributions.extend(Contribution(signal.name, w, eid) for w, _, eid in found[: signal.max_count])
    score = sum(c.weight for c in contributions)
    tier = model.tier_for(score)
    return RiskAssessment(score, tier.name if tier else None, tuple(contributions), tier.task if tier else None)


def near_threshold(per_capita_income: float, line: float, margin: float = NEAR_THRESHOLD_MARGIN) -> bool:
    """True when the per-capita income is at the line or at most `margin` (10 %) above it."""
    return line > 0 and line <= per_capita_income <= line * (1 + margin)


# ---- loading -----------------------------------------------------------------------------------------------------

_COMMON = ("window_days", "max_count")
# The signals the model may weigh and their parameters; event_kinds names the signal each event kind can be.
SIGNAL_KEYS: dict[str, tuple[str, ...]] = {
    "job_loss": ("weight", *_COMMON),
    "hospitalisation_cost": ("weight", "min_out_of_pocket_fen", *_COMMON),
    "disaster": ("severity_weights", "home_destroyed_weight", *_COMMON),
    "earner_death": ("weight", *_COMMON),
    "income_drop": ("weight", "min_drop_ratio", *_COMMON),
    "disability_certified": ("weight", "max_grade", *_COMMON),
}
_REQUIRED: dict[str, tuple[str, ...]] = {
    "hospitalisation_cost": ("weight", "window_days", "min_out_of_pocket_fen"),
    "disaster": ("window_days", "severity_weights"),
    "income_drop": ("weight", "window_days", "min_drop_ratio"),
}


def load_risk_model(text: str) -> RiskModel:
    """Parse the YAML of policies/risk.yaml; RiskModelError lists every problem by path."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise RiskModelError([f"not valid YAML{where}"]) from None
    problems: list[str] = []
    if not isinstance(raw, dict):
        raise RiskModelError(["the document must be a mapping with 'signals' and 'tiers'"])
    for key in sorted(set(raw) - {"signals", "tiers"}):
        problems.append(f"{key}: unknown section")
    signals = _signals(raw.get("signals"), problems)
    tiers = _tiers(raw.get("tiers"), problems)
    if problems:
        raise RiskModelError(problems)
    return RiskModel(signals, tiers)


def _signals(raw: Any, problems: list[str]) -> tuple[Signal, ...]:
    if not isinstance(raw, dict) or not raw:
        problems.append("signals: must map signal names to their parameters")
        return ()
    out = []
    for name, params in raw.items():
        path = f"signals.{name}"
        if name not in SIGNAL_KEYS:
            problems.append(f"{path}: unknown signal (known: {', '.join(SIGNAL_KEYS)})")
            continue
        if not isinstance(params, dict):
            problems.append(f"{path}: must be a mapping")
            continue
        for key in sorted(set(params) - set(SIGNAL_KEYS[name])):
            problems.append(f"{path}.{key}: not a parameter of this signal")
        for key in _REQUIRED.get(name, ("weight", "window_days")):
            if key not in params:
                problems.append(f"{path}.{key}: required")
        number = _checker(params, path, problems)
        out.append(Signal(
            name=name,
            window_days=number("window_days", 1, HISTORY_DAYS, 0),  # no event is kept longer
            weight=number("weight", 1, 1000, 0),
            max_count=number("max_count", 1, 100, 1),
            min_out_of_pocket_fen=number("min_out_of_pocket_fen", 0, None, 0),
            min_drop_ratio=_ratio(params, path, problems),
            max_grade=number("max_grade", 1, 4, 4),
            severity_weights=_severity_weights(params.get("severity_weights"), path, problems),
            home_destroyed_weight=number("home_destroyed_weight", 0, 1000, 0),
        ))
    return tuple(out)


def _checker(params: Mapping[str, Any], path: str, problems: list[str]) -> Callable[[str, int, int | None, int], int]:
    def number(key: str, low: int, high: int | None, default: int) -> int:
        if key not in params:
            return default
        value = params[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
            bounds = f"{low}..{high}" if high is not None else f">= {low}"
            problems.append(f"{path}.{key}: must be an integer {bounds}")
            return default
        return value

    return number


def _ratio(params: Mapping[str, Any], path: str, problems: list[str]) -> float:
    value = params.get("min_drop_ratio", 0.0)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        if "min_drop_ratio" in params:
            problems.append(f"{path}.min_drop_ratio: must be a number in (0, 1]")
        return 0.0
    return float(value)


def _severity_weights(raw: Any, path: str, problems: list[str]) -> dict[str, int]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(f"{path}.severity_weights: must map {', '.join(DISASTER_SEVERITIES)} to weights")
        return {}
    out: dict[str, int] = {}
    for severity, weight in raw.items():
        if severity not in DISASTER_SEVERITIES:
            problems.append(f"{path}.severity_weights.{severity}: unknown severity")
        elif isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= 1000:
            problems.append(f"{path}.severity_weights.{severity}: must be an integer 0..1000")
        else:
            out[severity] = weight
    return out


def _tiers(raw: Any, problems: list[str]) -> tuple[Tier, ...]:
    if not isinstance(raw, dict):
        problems.append(f"tiers: must map {', '.join(TIER_NAMES)} to min_score and task")
        return ()
    for name in sorted(set(raw) - set(TIER_NAMES)):
        problems.append(f"tiers.{name}: unknown tier (known: {', '.join(TIER_NAMES)})")
    out = []
    for name in TIER_NAMES:
        path = f"tiers.{name}"
        params = raw.get(name)
        if not isinstance(params, dict):
            problems.append(f"{path}: required, with min_score and task")
            continue
        for key in sorted(set(params) - {"min_score", "task"}):
            problems.append(f"{path}.{key}: not a tier parameter")
        if "min_score" not in params:
            problems.append(f"{path}.min_score: required")
        score = _checker(params, path, problems)("min_score", 1, None, 0)
        out.append(Tier(name, score, _task(params.get("task"), f"{path}.task", problems)))
    scores = [t.min_score for t in out]
    if len(out) == len(TIER_NAMES) and not all(a > b for a, b in itertools.pairwise(scores)):
        problems.append("tiers: min_score must decrease strictly from red to orange to yellow")
    return tuple(out)


def _task(raw: Any, path: str, problems: list[str]) -> TierTask | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        problems.append(f"{path}: must be a mapping with kind, priority and sla_hours, or null")
        return None
    for key in sorted(set(raw) - {"kind", "priority", "sla_hours"}):
        problems.append(f"{path}.{key}: not a task parameter")
    kind = raw.get("kind")
    if kind not in TASK_KINDS:
        problems.append(f"{path}.kind: must be one of {', '.join(sorted(TASK_KINDS))}")
    number = _checker(raw, path, problems)
    priority = number("priority", 0, 100, -1) if "priority" in raw else _missing(f"{path}.priority", problems)
    sla = number("sla_hours", 1, 24 * 365, -1) if "sla_hours" in raw else _missing(f"{path}.sla_hours", problems)
    return TierTask(str(kind), priority, sla)


def _missing(path: str, problems: list[str]) -> int:
    problems.append(f"{path}: required")
    return -1
