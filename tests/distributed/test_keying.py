"""Keying a block: each resource to its patient, as `read._group_by_patient` will decide it."""

from __future__ import annotations

import json
import subprocess
import sys

from poems_fhir.distributed.keying import (
    JOIN,
    ORPHAN,
    SHARED,
    BinaryMap,
    Block,
    PatientMap,
    bucket_of,
    key_block,
    patient_key,
    scan,
)

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


def _note(rid: str, subject: str, *attachments: dict, rtype: str = "DocumentReference") -> dict:
    if rtype == "DiagnosticReport":
        return {"resourceType": rtype, "id": rid, "subject": {"reference": subject}, "presentedForm": list(attachments)}
    content = [{"attachment": a} for a in attachments]
    return {"resourceType": rtype, "id": rid, "subject": {"reference": subject}, "content": content}


def _ndjson(*resources: dict) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in resources)


NOTES = _ndjson(
    {"resourceType": "Patient", "id": "p1"},
    {"resourceType": "Patient", "id": "p2", "identifier": [{"system": "urn:mrn", "value": "M-2"}]},
    {"resourceType": "Patient", "id": "old", "link": [{"other": {"reference": "Patient/p1"}, "type": "replaced-by"}]},
    _note(
        "d1", "Patient/p1", {"url": "https://ehr.example.org/fhir/Binary/b1/_history/2", "contentType": "text/plain"}
    ),
    _note("d2", "Patient?identifier=urn:mrn|M-2", {"url": "Binary/b1"}),  # untyped: read as text
    _note("d3", "Patient/old", {"url": "Binary/b3", "contentType": "text/html"}),  # a merged record's: p1's
    _note("r1", "Patient/p2", {"url": "urn:uuid:0000-x", "contentType": "application/pdf"}, rtype="DiagnosticReport"),
    # an inline format beside it: joined too (the reading falls through to it when the inline one cannot be read)
    _note(
        "d6",
        "Patient/p1",
        {"data": "eA==", "contentType": "text/plain"},
        {"url": "Binary/alt", "contentType": "text/html"},
    ),
    # controls: nothing to join
    _note("d4", "Patient/p1", {"url": "#inner"}),  # contained: travels inside the note
    _note("d5", "Patient/p1", {"url": "Binary/img", "contentType": "image/jpeg"}),  # no text: never read
    _note("d7", "Group/g1", {"url": "Binary/group"}),  # no patient: not evaluated
    _note("d8", "Patient/p1", {"url": "https://elsewhere.example/report.txt"}),  # no Binary of the input
    {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "fullUrl": "urn:uuid:0000-x",
                "resource": {"resourceType": "Binary", "id": "bx", "contentType": "text/plain"},
            },
        ],
    },
)


def test_scan_keeps_the_names_of_the_binaries_notes_name():
    s = scan(BLOCK, NOTES)
    assert s.notes == [
        ("Patient/p1", ("Binary/b1",)),  # any base, any version: the version is checked when it is read
        ("Patient?identifier=urn:mrn|M-2", ("Binary/b1",)),
        ("Patient/old", ("Binary/b3",)),
        ("Patient/p2", ("urn:uuid:0000-x",)),
        ("Patient/p1", ("Binary/alt",)),
        ("Group/g1", ("Binary/group",)),
    ]
    assert s.binary_urls == [("urn:uuid:0000-x", "Binary/bx")]


def test_the_binary_map_sends_each_binary_to_the_patients_whose_notes_name_it():
    s = scan(BLOCK, NOTES)
    pmap = PatientMap.build(s.patients)
    binaries = BinaryMap.build([s], pmap)
    assert binaries.by_name == {
        "Binary/b1": ("Patient/p1", "Patient/p2"),  # named by two patients: both
        "Binary/b3": ("Patient/p1",),  # the survivor's, as the PatientMap keys the retired record's resources
        "urn:uuid:0000-x": ("Patient/p2",),
        "Binary/bx": ("Patient/p2",),  # the Binary that fullUrl stands for: every copy of its key
        "Binary/alt": ("Patient/p1",),
    }
    binary = {"resourceType": "Binary", "contentType": "text/plain", "data": "eA=="}
    assert patient_key(binary, None, pmap) == JOIN
    assert binaries.patients_of({**binary, "id": "b1"}, None) == ("Patient/p1", "Patient/p2")
    assert binaries.patients_of(binary, "https://ehr.example.org/fhir/Binary/b3") == ("Patient/p1",)
    assert binaries.patients_of(binary, "urn:uuid:0000-x") == ("Patient/p2",)
    assert binaries.patients_of({**binary, "id": "bx"}, None) == ("Patient/p2",)
    assert binaries.patients_of({**binary, "id": "b9"}, None) == ()
    assert binaries.patients_of(binary, None) == ()
    # a Binary that says whose it is belongs to that patient like any resource (read._group_by_patient)
    assert patient_key({**binary, "subject": {"reference": "Patient/p2"}}, None, pmap) == "Patient/p2"


def test_key_block_joins_binaries_and_drops_those_nobody_names():
    pmap = PatientMap.build(scan(BLOCK, NOTES).patients)
    binaries = BinaryMap({"Binary/b1": ("Patient/p1", "Patient/p2")})
    data = _ndjson(
        {"resourceType": "Binary", "id": "b1", "contentType": "text/plain", "data": "eA=="},
        {"resourceType": "Binary", "id": "b2", "contentType": "text/plain", "data": "eA=="},
        {"resourceType": "Binary", "id": "b3", "contentType": 5},  # named by nobody, refused: listed
        {"resourceType": "Binary", "contentType": "text/plain"},  # no id: listed
    )
    keyed = key_block(BLOCK, data, 1, pmap, 3, binaries)
    resources = [(k.patient, k.origin, k.quiet) for k in keyed if k.text is not None]
    # the second patient's copy lists nothing: what is wrong with a Binary is listed once
    assert resources == [("Patient/p1", "x.ndjson:1", False), ("Patient/p2", "x.ndjson:1", True)]
    errors = [(k.patient, k.error.source, k.error.resource, k.error.message) for k in keyed if k.error]
    assert errors == [
        (ORPHAN, "x.ndjson:3", "Binary/b3", "refused: Binary.contentType is a number (5), expected a string"),
        (ORPHAN, "x.ndjson:4", None, "Binary without id or fullUrl: no resource can refer to it; skipped"),
    ]
    assert [k.counts for k in keyed if k.counts] == [(4, 0)]  # read, not a type poems-fhir skips
