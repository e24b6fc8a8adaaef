"""`python -m services.intake tokens issue` refuses a department that owns no event type."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.intake.__main__ import main


def test_issuing_a_token_for_an_unknown_department_is_refused_and_names_the_known_ones(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    tokens = tmp_path / "tokens.json"
    monkeypatch.setenv("ASSIST_INTAKE_TOKENS_FILE", str(tokens))
    assert main(["tokens", "issue", "helth"]) == 2
    err = capsys.readouterr().err
    assert "unknown department 'helth'" in err
    assert "health" in err and "civil_registry" in err
    assert not tokens.exists() or "helth" not in tokens.read_text()


def test_issuing_a_token_for_a_known_department_prints_it_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ASSIST_INTAKE_TOKENS_FILE", str(tmp_path / "tokens.json"))
    assert main(["tokens", "issue", "health"]) == 0
    assert capsys.readouterr().out.startswith("health.")
