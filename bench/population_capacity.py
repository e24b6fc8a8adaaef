"""Memory of a process while it re-evaluates, and the figures scaled to the national population.

RSS is read from /proc/self/status (VmRSS now, VmHWM the peak since clear_refs was given 5). Freed heap memory is
handed back (malloc_trim) before reading, so what the allocator keeps of a finished step is not counted.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import resource
from pathlib import Path
from typing import Any

NATION = 66_000_000
"""Persons monitored nationally (the capacity plan's figure)."""


def _proc_status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def rss_bytes() -> int:
    """Resident set size now."""
    return _proc_status("VmRSS")


def peak_rss_bytes() -> int:
    """Peak resident set size since the last reset_peak_rss (or since the start)."""
    return _proc_status("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_peak_rss_bytes() -> int:
    """Peak resident set size of the whole process (never reset)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def reuse_freed_memory() -> str:
    """Large NumPy temporaries from the heap, kept for reuse, instead of fresh mmaps zeroed page by page on
    every allocation (glibc mallopt: no mmap, no trimming). What a worker sets with MALLOC_MMAP_MAX_=0 and
    MALLOC_TRIM_THRESHOLD_; returns the setting in effect."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        if libc.mallopt(-4, 0) and libc.mallopt(-1, 2**31 - 1):  # M_MMAP_MAX, M_TRIM_THRESHOLD
            return "glibc: M_MMAP_MAX=0, M_TRIM_THRESHOLD=2**31-1"
    except (OSError, AttributeError):
        pass
    return "default"


def release_freed_memory() -> None:
    """Give freed heap memory back to the system (glibc), so RSS counts what is held."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def reset_peak_rss() -> None:
    """Start measuring the peak resident set size from now (Linux: clear_refs 5)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def national(result: dict[str, Any], persons: float = NATION) -> dict[str, Any]:
    """The figures scaled to `persons`: time and memory above the interpreter's grow with the persons held."""
    scale = persons / result["persons"]
    base = result["rss_interpreter_bytes"]
    per_person = (result["reevaluation_peak_rss_bytes"] - base) / result["persons"]
    return {
        "persons": persons,
        "formula": "seconds(N) = seconds(n) * N / n; peak RSS(N) = interpreter + (peak RSS(n) - interpreter) * N / n",
        "reevaluation_all_policies_seconds": result["reevaluation_all_policies_seconds"] * scale,
        "reevaluation_all_policies_cpu_seconds": result["reevaluation_all_policies_cpu_seconds"] * scale,
        "reevaluation_seconds": result["reevaluation_seconds"] * scale,
        "reevaluation_cpu_seconds": result["reevaluation_cpu_seconds"] * scale,
        "peak_rss_bytes_per_person": per_person,
        "peak_rss_bytes": base + per_person * persons,
        "population_columns_bytes": result["population_columns_bytes_per_person"] * persons,
        "fits_5_seconds": result["reevaluation_all_policies_seconds"] * scale <= 5.0,
        "fits_5_cpu_seconds": result["reevaluation_all_policies_cpu_seconds"] * scale <= 5.0,
        "fits_12_gb": base + per_person * persons <= 12e9,
    }


_FIGURES = ("persons", "households", "build_seconds", "update_income_change_seconds_per_household",
            "update_member_added_seconds_per_household", "update_leave_and_arrive_seconds_per_household",
            "as_columns_seconds", "reevaluation_seconds", "reevaluation_cpu_seconds", "openfisca_reevaluation_seconds",
            "openfisca_reevaluation_cpu_seconds", "ours_seconds", "openfisca_select_seconds",
            "reevaluation_all_policies_seconds", "reevaluation_all_policies_cpu_seconds",
            "reevaluation_cpu_seconds_by_policy", "population_columns_bytes_per_person", "rss_interpreter_bytes",
            "reevaluation_peak_rss_bytes", "peak_rss_run_bytes", "allocator")


def summary(small: dict[str, Any], large: dict[str, Any], persons: float = NATION) -> dict[str, Any]:
    """Both measured sizes, the runtime path against OpenFisca's in the same run, and the national figures from
    the line through the two sizes (fixed cost + cost per person)."""
    def line(key: str) -> dict[str, float]:
        per_person = (large[key] - small[key]) / (large["persons"] - small["persons"])
        return {"per_person": per_person, "fixed": large[key] - per_person * large["persons"],
                "at_nation": large[key] + per_person * (persons - large["persons"])}

    sizes = {f"{r['persons'] // 1_000_000}M": {k: r.get(k) for k in _FIGURES} for r in (small, large)}
    for r, figures in zip((small, large), sizes.values(), strict=True):
        figures["runtime_path_over_openfisca"] = r["reevaluation_seconds"] / r["openfisca_reevaluation_seconds"]
        figures["runtime_path_over_openfisca_cpu"] = r["reevaluation_cpu_seconds"] / r[
            "openfisca_reevaluation_cpu_seconds"]
    return {
        "sizes": sizes,
        "nation": {
            "persons": persons,
            "formula": "figure(N) = figure(large) + (figure(large) - figure(small)) / (persons(large) - "
                       "persons(small)) * (N - persons(large))",
            "all_policies_cpu_seconds": line("reevaluation_all_policies_cpu_seconds"),
            "all_policies_wall_seconds": line("reevaluation_all_policies_seconds"),
            "peak_rss_bytes": line("reevaluation_peak_rss_bytes"),
            "columns_bytes": large["population_columns_bytes_per_person"] * persons,
            "scaled_from_large_only": large["national"],
        },
    }


def main() -> None:
    """python -m bench.population_capacity: bench/results/reevaluation.json (1 M) and reevaluation-10m.json
    (10 M) into reevaluation-national.json."""
    results = Path(__file__).resolve().parent / "results"
    small, large = (json.loads((results / name).read_text()) for name in ("reevaluation.json",
                                                                           "reevaluation-10m.json"))
    out = summary(small, large)
    (results / "reevaluation-national.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out["nation"], indent=2))


if __name__ == "__main__":
    main()
