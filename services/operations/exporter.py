"""The lag exporter's HTTP endpoint: /metrics reads the broker on every scrape, /healthz says the process runs.

Metrics (labels: group, topic, partition; bounded by the broker's groups and the platform's partitions):

    assist_kafka_partition_end_offset          the next offset to be written, per topic and partition
    assist_kafka_consumer_committed_offset     a group's committed position, per partition
    assist_kafka_consumer_lag_messages         messages between that position and the end
    assist_kafka_offsets_up                    1 when this scrape read the broker, 0 when it could not
    assist_kafka_offsets_read_seconds          how long the reading took
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Protocol

from aiohttp import web
from aiokafka.errors import KafkaError
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from services.operations.lag import Offsets

log = logging.getLogger(__name__)


class OffsetSource(Protocol):
    async def read(self) -> Offsets:
        """The broker's offsets now; raises when the broker cannot be read."""


class OffsetsReading(Collector):
    """The metric families of one reading (None: the broker could not be read)."""

    def __init__(self, offsets: Offsets | None, seconds: float):
        self._offsets, self._seconds = offsets, seconds

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("assist_kafka_offsets_up", "1 when this scrape read the broker's offsets.")
        up.add_metric([], 0 if self._offsets is None else 1)
        yield up
        took = GaugeMetricFamily("assist_kafka_offsets_read_seconds", "Time this scrape took to read the offsets.")
        took.add_metric([], self._seconds)
        yield took
        if self._offsets is None:
            return
        ends = GaugeMetricFamily("assist_kafka_partition_end_offset", "The next offset to be written.",
                                 labels=["topic", "partition"])
        for (topic, partition), end in sorted(self._offsets.ends.items()):
            ends.add_metric([topic, str(partition)], end)
        yield ends
        committed = GaugeMetricFamily("assist_kafka_consumer_committed_offset", "A consumer group's committed "
                                      "position.", labels=["group", "topic", "partition"])
        lag = GaugeMetricFamily("assist_kafka_consumer_lag_messages", "Messages between a consumer group's "
                                "committed position and the partition's end.", labels=["group", "topic", "partition"])
        for p in self._offsets.groups:
            labels = [p.group, p.topic, str(p.partition)]
            committed.add_metric(labels, p.committed)
            lag.add_metric(labels, p.lag)
        yield committed
        yield lag


def exporter_app(source: OffsetSource) -> web.Application:
    async def metrics(request: web.Request) -> web.Response:
        started = time.monotonic()
        offsets: Offsets | None
        try:
            offsets = await source.read()
        except (KafkaError, TimeoutError, OSError) as exc:
            log.warning("broker offsets not read (%s)", type(exc).__name__)
            offsets = None
        registry = CollectorRegistry(auto_describe=False)
        registry.register(OffsetsReading(offsets, time.monotonic() - started))
        return web.Response(body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    return app
