"""The ASSIST_KAFKA_* security settings become aiokafka's client options and faust's credentials; settings that
cannot work are refused naming the setting. The real broker's side is tests/integration/core/test_kafka_security.py."""

from __future__ import annotations

import ssl
from pathlib import Path

import faust
import pytest

from services.core.kafka_security import KafkaSecurity, KafkaSecurityError
from services.core.settings import load_settings

SYSTEM_CAS = "/etc/ssl/certs/ca-certificates.crt"


def security(**env: str) -> KafkaSecurity:
    return KafkaSecurity.from_settings(load_settings({f"ASSIST_KAFKA_{k.upper()}": v for k, v in env.items()}))


def test_the_local_stack_default_is_plaintext() -> None:
    assert security().client_options() == {"security_protocol": "PLAINTEXT"}
    assert security().faust_credentials() is None


def test_sasl_ssl_gives_scram_as_the_principal_with_the_password_from_its_file(tmp_path: Path) -> None:
    password = tmp_path / "password"
    password.write_text("s3cret with spaces \n", encoding="utf-8")
    options = security(security_protocol="sasl_ssl", username="assist-intake", password_file=str(password),
                       ca_file=SYSTEM_CAS).client_options()
    context = options.pop("ssl_context")
    assert options == {"security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512",
                       "sasl_plain_username": "assist-intake", "sasl_plain_password": "s3cret with spaces "}
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_a_rotated_password_is_read_by_the_next_client(tmp_path: Path) -> None:
    password = tmp_path / "password"
    password.write_text("first", encoding="utf-8")
    found = security(security_protocol="SASL_SSL", username="assist-casework", password_file=str(password))
    assert found.client_options()["sasl_plain_password"] == "first"
    password.write_text("second\n", encoding="utf-8")
    assert found.client_options()["sasl_plain_password"] == "second"


def test_ssl_is_tls_without_sasl() -> None:
    options = security(security_protocol="SSL").client_options()
    assert options["security_protocol"] == "SSL" and isinstance(options["ssl_context"], ssl.SSLContext)
    assert not any(key.startswith("sasl") for key in options)


def test_faust_gets_the_same_principal_over_sasl_ssl(tmp_path: Path) -> None:
    password = tmp_path / "password"
    password.write_text("matching-secret", encoding="utf-8")
    credentials = security(security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-256", username="assist-matching",
                           password_file=str(password)).faust_credentials()
    assert isinstance(credentials, faust.SASLCredentials)
    assert (credentials.protocol.value, credentials.mechanism.value) == ("SASL_SSL", "SCRAM-SHA-256")
    assert (credentials.username, credentials.password) == ("assist-matching", "matching-secret")


@pytest.mark.parametrize(("env", "named"), [
    ({"security_protocol": "SASL_PLAINTEXT"}, "ASSIST_KAFKA_SECURITY_PROTOCOL"),
    ({"security_protocol": "SASL_SSL", "password_file": "/run/secrets/p"}, "ASSIST_KAFKA_USERNAME"),
    ({"security_protocol": "SASL_SSL", "username": "assist-vault"}, "ASSIST_KAFKA_PASSWORD_FILE"),
    ({"security_protocol": "SASL_SSL", "username": "assist-vault", "password_file": "/run/secrets/p",
      "sasl_mechanism": "PLAIN"}, "ASSIST_KAFKA_SASL_MECHANISM"),
])
def test_settings_that_cannot_work_are_refused_naming_the_setting(env: dict[str, str], named: str) -> None:
    with pytest.raises(KafkaSecurityError, match=named):
        security(**env)


def test_a_missing_or_empty_password_file_and_a_bad_ca_file_are_named(tmp_path: Path) -> None:
    missing = security(security_protocol="SASL_SSL", username="assist-vault", password_file=str(tmp_path / "none"))
    with pytest.raises(KafkaSecurityError, match=r"ASSIST_KAFKA_PASSWORD_FILE: .*none cannot be read"):
        missing.client_options()
    (tmp_path / "empty").write_text("\n", encoding="utf-8")
    empty = security(security_protocol="SASL_SSL", username="assist-vault", password_file=str(tmp_path / "empty"))
    with pytest.raises(KafkaSecurityError, match="is empty"):
        empty.client_options()
    (tmp_path / "ca.pem").write_text("not a certificate", encoding="utf-8")
    with pytest.raises(KafkaSecurityError, match="ASSIST_KAFKA_CA_FILE"):
        security(security_protocol="SSL", ca_file=str(tmp_path / "ca.pem")).client_options()
