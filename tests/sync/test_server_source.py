"""Cohort discovery, per-patient reads and the no-transaction write fallback, on recorded shapes."""

from __future__ import annotations

import json
import logging
import re
import urllib.parse

import pytest
import responses
from responses import matchers

from poems_fhir.errors import TemporaryNetworkError
from poems_fhir.fhir.capabilities import parse_capabilities
from poems_fhir.fhir.client import FhirClient
from poems_fhir.fhir.write import ID_SYSTEM
from poems_fhir.sync.sinks import ServerSink
from poems_fhir.sync.sources import CODE_CHUNK, ServerSource
from tests.fhir.transcripts import BASE, exchange, fill

DATE = "Fri, 27 Nov 2026 10:00:00 GMT"


def _answer_empty(*rtypes: str) -> None:
    """The searches of these types answer an empty searchset."""
    for rtype in rtypes:
        responses.add("GET", f"{BASE}/{rtype}", json=empty_bundle())


def caps(**changes):
    c = parse_capabilities(fill(exchange("01-metadata.json", 0)["response"]["body"]))
    for k, v in changes.items():
        setattr(c, k, v)
    return c


def empty_bundle():
    return {"resourceType": "Bundle", "type": "searchset", "entry": []}


@responses.activate
def test_discovery_uses_code_chunks_lastupdated_overlap_and_server_time(mapping):
    responses.add("GET", f"{BASE}/metadata", json={"resourceType": "CapabilityStatement"}, headers={"Date": DATE})
    discovered = fill(exchange("06-discovery.json", 0)["response"]["body"])
    responses.add("GET", f"{BASE}/Observation", json=discovered)
    _answer_empty(
        "Condition",
        "Procedure",
        "DiagnosticReport",
        "MedicationStatement",
        "MedicationRequest",
        "MedicationAdministration",
    )
    source = ServerSource(FhirClient(BASE, sleep=lambda s: None), mapping, caps())
    cohort = source.cohort("2026-11-27T00:14:46.856Z")
    assert cohort.patients == ["Patient/f9d10bc1-a2f9-4a8b-b830-c382e5928284"]
    assert cohort.server_time == "2026-11-27T10:00:00.000Z"  # the server's clock, not ours
    searches = [urllib.parse.urlsplit(c.request.url) for c in responses.calls[1:]]
    queries = [urllib.parse.parse_qs(s.query) for s in searches]
    assert all(q["_lastUpdated"] == ["gt2026-11-27T00:09:46.856Z"] for q in queries)  # 5 min overlap
    # sorted ascending by _lastUpdated with _count >= 20: a stable order (Medplum without _sort has no
    # ORDER BY: a row updated while we page moves past our offset) and cursor links, which Medplum does
    # not cap at 10,000 as it caps offsets (transcripts 03 and 04)
    assert all(q["_sort"] == ["_lastUpdated"] and int(q["_count"][0]) >= 20 for q in queries)
    assert all(len(q["code"][0].split(",")) <= CODE_CHUNK for q in queries if "code" in q)
    obs_codes = {
        c
        for s, q in zip(searches, queries, strict=True)
        if s.path.endswith("Observation")
        for c in q["code"][0].split(",")
    }
    assert {"http://loinc.org|75628-8", "http://loinc.org|25700-6"} <= obs_codes
    # DiagnosticReports only by the categories and modality codes the mapping reads, never all of them
    reports = [q for s, q in zip(searches, queries, strict=True) if s.path.endswith("DiagnosticReport")]
    assert reports and all("category" in q or "code" in q for q in reports)
    assert any("v2-0074|RAD" in q.get("category", [""])[0] for q in reports)
    assert any("snomed.info/sct|77477000" in q.get("code", [""])[0] for q in reports)
    # treatments change the response report: medications by the mapped drug codes
    meds = {s.path.rsplit("/", 1)[-1] for s, q in zip(searches, queries, strict=True) if "Medication" in s.path}
    assert meds == {"MedicationStatement", "MedicationRequest", "MedicationAdministration"}


@responses.activate
def test_without_lastupdated_every_run_rescans(mapping):
    responses.add("GET", f"{BASE}/metadata", json={}, headers={"Date": DATE})
    _answer_empty(
        "Observation",
        "Condition",
        "Procedure",
        "DiagnosticReport",
        "MedicationStatement",
        "MedicationRequest",
        "MedicationAdministration",
    )
    source = ServerSource(FhirClient(BASE), mapping, caps(last_updated=False))
    source.cohort("2026-11-27T00:14:46.856Z")
    assert all("_lastUpdated" not in c.request.url for c in responses.calls)  # neither filter nor _sort


