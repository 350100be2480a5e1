"""File names of per-patient output (fhir/file_names.py): no PHI, and not reversible by trying ids
(an unkeyed SHA-256 of "Patient/4711093" gave the MRN back in seconds: found by writeprobe)."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from poems_fhir.cli import main
from poems_fhir.errors import ConfigError
from poems_fhir.fhir.file_names import name_key, patient_file_name
from tests.conftest import SAMPLES


def test_the_name_is_a_keyed_hash_not_a_hash_of_the_id():
    name = patient_file_name("Patient/4711093", b"site-secret")
    assert name.startswith("poems-") and name.endswith(".json") and "4711093" not in name
    assert hashlib.sha256(b"Patient/4711093").hexdigest()[:24] not in name
    assert name == patient_file_name("Patient/4711093", b"site-secret")  # a rerun overwrites its own file
    assert name != patient_file_name("Patient/4711093", b"another-site")
    assert patient_file_name("Patient/4711093", b"k", ".html").endswith(".html")


def test_the_key_is_made_once_private_and_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    key = name_key()
    path = tmp_path / "poems-fhir" / "file-name.key"
    assert path.read_bytes() == key and len(key) == 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert name_key() == key
    monkeypatch.setenv("POEMS_FHIR_NAME_KEY", "from-the-secret-store")
    assert name_key() == b"from-the-secret-store"
    monkeypatch.delenv("POEMS_FHIR_NAME_KEY")
    monkeypatch.setenv("POEMS_FHIR_NAME_KEY_FILE", str(tmp_path / "missing.key"))
    with pytest.raises(ConfigError, match="does not exist"):
        name_key()


def test_evaluate_out_dir_names_files_with_the_installation_key(tmp_path, monkeypatch):
    monkeypatch.setenv("POEMS_FHIR_NAME_KEY", "installation")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["evaluate", str(SAMPLES / "classic-poems.json"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert [p.name for p in out.iterdir()] == [patient_file_name("Patient/classic-poems", b"installation")]
    pages = tmp_path / "pages"
    result = CliRunner().invoke(main, ["report", str(SAMPLES / "classic-poems.json"), "--html", str(pages)])
    assert result.exit_code == 0, result.output
    assert [p.name for p in pages.iterdir()] == [patient_file_name("Patient/classic-poems", b"installation", ".html")]
    assert not list(Path(tmp_path).glob("**/*classic*"))


@pytest.mark.parametrize("command", [["evaluate", "--out"], ["report", "--html"]])
def test_a_key_that_cannot_be_made_is_a_configuration_error_not_an_internal_error(tmp_path, monkeypatch, command):
    """probe51 D4: with a read-only HOME the key could not be created and `evaluate --out DIR` ended
    "internal error ... please report it", exit 70; it is the machine's configuration: exit 2 with the fix."""
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(blocked))  # the key's folder cannot be made below a file
    monkeypatch.delenv("POEMS_FHIR_NAME_KEY", raising=False)
    monkeypatch.delenv("POEMS_FHIR_NAME_KEY_FILE", raising=False)
    result = CliRunner().invoke(
        main, [command[0], str(SAMPLES / "classic-poems.json"), command[1], str(tmp_path / "out")]
    )
    assert result.exit_code == 2, result.output
    assert "internal error" not in result.output and "POEMS_FHIR_NAME_KEY" in result.output
