"""Memory of a process while it re-evaluates, and the figures scaled to the national population.

RSS is read from /proc/self/status (VmRSS now, VmHWM the peak since clear_refs was given 5). Freed heap memory is
handed back (malloc_trim) before reading, so what the allocator keeps of a finished step is not counted.
"""

from __future__ import annotations

import contextlib
import ctypes
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