@responses.activate
def test_per_patient_reads_are_seven_searches_with_medications(mapping):
    pid = "34eed09a-97d3-4ddf-bc64-7afbf93e740d"
    reads = {
        ex["request"]["path"].split("?")[0]: fill(ex["response"]["body"])
        for ex in [exchange("07-per-patient-reads.json", i) for i in range(3)]
    }
    responses.add("POST", f"{BASE}/Observation/_search", json=reads["Observation"])
    responses.add(
        "GET",
        f"{BASE}/Condition",
        json=reads["Condition"],
        match=[matchers.query_param_matcher({"patient": pid, "_count": "200"})],
    )
    responses.add("GET", f"{BASE}/Procedure", json=reads["Procedure"])
    responses.add("GET", f"{BASE}/DiagnosticReport", json=empty_bundle())
    statement = {
        "resourceType": "MedicationStatement",
        "id": "ms1",
        "status": "active",
        "subject": {"reference": f"Patient/{pid}"},
        "medicationReference": {"reference": "Medication/m1"},
        "effectiveDateTime": "2019-02-22",
    }
    medication = {"resourceType": "Medication", "id": "m1", "code": {"text": "lenalidomide"}}
    responses.add(
        "GET",
        f"{BASE}/MedicationStatement",
        json={
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [
                {"resource": statement, "search": {"mode": "match"}},
                {"resource": medication, "search": {"mode": "include"}},
            ],
        },
        match=[
            matchers.query_param_matcher(
                {"patient": pid, "_count": "200", "_include": "MedicationStatement:medication"}
            )
        ],
    )
    responses.add("GET", f"{BASE}/MedicationRequest", json=empty_bundle())
    responses.add("GET", f"{BASE}/MedicationAdministration", json=empty_bundle())
    responses.add("GET", f"{BASE}/Patient/{pid}", json={"resourceType": "Patient", "id": pid, "gender": "male"})
    client = FhirClient(BASE)
    record, errors = ServerSource(client, mapping, caps()).fetch(f"Patient/{pid}")
    assert errors == [] and record is not None
    types = sorted({r.data["resourceType"] for r in record.resources})
    assert types == ["Condition", "MedicationStatement", "Observation", "Procedure"]
    assert record.resolve("Medication/m1") == medication  # the _include'd Medication, as in files
    assert client.stats.requests == 8  # 7 searches + the Patient, which no _include brought along
    form = urllib.parse.parse_qs(responses.calls[0].request.body)
    assert form["_include"] == ["Observation:specimen", "Observation:patient"]


@responses.activate
def test_ordered_conditional_updates_when_transactions_are_unsupported():
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:dev",
                "resource": {"resourceType": "Device"},
                "request": {"method": "PUT", "url": "Device?identifier=s|d"},
            },
            {
                "fullUrl": "urn:uuid:dr",
                "resource": {"resourceType": "DiagnosticReport", "status": "partial"},
                "request": {"method": "PUT", "url": "DiagnosticReport?identifier=s|r", "ifMatch": 'W/"v1"'},
            },
            {
                "fullUrl": "urn:uuid:cp",
                "resource": {
                    "resourceType": "CarePlan",
                    "author": {"reference": "urn:uuid:dev"},
                    "supportingInfo": [{"reference": "urn:uuid:dr"}],
                },
                "request": {"method": "PUT", "url": "CarePlan?identifier=s|c"},
            },
        ],
    }
    # shaped like the recorded server (fhir-server/08): 201 with Location and ETag, meta.versionId in the body
    responses.add(
        "PUT",
        f"{BASE}/Device?identifier=s|d",
        status=201,
        json={"resourceType": "Device", "id": "d1", "meta": {"versionId": "a"}},
        headers={"Location": f"{BASE}/Device/d1", "ETag": 'W/"a"'},
    )
    responses.add(
        "PUT",
        f"{BASE}/DiagnosticReport?identifier=s|r",
        json={"resourceType": "DiagnosticReport", "id": "r1", "meta": {"versionId": "b"}},
        headers={"ETag": 'W/"b"'},
        match=[matchers.header_matcher({"If-Match": 'W/"v1"'})],
    )
    responses.add(
        "PUT",
        f"{BASE}/CarePlan?identifier=s|c",
        status=201,
        json={"resourceType": "CarePlan", "id": "c1", "meta": {"versionId": "c"}},
        headers={"Location": f"{BASE}/CarePlan/c1", "ETag": 'W/"c"'},
    )
    written = ServerSink(FhirClient(BASE), caps(transaction=False)).write("Patient/1", bundle)
    assert written == {
        "s|d": {"ref": "Device/d1", "version": "a"},
        "s|r": {"ref": "DiagnosticReport/r1", "version": "b"},
        "s|c": {"ref": "CarePlan/c1", "version": "c"},
    }
    plan = json.loads(responses.calls[2].request.body)
    assert plan["author"] == {"reference": "Device/d1"} and plan["supportingInfo"] == [
        {"reference": "DiagnosticReport/r1"}
    ]


@responses.activate
def test_a_missing_group_is_a_config_error_naming_it(mapping):
    import pytest

    from poems_fhir.errors import ConfigError

    responses.add("GET", f"{BASE}/metadata", json={}, headers={"Date": DATE})
    register_13 = fill(exchange("13-errors.json", 2)["response"]["body"])  # Medplum's recorded 404
    responses.add("GET", f"{BASE}/Group/nope", status=404, json=register_13)
    source = ServerSource(FhirClient(BASE, sleep=lambda s: None), mapping, caps(), group="nope")
    with pytest.raises(ConfigError, match="--group nope: the server has no such Group"):
        source.cohort(None)


@responses.activate
def test_group_members_of_odd_shapes_are_skipped_and_a_garbled_date_stores_no_checkpoint(mapping):
    responses.add("GET", f"{BASE}/metadata", json={}, headers={"Date": "sometime soon"})
    responses.add(
        "GET",
        f"{BASE}/Group/g",
        json={
            "resourceType": "Group",
            "member": [
                {"entity": {"reference": "Patient/a"}},
                {"entity": "Patient/b"},
                7,
                {"entity": {"reference": 3}},
                {"entity": {"reference": "Practitioner/x"}},
            ],
        },
    )
    cohort = ServerSource(FhirClient(BASE), mapping, caps(), group="g").cohort(None)
    assert cohort.patients == ["Patient/a"] and cohort.server_time is None


