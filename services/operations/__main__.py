"""Operations commands.

    python -m services.operations lag-exporter [--host 127.0.0.1] [--port 9308] [--group-prefix assist-]
        consumer lag per group and partition on /metrics (read from the broker on every scrape)
    python -m services.operations scrape-config OUT --prometheus-port 9090 --lag-exporter-port 9308 [--rules GLOB]
        write the local stack's prometheus.yml for the services' ports the settings give
    python -m services.operations k8s-config
        write deploy/k8s/71-monitoring-files.yaml: the alert rules and Grafana dashboards as ConfigMaps
    python -m services.operations kafka-acls --bootstrap HOST:9093 --command-config admin.properties
        print the commands that create the service principals and grant deploy/kafka/acls.yaml's rights
    python -m services.operations services-status
        whether each of the demo's processes is live and ready, at the ports the settings give
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import yaml

from services.core.contract import load_contract
from services.core.logs import configure_logging
from services.core.process import serve_until_signalled
from services.core.settings import load_settings
from services.intake.__main__ import RAW_HEALTH_PORT
from services.operations.bundles import MANIFEST, configmaps, sources
from services.operations.exporter import exporter_app
from services.operations.kafka_acls import commands, load, principals
from services.operations.kafka_offsets import BrokerOffsets
from services.operations.scrape import local_scrape_config
from services.operations.service_status import processes, status_lines

LAG_EXPORTER_PORT = 9308


async def export_lag(bootstrap: str, host: str, port: int, prefixes: tuple[str, ...]) -> None:
    offsets = BrokerOffsets(bootstrap, prefixes)
    try:
        await serve_until_signalled(exporter_app(offsets), host, port, "lag exporter")
    finally:
        await offsets.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.operations")
    sub = parser.add_subparsers(dest="command", required=True)
    lag = sub.add_parser("lag-exporter", help="consumer lag per group and partition on /metrics")
    lag.add_argument("--host", default="127.0.0.1")
    lag.add_argument("--port", type=int, default=LAG_EXPORTER_PORT)
    lag.add_argument("--group-prefix", action="append", default=None,
                     help="watch only groups starting with this (repeatable; default assist-)")
    scrape = sub.add_parser("scrape-config", help="write the local stack's prometheus.yml")
    scrape.add_argument("out", type=Path)
    scrape.add_argument("--prometheus-port", type=int, required=True)
    scrape.add_argument("--lag-exporter-port", type=int, default=LAG_EXPORTER_PORT)
    scrape.add_argument("--raw-forwarder-port", type=int, default=RAW_HEALTH_PORT)
    scrape.add_argument("--rules", action="append", default=[], help="rule file glob (repeatable)")
    scrape.add_argument("--interval-seconds", type=int, default=5)
    sub.add_parser("k8s-config", help="write the rules and dashboards ConfigMaps of deploy/k8s")
    acls = sub.add_parser("kafka-acls", help="print the commands granting deploy/kafka/acls.yaml's rights")
    acls.add_argument("--bootstrap", required=True, help="the cluster's SASL_SSL listener")
    acls.add_argument("--command-config", required=True, help="admin client properties (see deploy/kafka)")
    status = sub.add_parser("services-status", help="whether the demo's processes are live and ready")
    status.add_argument("--raw-forwarder-port", type=int, default=RAW_HEALTH_PORT)
    args = parser.parse_args(argv)
    configure_logging("operations")
    if args.command == "services-status":
        for line in status_lines(processes(load_settings(), args.raw_forwarder_port)):
            print(line)
        return 0
    if args.command == "kafka-acls":
        for line in commands(principals(load(), load_contract().departments), args.bootstrap, args.command_config):
            print(line)
        return 0
    if args.command == "k8s-config":
        MANIFEST.write_text(configmaps(sources()), encoding="utf-8")
        print(f"wrote {MANIFEST}")
        return 0
    settings = load_settings()
    if args.command == "lag-exporter":
        asyncio.run(export_lag(settings.kafka_bootstrap, args.host, args.port,
                               tuple(args.group_prefix or ["assist-"])))
        return 0
    config = local_scrape_config(settings, raw_forwarder_port=args.raw_forwarder_port,
                                 lag_exporter_port=args.lag_exporter_port, prometheus_port=args.prometheus_port,
                                 rule_files=args.rules, interval_seconds=args.interval_seconds)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("# Written by `python -m services.operations scrape-config`; do not edit.\n"
                        + yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
