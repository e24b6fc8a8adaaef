"""The outcome figures as an operator reads them: a table per policy, trigger event type or district, or JSON."""

from __future__ import annotations

from services.outcomes.domain.figures import OUTCOMES, Outcomes, Row, totals

BY = {"policy": 0, "trigger": 1, "district": 2}


def table(result: Outcomes, by: str) -> list[str]:
    rows = totals(result, BY[by])
    lines = [f"{by:<34} {'made':>6} " + " ".join(f"{o:>9}" for o in OUTCOMES)
             + f" {'event→offer':>12} {'offer→decision':>15}"]
    for key, row in sorted(rows.items(), key=lambda kv: -kv[1].made):
        lines.append(f"{key:<34} {row.made:>6} " + " ".join(f"{row.counts[o]:>9}" for o in OUTCOMES)
                     + f" {_seconds(row.median_event_to_offer_s):>12} {_seconds(row.median_offer_to_decision_s):>15}")
    w = result.all_warnings
    share = "—" if w.confirmed_share is None else f"{w.confirmed_share:.1%}"
    lines.append(f"warnings raised {w.raised}, confirmed by a visit or check {w.confirmed}, not confirmed "
                 f"{w.rejected} (confirmed share of those decided: {share})")
    return lines


def as_json(result: Outcomes) -> dict[str, object]:
    def row(r: Row) -> dict[str, object]:
        return {"made": r.made, **r.counts, "median_event_to_offer_seconds": r.median_event_to_offer_s,
                "median_offer_to_decision_seconds": r.median_offer_to_decision_s}
    return {"rows": [{"policy_id": p, "trigger": t, "district": d, **row(r)}
                     for (p, t, d), r in sorted(result.rows.items())],
            "warnings": {d: {"raised": w.raised, "confirmed": w.confirmed, "rejected": w.rejected}
                         for d, w in sorted(result.warnings.items())}}


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f} s"
