"""How the services reach a secured Kafka cluster: the one place that turns the ASSIST_KAFKA_* security settings into
the options of every aiokafka producer, consumer and admin client, and into faust's broker credentials.

PLAINTEXT is the local stack's. Production (deploy/kafka/, docs/operations.md) is SASL_SSL: TLS verified against a CA
file and SCRAM-SHA-512 as the process's own principal, its password read from a file (a mounted Secret) each time a
client is made, so a renewed producer or a restarted worker picks up a rotated password. SSL is TLS without SASL.
A process talks to one cluster as one principal, so its settings are read once and apply to every client it makes.
"""

from __future__ import annotations

import functools
import logging
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka.helpers import create_ssl_context

from services.core.settings import Settings, load_settings

log = logging.getLogger(__name__)
PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_SSL")
MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256")


class KafkaSecurityError(ValueError):
    """The Kafka security settings cannot work; the message names the setting and why."""


@dataclass(frozen=True)
class KafkaSecurity:
    """A process's way onto the cluster. Build it with `from_settings`, which refuses what cannot work."""

    protocol: str = "PLAINTEXT"
    mechanism: str = "SCRAM-SHA-512"
    username: str = ""
    password_file: Path | None = None
    ca_file: Path | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> KafkaSecurity:
        """The security the settings describe, or KafkaSecurityError naming the setting at fault (no I/O)."""
        protocol = settings.kafka_security_protocol.strip().upper()
        if protocol not in PROTOCOLS:
            raise KafkaSecurityError(f"ASSIST_KAFKA_SECURITY_PROTOCOL: {settings.kafka_security_protocol!r} is not "
                                     f"one of {', '.join(PROTOCOLS)}")
        mechanism = settings.kafka_sasl_mechanism.strip().upper()
        username, password_file = settings.kafka_username.strip(), settings.kafka_password_file.strip()
        if protocol == "SASL_SSL":
            if mechanism not in MECHANISMS:
                raise KafkaSecurityError(f"ASSIST_KAFKA_SASL_MECHANISM: {settings.kafka_sasl_mechanism!r} is not one "
                                         f"of {', '.join(MECHANISMS)}")
            if not username:
                raise KafkaSecurityError("ASSIST_KAFKA_USERNAME: required with SASL_SSL (the service's principal)")
            if not password_file:
                raise KafkaSecurityError("ASSIST_KAFKA_PASSWORD_FILE: required with SASL_SSL (a file holding the "
                                         "principal's password)")
        ca_file = settings.kafka_ca_file.strip()
        return cls(protocol, mechanism, username, Path(password_file) if password_file else None,
                   Path(ca_file) if ca_file else None)

    def client_options(self) -> dict[str, Any]:
        """The aiokafka client keyword arguments (security_protocol, ssl_context, sasl_*). Reads the password and CA
        files now; a file that cannot be read or an empty password is a KafkaSecurityError naming the setting."""
        if self.protocol == "PLAINTEXT":
            return {"security_protocol": "PLAINTEXT"}
        options: dict[str, Any] = {"security_protocol": self.protocol, "ssl_context": self.ssl_context()}
        if self.protocol == "SASL_SSL":
            options.update(sasl_mechanism=self.mechanism, sasl_plain_username=self.username,
                           sasl_plain_password=self.password())
        return options

    def faust_credentials(self) -> Any:
        """faust's `broker_credentials` for the same security (None for PLAINTEXT)."""
        import faust  # only the matching worker runs faust

        if self.protocol == "PLAINTEXT":
            return None
        if self.protocol == "SSL":
            return faust.SSLCredentials(self.ssl_context())
        return faust.SASLCredentials(username=self.username, password=self.password(),
                                     ssl_context=self.ssl_context(), mechanism=self.mechanism)

    def ssl_context(self) -> ssl.SSLContext:
        """TLS verifying the brokers' certificates and host names against the CA file (the system's CAs without)."""
        try:
            context: ssl.SSLContext = create_ssl_context(cafile=str(self.ca_file) if self.ca_file else None)
        except (OSError, ssl.SSLError) as exc:
            raise KafkaSecurityError(f"ASSIST_KAFKA_CA_FILE: {self.ca_file} is not a readable PEM file of CA "
                                     f"certificates ({type(exc).__name__})") from exc
        return context

    def password(self) -> str:
        assert self.password_file is not None
        try:
            password = self.password_file.read_text(encoding="utf-8").strip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            raise KafkaSecurityError(f"ASSIST_KAFKA_PASSWORD_FILE: {self.password_file} cannot be read "
                                     f"({type(exc).__name__})") from exc
        if not password:
            raise KafkaSecurityError(f"ASSIST_KAFKA_PASSWORD_FILE: {self.password_file} is empty")
        return password


@functools.cache
def process_security() -> KafkaSecurity:
    """This process's Kafka security, from its environment (read once); said in the log when not PLAINTEXT, so a
    refusal by the brokers can be read next to the principal it refused."""
    security = KafkaSecurity.from_settings(load_settings())
    if security.protocol != "PLAINTEXT":
        log.info("Kafka over %s as %s (%s), brokers' CA %s", security.protocol, security.username or "no principal",
                 security.mechanism, security.ca_file or "of the system")
    return security


def kafka_options(bootstrap: str) -> dict[str, Any]:
    """What every aiokafka client of the services is made with: the brokers and this process's security."""
    return {"bootstrap_servers": bootstrap, **process_security().client_options()}
