"""Keying a block: each resource to its patient, as `read._group_by_patient` will decide it."""

from __future__ import annotations

import json
import subprocess
import sys

from poems_fhir.distributed.keying import ORPHAN, SHARED, Block, PatientMap, bucket_of, key_block, patient_key, scan

BLOCK = Block(0, 0, "x.ndjson", True)
DATA = b"".join(
    json.dumps(r).encode() + b"\n"
    for r in [
        {"resourceType": "Patient", "id": "p1", "identifier": 5},  # not validated yet: any JSON type
        {"resourceType": "Patient", "id": "p2", "identifier": [{"system": "s", "value": "v"}, 3]},
        {"resourceType": "Observation", "id": "o1", "subject": {"reference": "Patient?identifier=s|v"}},
        [1],
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": {"resourceType": "Medication", "id": "m"}}, 5],
        },
        {"resourceType": "Claim", "id": "c1", "patient": {"reference": "Patient/p1"}},
    ]
)


def test_scan_finds_patients_shared_resources_and_lines():
    s = scan(BLOCK, DATA)
    assert s.newlines == 6
    assert [(p.key, p.identifiers) for p in s.patients] == [
        ("Patient/p1", ()),
        ("Patient/p2", ({"system": "s", "value": "v"},)),
    ]
    assert [(order, line, suffix, data["id"]) for order, line, suffix, data, _, _ in s.shared] == [
        ((0, 0, 4, 0), 4, "#entry[0]", "m")
    ]


def test_key_block_keys_resources_and_reports_bad_lines_with_their_line_numbers():
    pmap = PatientMap.build(scan(BLOCK, DATA).patients)
    keyed = key_block(BLOCK, DATA, 11, pmap, 3)  # the block starts at line 11 of its file
    resources = [(k.patient, k.origin) for k in keyed if k.text is not None or k.data is not None]
    assert resources == [("Patient/p1", "x.ndjson:11"), ("Patient/p2", "x.ndjson:12"), ("Patient/p2", "x.ndjson:13")]
    errors = [(k.error.source, k.error.message) for k in keyed if k.error]
    assert errors == [
        ("x.ndjson:14", "not a FHIR resource: a JSON array"),  # line 14 is an array (probe70 D15)
        ("x.ndjson:15#entry[1]", "entry is not an object"),
    ]
    # 2 Patients, the Observation, the Medication entry; the Claim line is skipped before parsing
    assert [k.counts for k in keyed if k.counts] == [(4, 0)]
    assert all(k.bucket == bucket_of(k.patient, 3) for k in keyed if k.text is not None)


def test_patient_key_rules():
    pmap = PatientMap.build([])
    pmap.by_full_url["urn:uuid:a"] = "Patient/a"
    pmap.patients["Patient/a"] = {"identifier": []}
    obs = {"resourceType": "Observation"}
    assert patient_key({**obs, "subject": {"reference": "urn:uuid:a"}}, None, pmap) == "Patient/a"
    assert (
        patient_key({**obs, "subject": {"reference": "https://h/fhir/Patient/9/_history/2"}}, None, pmap) == "Patient/9"
    )
    assert patient_key({**obs, "subject": {"reference": "Group/g"}}, None, pmap) == ORPHAN
    assert patient_key(obs, None, pmap) == ORPHAN
    assert patient_key({"resourceType": "Specimen", "id": "s"}, None, pmap) is SHARED
    assert patient_key({"resourceType": "Specimen", "subject": {"reference": "Patient/b"}}, None, pmap) == "Patient/b"
    assert patient_key({"resourceType": "Patient"}, "urn:uuid:z", pmap) == "urn:uuid:z"
    assert patient_key({"resourceType": "Not-a-type"}, None, pmap) == ORPHAN  # reported by the grouping


def test_bucket_is_the_same_in_every_process():
    """Not Python's hash (randomised per process): a patient lands in the same partition everywhere."""
    code = "from poems_fhir.distributed.keying import bucket_of; print(bucket_of('Patient/p1', 7))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(other.stdout) == bucket_of("Patient/p1", 7)
    assert len({bucket_of(f"Patient/p{i}", 7) for i in range(100)}) == 7