@responses.activate
def test_a_server_that_normalises_what_it_stores_gets_our_marker_retagged_once():
    from poems_fhir.fhir.write import CONTENT_TAG_SYSTEM, is_unchanged_ours, mark, ownership_hash

    report = {
        "resourceType": "DiagnosticReport",
        "status": "partial",
        "code": {"text": "x"},
        "identifier": [{"system": "s", "value": "r"}],
        "conclusion": "VEGF 624.0 pg/mL",
        "meta": {},
    }
    mark(report, ownership_hash(report))
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:dr",
                "resource": report,
                "request": {"method": "PUT", "url": "DiagnosticReport?identifier=s|r"},
            }
        ],
    }
    # the server stores the text trimmed of the trailing zero (a normalisation, not a clinician's edit)
    stored = {
        **json.loads(json.dumps(report)),
        "id": "r1",
        "conclusion": "VEGF 624 pg/mL",
        "meta": {**report["meta"], "versionId": "1"},
    }
    responses.add(
        "POST",
        BASE,
        json={
            "resourceType": "Bundle",
            "type": "transaction-response",
            "entry": [
                {"resource": stored, "response": {"status": "201", "location": "DiagnosticReport/r1/_history/1"}}
            ],
        },
    )
    responses.add(
        "PUT",
        f"{BASE}/DiagnosticReport/r1",
        json={**stored, "meta": {"versionId": "2"}},
        match=[matchers.header_matcher({"If-Match": 'W/"1"'})],
    )
    written = ServerSink(FhirClient(BASE), caps(transaction=True)).write("Patient/1", bundle)
    assert written["s|r"] == {"ref": "DiagnosticReport/r1", "version": "2"}
    retagged = json.loads(responses.calls[1].request.body)
    assert is_unchanged_ours(retagged) and retagged["conclusion"] == "VEGF 624 pg/mL"
    assert [t for t in retagged["meta"]["tag"] if t["system"] == CONTENT_TAG_SYSTEM][0]["code"] != [
        t for t in report["meta"]["tag"] if t["system"] == CONTENT_TAG_SYSTEM
    ][0]["code"]


@responses.activate
def test_a_server_that_stores_what_it_was_sent_gets_no_extra_request():
    from poems_fhir.fhir.write import mark, ownership_hash

    report = {
        "resourceType": "DiagnosticReport",
        "status": "partial",
        "identifier": [{"system": "s", "value": "r"}],
        "meta": {},
    }
    mark(report, ownership_hash(report))
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:dr",
                "resource": report,
                "request": {"method": "PUT", "url": "DiagnosticReport?identifier=s|r"},
            }
        ],
    }
    stored = {**report, "id": "r1", "meta": {**report["meta"], "versionId": "1", "lastUpdated": "2026-11-27T10:00:00Z"}}
    responses.add(
        "POST",
        BASE,
        json={
            "resourceType": "Bundle",
            "type": "transaction-response",
            "entry": [{"resource": stored, "response": {"status": "201"}}],
        },
    )
    ServerSink(FhirClient(BASE), caps(transaction=True)).write("Patient/1", bundle)
    assert len(responses.calls) == 1


@responses.activate
def test_member_and_subject_references_that_are_not_patient_ids_are_skipped_with_a_warning(mapping, caplog):
    # a server's references end up in request paths (GET Patient/ID) and search values (patient=ID)
    responses.add("GET", f"{BASE}/metadata", json={}, headers={"Date": DATE})
    responses.add(
        "GET",
        f"{BASE}/Group/g",
        json={
            "resourceType": "Group",
            "member": [
                {"entity": {"reference": "Patient/a"}},
                {"entity": {"reference": "Patient/b/_history/3"}},  # version-specific: the patient b
                {"entity": {"reference": f"{BASE}/Patient/c"}},  # absolute, on this server
                {"entity": {"reference": "https://elsewhere.example/fhir/Patient/d"}},
                {"entity": {"reference": "Patient/e/../../Group/g"}},
                {"entity": {"reference": "Patient/f?_format=xml"}},
                {"entity": {"reference": "Patient/g,h"}},
                {"entity": {"reference": "Patient/.."}},  # a dot segment: GET Patient/.. is the base
                {"entity": {"reference": "Patient/./_history/1"}},
            ],
        },
    )
    cohort = ServerSource(FhirClient(BASE), mapping, caps(), group="g").cohort(None)
    assert cohort.patients == ["Patient/a", "Patient/b", "Patient/c"]
    assert cohort.named  # a Group's members are named, not discovered: one the server lacks is reported once
    assert "Group/g: 6 Patient member reference(s) are not Patient/<id>: skipped" in caplog.text
    assert "elsewhere" not in caplog.text and "_format" not in caplog.text  # counts only: ids are PHI


def _discover(mapping, subjects):
    """Discovery over a server whose Observation search lists ``subjects`` (every other search empty)."""
    responses.add("GET", f"{BASE}/metadata", json={}, headers={"Date": DATE})
    found = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"resource": {"resourceType": "Observation", "id": f"o{i}", "subject": {"reference": s}}}
            for i, s in enumerate(subjects)
        ],
    }
    responses.add("GET", f"{BASE}/Observation", json=found)
    for rtype in ("Condition", "Procedure", "DiagnosticReport", "MedicationStatement", "MedicationRequest"):
        responses.add("GET", f"{BASE}/{rtype}", json=empty_bundle())
    responses.add("GET", f"{BASE}/MedicationAdministration", json=empty_bundle())
    cohort = ServerSource(FhirClient(BASE, sleep=lambda s: None), mapping, caps()).cohort(None)
    return cohort


