"""py-spy on a running benchmark worker: collapsed stacks while it works, and the top of the profile as text
(functions by own samples and by samples with the function on the stack), so a profile can be read in a review.

    Profiler(pid, Path("bench/results/matching-profile"))  ...  .stop()  → .raw and .txt next to that name
"""

from __future__ import annotations

import collections
import signal
import subprocess
import sys
from pathlib import Path

TOP = 25


class Profiler:
    def __init__(self, pid: int, name: Path, rate: int = 200):
        self.name = name
        name.parent.mkdir(parents=True, exist_ok=True)
        py_spy = Path(sys.executable).with_name("py-spy")
        self.process = subprocess.Popen([str(py_spy), "record", "--pid", str(pid), "--rate", str(rate),
                                         "--format", "raw", "--output", str(name.with_suffix(".raw")), "--nonblocking"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=60)
        raw = self.name.with_suffix(".raw")
        if raw.exists():
            self.name.with_suffix(".txt").write_text(top_of(raw.read_text().splitlines()))


def top_of(collapsed: list[str], top: int = TOP) -> str:
    """The top of a collapsed-stack profile: own and total samples per function, as percentages."""
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in collapsed:
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        samples += n
        frames = [_short(f) for f in stack.split(";")]
        own[frames[-1]] += n
        for frame in set(frames):
            total[frame] += n
    if not samples:
        return "no samples\n"
    lines = [f"{samples} samples", "", f"{'own %':>7}  function (own samples)"]
    lines += [f"{100 * n / samples:7.1f}  {f}" for f, n in own.most_common(top)]
    lines += ["", f"{'total %':>7}  function (on the stack)"]
    lines += [f"{100 * n / samples:7.1f}  {f}" for f, n in total.most_common(top)]
    return "\n".join(lines) + "\n"


def _short(frame: str) -> str:
    """'fn (path/to/site-packages/pkg/mod.py:12)' → 'fn (pkg/mod.py)'; lines are dropped so a function counts once."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path})" if path else name
