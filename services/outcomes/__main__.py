"""Outcome figures from the topics.

    python -m services.outcomes report [--by policy|trigger|district] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from services.core.codec import load_contract
from services.core.settings import load_settings
from services.outcomes.adapters.topics import read_outcomes
from services.outcomes.report import BY, as_json, table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.outcomes")
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser("report", help="figures of everything on the topics now")
    report.add_argument("--by", choices=tuple(BY), default="policy")
    report.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = asyncio.run(read_outcomes(load_settings().kafka_bootstrap, load_contract()))
    print(json.dumps(as_json(result), ensure_ascii=False, indent=1) if args.json else "\n".join(table(result, args.by)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
