"""probe87 D5: "#id" references to a resource's contained resources resolve by an index per container, not
by a scan of the list per reference (20,000 contained Specimens referenced from their report: 16.6 s)."""

from __future__ import annotations

import json
from typing import Any

from poems_fhir.fhir.read import ResourceIndex, read_paths
from poems_fhir.mapping.extract import extract
from poems_fhir.mapping.rules import load_mapping

N = 400


class CountingList(list):
    """A ``contained`` list that counts how often it is walked through."""

    walks = 0

    def __iter__(self) -> Any:
        CountingList.walks += 1
        return super().__iter__()


def _bundle(tmp_path, n: int = N):
    report = {
        "resourceType": "DiagnosticReport",
        "id": "r1",
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD"}]}],
        "code": {"text": "CT whole body"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-15",
        "conclusion": "Sclerotic lesions in L2.",
        "contained": [{"resourceType": "Specimen", "id": f"s{i}", "type": {"text": f"tissue {i}"}} for i in range(n)],
        "specimen": [{"reference": f"#s{i}"} for i in range(n)],
    }
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": {"resourceType": "Patient", "id": "p1", "gender": "male", "birthDate": "1970-01-01"}},
            {"resource": report},
        ],
    }
    (tmp_path / "b.json").write_text(json.dumps(bundle), encoding="utf-8")
    (record,) = read_paths([tmp_path]).records
    (data,) = [r.data for r in record.resources if r.ref == "DiagnosticReport/r1"]
    return record, data


def test_each_contained_reference_resolves_to_its_own_resource(tmp_path):
    record, data = _bundle(tmp_path)
    for i in (0, 1, N // 2, N - 1):
        assert record.resolve(f"#s{i}", data)["type"]["text"] == f"tissue {i}"
    assert record.resolve("#nope", data) is None and record.resolve("#s1", {}) is None
    assert record.resolve("#s1", {"contained": "not a list"}) is None


def test_resolving_every_reference_walks_the_contained_list_once_not_once_a_reference(tmp_path):
    record, data = _bundle(tmp_path)
    data["contained"] = CountingList(data["contained"])
    CountingList.walks = 0
    found = [record.resolve(f"#s{i}", data) for i in range(N)]
    assert all(f is not None for f in found)
    assert CountingList.walks == 1  # a scan per reference was N walks: quadratic
    ex = extract(record, load_mapping())  # the whole report, as `evaluate` reads it
    assert {f.topic for f in ex.findings} == {"sclerotic_bone_lesions"}
    assert CountingList.walks <= 10


def test_the_first_of_two_contained_resources_with_one_id_wins_and_a_changed_list_is_indexed_again():
    from poems_fhir.fhir.read import MAX_CONTAINED_INDEXES

    index = ResourceIndex()
    first, second = {"resourceType": "Specimen", "id": "a", "n": 1}, {"resourceType": "Specimen", "id": "a", "n": 2}
    container = {"contained": [first, second]}
    assert index.resolve("#a", container) is first
    container["contained"].insert(0, {"resourceType": "Specimen", "id": "a", "n": 0})
    assert index.resolve("#a", container)["n"] == 0
    for i in range(MAX_CONTAINED_INDEXES + 5):  # the indexes kept are bounded
        index.resolve("#x", {"contained": [{"resourceType": "Specimen", "id": "x", "n": i}]})
    assert len(index._contained) == MAX_CONTAINED_INDEXES