@responses.activate
def test_discovered_subjects_that_are_not_patient_ids_are_skipped(mapping, caplog):
    subjects = ["Patient/a", "Patient/a/_history/2", f"{BASE}/Patient/b", "Patient/x?y=1", "Patient/p,q", "Group/z"]
    cohort = _discover(mapping, subjects)
    assert cohort.patients == ["Patient/a", "Patient/b"]
    assert "2 subject reference(s) name a patient but are not Patient/<id> of this server: skipped" in caplog.text


@responses.activate
def test_a_discovered_subject_on_another_server_is_counted_and_the_warning_survives_pseudonyms(mapping, caplog):
    """probe80 D7: a subject on another server was dropped without the warning; D5: the warning's own
    placeholders were replaced by pseudonyms ("look like patient-87ea… but are not patient-b7e5…")."""
    from poems_fhir.sync.job import scrub_identifiers

    subjects = ["Patient/a", "http://other.example/fhir/R4/Patient/evil"]
    cohort = _discover(mapping, subjects)
    assert cohort.patients == ["Patient/a"]
    warning = next(r.getMessage() for r in caplog.records if "subject reference" in r.getMessage())
    assert warning.startswith("1 subject reference(s)")
    assert scrub_identifiers(b"k" * 32, warning) == warning


# --- a transaction the server applied only in part (fhir-server/README.md: Medplum without its
# transaction-bundles feature answers a transaction like a batch: 200, one status per entry) --------


PROV_URL = "Provenance?_tag=https://poems-fhir.org/fhir/CodeSystem/input-hash|h1"
RECORDED = "2026-12-02T10:00:00+00:00"


def _partial_bundle():
    from poems_fhir.fhir.write import mark, ownership_hash

    report = {"resourceType": "DiagnosticReport", "status": "partial", "identifier": [{"system": "s", "value": "r"}]}
    plan = {
        "resourceType": "CarePlan",
        "status": "draft",
        "intent": "proposal",
        "identifier": [{"system": "s", "value": "p"}],
        "supportingInfo": [{"reference": "urn:uuid:dr"}],
    }
    for r in (report, plan):
        mark(r, ownership_hash(r, {"urn:uuid:dr": "DiagnosticReport"}))
    provenance = {
        "resourceType": "Provenance",
        "recorded": RECORDED,
        "target": [
            {"reference": "urn:uuid:dr", "identifier": {"system": "s", "value": "r"}},
            {"reference": "urn:uuid:cp", "identifier": {"system": "s", "value": "p"}},
        ],
    }
    rows = [
        ("urn:uuid:dr", report, "DiagnosticReport?identifier=s|r"),
        ("urn:uuid:cp", plan, "CarePlan?identifier=s|p"),
        ("urn:uuid:pv", provenance, PROV_URL),
    ]
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"fullUrl": u, "resource": r, "request": {"method": "PUT", "url": url}} for u, r, url in rows],
    }


def _answer(*statuses):
    return {
        "resourceType": "Bundle",
        "type": "transaction-response",
        "entry": [{"response": dict(zip(("status", "location"), st, strict=False))} for st in statuses],
    }


@responses.activate
def test_a_report_refused_inside_a_200_transaction_fails_the_patient_and_deletes_nothing():
    """probe37 D03-D05: what the server stored is left for the next run, which recognises it as ours
    (see tests/sync/test_partial_transactions.py); no DELETE, which the README's scopes do not grant."""
    import pytest

    from poems_fhir.errors import PartialTransactionError

    bundle = _partial_bundle()
    sink = ServerSink(FhirClient(BASE), caps(transaction=True))
    responses.add(
        "POST",
        BASE,
        json=_answer(("400 Bad Request",), ("201", "CarePlan/cp1/_history/1"), ("201", "Provenance/pv1/_history/1")),
    )
    with pytest.raises(PartialTransactionError) as caught:
        sink.write("Patient/1", bundle)
    assert [(c.request.method, c.request.url.removeprefix(BASE)) for c in responses.calls] == [("POST", "")]
    message = str(caught.value)
    assert "(PUT DiagnosticReport (400 Bad Request))" in message
    assert "kept and recognised as ours" in message and "written again next run" in message
    assert caught.value.exit_code == 1
    assert sink.capabilities.transaction is False  # the rest of the run: one conditional update at a time


