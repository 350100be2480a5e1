"""The sync job in file mode with a note's text in a Binary the input carries: a new text under the same url is a
changed input (its report written again), the same text is no change (fhir/binaries.py; the input hash adds the
digest of what was read into an attachment, as for a Binary fetched from a server: probe134 D1)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from click.testing import CliRunner

from poems_fhir.cli import main

SAMPLES = Path(__file__).parents[2] / "sample_bundles"


def _input(path: Path, text: str) -> Path:
    bundle = json.loads((SAMPLES / "classic-poems.json").read_text(encoding="utf-8"))
    note = {
        "resourceType": "DocumentReference",
        "id": "ct-note",
        "status": "current",
        "type": {"coding": [{"system": "http://loinc.org", "code": "18748-4"}]},
        "description": "CT chest abdomen pelvis",
        "subject": {"reference": "Patient/classic-poems"},
        "date": "2024-03-05",
        "content": [{"attachment": {"contentType": "text/plain", "url": "Binary/ct-text"}}],
    }
    binary = {
        "resourceType": "Binary",
        "id": "ct-text",
        "contentType": "text/plain",
        "data": base64.b64encode(text.encode()).decode(),
    }
    bundle["entry"] += [{"resource": note}, {"resource": binary}]
    path.write_text(json.dumps(bundle), encoding="utf-8")
    return path


def _sync(tmp_path: Path, text: str) -> dict[str, object]:
    source = _input(tmp_path / "in.json", text)
    args = ["sync", "--source", str(source), "--out", str(tmp_path / "o"), "--state", str(tmp_path / "s.sqlite")]
    result = CliRunner().invoke(main, [*args, "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    summary: dict[str, object] = json.loads(result.stdout)
    return summary


def test_a_binarys_new_text_is_a_change_and_the_same_text_none(tmp_path: Path) -> None:
    first = _sync(tmp_path, "CT. IMPRESSION: Moderate ascites.")
    assert first["written"] == 1
    again = _sync(tmp_path, "CT. IMPRESSION: Moderate ascites.")
    assert again["written"] == 0 and again["unchanged"] == 1
    # the same finding in other words: what it says is the same, but the note the report cites changed
    reworded = _sync(tmp_path, "CT. IMPRESSION: Ascites, moderate.")
    assert reworded["written"] == 1 and reworded["unchanged"] == 0
