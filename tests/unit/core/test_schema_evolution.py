"""Every schema under schemas/ must read data written with its previous committed version (BACKWARD compatible).

The previous version of a file is HEAD's when the working tree changes it, otherwise the newest earlier commit
whose blob differs. Files with no earlier version are new and pass. Old and new schemas are parsed together with
the other schemas of their own revision, so named types referenced across files resolve as they did then.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from services.core.evolution import (
    SchemaSet,
    backward_incompatibilities,
    parse_schema_set,
    resolution_gaps,
    sample_values,
    unreadable_samples,
)

REPO = Path(__file__).resolve().parents[3]
SCHEMAS = "schemas"
SCHEMA_FILES = sorted(p.relative_to(REPO / SCHEMAS).as_posix() for p in (REPO / SCHEMAS).rglob("*.avsc"))
assert SCHEMA_FILES, f"no schemas under {REPO / SCHEMAS}"  # an empty set would check nothing and pass


# ---- history ---------------------------------------------------------------------------------------------------

def _git(repo: Path, *args: str) -> str | None:
    """stdout of a git command in `repo`, or None when git answers with an error (no such revision or path)."""
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    return done.stdout if done.returncode == 0 else None


def history_available(repo: Path) -> bool:
    return shutil.which("git") is not None and _git(repo, "rev-parse", "--is-inside-work-tree") == "true\n"


def head_commit(repo: Path) -> str | None:
    out = _git(repo, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    return out.strip() if out else None


def previous_version(repo: Path, path: str) -> str | None:
    """The commit holding the previous version of `path` (relative to the repository), None for a new file."""
    if head_commit(repo) is None:
        return None
    current = (_git(repo, "hash-object", "--", path) or "").strip()
    at_head = _git(repo, "rev-parse", "--verify", "--quiet", f"HEAD:{path}")
    if at_head is not None and at_head.strip() != current:
        return "HEAD"
    for commit in (_git(repo, "log", "--format=%H", "--", path) or "").split():
        blob = _git(repo, "rev-parse", "--verify", "--quiet", f"{commit}:{path}")
        if blob is not None and blob.strip() != current:
            return commit
    return None


def committed_schemas(repo: Path, commit: str) -> dict[str, dict[str, Any]]:
    names = (_git(repo, "ls-tree", "-r", "--name-only", commit, "--", SCHEMAS) or "").split()
    return {name.removeprefix(f"{SCHEMAS}/"): json.loads(_git(repo, "show", f"{commit}:{name}") or "null")
            for name in names if name.endswith(".avsc")}


@cache
def schemas_at(commit: str) -> SchemaSet:
    return parse_schema_set(committed_schemas(REPO, commit))


@cache
def working_schemas() -> SchemaSet:
    return parse_schema_set({rel: json.loads((REPO / SCHEMAS / rel).read_text(encoding="utf-8"))
                             for rel in SCHEMA_FILES})


@pytest.fixture(scope="module")
def repo_history() -> Path:
    if not history_available(REPO):
        pytest.skip(f"{REPO} is not a git work tree (or git is missing): no previous versions to compare with")
    head = head_commit(REPO)
    print(f"schema evolution: HEAD is {head or 'absent (no commits yet): every schema is new'}")
    return REPO


@pytest.mark.parametrize("rel", SCHEMA_FILES)
def test_schema_reads_data_written_with_its_previous_committed_version(repo_history: Path, rel: str) -> None:
    base = previous_version(repo_history, f"{SCHEMAS}/{rel}")
    if base is None:
        print(f"{SCHEMAS}/{rel}: no earlier committed version; new schema")
        return
    commit = (_git(repo_history, "rev-parse", base) or base).strip()
    print(f"{SCHEMAS}/{rel}: compared with its version at {commit}")
    problems = backward_incompatibilities(schemas_at(commit).schemas[rel], working_schemas().schemas[rel])
    assert not problems, (f"{SCHEMAS}/{rel} cannot read data written with its version at {commit[:12]}:\n"
                          + "\n".join(f"  {SCHEMAS}/{rel}: {p}" for p in problems))


def test_no_committed_schema_file_was_removed(repo_history: Path) -> None:
    head = head_commit(repo_history)
    if head is None:
        pytest.skip("no commits yet: nothing could have been removed")
    removed = sorted(set(committed_schemas(repo_history, head)) - set(SCHEMA_FILES))
    assert not removed, ("schemas removed since HEAD; data already written with them could no longer be decoded: "
                         + ", ".join(f"{SCHEMAS}/{r}" for r in removed))


# ---- the history lookup itself, on a scratch repository -------------------------------------------------------

def _commit(repo: Path, message: str) -> str:
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True, capture_output=True)
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org",
                    "-c", "commit.gpgsign=false", "commit", "-q", "-m", message], check=True, capture_output=True)
    return head_commit(repo) or ""


@pytest.fixture
def scratch_repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is missing")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True, capture_output=True)
    return tmp_path


def test_previous_version_of_an_unchanged_file_is_the_last_commit_that_changed_it(scratch_repo: Path) -> None:
    schema = scratch_repo / "s.avsc"
    schema.write_text("v1")
    first = _commit(scratch_repo, "v1")
    schema.write_text("v2")
    _commit(scratch_repo, "v2")
    (scratch_repo / "other.txt").write_text("unrelated")
    _commit(scratch_repo, "unrelated")
    assert previous_version(scratch_repo, "s.avsc") == first


def test_previous_version_of_an_edited_file_is_head(scratch_repo: Path) -> None:
    schema = scratch_repo / "s.avsc"
    schema.write_text("v1")
    _commit(scratch_repo, "v1")
    schema.write_text("v2, not committed")
    assert previous_version(scratch_repo, "s.avsc") == "HEAD"


def test_a_file_never_committed_or_committed_once_has_no_previous_version(scratch_repo: Path) -> None:
    (scratch_repo / "s.avsc").write_text("v1")
    assert head_commit(scratch_repo) is None
    assert previous_version(scratch_repo, "s.avsc") is None
    _commit(scratch_repo, "v1")
    assert previous_version(scratch_repo, "s.avsc") is None
    (scratch_repo / "new.avsc").write_text("fresh")
    assert previous_version(scratch_repo, "new.avsc") is None


# ---- the compatibility checker on small schemas -----------------------------------------------------------------

def _record(*fields: dict[str, Any], name: str = "Person") -> dict[str, Any]:
    return {"type": "record", "name": name, "namespace": "t", "fields": list(fields)}


def _problems(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    writer = parse_schema_set({"s.avsc": old}).schemas["s.avsc"]
    reader = parse_schema_set({"s.avsc": new}).schemas["s.avsc"]
    return [str(p) for p in backward_incompatibilities(writer, reader)]


NAME = {"name": "name", "type": "string"}
LEVEL = {"name": "level", "type": {"type": "enum", "name": "Level", "symbols": ["LOW", "HIGH"]}}


def test_adding_a_field_with_a_default_keeps_old_data_readable() -> None:
    assert _problems(_record(NAME), _record(NAME, {"name": "age", "type": ["null", "int"], "default": None})) == []


def test_adding_a_field_without_a_default_is_reported_by_field_name() -> None:
    problems = _problems(_record(NAME), _record(NAME, {"name": "age", "type": "int"}))
    assert problems == ["age: field added to Person without a default"]


def test_removing_an_enum_symbol_is_reported_by_field_and_symbol() -> None:
    narrowed = {"name": "level", "type": {"type": "enum", "name": "Level", "symbols": ["LOW"]}}
    assert _problems(_record(LEVEL), _record(narrowed)) == [
        "level: enum symbol HIGH removed from Level (and it has no default)"]


def test_removing_an_enum_symbol_is_allowed_when_the_enum_declares_a_default() -> None:
    with_default = {"name": "level", "type": {"type": "enum", "name": "Level", "symbols": ["LOW"], "default": "LOW"}}
    assert _problems(_record(LEVEL), _record(with_default)) == []


def test_widening_int_to_long_keeps_old_data_readable() -> None:
    assert _problems(_record({"name": "n", "type": "int"}), _record({"name": "n", "type": "long"})) == []


def test_narrowing_long_to_int_is_reported() -> None:
    assert _problems(_record({"name": "n", "type": "long"}), _record({"name": "n", "type": "int"})) == [
        "n: long cannot be read as int"]


def test_making_a_nullable_field_required_is_reported() -> None:
    old = _record({"name": "n", "type": ["null", "string"], "default": None})
    assert _problems(old, _record({"name": "n", "type": "string"})) == ["n: null cannot be read as string"]


def test_removing_a_field_keeps_old_data_readable() -> None:
    assert _problems(_record(NAME, {"name": "age", "type": "int"}), _record(NAME)) == []


def test_an_incompatible_change_to_a_referenced_record_shows_in_the_record_that_refers_to_it() -> None:
    def revision(level_symbols: list[str]) -> SchemaSet:
        level = {"type": "enum", "name": "Level", "namespace": "t", "symbols": level_symbols}
        task = _record({"name": "levels", "type": {"type": "array", "items": "t.Level"}}, name="Task")
        return parse_schema_set({"records/level.avsc": level, "records/task.avsc": task})

    old, new = revision(["LOW", "HIGH"]).schemas, revision(["LOW"]).schemas
    problems = backward_incompatibilities(old["records/task.avsc"], new["records/task.avsc"])
    assert [str(p) for p in problems] == ["levels[]: enum symbol HIGH removed from Level (and it has no default)"]


def test_samples_use_every_enum_symbol_and_union_branch_even_when_nested() -> None:
    inner = _record({"name": "level", "type": {"type": "enum", "name": "Level", "symbols": ["A", "B", "C"]}},
                    name="Inner")
    schema = parse_schema_set({"s.avsc": _record({"name": "inner", "type": ["null", inner]},
                                                 {"name": "tags", "type": {"type": "map", "values": "string"}})})
    samples = sample_values(schema.schemas["s.avsc"])
    assert {s["inner"][0] for s in samples} == {"null", "t.Inner"}
    assert {s["inner"][1]["level"] for s in samples if s["inner"][0] == "t.Inner"} == {"A", "B", "C"}
    assert all(s["tags"] for s in samples)


def test_field_rules_and_sample_reading_agree_on_a_compatible_change() -> None:
    old = parse_schema_set({"s.avsc": _record(LEVEL, NAME)}).schemas["s.avsc"]
    new = parse_schema_set({"s.avsc": _record(NAME, {"name": "extra", "type": "long", "default": 0}, LEVEL)}
                           ).schemas["s.avsc"]
    assert resolution_gaps(old, new) == []
    assert backward_incompatibilities(old, new) == []


def test_reading_samples_back_catches_a_removed_symbol_on_its_own() -> None:
    old = parse_schema_set({"s.avsc": _record(LEVEL)}).schemas["s.avsc"]
    narrowed = {"name": "level", "type": {"type": "enum", "name": "Level", "symbols": ["LOW"]}}
    new = parse_schema_set({"s.avsc": _record(narrowed)}).schemas["s.avsc"]
    problems = unreadable_samples(old, new)
    assert len(problems) == 1 and "HIGH" in problems[0].reason