@responses.activate
def test_a_transaction_response_that_leaves_entries_out_fails_the_patient():
    import pytest

    from poems_fhir.errors import PartialTransactionError

    bundle = _partial_bundle()
    responses.add("POST", BASE, json=_answer(("201",), ("200 OK",)))
    with pytest.raises(PartialTransactionError, match=r"PUT Provenance \(no answer\)") as caught:
        ServerSink(FhirClient(BASE), caps(transaction=True)).write("Patient/1", bundle)
    assert [c.request.method for c in responses.calls] == ["POST"]
    # only the Provenance failed: the report and plan are ours and unchanged, so the next run sends the
    # Provenance alone (probe63 D1) - and the message says so (probe50 LOW-1)
    assert "the next run sends it alone" in str(caught.value)
    assert "written again next run" not in str(caught.value)


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ({"resourceType": "OperationOutcome", "issue": []}, "an OperationOutcome"),  # probe91b L1: "a Operation…"
        ({"resourceType": "Patient"}, "a Patient"),
        ({"resourceType": "Bundle", "type": "transaction-response", "entry": {}}, "a Bundle whose entry is no list"),
        ({"resourceType": "Bundle", "type": "searchset", "entry": []}, "a Bundle of type 'searchset'"),
        ([], "something else"),
    ],
)
@responses.activate
def test_a_transaction_answered_with_something_else_says_so(answer, said):
    # probe45 D10: said the server "treats transactions as batches … what it stored is kept": nothing was
    from poems_fhir.errors import PartialTransactionError

    responses.add("POST", BASE, json=answer)
    sink = ServerSink(FhirClient(BASE), caps(transaction=True))
    with pytest.raises(PartialTransactionError) as caught:
        sink.write("Patient/1", _partial_bundle())
    assert str(caught.value) == (
        f"the server answered the transaction with 200 but with {said}, not a transaction-response: what it "
        "stored, if anything, is not known; recorded as failed and written again next run (every entry is a "
        "conditional write: nothing is duplicated)"
    )
    assert sink.capabilities.transaction is True  # not taken for a batch server


@responses.activate
def test_our_resource_found_without_a_version_is_read_directly_so_the_write_is_guarded():
    # faultprobe4 T33: a server that leaves versionId out of search results got a PUT without If-Match,
    # and a report a clinician had finalised in between was overwritten
    from poems_fhir.fhir.read import OWN_IDENTIFIER_PREFIX

    ours = {
        "resourceType": "DiagnosticReport",
        "id": "r1",
        "status": "partial",
        "identifier": [{"system": OWN_IDENTIFIER_PREFIX + "report", "value": "x"}],
        "meta": {"tag": [{"system": "https://example.org/t", "code": "t"}]},  # no versionId
    }
    finalised = {**ours, "status": "final", "meta": {"versionId": "7"}}
    responses.add("GET", f"{BASE}/DiagnosticReport", json={**empty_bundle(), "entry": [{"resource": ours}]})
    for rtype in ("CarePlan", "Provenance"):
        responses.add("GET", f"{BASE}/{rtype}", json=empty_bundle())
    responses.add("GET", f"{BASE}/DiagnosticReport/r1", json=finalised, headers={"ETag": 'W/"7"'})
    view = ServerSink(FhirClient(BASE), caps(transaction=True)).existing("Patient/1", "k")
    (seen,) = view.resources
    assert seen["meta"]["versionId"] == "7" and seen["status"] == "final"  # decided on what the version holds


@responses.activate
def test_a_direct_read_that_names_its_version_only_in_the_etag_gives_that_version():
    from poems_fhir.fhir.read import OWN_IDENTIFIER_PREFIX

    ours = {
        "resourceType": "CarePlan",
        "id": "c1",
        "status": "draft",
        "intent": "proposal",
        "identifier": [{"system": OWN_IDENTIFIER_PREFIX + "careplan", "value": "x"}],
    }
    responses.add("GET", f"{BASE}/DiagnosticReport", json=empty_bundle())
    responses.add("GET", f"{BASE}/CarePlan", json={**empty_bundle(), "entry": [{"resource": ours}]})
    responses.add("GET", f"{BASE}/Provenance", json=empty_bundle())
    responses.add("GET", f"{BASE}/CarePlan/c1", json=ours, headers={"ETag": 'W/"3"'})
    (seen,) = ServerSink(FhirClient(BASE), caps(transaction=True)).existing("Patient/1", "k").resources
    assert seen["meta"]["versionId"] == "3"


def _ours_found(self_link: str | None):
    from poems_fhir.fhir.read import OWN_IDENTIFIER_PREFIX

    ours = {
        "resourceType": "DiagnosticReport",
        "id": "r1",
        "status": "partial",
        "identifier": [{"system": OWN_IDENTIFIER_PREFIX + "report", "value": "x"}],
        "meta": {"versionId": "1"},
    }
    page = {**empty_bundle(), "entry": [{"resource": ours, "search": {"mode": "match"}}]}
    if self_link is not None:
        page["link"] = [{"relation": "self", "url": self_link}]
    return page


CLINICIANS = {
    "resourceType": "Provenance",
    "id": "pv1",
    "target": [{"reference": "DiagnosticReport/r1"}],
    "recorded": "2026-11-27T10:00:00Z",
    "agent": [{"who": {"display": "Dr X"}}],
}


@responses.activate
def test_a_server_that_says_it_ignored_revinclude_gets_a_provenance_search_of_its_own():
    # faultprobe4 T29: a clinician's Provenance went unseen and our report was updated as ours
    responses.add(
        "GET", f"{BASE}/DiagnosticReport", json=_ours_found(f"{BASE}/DiagnosticReport?_count=200&subject=Patient/1")
    )
    responses.add("GET", f"{BASE}/CarePlan", json=empty_bundle())
    # asked in this order: the Provenances naming our resources, then our own Provenances (by tag)
    responses.add("GET", f"{BASE}/Provenance", json={**empty_bundle(), "entry": [{"resource": CLINICIANS}]})
    responses.add("GET", f"{BASE}/Provenance", json=empty_bundle())
    view = ServerSink(FhirClient(BASE), caps(transaction=True)).existing("Patient/1", "k")
    assert view.foreign_targets == {"DiagnosticReport/r1"}
    asked = [c.request.url for c in responses.calls if "/Provenance" in c.request.url]
    assert any("target=DiagnosticReport%2Fr1" in u for u in asked)


