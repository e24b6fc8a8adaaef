"""The headline figures of each benchmark's JSON result, as rows of one table (pure).

A result written by a newer or older version of a benchmark may lack a figure: the row then says so instead of
failing, so one changed benchmark never hides the others' figures.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Row = tuple[str, str, str, str]
"""benchmark, figure, value, next to (a figure of the same run it should be read against)."""
MISSING = "—"


def _n(value: Any, digits: int = 0) -> str:
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return f"{value:,.{digits}f}"
    return str(value)


def _intake(r: Mapping[str, Any]) -> list[Row]:
    return [("intake", "HTTP batches, events/s", _n(r.get("http_batches_events_per_second")),
             f"raw producer {_n(r.get('raw_producer_events_per_second'))} "
             f"(ratio {_n(r.get('batches_vs_raw'), 3)})"),
            ("intake", f"single events at {_n(r.get('single_rate_per_second'))}/s, p99 ms",
             _n(r.get("single_p99_ms"), 1),
             f"p50 {_n(r.get('single_p50_ms'), 1)}, max {_n(r.get('single_max_ms'), 1)}")]


def _matching(r: Mapping[str, Any]) -> list[Row]:
    rows: list[Row] = []
    sizes = sorted(int(m.group(1)) for k in r if (m := re.fullmatch(r"matching_(\d+)_events_per_second", k)))
    for size in sizes:
        rows.append(("matching", f"{size} policies, events/s per worker",
                     _n(r.get(f"matching_{size}_events_per_second")),
                     f"passthrough {_n(r.get('passthrough_events_per_second'))} "
                     f"(ratio {_n(r.get(f'matching_{size}_vs_passthrough'), 3)})"))
    cost = next((k for k in r if k.startswith("per_event_cost_")), None)
    if cost:
        rows.append(("matching", cost.replace("_", " "), _n(r[cost], 3), "target <= 1.5"))
    return rows or [("matching", "events/s per worker", MISSING, "")]


def _reevaluation(r: Mapping[str, Any]) -> list[Row]:
    ms = 1000.0
    ours, theirs = r.get("reevaluation_seconds"), r.get("openfisca_reevaluation_seconds")
    ratio = _n(ours / theirs, 2) if isinstance(ours, float | int) and isinstance(theirs, float | int) and theirs \
        else MISSING
    return [("reevaluation", f"{_n(r.get('persons'))} persons, re-evaluation ms",
             _n(ours * ms if isinstance(ours, int | float) else None, 1),
             f"OpenFisca {_n(theirs * ms if isinstance(theirs, int | float) else None, 1)} (ratio {ratio})"),
            ("reevaluation", "population columns, bytes per person",
             _n(r.get("population_columns_bytes_per_person"), 1), "")]


def _casework(r: Any) -> list[Row]:
    runs = r if isinstance(r, list) else [r]
    return [("casework", f"claim+decide ops/s, publishing {'on' if one.get('publishing') else 'off'}",
             _n(one.get("ops_per_second")), f"{_n(one.get('claimers'))} claimers; problems "
             f"{_n(one.get('problem_count'))}") for one in runs if isinstance(one, Mapping)]


def _notification(r: Mapping[str, Any]) -> list[Row]:
    return [("notification", "pipeline notifications/s", _n(r.get("pipeline_notifications_per_second"), 1),
             f"raw concurrent {_n(r.get('raw_concurrent_messages_per_second'), 1)} "
             f"(ratio {_n(r.get('pipeline_vs_raw_concurrent'), 3)})")]


def _oracle(r: Mapping[str, Any]) -> list[Row]:
    seconds, messages = r.get("stream_seconds"), r.get("messages")
    rate = messages / seconds if isinstance(seconds, float | int) and seconds and isinstance(messages, int) else None
    return [("oracle", f"{_n(r.get('households'))} households, disagreements", _n(r.get("disagreements")),
             f"{_n(messages)} messages, stream path {_n(rate)} messages/s")]


def _faust_floor(r: Mapping[str, Any]) -> list[Row]:
    return [("faust_floor", k.removeprefix("faust_").replace("_", " "), _n(v), "") for k, v in r.items()]


def _latency(r: Mapping[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for one in r.get("rates", []):
        offer, task = one.get("offer_from_202", {}), one.get("task_in_casework_from_202", {})
        rows.append(("latency", f"{_n(one.get('rate'))}/s: 202 → offer p50/p99/max ms",
                     f"{_n(offer.get('p50_ms'), 1)}/{_n(offer.get('p99_ms'), 1)}/{_n(offer.get('max_ms'), 1)}",
                     f"task {_n(task.get('p50_ms'), 1)}/{_n(task.get('p99_ms'), 1)}/{_n(task.get('max_ms'), 1)}; "
                     + ("kept up" if one.get("sustained") else str(one.get("why", "")))))
    rows.append(("latency", "highest sustained rate, events/s", _n(r.get("capacity_events_per_second")),
                 f"p99 at half: offer {_n(r.get('half_capacity_offer_p99_ms'), 1)}, task "
                 f"{_n(r.get('half_capacity_task_p99_ms'), 1)} ms; target met: {_n(r.get('target_met'))}"))
    return rows


def _footprint(r: Mapping[str, Any]) -> list[Row]:
    store, redis = r.get("matching") or {}, r.get("redis") or {}
    inbox = (store.get("notification_redis") or {}).get("notification_inbox_bytes_per_entry")
    return [("footprint", "RocksDB bytes per person, compacted", _n(store.get("rocksdb_bytes_per_person_compacted")),
             f"as left by the worker {_n(store.get('rocksdb_bytes_per_person_after_events'))}; "
             f"{_n(store.get('persons'))} persons"),
            ("footprint", "Redis bytes per casework task", _n(redis.get("casework_bytes_per_task")),
             f"per inbox entry {_n(inbox)}; per idempotency key {_n(redis.get('intake_seen_bytes_per_event'))}")]


_PLAN = ("design rate", "matching workers", "household partitions", "RocksDB, all workers", "broker disk, total",
         "national re-evaluation, every re-evaluation policy")


def _capacity(r: Mapping[str, Any]) -> list[Row]:
    shown = {f["name"]: f for f in r.get("figures", [])}
    return [("capacity", name, _n(shown[name]["value"], 1), str(shown[name]["unit"]))
            for name in _PLAN if name in shown]


HEADLINES: dict[str, Callable[[Any], list[Row]]] = {
    "intake": _intake, "matching": _matching, "reevaluation": _reevaluation, "casework": _casework,
    "notification": _notification, "oracle": _oracle, "faust_floor": _faust_floor, "latency": _latency,
    "footprint": _footprint, "capacity": _capacity,
}


def headlines(name: str, result: Any) -> list[Row]:
    """The rows of benchmark `name`'s result; a result of an unexpected shape gives one row saying so."""
    try:
        return HEADLINES[name](result)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        return [(name, "result", MISSING, f"unreadable ({type(exc).__name__})")]


def table(rows: list[Row]) -> list[str]:
    """`rows` as aligned text lines under a header."""
    header: Row = ("benchmark", "figure", "value", "next to, in the same run")
    width = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    lines = []
    for row in [header, *rows]:
        lines.append("  ".join([row[0].ljust(width[0]), row[1].ljust(width[1]), row[2].rjust(width[2]), row[3]]))
        if row is header:
            lines.append("  ".join("-" * w for w in width))
    return lines
