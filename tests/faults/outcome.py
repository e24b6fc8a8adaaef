"""What each scenario observed, one row of the table `./run faults` prints, and the JSON it writes."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

COLUMNS = ("scenario", "inputs", "expected", "observed", "lost", "extra", "duplicates", "recovery_s", "verdict")


@dataclass
class Outcome:
    scenario: str
    inputs: str
    expected: str
    observed: str = ""
    lost: int = 0
    extra: int = 0
    duplicates: int = 0
    recovery_seconds: float | None = None
    failures: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    expected_failure: str | None = None
    """A known gap, measured and shown but not failing the suite; the row says so."""

    @property
    def verdict(self) -> str:
        if self.expected_failure:
            return "GAP"
        return "FAIL" if self.failures else "pass"

    def check(self, holds: bool, failure: str) -> None:
        """Record a broken expectation; the scenario asserts at the end, after its row is in the table."""
        if not holds:
            self.failures.append(failure)

    def cells(self) -> tuple[str, ...]:
        recovery = "" if self.recovery_seconds is None else f"{self.recovery_seconds:.1f}"
        return (self.scenario, self.inputs, self.expected, self.observed, str(self.lost), str(self.extra),
                str(self.duplicates), recovery, self.verdict)


@dataclass
class Results:
    size: str
    outcomes: list[Outcome] = field(default_factory=list)
    privacy: list[tuple[str, dict[str, int]]] = field(default_factory=list)
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    data_dir: str = ""

    def add(self, outcome: Outcome) -> Outcome:
        self.outcomes.append(outcome)
        return outcome

    def table(self) -> str:
        rows = [COLUMNS, *(o.cells() for o in self.outcomes)]
        widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
        lines = [" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
        lines.insert(1, "-+-".join("-" * w for w in widths))
        for o in self.outcomes:
            lines += [f"  {o.scenario}: {failure}" for failure in o.failures]
            if o.expected_failure:
                lines.append(f"  {o.scenario}: known gap: {o.expected_failure}")
        return "\n".join(lines)

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        seconds = (dt.datetime.now(dt.UTC) - self.started).total_seconds()
        document = {"size": self.size, "started": self.started.isoformat(), "seconds": round(seconds, 1),
                    "data_dir": self.data_dir,
                    "scenarios": [{**asdict(o), "verdict": o.verdict} for o in self.outcomes],
                    "privacy": [{"place": place, **counts} for place, counts in self.privacy]}
        path = folder / f"faults-{self.size}.json"
        path.write_text(json.dumps(document, indent=2, default=str))
        return path
