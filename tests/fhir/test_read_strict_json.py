"""Reading (fhir/read.py, fhir/spool.py) of JSON that parsers resolve by their own rule: a key given twice
in one object is refused where it is - the resource, the Bundle entry, or a Bundle whose own top level
repeats a key as a whole - and the rest is read (probe99 D1); an integer of more than 4,300 digits costs
no more than a 400-digit one (probe99 D3); a byte-order mark at the start of a later NDJSON line, two
exports joined with `cat`, is skipped (probe99 D4). Every case in every reader (assert_same_as_read_paths)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from poems_fhir.fhir.read import read_paths
from tests.fhir.test_spool import assert_same_as_read_paths

BOM = b"\xef\xbb\xbf"
BIG = "9" * 5000


def _patient(pid: str) -> str:
    return json.dumps({"resourceType": "Patient", "id": pid, "gender": "female", "birthDate": "1960-01-01"})


def _vegf(oid: str, pid: str, value: str = '{"value": 624, "unit": "pg/mL"}', extra: str = "") -> str:
    return (
        f'{{"resourceType": "Observation", "id": "{oid}", "status": "final",'
        ' "code": {"coding": [{"system": "http://loinc.org", "code": "75628-8", "display": "VEGF"}]},'
        f' "subject": {{"reference": "Patient/{pid}"}}, "effectiveDateTime": "2024-01-10",'
        f' "valueQuantity": {value}{extra}}}'
    )


def _ife(oid: str, subject: str) -> str:
    return (
        f'{{"resourceType": "Observation", "id": "{oid}", "status": "final",'
        ' "code": {"coding": [{"system": "http://loinc.org", "code": "25700-6"}]},'
        f" {subject}, "
        '"effectiveDateTime": "2024-01-10", "valueString": "IgG lambda monoclonal band detected"}'
    )


def _bundle(*resources: str, top: str = "") -> str:
    entries = ", ".join(f'{{"fullUrl": "urn:uuid:{i}", "resource": {r}}}' for i, r in enumerate(resources))
    return f'{{"resourceType": "Bundle", "type": "collection", "entry": [{entries}]{top}}}'


def _refs(result: Any) -> dict[str, list[str]]:
    return {r.patient: sorted(x.ref for x in r.resources) for r in result.records}


def test_a_bundle_entry_that_repeats_a_key_is_refused_naming_it_and_the_rest_is_read(tmp_path: Path) -> None:
    subject_twice = '"subject": {"reference": "Patient/p2"}, "subject": {"reference": "Patient/p1"}'
    status_twice = _vegf("v3", "p2").replace('"status": "final"', '"status": "entered-in-error", "status": "final"')
    (tmp_path / "b.json").write_text(
        _bundle(
            _patient("p1"),
            _patient("p2"),
            _vegf("v1", "p1", '{"value": 624, "unit": "pg/mL", "value": 50}'),
            _ife("ife1", subject_twice),
            status_twice,
            _vegf("v2", "p2"),
        )
    )
    result = read_paths([tmp_path])
    assert _refs(result) == {"Patient/p1": [], "Patient/p2": ["Observation/v2"]}
    got = [(e.source.rsplit("#", 1)[1], e.resource, e.message) for e in result.errors]
    assert [g[:2] for g in got] == [
        ("entry[2]", "Observation/v1"),
        ("entry[3]", "Observation/ife1"),
        ("entry[4]", "Observation/v3"),
    ]
    assert "the key 'value' is given twice in one JSON object, in Observation.valueQuantity" in got[0][2]
    assert "the key 'subject' is given twice in one JSON object, at the top level of Observation" in got[1][2]
    assert "'status' is given twice" in got[2][2] and got[2][2].endswith("this entry is skipped")
    assert_same_as_read_paths([tmp_path])


def test_a_bundle_repeating_its_own_entry_key_is_refused_as_a_file(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(_bundle(_patient("a"), top=f', "entry": [{{"resource": {_patient("b")}}}]'))
    (tmp_path / "c.json").write_text(_bundle(_patient("c")))
    result = read_paths([tmp_path])
    assert _refs(result) == {"Patient/c": []}  # not Patient/b alone, without a word
    [error] = result.errors
    assert error.source.endswith("a.json") and error.resource is None
    assert "the key 'entry' is given twice in one JSON object, at the top level of Bundle" in error.message
    assert "the Bundle is not read" in error.message
    assert_same_as_read_paths([tmp_path])


def test_an_ndjson_line_that_repeats_a_key_is_refused_and_the_other_lines_read(tmp_path: Path) -> None:
    lines = [
        _patient("p1"),
        _vegf("v1", "p1", extra=', "valueQuantity": {"value": 50, "unit": "pg/mL"}'),
        _vegf("v2", "p1"),
        _vegf("v3", "p1", extra=', "resourceType": "Patient"'),
        _bundle(_vegf("v4", "p1", '{"value": 1, "value": 2}'), _vegf("v5", "p1")),
    ]
    (tmp_path / "a.ndjson").write_text("\n".join(lines) + "\n")
    result = read_paths([tmp_path])
    assert _refs(result) == {"Patient/p1": ["Observation/v2", "Observation/v5"]}
    got = [(e.source.rsplit(":", 1)[1], e.message) for e in result.errors]
    assert [g[0] for g in got] == ["2", "4", "5#entry[0]"]
    assert "'valueQuantity' is given twice" in got[0][1] and got[0][1].endswith("this resource is skipped")
    assert "'resourceType' is given twice in one JSON object, at its top level" in got[1][1]
    assert "in Observation.valueQuantity" in got[2][1]
    assert_same_as_read_paths([tmp_path])


def test_an_integer_past_pythons_digit_limit_costs_no_other_resource(tmp_path: Path) -> None:
    unread = f', "extension": [{{"url": "http://example.org/x", "valueInteger": {BIG}}}]'
    (tmp_path / "a.json").write_text(_bundle(_patient("good"), _patient("p1"), _vegf("v1", "p1", extra=unread)))
    read = f'{{"value": {BIG}, "unit": "pg/mL"}}'
    (tmp_path / "b.ndjson").write_text("\n".join([_patient("p2"), _vegf("v2", "p2", read), _vegf("v3", "p2")]))
    result = read_paths([tmp_path])
    assert _refs(result) == {
        "Patient/good": [],
        "Patient/p1": ["Observation/v1"],  # the number sits where nothing reads it
        "Patient/p2": ["Observation/v3"],
    }
    [error] = result.errors
    assert error.source.endswith("b.ndjson:2") and error.resource == "Observation/v2"
    assert "Observation.valueQuantity.value is not a finite number (inf)" in error.message
    assert "beyond ±1.8e308 are not allowed" in error.message
    assert "set_int_max_str_digits" not in error.message
    assert_same_as_read_paths([tmp_path])


def test_a_byte_order_mark_at_the_start_of_a_later_ndjson_line_is_skipped(tmp_path: Path) -> None:
    first = BOM + "\n".join([_patient("a"), _vegf("v1", "a")]).encode() + b"\n"
    second = BOM + "\n".join([_patient("b"), _vegf("v2", "b")]).encode() + b"\n"
    (tmp_path / "joined.ndjson").write_bytes(first + second)  # `cat a.ndjson b.ndjson`
    result = read_paths([tmp_path])
    assert result.errors == []
    assert _refs(result) == {"Patient/a": ["Observation/v1"], "Patient/b": ["Observation/v2"]}
    assert_same_as_read_paths([tmp_path])
