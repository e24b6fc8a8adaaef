"""A real Kafka 3.9 node on loopback configured as deploy/kafka/broker.properties.in (TLS, SASL/SCRAM, ACLs), its
principals created and granted as `python -m services.operations kafka-acls` prints, and helpers to run the services
against it as operators run them (tests/integration/core/test_kafka_security.py)."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from services.core.codec import decode_record
from services.core.contract import load_contract
from services.core.kafka_security import KafkaSecurity
from services.core.settings import PROJECT_ROOT, load_settings
from services.core.topics import TASKS
from services.operations.kafka_acls import commands, load, principals

KAFKA_VERSION = "3.9.1"
LIBS = Path(os.environ.get("ASSIST_CACHE_DIR", Path.home() / ".cache" / "assist-platform")) / \
    f"kafka-{KAFKA_VERSION}" / "libs"
STORE_PASSWORD = "test-store-password"
PASSWORDS = {"broker": "broker-secret", "admin": "admin-secret", "assist-intake": "intake-secret",
             "assist-casework": "casework-secret", "assist-matching": "matching-secret",
             "assist-civil-registry-feed": "registry-secret"}
PORTS = int(os.environ.get("ASSIST_SECURE_KAFKA_PORT", "0"))
"""The secure node's client port (the internal and controller listeners take the next two); 0 for free ports."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(argv: list[str], timeout: float = 120, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False, env=env,
                          cwd=PROJECT_ROOT)
    assert done.returncode == 0, f"{shlex.join(argv)}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def java(*args: str) -> list[str]:
    return ["java", "-Xmx256M", "-cp", f"{LIBS}/*",
            f"-Dlog4j.configuration=file:{PROJECT_ROOT / 'deploy' / 'local' / 'log4j.properties'}", *args]


def fill(template: Path, values: dict[str, str]) -> str:
    text = template.read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    assert not re.search(r"@[A-Z_]+@", text), f"unfilled values in {template.name}"
    return text


@dataclass
class SecureNode:
    bootstrap: str
    cafile: Path
    admin_config: Path
    home: Path

    def env(self, user: str, password: str | None = None) -> dict[str, str]:
        """The ASSIST_KAFKA_* settings a service runs with as `user`, its password in a file of its own."""
        secret = self.home / "secrets" / f"{user}-{uuid.uuid4().hex[:6]}"
        secret.parent.mkdir(exist_ok=True)
        secret.write_text((PASSWORDS[user] if password is None else password) + "\n", encoding="utf-8")
        return {"ASSIST_KAFKA_BOOTSTRAP": self.bootstrap, "ASSIST_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                "ASSIST_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512", "ASSIST_KAFKA_USERNAME": user,
                "ASSIST_KAFKA_PASSWORD_FILE": str(secret), "ASSIST_KAFKA_CA_FILE": str(self.cafile)}

    def client(self, user: str, password: str | None = None) -> dict[str, Any]:
        """aiokafka options for `user`, made by the services' own conversion of the settings."""
        security = KafkaSecurity.from_settings(load_settings(self.env(user, password)))
        return {"bootstrap_servers": self.bootstrap, **security.client_options(), "request_timeout_ms": 10_000}


def node_ports() -> tuple[int, int, int]:
    return (PORTS, PORTS + 1, PORTS + 2) if PORTS else (free_port(), free_port(), free_port())


@contextmanager
def secure_node(home: Path) -> Iterator[SecureNode]:
    """A node of deploy/kafka/broker.properties.in with a throw-away CA in `home`, until the block ends."""
    if not (LIBS / ".complete").exists():
        pytest.fail(f"Kafka {KAFKA_VERSION} is not assembled in {LIBS}: run ./run setup")
    keystore, truststore, cafile = home / "node.p12", home / "trust.p12", home / "ca.pem"
    run(["keytool", "-genkeypair", "-alias", "node", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
         "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-storetype", "PKCS12",
         "-keystore", str(keystore), "-storepass", STORE_PASSWORD, "-keypass", STORE_PASSWORD])
    run(["keytool", "-exportcert", "-rfc", "-alias", "node", "-keystore", str(keystore), "-storepass", STORE_PASSWORD,
         "-file", str(cafile)])
    run(["keytool", "-importcert", "-noprompt", "-alias", "node", "-file", str(cafile), "-storetype", "PKCS12",
         "-keystore", str(truststore), "-storepass", STORE_PASSWORD])
    client_port, internal_port, controller_port = node_ports()
    properties = home / "broker.properties"
    properties.write_text(fill(PROJECT_ROOT / "deploy" / "kafka" / "broker.properties.in", {
        "NODE_ID": "1", "QUORUM_VOTERS": f"1@127.0.0.1:{controller_port}", "DATA_DIR": str(home / "data"),
        "HOST": "127.0.0.1", "ADVERTISED_HOST": "127.0.0.1", "CLIENT_PORT": str(client_port),
        "INTERNAL_PORT": str(internal_port), "CONTROLLER_PORT": str(controller_port),
        "BROKER_PASSWORD": PASSWORDS["broker"], "KEYSTORE": str(keystore), "KEYSTORE_PASSWORD": STORE_PASSWORD,
        "TRUSTSTORE": str(truststore), "TRUSTSTORE_PASSWORD": STORE_PASSWORD, "NODE_CN": "localhost",
        "REPLICATION_FACTOR": "1", "MIN_INSYNC_REPLICAS": "1"}), encoding="utf-8")
    admin_config = home / "admin.properties"
    admin_config.write_text(fill(PROJECT_ROOT / "deploy" / "kafka" / "client.properties.in", {
        "PRINCIPAL": "admin", "PASSWORD": PASSWORDS["admin"], "TRUSTSTORE": str(truststore),
        "TRUSTSTORE_PASSWORD": STORE_PASSWORD}), encoding="utf-8")
    run(java("kafka.tools.StorageTool", "format", "-t", str(uuid.uuid4().hex[:22]).ljust(22, "A"), "-c",
             str(properties), "--add-scram", f"SCRAM-SHA-512=[name=broker,password={PASSWORDS['broker']}]",
             "--add-scram", f"SCRAM-SHA-512=[name=admin,password={PASSWORDS['admin']}]"))
    log = (home / "console.log").open("wb")
    broker = subprocess.Popen([*java("kafka.Kafka", str(properties))[:1], "-Dkafka.logs.dir=" + str(home),
                               *java("kafka.Kafka", str(properties))[1:]], stdout=log, stderr=subprocess.STDOUT)
    try:
        yield SecureNode(f"127.0.0.1:{client_port}", cafile, admin_config, home)
    finally:
        stop(broker, 60)
        log.close()


