"""Pruned stubs kept by their place in the file (fhir/spool.py ``_Spooler.take``, issue #11): the
plainest vitals become a row of ``stubs`` - key, patient, file, line, offset - and their identity is
read back from the file only where it matters. Whatever the lane, the spool still reads exactly what
read_paths reads: a reference to a vital resolves to its identity, a vital read twice (or sharing a
key with a lab) is settled as before, a fullUrl that looks like a subject still names its patient."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from poems_fhir.fhir import spool
from poems_fhir.fhir.spool import iter_records, open_paths, stub_identity
from poems_fhir.mapping.extract import observation_pruner
from poems_fhir.mapping.rules import CompiledMapping
from tests.fhir.test_spool import _bundle, _lines, _patient, assert_same_as_read_paths

HEART_RATE = {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]}  # no rule knows it: pruned


def _vital(oid: str, subject: str = "Patient/p", stamp: str | None = None, **extra: Any) -> dict[str, Any]:
    v: dict[str, Any] = {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": HEART_RATE,
        "subject": {"reference": subject},
        "valueQuantity": {"value": 70, "unit": "/min"},
        **extra,
    }
    if stamp:
        v["meta"] = {"lastUpdated": stamp}
    return v


def _lab(oid: str, subject: str = "Patient/p") -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "75628-8"}]},
        "subject": {"reference": subject},
        "effectiveDateTime": "2019-02-01",
        "valueQuantity": {"value": 900, "unit": "pg/mL"},
    }


def _stub_rows(source: spool.SpoolSource) -> list[tuple[str, str, int]]:
    with sqlite3.connect(source.db_path) as conn:
        return conn.execute("SELECT key, patient, line FROM stubs ORDER BY seq").fetchall()


def test_plain_vitals_take_the_lean_lane_and_others_do_not(tmp_path: Path, mapping: CompiledMapping) -> None:
    (tmp_path / "a.ndjson").write_bytes(
        _lines(
            _patient("p"),
            _vital("v1"),  # the plainest shape: kept by its place in the file
            _vital("v2", stamp="2020-01-01T00:00:00Z"),
            _vital("v3", subject="http://h/fhir/Patient/p"),  # an absolute subject: the usual way
            _vital("v4", identifier=[{"system": "s", "value": "1"}]),  # an identifier: the usual way
            _vital("v5", meta={"lastUpdated": "2019-02-30"}),  # not a day: refused the usual way
            _lab("o1"),
        )
    )
    with open_paths([tmp_path], prune=observation_pruner(mapping)) as source:
        assert _stub_rows(source) == [("Observation/v1", "Patient/p", 2), ("Observation/v2", "Patient/p", 3)]
        assert [e.resource for e in source.errors] == ["Observation/v5"]
    assert_same_as_read_paths([tmp_path], prune=observation_pruner(mapping))


def test_a_reference_to_a_vital_resolves_to_its_identity(tmp_path: Path, mapping: CompiledMapping) -> None:
    report = {
        "resourceType": "DiagnosticReport",
        "id": "r",
        "status": "final",
        "code": {"text": "vitals"},
        "subject": {"reference": "Patient/p"},
        "result": [{"reference": "Observation/v1"}, {"reference": "Observation/v2"}],
    }
    (tmp_path / "Observation.ndjson").write_bytes(
        b"\xef\xbb\xbf" + _lines(_vital("v1", stamp="2020-01-01T00:00:00Z"), _vital("v2", "Patient/q"))
    )
    (tmp_path / "z.ndjson").write_bytes(_lines(_patient("p"), _patient("q"), report))
    with open_paths([tmp_path], prune=observation_pruner(mapping)) as source:
        assert len(_stub_rows(source)) == 2
        record = next(r for r in iter_records(source) if r.patient == "Patient/p")
        assert record.resolve("Observation/v1") == {
            "resourceType": "Observation",
            "id": "v1",
            "meta": {"lastUpdated": "2020-01-01T00:00:00Z"},
            "subject": {"reference": "Patient/p"},
        }
        # another patient's: never resolved for this one (tests/fhir/test_reference_ownership.py)
        assert record.resolve("Observation/v2") is None
        other = next(r for r in iter_records(source) if r.patient == "Patient/q")
        assert other.resolve("Observation/v2") == {
            "resourceType": "Observation",
            "id": "v2",
            "subject": {"reference": "Patient/q"},
        }
    assert_same_as_read_paths([tmp_path], prune=observation_pruner(mapping))


@pytest.mark.parametrize("order", ["lab first", "vital first"])
def test_vitals_read_twice_or_sharing_a_lab_key_are_settled_as_before(
    tmp_path: Path, mapping: CompiledMapping, order: str
) -> None:
    lab = _lab("x")
    lab["meta"] = {"lastUpdated": "2019-01-01T00:00:00Z"}
    later = _vital("x", stamp="2021-01-01T00:00:00Z")  # a later version of the lab, now a vital
    pair = [lab, later] if order == "lab first" else [later, lab]
    (tmp_path / "a.ndjson").write_bytes(
        _lines(
            _patient("p"),
            *pair,
            _vital("d", stamp="2020-01-01T00:00:00Z"),
            _vital("d", stamp="2020-01-01T00:00:00Z"),  # the same resource twice
            _vital("e", stamp="2020-01-01T00:00:00Z"),
            _vital("e", stamp="2020-01-01T00:00:00Z", status="amended"),  # pruned: the same identity
            _vital("f", subject="Patient/p"),
            _vital("g"),
        )
    )
    (tmp_path / "b.ndjson").write_bytes(_lines(_vital("f", subject="Patient/q"), _patient("q")))  # another subject
    with open_paths([tmp_path], prune=observation_pruner(mapping)) as source:
        assert [key for key, _p, _l in _stub_rows(source)] == ["Observation/g"]  # only the unique one left
        assert [e.resource for e in source.errors] == ["Observation/f"]
        assert all(r.resources == [] for r in iter_records(source))  # the lab was replaced by its later version
    assert_same_as_read_paths([tmp_path], prune=observation_pruner(mapping))
    assert_same_as_read_paths([tmp_path], prune=observation_pruner(mapping), max_per_patient=3)


def test_a_subject_that_is_an_entrys_full_url_still_names_its_patient(tmp_path: Path, mapping: CompiledMapping) -> None:
    # hostile but readable: a Bundle whose entry's fullUrl is "Patient/alias" for the Patient p
    (tmp_path / "a.json").write_text(_bundle({"fullUrl": "Patient/alias", "resource": _patient("p")}))
    (tmp_path / "b.ndjson").write_bytes(_lines(_vital("v1", subject="Patient/alias"), _vital("v2")))
    with open_paths([tmp_path], prune=observation_pruner(mapping)) as source:
        assert [key for key, _p, _l in _stub_rows(source)] == ["Observation/v2"]
        assert source.patients() == ["Patient/p"]
    assert_same_as_read_paths([tmp_path], prune=observation_pruner(mapping))


def test_a_file_changed_under_the_reader_is_reported_not_misread(
    tmp_path: Path, mapping: CompiledMapping, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.ndjson"
    path.write_bytes(_lines(_patient("p"), _vital("v1"), _vital("v1", status="amended")))
    finish = spool._Spooler.finish

    def finish_after_a_change(self: spool._Spooler, max_per_patient: int) -> None:
        path.write_bytes(_lines(_patient("p"), _vital("other"), _vital("v1")))
        finish(self, max_per_patient)

    monkeypatch.setattr(spool._Spooler, "finish", finish_after_a_change)
    with open_paths([tmp_path], prune=observation_pruner(mapping)) as source:
        assert [(e.source, e.resource) for e in source.errors][0] == (f"{path}:2", "Observation/v1")
        assert "changed while it was read" in source.errors[0].message


def test_stub_identity_reads_the_line_back_and_checks_it(tmp_path: Path) -> None:
    path = tmp_path / "a.ndjson"
    content = _lines(_vital("v0"), _vital("v1", "Patient/q")) + b"\n"
    path.write_bytes(content)
    at = content.index(b"\n") + 1
    raw = bytes(path)
    assert stub_identity("Observation/v1", "Patient/q", 2, at, raw) == {
        "resourceType": "Observation",
        "id": "v1",
        "subject": {"reference": "Patient/q"},
    }
    assert stub_identity("Observation/v1", "Patient/p", 2, at, raw) is None  # another subject
    assert stub_identity("Observation/v0", "Patient/q", 2, at, raw) is None  # another resource
    assert stub_identity("Observation/v1", "Patient/q", 2, at + 1, raw) is None  # not a line start
    assert stub_identity("Observation/v1", "Patient/q", 2, at, bytes(tmp_path / "gone")) is None


def test_a_feed_read_twice_settles_every_vital_as_before(tmp_path: Path, mapping: CompiledMapping) -> None:
    # the same export in two folders: every stub is read back (more than one batch of them)
    vitals = [_vital(f"v{i}", subject=f"Patient/p{i % 7}", stamp="2020-01-01T00:00:00Z") for i in range(2600)]
    content = _lines(*[_patient(f"p{i}") for i in range(7)], *vitals)
    for copy in ("a", "b"):
        (tmp_path / copy).mkdir()
        (tmp_path / copy / "export.ndjson").write_bytes(content)
    with open_paths([tmp_path], prune=observation_pruner(mapping)) as source:
        assert _stub_rows(source) == []  # every one read back, settled as a duplicate
        assert source.errors == [] and len(source.patients()) == 7
    assert_same_as_read_paths([tmp_path], prune=observation_pruner(mapping))
    assert_same_as_read_paths([tmp_path], prune=observation_pruner(mapping), max_per_patient=700)


def test_a_retired_records_vitals_count_as_its_survivors(tmp_path: Path, mapping: CompiledMapping) -> None:
    """probe79 D1: a stub keeps the patient its line names (it is read back by it); the limit of
    resources per patient counts a merged record's stubs as its survivor's, as read_paths does."""
    (tmp_path / "a.ndjson").write_bytes(
        _lines(
            _patient("old", link=[{"type": "replaced-by", "other": {"reference": "Patient/new"}}]),
            _patient("new"),
            _vital("v1", subject="Patient/old"),
            _vital("v2", subject="Patient/old"),
            _lab("o1", subject="Patient/new"),
        )
    )
    prune = observation_pruner(mapping)
    with open_paths([tmp_path], prune=prune) as source:
        assert [key for key, _, _ in _stub_rows(source)] == ["Observation/v1", "Observation/v2"]
        record = source.record("Patient/new")
        assert record is not None and record.merged_from == ("Patient/old",)
        # a reference to the old record's vital resolves: it is the survivor's own
        assert (record.resolve("Observation/v1") or {}).get("id") == "v1" and record.refused == []
    with open_paths([tmp_path], prune=prune, max_per_patient=2) as source:
        assert source.patients() == ["Patient/old"]  # the survivor holds 3: over the limit
    assert_same_as_read_paths([tmp_path], prune=prune)
    assert_same_as_read_paths([tmp_path], prune=prune, max_per_patient=2)
