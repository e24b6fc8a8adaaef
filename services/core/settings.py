"""One settings loader. It reads the environment when called; every default is the local stack's."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    """Runtime configuration. Environment variable names are the field names upper-cased with ASSIST_ prefix."""

    kafka_bootstrap: str = "127.0.0.1:9092"
    redis_url: str = "redis://127.0.0.1:6379/0"
    # Kafka client security (services/core/kafka_security.py): PLAINTEXT for the local stack; SASL_SSL with SCRAM as
    # the service's principal in production, its password in a file (a mounted Secret), the brokers' CA in a PEM file.
    kafka_security_protocol: str = "PLAINTEXT"
    kafka_sasl_mechanism: str = "SCRAM-SHA-512"
    kafka_username: str = ""
    kafka_password_file: str = ""
    kafka_ca_file: str = ""
    data_dir: Path = PROJECT_ROOT / ".data"
    pseudonym_key: str = "local-development-pseudonym-key"
    intake_host: str = "127.0.0.1"
    intake_port: int = 8080
    intake_tokens_file: Path = PROJECT_ROOT / ".data" / "intake-tokens.json"
    idempotency_window_seconds: int = 7 * 24 * 3600
    publish_timeout_seconds: float = 5.0
    max_batch_events: int = 1000
    intake_rate_per_second: float = 1000.0
    intake_rate_burst: int = 2000
    intake_redis_connections: int = 64
    intake_redis_wait_seconds: float = 2.0
    matching_web_host: str = "127.0.0.1"
    matching_web_port: int = 6066
    matching_store: str = "rocksdb://"
    matching_app_id: str = "assist-matching"
    matching_catalogue: str = "national-demo"
    # Notification: channels, citizen API, signed links.
    sms_gateway_url: str = "http://127.0.0.1:8090/v1/sms"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_sender: str = "assist@localhost"
    citizen_web_host: str = "127.0.0.1"
    citizen_web_port: int = 8081
    citizen_link_base: str = "http://127.0.0.1:8081"
    link_signing_key: str = "local-development-link-key"
    notification_max_attempts: int = 4
    notification_retry_base_seconds: float = 2.0
    notification_metrics_port: int = 8083
    # Casework: caseworker API and console, leases, signed staff tokens.
    casework_web_host: str = "127.0.0.1"
    casework_web_port: int = 8082
    staff_token_key: str = "local-development-staff-token-key"
    lease_seconds: int = 900
    casework_metrics_port: int = 8084
    # Casework API and citizen API under load: Redis connections (a command waits up to *_wait_seconds for one,
    # then 503) and requests per second with a burst, per member of staff or citizen (429 beyond).
    casework_redis_connections: int = 64
    casework_redis_wait_seconds: float = 2.0
    casework_rate_per_second: float = 20.0
    casework_rate_burst: int = 60
    citizen_redis_connections: int = 32
    citizen_redis_wait_seconds: float = 2.0
    citizen_rate_per_second: float = 2.0
    citizen_rate_burst: int = 20
    # Identity vault: the key ring that seals names, addresses and phones at rest (id:base64 of 32 bytes, the
    # sealing key first; `python -m services.vault new-key` makes one), and the feed worker's metrics port.
    vault_keys: str = "dev1:httvLX+1ur+bhFo17AyzuxIdZxgoE7ccqEFnXeqJUpU="
    vault_metrics_port: int = 8087
    vault_metrics_host: str = "127.0.0.1"
    # What the platform achieved, folded from the topics (python -m services.outcomes serve): its metrics endpoint.
    outcomes_metrics_host: str = "127.0.0.1"
    outcomes_metrics_port: int = 8086
    # Notification's contact store: phones and e-mails sealed at rest like the vault's (its own key ring, same
    # format), and how long inbox entries and the data-use log of notification are kept (docs/retention.md).
    contact_keys: str = "dev1:SzHTtiTe7UOfX9q1mb5sxwHEhztt64w4lNOyA02O5eA="
    inbox_retention_days: int = 730
    data_use_retention_days: int = 1095
    # Casework: decided and withdrawn tasks are kept as casework records; the vault's disclosure tally as long
    # as the audit topic keeps disclosures.
    decided_task_retention_days: int = 1826
    disclosure_retention_days: int = 1095
    # Logs of every service (services/core/logs.py): "text" lines for a person, or "json" lines (one object a
    # line) for a log pipeline; the lowest level written.
    log_format: str = "text"
    log_level: str = "INFO"


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from ASSIST_* variables; unset ones keep the documented local defaults. The tokens file
    lives in the data folder unless named, so ASSIST_DATA_DIR alone moves everything a deployment writes."""
    env = os.environ if env is None else env
    values: dict[str, object] = {}
    for spec in fields(Settings):
        raw = env.get(f"ASSIST_{spec.name.upper()}")
        if raw is not None:
            values[spec.name] = _READERS[str(spec.type)](raw)
    if "intake_tokens_file" not in values:
        data_dir = values.get("data_dir", Settings.data_dir)
        assert isinstance(data_dir, Path)
        values["intake_tokens_file"] = data_dir / "intake-tokens.json"
    return Settings(**values)  # type: ignore[arg-type]


_READERS: dict[str, Callable[[str], object]] = {"str": str, "int": int, "float": float, "Path": Path}
"""How an environment variable's text becomes a field of each type Settings uses."""