async def wait_until_up(node: SecureNode, seconds: float = 120) -> AIOKafkaAdminClient:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        admin = AIOKafkaAdminClient(**node.client("admin"))
        try:
            await admin.start()
            await admin.describe_cluster()
            return admin
        except (KafkaError, OSError):
            await admin.close()
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(1)


async def grant_principals(node: SecureNode) -> None:
    """The platform's topics created by `python -m services.core create-topics` as admin; the principals of
    PASSWORDS created and granted exactly as printed."""
    admin = await wait_until_up(node)
    await admin.close()
    await asyncio.to_thread(run, [sys.executable, "-m", "services.core", "create-topics"],
                            env={**os.environ, **node.env("admin")})
    wanted = [p for p in principals(load(), load_contract().departments) if p.name in PASSWORDS]
    tools = {"kafka-acls.sh": "kafka.admin.AclCommand", "kafka-configs.sh": "kafka.admin.ConfigCommand"}
    at_once = asyncio.Semaphore(3)  # each command is a JVM start: a few at a time, independent of each other

    async def grant(line: str) -> None:
        user = next(name for name in PASSWORDS if f" {name} " in f" {line} " or f"User:{name} " in line)
        argv = shlex.split(line.replace("REPLACE-ME", PASSWORDS[user]))
        async with at_once:
            await asyncio.to_thread(run, java(tools[argv[0]], *argv[1:]))
    await asyncio.gather(*(grant(line) for line in commands(wanted, node.bootstrap, str(node.admin_config))))
    producer = AIOKafkaProducer(**node.client("admin"))
    await producer.start()
    try:
        await producer.send_and_wait(TASKS.name, b"a task")
    finally:
        await producer.stop()


@contextmanager
def running(argv: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m argv` until the block ends (terminated, killed after 30 s)."""
    with log.open("ab") as out:
        process = subprocess.Popen([sys.executable, "-m", *argv], env=env, stdout=out, stderr=subprocess.STDOUT,
                                   cwd=PROJECT_ROOT)
    try:
        yield process
    finally:
        stop(process, 30)


def stop(process: subprocess.Popen[bytes], seconds: float) -> None:
    """Terminate, and kill what has not ended within `seconds`."""
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


def fetch(url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()
    except OSError as exc:
        return 0, type(exc).__name__


async def until(url: str, wanted: Callable[[int, str], bool], process: subprocess.Popen[bytes], log: Path,
                seconds: float = 120) -> str:
    """The answer of `url` once `wanted(status, text)`; fails with the process's log when it does not come."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        assert process.poll() is None, f"{log.name} ended:\n{tail(log)}"
        status, text = await asyncio.to_thread(fetch, url)
        if wanted(status, text):
            return text
        await asyncio.sleep(0.5)
    raise AssertionError(f"{url} never as wanted; {log.name} ends:\n{tail(log)}")


def counter(text: str, sample: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(sample))


async def tasks_of(node: SecureNode, household_id: str) -> list[dict[str, Any]]:
    """The tasks of the household on assist.tasks, read as admin."""
    reader = AIOKafkaConsumer(TASKS.name, group_id=None, auto_offset_reset="earliest", **node.client("admin"))
    await reader.start()
    try:
        batch = await reader.getmany(timeout_ms=10_000)
    finally:
        await reader.stop()
    return [decode_record(load_contract(), "caseworker_task", r.value) for rs in batch.values() for r in rs
            if r.key == household_id.encode()]
