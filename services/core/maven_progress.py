"""Maven's download of the broker's jars with a progress report instead of its own output.

    python -m services.core.maven_progress --expected deploy/local/kafka-3.9.1-jars.txt -- mvn -B -f ... \\
        dependency:copy-dependencies ...

deploy/local/stack.sh runs the Kafka assembly through this: Maven's lines are read as they come; each jar it
downloads ("Downloaded from central: .../x.jar") or copies into the libs folder ("Copying x.jar to ...") counts
once against the expected list (one jar name a line, '#' comments), so a first provisioning, which downloads
everything, and a later one from Maven's local repository both show how far they got. Without an expected list the
count has no total. Maven's own output is shown only when it fails (its last lines), with its exit status.
"""

from __future__ import annotations

import argparse
import collections
import re
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from services.core.progress_report import ProgressReport, progress_report

_DOWNLOADED = re.compile(r"Downloaded from [^:]+: \S+/([^/\s]+\.jar)\b")
_COPIED = re.compile(r"Copying (\S+\.jar) to ")
KEPT_LINES = 60
"""How many of Maven's last lines are shown when it fails."""


def jar_of(line: str) -> str | None:
    """The jar a line of Maven's output says was downloaded or copied, else None."""
    found = _DOWNLOADED.search(line) or _COPIED.search(line)
    return found.group(1) if found else None


def expected_jars(text: str) -> set[str]:
    """The jar names of an expected list."""
    return {line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")}


def follow(lines: Iterable[str], expected: set[str] | None, progress: ProgressReport) -> collections.deque[str]:
    """Count the jars `lines` name on `progress` (only expected ones, when there is a list); Maven's last lines."""
    seen: set[str] = set()
    last: collections.deque[str] = collections.deque(maxlen=KEPT_LINES)
    for line in lines:
        last.append(line.rstrip("\n"))
        jar = jar_of(line)
        if jar is not None and (expected is None or jar in expected) and jar not in seen:
            seen.add(jar)
            progress.set(len(seen))
    return last


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.core.maven_progress")
    parser.add_argument("--expected", type=Path, help="the jar names to expect, one a line")
    parser.add_argument("--what", default="downloading Apache Kafka's jars")
    parser.add_argument("command", nargs="+", help="the Maven command (after --)")
    args = parser.parse_args(argv)
    expected = expected_jars(args.expected.read_text(encoding="utf-8")) \
        if args.expected is not None and args.expected.exists() else None
    with progress_report(args.what, len(expected) if expected else None, "jars") as progress:
        maven = subprocess.Popen(args.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                 errors="replace")
        assert maven.stdout is not None
        last = follow(maven.stdout, expected or None, progress)
        code = maven.wait()
    if code != 0:
        print("\n".join(last), file=sys.stderr)
        print(f"maven failed with exit status {code}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
