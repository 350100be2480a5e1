"""The licence file, SPDX headers and --version."""

from __future__ import annotations

import tomllib
from pathlib import Path

from click.testing import CliRunner

from poems_fhir import __version__
from poems_fhir.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_licence_file_is_the_apache_2_text_declared_in_pyproject():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in text
    assert "END OF TERMS AND CONDITIONS" in text
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"] == "Apache-2.0"


def test_every_python_file_has_the_spdx_header_of_the_licence():
    files = sorted((ROOT / "poems_fhir").rglob("*.py")) + sorted((ROOT / "benchmarks").glob("*.py"))
    missing = [
        str(f.relative_to(ROOT))
        for f in files
        if "# SPDX-License-Identifier: Apache-2.0" not in f.read_text(encoding="utf-8").splitlines()[:2]
    ]
    assert files and missing == []


def test_version_names_the_mapping_in_force(monkeypatch):
    site = ROOT / "sample_bundles" / "site-local" / "site-mapping.yaml"
    monkeypatch.delenv("POEMS_FHIR_MAPPINGS", raising=False)
    out = CliRunner().invoke(main, ["--version"]).output.splitlines()
    assert out[0] == f"poems-fhir {__version__}"
    assert len(out) == 2 and out[1].startswith("mapping: poems-fhir-default ") and "default.yaml" in out[1]
    monkeypatch.setenv("POEMS_FHIR_MAPPINGS", str(site))
    out = CliRunner().invoke(main, ["--version"]).output.splitlines()
    assert len(out) == 3 and "site-mapping.yaml" in out[2]
