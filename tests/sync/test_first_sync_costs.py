"""What the first-sync speed work changed must not change what is written (issue #11, item 5)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from poems_fhir.sync import runner
from poems_fhir.sync.sinks import DirSink, bundle_bytes


def test_a_written_bundle_is_json_with_one_entry_per_line(tmp_path: Path) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:1",
                "resource": {"resourceType": "Device", "note": [{"text": "Ünïcode\nline"}]},
                "request": {"method": "PUT", "url": "Device?identifier=x|1"},
            },
            {
                "fullUrl": "urn:uuid:2",
                "resource": {"resourceType": "CarePlan", "status": "draft"},
                "request": {"method": "PUT", "url": "CarePlan?identifier=x|2"},
            },
        ],
    }
    blob = bundle_bytes(bundle)
    assert json.loads(blob) == bundle
    lines = blob.decode("utf-8").splitlines()
    assert len(lines) == 4 and lines[1].startswith('{"fullUrl":"urn:uuid:1"') and "Ünïcode" in lines[1]
    assert lines[0] == '{"resourceType":"Bundle","type":"transaction","entry":[' and lines[3] == "]}"
    assert json.loads(bundle_bytes({"resourceType": "Bundle", "type": "transaction", "entry": []}))["entry"] == []
    assert json.loads(bundle_bytes({"entry": bundle["entry"]})) == {"entry": bundle["entry"]}  # no other key
    odd = {"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Basic", "n": 2**70}}]}
    assert json.loads(bundle_bytes(odd)) == odd  # past 64 bits: the json module writes that entry
    DirSink(tmp_path, key=b"installation").write("Patient/p1", bundle)
    (written,) = tmp_path.iterdir()
    assert json.loads(written.read_text(encoding="utf-8")) == bundle


def test_the_mapping_is_compiled_again_only_when_a_file_changes(tmp_path: Path, monkeypatch) -> None:
    compiled: list[list[str | Path]] = []

    def fake_load(paths):  # type: ignore[no-untyped-def]
        compiled.append(list(paths))
        return object()

    monkeypatch.setattr(runner, "load_mapping", fake_load)
    monkeypatch.setattr(runner, "_MAPPING", {})
    site = tmp_path / "site.yaml"
    site.write_text("a: 1\n")
    first = runner.mapping_for([site])
    assert runner.mapping_for([site]) is first and len(compiled) == 1
    site.write_text("a: 22\n")  # another size
    os.utime(site, ns=(1, 1))
    assert runner.mapping_for([site]) is not first and len(compiled) == 2
    assert runner.mapping_for([]) is not None and len(compiled) == 3  # other files, other mapping
