"""One settings loader: every field is read from ASSIST_<FIELD>, with its type; unset ones keep the defaults."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from services.core.settings import Settings, load_settings

SAMPLES = {"str": "text", "int": "7", "float": "2.5", "Path": "/srv/assist/x"}
READ = {"str": "text", "int": 7, "float": 2.5, "Path": Path("/srv/assist/x")}


def test_every_field_is_read_from_its_variable_with_its_type() -> None:
    for spec in fields(Settings):
        settings = load_settings({f"ASSIST_{spec.name.upper()}": SAMPLES[str(spec.type)]})
        assert getattr(settings, spec.name) == READ[str(spec.type)], spec.name


def test_unset_variables_keep_the_defaults_and_the_tokens_file_follows_the_data_folder() -> None:
    assert load_settings({}) == Settings()
    moved = load_settings({"ASSIST_DATA_DIR": "/srv/assist"})
    assert moved.intake_tokens_file == Path("/srv/assist/intake-tokens.json")
    named = load_settings({"ASSIST_DATA_DIR": "/srv/assist", "ASSIST_INTAKE_TOKENS_FILE": "/etc/assist/t.json"})
    assert named.intake_tokens_file == Path("/etc/assist/t.json")
