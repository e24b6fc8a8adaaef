"""The production broker configuration (deploy/kafka/broker.properties.in) and the ACL commands
`python -m services.operations kafka-acls` prints, on a real Kafka 3.9 node on loopback: TLS and SASL/SCRAM are
required, and a service principal reads and writes its own topics and nothing else."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import GroupAuthorizationFailedError, KafkaError, TopicAuthorizationFailedError
from aiokafka.helpers import create_ssl_context

from services.core.contract import load_contract
from services.core.settings import PROJECT_ROOT
from services.core.topics import EVENTS, EVENTS_DLQ, TASKS
from services.operations.kafka_acls import commands, load, principals

KAFKA_VERSION = "3.9.1"
LIBS = Path(os.environ.get("ASSIST_CACHE_DIR", Path.home() / ".cache" / "assist-platform")) / \
    f"kafka-{KAFKA_VERSION}" / "libs"
STORE_PASSWORD = "test-store-password"
PASSWORDS = {"broker": "broker-secret", "admin": "admin-secret", "assist-intake": "intake-secret",
             "assist-casework": "casework-secret"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(argv: list[str], timeout: float = 120) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
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

    def client(self, user: str, password: str | None = None) -> dict[str, Any]:
        return {"bootstrap_servers": self.bootstrap, "security_protocol": "SASL_SSL",
                "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": user,
                "sasl_plain_password": PASSWORDS[user] if password is None else password,
                "ssl_context": create_ssl_context(cafile=str(self.cafile)), "request_timeout_ms": 10_000}


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureNode]:
    if not (LIBS / ".complete").exists():
        pytest.fail(f"Kafka {KAFKA_VERSION} is not assembled in {LIBS}: run ./run setup")
    home = tmp_path_factory.mktemp("secure-kafka")
    keystore, truststore, cafile = home / "node.p12", home / "trust.p12", home / "ca.pem"
    run(["keytool", "-genkeypair", "-alias", "node", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
         "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-storetype", "PKCS12",
         "-keystore", str(keystore), "-storepass", STORE_PASSWORD, "-keypass", STORE_PASSWORD])
    run(["keytool", "-exportcert", "-rfc", "-alias", "node", "-keystore", str(keystore), "-storepass", STORE_PASSWORD,
         "-file", str(cafile)])
    run(["keytool", "-importcert", "-noprompt", "-alias", "node", "-file", str(cafile), "-storetype", "PKCS12",
         "-keystore", str(truststore), "-storepass", STORE_PASSWORD])
    client_port, internal_port, controller_port = free_port(), free_port(), free_port()
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
        yield SecureNode(f"127.0.0.1:{client_port}", cafile, admin_config)
    finally:
        broker.terminate()
        try:
            broker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            broker.kill()
            broker.wait(timeout=30)
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


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def granted(node: SecureNode) -> AsyncIterator[SecureNode]:
    """Topics created as admin; the intake and casework principals created and granted exactly as printed."""
    admin = await wait_until_up(node)
    try:
        await admin.create_topics([NewTopic(t.name, 1, 1) for t in (EVENTS, EVENTS_DLQ, TASKS)])
    finally:
        await admin.close()
    wanted = [p for p in principals(load(), load_contract().departments) if p.name in PASSWORDS]
    for line in commands(wanted, node.bootstrap, str(node.admin_config)):
        user = next(name for name in PASSWORDS if f" {name} " in f" {line} " or f"User:{name} " in line)
        argv = shlex.split(line.replace("REPLACE-ME", PASSWORDS[user]))
        tool = {"kafka-acls.sh": "kafka.admin.AclCommand", "kafka-configs.sh": "kafka.admin.ConfigCommand"}[argv[0]]
        await asyncio.to_thread(run, java(tool, *argv[1:]))
    producer = AIOKafkaProducer(**node.client("admin"))
    await producer.start()
    try:
        await producer.send_and_wait(TASKS.name, b"a task")
    finally:
        await producer.stop()
    yield node


pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_intake_writes_its_topics_and_may_not_write_anothers(granted: SecureNode) -> None:
    producer = AIOKafkaProducer(**granted.client("assist-intake"))
    await producer.start()
    try:
        await producer.send_and_wait(EVENTS.name, b"an event")
        await producer.send_and_wait(EVENTS_DLQ.name, b"a dead letter")
        with pytest.raises(TopicAuthorizationFailedError):
            await producer.send_and_wait(TASKS.name, b"not intake's")
    finally:
        await producer.stop()


async def test_casework_reads_tasks_in_its_group_and_no_other_group(granted: SecureNode) -> None:
    consumer = AIOKafkaConsumer(TASKS.name, group_id="assist-casework", auto_offset_reset="earliest",
                                **granted.client("assist-casework"))
    await consumer.start()
    try:
        batch = await consumer.getmany(timeout_ms=15_000)
        assert [r.value for rs in batch.values() for r in rs] == [b"a task"]
    finally:
        await consumer.stop()
    foreign = AIOKafkaConsumer(TASKS.name, group_id="assist-intake-raw", **granted.client("assist-casework"))
    with pytest.raises(GroupAuthorizationFailedError):
        await foreign.start()
        await foreign.getmany(timeout_ms=10_000)
    await foreign.stop()


async def test_a_wrong_password_and_a_plaintext_client_are_refused(granted: SecureNode) -> None:
    wrong = AIOKafkaProducer(**granted.client("assist-intake", password="not the password"))
    with pytest.raises(KafkaError):
        await wrong.start()
    await wrong.stop()
    plaintext = AIOKafkaProducer(bootstrap_servers=granted.bootstrap, request_timeout_ms=5_000)
    with pytest.raises(KafkaError):
        await plaintext.start()
    await plaintext.stop()
