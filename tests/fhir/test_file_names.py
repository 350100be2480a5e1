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
