"""`python -m services.core create-topics`: create the platform's Kafka topics (idempotent)."""

from __future__ import annotations

import asyncio
import sys

from services.core.kafka import create_topics
from services.core.logs import configure_logging
from services.core.settings import load_settings
from services.core.topics import ALL_TOPICS


def main(argv: list[str]) -> int:
    if argv[:1] != ["create-topics"]:
        print("usage: python -m services.core create-topics", file=sys.stderr)
        return 2
    settings = load_settings()
    configure_logging("core", settings)
    created = asyncio.run(create_topics(settings.kafka_bootstrap))
    for topic in ALL_TOPICS:
        state = "created" if topic.name in created else "exists"
        kind = "compacted" if topic.compacted else f"retention {topic.retention_ms // 86_400_000} d"
        print(f"topic {topic.name:<22} {topic.partitions:>2} partitions, {kind:<16} {state}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
