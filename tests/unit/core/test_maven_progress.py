"""The Kafka assembly's progress: Maven's lines counted as jars against the expected list."""

from __future__ import annotations

import io
import sys

from services.core.maven_progress import expected_jars, follow, jar_of, main
from services.core.progress_report import ProgressReport
from services.core.settings import PROJECT_ROOT

CENTRAL = "https://repo.maven.apache.org/maven2"
MAVEN_LINES = [
    f"[INFO] Downloading from central: {CENTRAL}/org/apache/kafka/kafka-clients/3.9.1/kafka-clients-3.9.1.pom",
    f"[INFO] Downloaded from central: {CENTRAL}/org/apache/kafka/kafka-clients/3.9.1/kafka-clients-3.9.1.pom "
    "(1.9 kB at 12 kB/s)",
    f"[INFO] Downloaded from central: {CENTRAL}/org/apache/kafka/kafka-clients/3.9.1/kafka-clients-3.9.1.jar "
    "(8.1 MB at 9.8 MB/s)",
    f"[INFO] Downloaded from central: {CENTRAL}/org/apache/maven/plugins/maven-dependency-plugin/3.6.1/"
    "maven-dependency-plugin-3.6.1.jar (190 kB at 1.1 MB/s)",
    "[INFO] Copying kafka-clients-3.9.1.jar to /cache/kafka-3.9.1/libs/kafka-clients-3.9.1.jar",
    "[INFO] Copying zstd-jni-1.5.6-4.jar to /cache/kafka-3.9.1/libs/zstd-jni-1.5.6-4.jar",
    "[INFO] BUILD SUCCESS",
]


def test_downloaded_and_copied_jars_are_named_and_poms_are_not() -> None:
    assert [jar_of(line) for line in MAVEN_LINES] == [
        None, None, "kafka-clients-3.9.1.jar", "maven-dependency-plugin-3.6.1.jar", "kafka-clients-3.9.1.jar",
        "zstd-jni-1.5.6-4.jar", None]


def test_each_expected_jar_counts_once_and_maven_plugins_do_not_count() -> None:
    out = io.StringIO()
    expected = {"kafka-clients-3.9.1.jar", "zstd-jni-1.5.6-4.jar", "slf4j-api-1.7.36.jar"}
    with ProgressReport("downloading", len(expected), "jars", out, terminal=False) as progress:
        last = follow(MAVEN_LINES, expected, progress)
        assert progress.done == 2
    assert out.getvalue().splitlines()[-1].startswith("downloading: done, 2 of 3 jars (67 %)")
    assert last[-1] == "[INFO] BUILD SUCCESS"


def test_the_expected_list_of_the_broker_names_every_jar_once() -> None:
    jars = expected_jars((PROJECT_ROOT / "deploy" / "local" / "kafka-3.9.1-jars.txt").read_text(encoding="utf-8"))
    assert len(jars) == 57 and all(j.endswith(".jar") for j in jars)
    assert {"kafka_2.13-3.9.1.jar", "kafka-clients-3.9.1.jar", "slf4j-reload4j-1.7.36.jar"} <= jars


def test_a_failing_maven_shows_its_last_lines_and_its_exit_status(capsys) -> None:
    script = "print('[ERROR] Could not resolve dependencies'); raise SystemExit(3)"
    assert main(["--", sys.executable, "-c", script]) == 3
    err = capsys.readouterr().err
    assert "[ERROR] Could not resolve dependencies" in err and "maven failed with exit status 3" in err
