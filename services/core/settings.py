"""One settings loader. It reads the environment when called; every default is the local stack's."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    """Runtime configuration. Environment variable names are the field names upper-cased with ASSIST_ prefix."""

    kafka_bootstrap: str = "127.0.0.1:9092"
    redis_url: str = "redis://127.0.0.1:6379/0"
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


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from ASSIST_* variables; unset ones keep the documented local defaults."""
    env = os.environ if env is None else env
    defaults = Settings()
    data_dir = Path(env.get("ASSIST_DATA_DIR", str(defaults.data_dir)))
    return Settings(
        kafka_bootstrap=env.get("ASSIST_KAFKA_BOOTSTRAP", defaults.kafka_bootstrap),
        redis_url=env.get("ASSIST_REDIS_URL", defaults.redis_url),
        data_dir=data_dir,
        pseudonym_key=env.get("ASSIST_PSEUDONYM_KEY", defaults.pseudonym_key),
        intake_host=env.get("ASSIST_INTAKE_HOST", defaults.intake_host),
        intake_port=int(env.get("ASSIST_INTAKE_PORT", defaults.intake_port)),
        intake_tokens_file=Path(env.get("ASSIST_INTAKE_TOKENS_FILE", str(data_dir / "intake-tokens.json"))),
        idempotency_window_seconds=int(
            env.get("ASSIST_IDEMPOTENCY_WINDOW_SECONDS", defaults.idempotency_window_seconds)
        ),
        publish_timeout_seconds=float(env.get("ASSIST_PUBLISH_TIMEOUT_SECONDS", defaults.publish_timeout_seconds)),
        max_batch_events=int(env.get("ASSIST_MAX_BATCH_EVENTS", defaults.max_batch_events)),
        intake_rate_per_second=float(env.get("ASSIST_INTAKE_RATE_PER_SECOND", defaults.intake_rate_per_second)),
        intake_rate_burst=int(env.get("ASSIST_INTAKE_RATE_BURST", defaults.intake_rate_burst)),
        intake_redis_connections=int(env.get("ASSIST_INTAKE_REDIS_CONNECTIONS", defaults.intake_redis_connections)),
        intake_redis_wait_seconds=float(env.get("ASSIST_INTAKE_REDIS_WAIT_SECONDS",
                                                defaults.intake_redis_wait_seconds)),
        matching_web_host=env.get("ASSIST_MATCHING_WEB_HOST", defaults.matching_web_host),
        matching_web_port=int(env.get("ASSIST_MATCHING_WEB_PORT", defaults.matching_web_port)),
        matching_store=env.get("ASSIST_MATCHING_STORE", defaults.matching_store),
        matching_app_id=env.get("ASSIST_MATCHING_APP_ID", defaults.matching_app_id),
        matching_catalogue=env.get("ASSIST_MATCHING_CATALOGUE", defaults.matching_catalogue),
        sms_gateway_url=env.get("ASSIST_SMS_GATEWAY_URL", defaults.sms_gateway_url),
        smtp_host=env.get("ASSIST_SMTP_HOST", defaults.smtp_host),
        smtp_port=int(env.get("ASSIST_SMTP_PORT", defaults.smtp_port)),
        smtp_sender=env.get("ASSIST_SMTP_SENDER", defaults.smtp_sender),
        citizen_web_host=env.get("ASSIST_CITIZEN_WEB_HOST", defaults.citizen_web_host),
        citizen_web_port=int(env.get("ASSIST_CITIZEN_WEB_PORT", defaults.citizen_web_port)),
        citizen_link_base=env.get("ASSIST_CITIZEN_LINK_BASE", defaults.citizen_link_base),
        link_signing_key=env.get("ASSIST_LINK_SIGNING_KEY", defaults.link_signing_key),
        notification_max_attempts=int(env.get("ASSIST_NOTIFICATION_MAX_ATTEMPTS", defaults.notification_max_attempts)),
        notification_retry_base_seconds=float(
            env.get("ASSIST_NOTIFICATION_RETRY_BASE_SECONDS", defaults.notification_retry_base_seconds)),
        notification_metrics_port=int(env.get("ASSIST_NOTIFICATION_METRICS_PORT",
                                              defaults.notification_metrics_port)),
        casework_metrics_port=int(env.get("ASSIST_CASEWORK_METRICS_PORT", defaults.casework_metrics_port)),
        casework_web_host=env.get("ASSIST_CASEWORK_WEB_HOST", defaults.casework_web_host),
        casework_web_port=int(env.get("ASSIST_CASEWORK_WEB_PORT", defaults.casework_web_port)),
        staff_token_key=env.get("ASSIST_STAFF_TOKEN_KEY", defaults.staff_token_key),
        lease_seconds=int(env.get("ASSIST_LEASE_SECONDS", defaults.lease_seconds)),
        casework_redis_connections=int(env.get("ASSIST_CASEWORK_REDIS_CONNECTIONS",
                                               defaults.casework_redis_connections)),
        casework_redis_wait_seconds=float(env.get("ASSIST_CASEWORK_REDIS_WAIT_SECONDS",
                                                  defaults.casework_redis_wait_seconds)),
        casework_rate_per_second=float(env.get("ASSIST_CASEWORK_RATE_PER_SECOND", defaults.casework_rate_per_second)),
        casework_rate_burst=int(env.get("ASSIST_CASEWORK_RATE_BURST", defaults.casework_rate_burst)),
        citizen_redis_connections=int(env.get("ASSIST_CITIZEN_REDIS_CONNECTIONS", defaults.citizen_redis_connections)),
        citizen_redis_wait_seconds=float(env.get("ASSIST_CITIZEN_REDIS_WAIT_SECONDS",
                                                 defaults.citizen_redis_wait_seconds)),
        citizen_rate_per_second=float(env.get("ASSIST_CITIZEN_RATE_PER_SECOND", defaults.citizen_rate_per_second)),
        citizen_rate_burst=int(env.get("ASSIST_CITIZEN_RATE_BURST", defaults.citizen_rate_burst)),
    )
