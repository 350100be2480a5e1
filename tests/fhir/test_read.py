"""Reading Bundles, NDJSON and folders; references; bad input reported and skipped."""

from __future__ import annotations

import json

import pytest

from poems_fhir.fhir.read import InputError, read_paths
from tests.conftest import SAMPLES


def obs(i: int, subject: str) -> dict:
    return {
        "resourceType": "Observation",
        "id": f"o{i}",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "777-3"}]},
        "subject": {"reference": subject},
    }


@pytest.mark.parametrize("btype", ["collection", "searchset", "transaction", "batch", "document"])
def test_bundle_types(tmp_path, btype):
    bundle = {
        "resourceType": "Bundle",
        "type": btype,
        "entry": [
            {"resource": {"resourceType": "Patient", "id": "a"}},
            {"resource": obs(1, "Patient/a")},
            {"resource": obs(2, "https://other.example/fhir/Patient/a/_history/3")},
        ],
    }
    (tmp_path / "b.json").write_text(json.dumps(bundle))
    result = read_paths([tmp_path])
    (record,) = result.records
    assert record.patient == "Patient/a"
    assert sorted(r.ref for r in record.resources) == ["Observation/o1", "Observation/o2"]
    assert result.errors == []


def test_urn_uuid_references_resolve_to_the_patient():
    result = read_paths([SAMPLES / "transaction-urn-uuid.json"])
    (record,) = result.records
    assert record.patient == "Patient/txn-patient"
    assert len(record.resources) == 4
    assert record.patient_resource["gender"] == "female"


def test_patient_without_id_is_keyed_by_its_full_url(tmp_path):
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:p",
                "resource": {"resourceType": "Patient"},
                "request": {"method": "POST", "url": "Patient"},
            },
            {
                "fullUrl": "urn:uuid:o",
                "resource": obs(1, "urn:uuid:p"),
                "request": {"method": "POST", "url": "Observation"},
            },
        ],
    }
    (tmp_path / "t.json").write_text(json.dumps(bundle))
    (record,) = read_paths([tmp_path]).records
    assert record.patient == "urn:uuid:p" and len(record.resources) == 1


def test_ndjson_bad_lines_are_reported_and_skipped(tmp_path):
    lines = [json.dumps(obs(1, "Patient/a")), "{not json", json.dumps({"no": "type"}), json.dumps(obs(2, "Patient/a"))]
    (tmp_path / "x.ndjson").write_text("\n".join(lines))
    result = read_paths([tmp_path / "x.ndjson"])
    assert len(result.records[0].resources) == 2
    assert [e.source.rsplit(":", 1)[1] for e in result.errors] == ["2", "3"]


def test_html_error_page_is_reported(tmp_path):
    (tmp_path / "page.json").write_text("<html><body>502 Bad Gateway</body></html>")
    (tmp_path / "ok.json").write_text(json.dumps(obs(1, "Patient/a")))
    result = read_paths([tmp_path])
    assert "looks like HTML" in result.errors[0].message
    assert len(result.records) == 1


def test_resource_without_subject_is_reported(tmp_path):
    o = obs(1, "Patient/a")
    del o["subject"]
    (tmp_path / "x.json").write_text(json.dumps(o))
    result = read_paths([tmp_path])
    assert result.records == [] and "no subject" in result.errors[0].message


def test_duplicates_keep_the_latest_version(tmp_path):
    old = {**obs(1, "Patient/a"), "meta": {"lastUpdated": "2020-01-01T00:00:00Z"}, "status": "preliminary"}
    new = {**obs(1, "Patient/a"), "meta": {"lastUpdated": "2021-01-01T00:00:00Z"}, "status": "final"}
    (tmp_path / "1.json").write_text(json.dumps(new))
    (tmp_path / "2.json").write_text(json.dumps(old))
    (resource,) = read_paths([tmp_path]).records[0].resources
    assert resource.data["status"] == "final"


def test_irrelevant_types_are_counted_not_kept(tmp_path):
    claim = {"resourceType": "Claim", "id": "c", "patient": {"reference": "Patient/a"}}
    (tmp_path / "x.json").write_text(
        json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [{"resource": claim}]})
    )
    result = read_paths([tmp_path])
    assert result.skipped_types == 1 and result.records == []


def test_missing_path_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_paths([tmp_path / "nope"])
    with pytest.raises(InputError, match="no .json"):
        read_paths([tmp_path])


def test_a_survivors_replaces_link_takes_the_old_records_resources_and_references():
    """probe79 D1, the server's answer (records_from_resources): the old Patient is not in it; its
    Specimen, named by the survivor's result, resolves as the survivor's own."""
    from poems_fhir.fhir.read import records_from_resources

    survivor = {
        "resourceType": "Patient",
        "id": "new",
        "link": [{"type": "replaces", "other": {"reference": "Patient/old"}}],
    }
    specimen = {"resourceType": "Specimen", "id": "s", "subject": {"reference": "Patient/old"}}
    result = {**obs(1, "Patient/new"), "specimen": {"reference": "Specimen/s"}}
    records, errors = records_from_resources([(survivor, "a"), (specimen, "b"), (result, "c")])
    assert errors == [] and [r.patient for r in records] == ["Patient/new"]
    (record,) = records
    assert [raw.ref for raw in record.resources] == ["Specimen/s", "Observation/o1"]
    assert record.resolve("Specimen/s", result) == specimen and record.refused == []