@pytest.mark.parametrize(
    "self_link",
    [
        None,
        f"{BASE}/DiagnosticReport?_count=200&_revinclude=Provenance:target&subject=Patient/1",
        f"{BASE}/DiagnosticReport?_count=200&_revinclude=Provenance%3Atarget&subject=Patient%2F1",
    ],
)
@responses.activate
def test_a_server_that_applied_revinclude_or_does_not_say_gets_no_extra_search(self_link):
    responses.add("GET", f"{BASE}/DiagnosticReport", json=_ours_found(self_link))
    responses.add("GET", f"{BASE}/CarePlan", json=empty_bundle())
    responses.add("GET", f"{BASE}/Provenance", json=empty_bundle())
    ServerSink(FhirClient(BASE), caps(transaction=True)).existing("Patient/1", "k")
    assert len(responses.calls) == 3  # the three searches of the README, nothing more


def _our_provenance_naming(ref: str) -> dict:
    from poems_fhir.fhir.write import RUN_TAG_SYSTEM

    return {
        "resourceType": "Provenance",
        "id": "ours",
        "meta": {"tag": [{"system": RUN_TAG_SYSTEM, "code": "run-1"}]},
        "target": [{"reference": ref}],
        "recorded": "2026-11-27T10:00:00Z",
    }


def _searches_return_nothing_but(provenances: list[dict]) -> None:
    for rtype in ("DiagnosticReport", "CarePlan"):
        responses.add("GET", f"{BASE}/{rtype}", json=empty_bundle())
    responses.add("GET", f"{BASE}/Provenance", json={**empty_bundle(), "entry": [{"resource": p} for p in provenances]})


@pytest.mark.parametrize("named_by", ["provenance", "state"])
@responses.activate
def test_a_recorded_report_the_search_did_not_return_but_the_server_holds_fails_the_patient(named_by):
    # probe45 D3: an empty answer to the patient's report search, and our report was rewritten by its
    # conditional URL without If-Match - over a clinician's conclusion
    _searches_return_nothing_but([_our_provenance_naming("DiagnosticReport/r1")] if named_by == "provenance" else [])
    held = {
        "resourceType": "DiagnosticReport",
        "id": "r1",
        "identifier": [{"system": f"{ID_SYSTEM}/criteria-report", "value": "k.mayo"}],
        "subject": {"reference": f"{BASE}/Patient/1"},
    }
    responses.add("GET", f"{BASE}/DiagnosticReport/r1", json=held)
    recorded = ["DiagnosticReport/r1"] if named_by == "state" else []
    with pytest.raises(TemporaryNetworkError) as exc:
        ServerSink(FhirClient(BASE), caps(transaction=True)).existing("Patient/1", "k", recorded)
    assert str(exc.value) == (
        "the server holds DiagnosticReport/r1 of this patient, which its search of the patient's DiagnosticReport "
        "resources did not return: its search answers are not trusted; nothing written for this patient "
        "(retried on the next run)"
    )


@pytest.mark.parametrize(
    ("subject", "identifier", "what"),
    [
        ("Patient/1", None, "a resource of this patient without any identifier of poems-fhir (someone else's)"),
        ("Patient/2", None, "a resource without any identifier of poems-fhir, not of this patient"),
        ("Patient/2", "k2.mayo", "a resource of poems-fhir for another patient"),
    ],
    ids=["clinicians", "another-patients", "ours-of-another-patient"],
)
@responses.activate
def test_a_recorded_resource_the_server_holds_as_not_ours_is_disowned_not_blamed_on_the_search(
    subject, identifier, what
):
    """probe91b D2: the state recorded a clinician's report as ours (a lying transaction answer's location).
    The read finds no resource of ours for this patient there: the search was right not to list it as ours -
    nothing raised; the view says the state's record is not ours. Named only by our Provenance, it is as before
    (the ownership plan decides)."""
    _searches_return_nothing_but([_our_provenance_naming("CarePlan/c1")])
    clin = {"resourceType": "DiagnosticReport", "id": "clin-dr-1", "subject": {"reference": subject}}
    if identifier:
        clin["identifier"] = [{"system": f"{ID_SYSTEM}/criteria-report", "value": identifier}]
    responses.add("GET", f"{BASE}/DiagnosticReport/clin-dr-1", json=clin)
    responses.add(
        "GET",
        f"{BASE}/CarePlan/c1",
        json={"resourceType": "CarePlan", "id": "c1", "subject": {"reference": "Patient/1"}},
    )
    view = ServerSink(FhirClient(BASE), caps(transaction=True)).existing(
        "Patient/1", "k", ["DiagnosticReport/clin-dr-1"]
    )
    assert view.disowned == {"DiagnosticReport/clin-dr-1": what}


@pytest.mark.parametrize("status", [404, 410])
@responses.activate
def test_a_recorded_report_that_is_gone_is_confirmed_by_one_read(status):
    _searches_return_nothing_but([_our_provenance_naming("DiagnosticReport/r1")])
    responses.add("GET", f"{BASE}/DiagnosticReport/r1", status=status, json={"resourceType": "OperationOutcome"})
    responses.add("GET", f"{BASE}/CarePlan/c7", status=status, json={"resourceType": "OperationOutcome"})
    view = ServerSink(FhirClient(BASE), caps(transaction=True)).existing(
        "Patient/1", "k", ["CarePlan/c7", "Provenance/p1", "Patient/1"]
    )
    assert view.resources == [] and len(view.provenances) == 1
    read = [
        c.request.url for c in responses.calls if "/DiagnosticReport/" in c.request.url or "/CarePlan/" in c.request.url
    ]
    assert read == [f"{BASE}/CarePlan/c7", f"{BASE}/DiagnosticReport/r1"]  # reports and plans only


@responses.activate
def test_a_recorded_report_now_on_another_patient_is_not_this_patients():
    # moved by a merge or a correction: the conditional URL names the subject, so it cannot be written over
    _searches_return_nothing_but([])
    moved = {"resourceType": "DiagnosticReport", "id": "r1", "subject": {"reference": "Patient/2"}}
    responses.add("GET", f"{BASE}/DiagnosticReport/r1", json=moved)
    view = ServerSink(FhirClient(BASE), caps(transaction=True)).existing("Patient/1", "k", ["DiagnosticReport/r1"])
    assert view.resources == []


@responses.activate
def test_what_the_search_returned_is_not_read_again():
    responses.add("GET", f"{BASE}/DiagnosticReport", json=_ours_found(None))
    responses.add("GET", f"{BASE}/CarePlan", json=empty_bundle())
    responses.add(
        "GET",
        f"{BASE}/Provenance",
        json={**empty_bundle(), "entry": [{"resource": _our_provenance_naming("DiagnosticReport/r1")}]},
    )
    ServerSink(FhirClient(BASE), caps(transaction=True)).existing("Patient/1", "k", ["DiagnosticReport/r1"])
    assert len(responses.calls) == 3


def _fetch_conditions_beside_mine(mapping, changes: dict, links: dict | None = None):
    """Patient/p-a's fetch, its Condition search answered with its own Condition and a second one
    with ``changes``; the error it fails with."""
    links = links or {}
    mine = {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p-a"}, "code": {"text": "x"}}
    other = {**mine, "id": "c2", **changes}
    responses.add("POST", f"{BASE}/Observation/_search", json=empty_bundle())
    responses.add("GET", f"{BASE}/Observation", json=empty_bundle())
    responses.add(
        "GET", f"{BASE}/Condition", json={**empty_bundle(), "entry": [{"resource": mine}, {"resource": other}]}
    )
    responses.add("GET", f"{BASE}/Patient/p-a", json={"resourceType": "Patient", "id": "p-a", **links})
    with pytest.raises(TemporaryNetworkError) as exc:
        ServerSource(FhirClient(BASE), mapping, caps()).fetch("Patient/p-a")
    return exc


@pytest.mark.parametrize("stranger", ["Patient/someone-else", f"{BASE}/Patient/someone-else"])
@responses.activate
def test_a_patient_search_answered_with_another_patients_resources_fails_the_patient(mapping, stranger):
    # probe45 D5: Condition?patient=A answered with B's Conditions: dropped without a word, and A's report
    # was rewritten without A's polyneuropathy
    exc = _fetch_conditions_beside_mine(mapping, {"subject": {"reference": stranger}})
    assert str(exc.value) == (
        "search Condition of this patient: the server answered with 1 resource(s) of another patient "
        "(Condition/c2), which this patient's record does not replace; its answer is not used - this patient is "
        "retried on the next run (if a merge left them, link the records with Patient.link 'replaces' or move them)"
    )  # the resource is named (probe73 D9), the other patient is not
    assert "someone-else" not in str(exc.value) and exc.value.status == 200


@responses.activate
def test_resources_left_on_a_record_this_patient_replaces_are_its_own(mapping):
    """probe73 D9: a merge left a resource on the replaced record; the survivor failed on every run."""
    survivor = {"link": [{"type": "replaces", "other": {"reference": "Patient/old-record"}}]}
    responses.add("POST", f"{BASE}/Observation/_search", json=empty_bundle())
    responses.add("GET", f"{BASE}/Observation", json=empty_bundle())
    left = {
        "resourceType": "Condition",
        "id": "c2",
        "subject": {"reference": "Patient/old-record"},
        "code": {"text": "x"},
    }
    responses.add("GET", f"{BASE}/Condition", json={**empty_bundle(), "entry": [{"resource": left}]})
    responses.add("GET", f"{BASE}/Patient/p-a", json={"resourceType": "Patient", "id": "p-a", **survivor})
    _answer_empty(
        "Procedure", "DiagnosticReport", "MedicationStatement", "MedicationRequest", "MedicationAdministration"
    )
    record, errors = ServerSource(FhirClient(BASE), mapping, caps()).fetch("Patient/p-a")
    assert record is not None and errors == []
    # and it is read as the survivor's (probe79 D1: it was accepted, then grouped under the old record)
    assert "Condition/c2" in [raw.ref for raw in record.resources] and record.merged_from == ("Patient/old-record",)
    # a record elsewhere is still a corrupt answer
    responses.replace("GET", f"{BASE}/Patient/p-a", json={"resourceType": "Patient", "id": "p-a"})
    with pytest.raises(TemporaryNetworkError, match=r"\(Condition/c2\)"):
        ServerSource(FhirClient(BASE), mapping, caps()).fetch("Patient/p-a")


@responses.activate
def test_resources_about_this_patient_or_no_comparable_patient_are_read(mapping):
    pid = "p-a"
    mine = {
        "resourceType": "Condition",
        "id": "c1",
        "subject": {"reference": f"{BASE}/Patient/{pid}"},
        "code": {"text": "x"},
    }
    elsewhere = {**mine, "id": "c3", "subject": {"reference": "https://other.example/fhir/Patient/z"}}
    _answer_empty(
        "Observation",
        "Procedure",
        "DiagnosticReport",
        "MedicationStatement",
        "MedicationRequest",
        "MedicationAdministration",
    )
    responses.add("POST", f"{BASE}/Observation/_search", json=empty_bundle())
    responses.add(
        "GET", f"{BASE}/Condition", json={**empty_bundle(), "entry": [{"resource": mine}, {"resource": elsewhere}]}
    )
    responses.add("GET", f"{BASE}/Patient/{pid}", json={"resourceType": "Patient", "id": pid})
    record, _ = ServerSource(FhirClient(BASE), mapping, caps()).fetch(f"Patient/{pid}")
    assert record is not None and "Condition/c1" in {f"Condition/{r.data['id']}" for r in record.resources}


@responses.activate
def test_a_checkpoint_after_the_servers_time_reads_everything_again(mapping, caplog):
    # probe45 D7: a checkpoint set in the server's future made discovery search from the future: the
    # changes made in between were never read
    caplog.set_level(logging.WARNING, logger="poems_fhir")
    responses.add("GET", f"{BASE}/metadata", json={}, headers={"Date": DATE})
    responses.add("GET", re.compile(re.escape(BASE) + r"/\w+"), json=empty_bundle())
    source = ServerSource(FhirClient(BASE), mapping, caps())
    source.cohort("2031-01-01T00:00:00.000Z")
    asked = [c.request.url for c in responses.calls if "/metadata" not in c.request.url]
    assert asked and not any("_lastUpdated=gt" in u for u in asked)
    (ahead,) = [r for r in caplog.records if getattr(r, "event", None) == "cohort.checkpoint_ahead"]
    responses.calls.reset()
    source.cohort("2026-11-01T00:00:00.000Z")  # before the server's time: incremental as before
    asked = [c.request.url for c in responses.calls if "/metadata" not in c.request.url]
    assert asked and all("_lastUpdated=gt2026-10-31T23%3A55" in u for u in asked)


@pytest.mark.parametrize("rtype", ["Conditon", None, 7])
@responses.activate
def test_a_patient_search_answered_with_no_fhir_type_fails_the_patient(mapping, rtype):
    # probe45 D8: a "Conditon" in the Condition search was listed and skipped, and the report rewritten
    # without the patient's polyneuropathy (met -> indeterminate)
    exc = _fetch_conditions_beside_mine(mapping, {"resourceType": rtype})
    assert str(exc.value) == (
        f"search Condition of this patient: the server answered with a resourceType that is no FHIR R4 type "
        f"({str(rtype)!r}); its answer is not used - this patient is retried on the next run"
    )


def _obs(n: int, patient: str) -> dict:
    return {"resource": {"resourceType": "Observation", "id": f"o{n}", "subject": {"reference": f"Patient/{patient}"}}}


def _page(entries: list, total: int, nxt: str | None) -> dict:
    page = {"resourceType": "Bundle", "type": "searchset", "total": total, "entry": entries}
    if nxt:
        page["link"] = [{"relation": "next", "url": nxt}]
    return page


@responses.activate
@pytest.mark.parametrize("shifted", [True, False])
def test_a_discovery_whose_pages_repeat_a_result_and_drop_another_stops_the_run(mapping, shifted):
    """probe50 MEDIUM-1: total 5, page 2 repeating page 1's last result (a row moved while an offset-paging
    server was paged) pushed a changed patient off the pages; the run ended 0 and moved its checkpoint past
    that change for good. It is a server answer that does not add up: the run stops (its checkpoint stays).
    Pages that add up - the same five in order - are read as before."""
    responses.add("GET", f"{BASE}/metadata", json={}, headers={"Date": DATE})
    second = [_obs(2, "b"), _obs(3, "c")] if shifted else [_obs(3, "c"), _obs(4, "d")]
    pages = [
        _page([_obs(1, "a"), _obs(2, "b")], 5, f"{BASE}/Observation?page=2"),
        _page(second, 5, f"{BASE}/Observation?page=3"),
        _page([_obs(5, "e")], 5, None),
    ]
    responses.add("GET", f"{BASE}/Observation?page=2", json=pages[1])
    responses.add("GET", f"{BASE}/Observation?page=3", json=pages[2])
    responses.add("GET", re.compile(rf"{re.escape(BASE)}/Observation\?(?!page=).*"), json=pages[0])
    for rtype in ("Condition", "Procedure", "DiagnosticReport", "MedicationStatement", "MedicationRequest",
                  "MedicationAdministration"):  # fmt: skip
        responses.add("GET", re.compile(rf"{re.escape(BASE)}/{rtype}.*"), json=empty_bundle())
    source = ServerSource(FhirClient(BASE, sleep=lambda s: None), mapping, caps())
    if shifted:
        with pytest.raises(TemporaryNetworkError, match=r"4 distinct result\(s\) of the 5 .*checkpoint"):
            source.cohort("2026-11-27T00:14:46.856Z")
    else:
        assert len(source.cohort("2026-11-27T00:14:46.856Z").patients) == 5
