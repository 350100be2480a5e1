"""probe80 D4: when a run reads nothing of ours on the server for a report or plan, it sends a conditional
*create* (POST with If-None-Exist / ``request.ifNoneExist``), never a conditional update: a server whose
search left ours out (an index that lags, a proxy that drops rows) answers with what it holds and changes
nothing. A resource found that way that is not ours exactly as sent fails the patient for this run, in a
transaction and one request at a time - replayed with the answers of the recorded production server
(tests/fixtures/fhir-server 09-if-none-exist.json, 11-transaction.json)."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest
import responses
from responses.registries import OrderedRegistry

from poems_fhir.criteria.profiles import MAYO
from poems_fhir.errors import HalfWrittenError, UnlistedResourceError
from poems_fhir.fhir.capabilities import Capabilities
from poems_fhir.fhir.client import FhirClient
from poems_fhir.fhir.write import WriteContext
from poems_fhir.pipeline import evaluate_paths, html_for, transaction_for
from poems_fhir.sync.ownership import plan_writes
from poems_fhir.sync.sinks import ServerView, ServerSink, entry_key
from tests.conftest import SAMPLES
from tests.fhir.transcripts import BASE, exchange, fill, register

NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.timezone.utc)
GUARDED = ("DiagnosticReport", "CarePlan")
SIGNED = "SIGNED BY DR. HOUSE: POEMS confirmed; do not change."


@pytest.fixture(scope="module")
def bundle(mapping):
    run = evaluate_paths([SAMPLES / "classic-poems.json"], mapping, MAYO)
    r = run.results[0]
    return transaction_for(r, WriteContext(NOW, mapping.identity, r.inputs), html_for(r, mapping))


def first_write(bundle: dict[str, Any]) -> dict[str, Any]:
    """What a server run sends when the server lists nothing of ours for the patient."""
    plan = plan_writes(bundle, ServerView(from_server=True), "k")
    assert plan.bundle is not None
    return plan.bundle


def test_nothing_of_ours_listed_sends_reports_and_plan_create_only(bundle):
    sent = first_write(bundle)
    for entry in sent["entry"]:
        request, res = entry["request"], entry["resource"]
        if res["resourceType"] in GUARDED:
            ident = res["identifier"][0]
            assert request == {
                "method": "POST",
                "url": res["resourceType"],
                "ifNoneExist": f"identifier={ident['system']}|{ident['value']}&subject=Patient/classic-poems",
            }
            assert entry_key(entry) == f"{ident['system']}|{ident['value']}"  # what the state records
        else:  # our Device and our Provenance (a tag only we write) stay conditional updates
            assert request["method"] == "PUT" and "?" in request["url"]
    # a folder for a person to POST later (file mode: no server read) keeps its conditional updates: its next
    # file must update what the last one created
    in_file = plan_writes(bundle, ServerView(), "k").bundle
    assert in_file is not None and all(e["request"]["method"] == "PUT" for e in in_file["entry"])


def test_a_resource_of_ours_the_search_listed_is_updated_with_if_match(bundle):
    from tests.sync.test_ownership import _with_a_new_conclusion

    view = ServerView(
        resources=[stored(bundle, "DiagnosticReport", "r1", "3"), stored(bundle, "CarePlan", "p1")], from_server=True
    )
    plan = plan_writes(_with_a_new_conclusion(bundle), view, "k")
    (sent,) = [e for e in plan.bundle["entry"] if e["resource"]["resourceType"] in GUARDED]
    assert sent["request"]["method"] == "PUT" and sent["request"]["ifMatch"] == 'W/"3"'
    assert sent["request"]["url"].startswith("DiagnosticReport?identifier=")


def stored(bundle: dict[str, Any], rtype: str, rid: str, version: str = "1") -> dict[str, Any]:
    """A resource of the run's bundle as the server holds it: an id, a version, our references resolved."""
    (entry,) = [e for e in bundle["entry"] if e["resource"]["resourceType"] == rtype]
    text = json.dumps(entry["resource"])
    for e in bundle["entry"]:
        text = text.replace(e["fullUrl"], f"{e['resource']['resourceType']}/{ids(e['resource']['resourceType'])}")
    res = json.loads(text)
    res["id"] = rid
    res["meta"] = {**res["meta"], "versionId": version, "lastUpdated": "2026-11-27T10:00:01Z"}
    return res


def ids(rtype: str) -> str:
    return {"DiagnosticReport": "r1", "CarePlan": "p1"}.get(rtype, "x-" + rtype.lower())


def signed(bundle: dict[str, Any], rid: str) -> dict[str, Any]:
    """Our report as a clinician signed it: status final, their conclusion."""
    report = stored(bundle, "DiagnosticReport", rid, "7")
    report["status"], report["conclusion"] = "final", SIGNED
    return report


def sink(transaction: bool) -> ServerSink:
    caps = Capabilities(fhir_version="4.0.1", last_updated=True, conditional_update=True, transaction=transaction)
    return ServerSink(FhirClient(BASE, sleep=lambda _: None), caps)


def _only(sent: dict[str, Any], *rtypes: str) -> dict[str, Any]:
    return {**sent, "entry": [e for e in sent["entry"] if e["resource"]["resourceType"] in rtypes]}


@responses.activate(registry=OrderedRegistry)
def test_one_by_one_a_create_that_finds_a_signed_report_stops_before_anything_else(bundle):
    """The recorded answer to a POST with If-None-Exist that matches: 200, the existing resource, its ETag,
    no Location (09-if-none-exist.json [1]) - here the clinician's signed report."""
    sent = _only(first_write(bundle), "DiagnosticReport", "CarePlan", "Provenance")
    theirs = signed(bundle, "6a5b8ada-3d4c-45d9-a998-77deb4e2b0ec")
    register(responses, "09-if-none-exist.json", 1, url="DiagnosticReport", body=json.dumps(theirs))
    with pytest.raises(UnlistedResourceError) as raised:
        sink(transaction=False).write("Patient/classic-poems", sent)
    message = str(raised.value)
    assert f"DiagnosticReport/{theirs['id']}" in message and "'final'" in message
    assert "did not list a resource of ours" in message and "retried next run" in message
    assert raised.value.found == [theirs]
    (call,) = responses.calls  # no plan, no Provenance naming the clinician's report
    assert call.request.method == "POST" and call.request.headers["If-None-Exist"].startswith("identifier=")


@responses.activate(registry=OrderedRegistry)
def test_in_a_transaction_a_create_answered_200_with_a_signed_report_fails_the_patient(bundle):
    """The recorded transaction-response of entries that matched (11-transaction.json [4]): bare status
    "200", a relative location, the existing resource."""
    sent = _only(first_write(bundle), "DiagnosticReport", "CarePlan", "Provenance")
    recorded = fill(exchange("11-transaction.json", 4)["response"]["body"])
    matched = recorded["entry"][0]  # status "200", location DiagnosticReport/<id>
    theirs = signed(bundle, matched["response"]["location"].split("/")[1])
    created = recorded["entry"][1]  # status "201"
    answer = {
        **recorded,
        "entry": [
            {**matched, "resource": theirs},
            {**created, "resource": {**stored(bundle, "CarePlan", "p1")}},
            {**created, "resource": {"resourceType": "Provenance", "id": "pv1", "meta": {"versionId": "1"}}},
        ],
    }
    responses.add("POST", BASE, json=answer)
    with pytest.raises(UnlistedResourceError) as raised:
        sink(transaction=True).write("Patient/classic-poems", sent)
    assert f"DiagnosticReport/{theirs['id']}" in str(raised.value) and raised.value.found == [theirs]
    body = json.loads(responses.calls[0].request.body)
    assert [e["request"]["method"] for e in body["entry"]] == ["POST", "POST", "PUT"]
    assert all(e["request"].get("ifNoneExist") for e in body["entry"][:2])


@responses.activate(registry=OrderedRegistry)
def test_a_create_that_finds_our_own_resource_as_sent_is_our_write_done(bundle):
    """A run killed after its write, its state lost, the search index behind: the create finds ours exactly
    as this run sends it - nothing duplicated, nothing failed."""
    sent = _only(first_write(bundle), "DiagnosticReport", "CarePlan")
    recorded = fill(exchange("11-transaction.json", 4)["response"]["body"])
    template = recorded["entry"][0]["response"]
    answer = {
        **recorded,
        "entry": [
            {
                "response": {**template, "location": f"{rtype}/{ids(rtype)}"},
                "resource": stored(bundle, rtype, ids(rtype)),
            }
            for rtype in GUARDED
        ],
    }
    responses.add("POST", BASE, json=answer)
    written = sink(transaction=True).write("Patient/classic-poems", sent)
    assert {w["ref"] for w in written.values()} == {"DiagnosticReport/r1", "CarePlan/p1"}
    assert len(responses.calls) == 1  # and no re-tag: the server holds it as sent


@responses.activate(registry=OrderedRegistry)
def test_one_by_one_our_own_resource_found_is_no_failure_and_the_rest_follows(bundle):
    sent = _only(first_write(bundle), "DiagnosticReport", "CarePlan")
    ours = stored(bundle, "DiagnosticReport", "r1")
    register(responses, "09-if-none-exist.json", 1, url="DiagnosticReport", body=json.dumps(ours))
    plan = stored(bundle, "CarePlan", "p1")
    register(responses, "09-if-none-exist.json", 0, url="CarePlan", body=json.dumps(plan))  # 201 Created
    written = sink(transaction=False).write("Patient/classic-poems", copy.deepcopy(sent))
    assert {w["ref"] for w in written.values()} == {"DiagnosticReport/r1", "CarePlan/p1"}
    assert [c.request.method for c in responses.calls] == ["POST", "POST"]


def half_written(bundle: dict[str, Any], rtype: str, rid: str, missing: str) -> dict[str, Any]:
    """A resource of the run's bundle as a server stores it when it applied the transaction without the entry
    of type ``missing``: the reference to that entry left as the transaction's urn:uuid."""
    (entry,) = [e for e in bundle["entry"] if e["resource"]["resourceType"] == rtype]
    text = json.dumps(entry["resource"])
    for e in bundle["entry"]:
        if e["resource"]["resourceType"] != missing:
            text = text.replace(e["fullUrl"], f"{e['resource']['resourceType']}/{ids(e['resource']['resourceType'])}")
    res = json.loads(text)
    res["id"] = rid
    res["meta"] = {**res["meta"], "versionId": "1", "lastUpdated": "2026-11-27T10:00:01Z"}
    assert "urn:uuid:" in json.dumps({k: v for k, v in res.items() if k != "meta"})
    return res


def _retry_answer(bundle: dict[str, Any], found: dict[str, Any]) -> dict[str, Any]:
    """The recorded transaction-response (11-transaction.json [4]) of the retry of a transaction the server
    applied in part: the plan's create matched what the first attempt stored ("200"), the rest created."""
    recorded = fill(exchange("11-transaction.json", 4)["response"]["body"])
    matched, created = recorded["entry"][0], recorded["entry"][1]
    entries = []
    for rtype in ("Device", "DiagnosticReport", "CarePlan", "Provenance"):
        if rtype == "CarePlan":
            entries.append(
                {"response": {**matched["response"], "location": f"CarePlan/{found['id']}"}, "resource": found}
            )
        elif rtype in GUARDED:
            entries.append({**created, "resource": stored(bundle, rtype, ids(rtype))})
        else:
            entries.append(
                {**created, "resource": {"resourceType": rtype, "id": ids(rtype), "meta": {"versionId": "1"}}}
            )
    return {**recorded, "entry": entries}


@pytest.mark.parametrize("missing", ["Device", "DiagnosticReport"])
@responses.activate(registry=OrderedRegistry)
def test_in_a_transaction_a_create_that_finds_our_plan_half_written_by_this_write_is_ours(bundle, missing):
    """probe91 N1: the first attempt applied in part (all but the Device, or the report) and answered 500, the
    retry's create finds our plan with the missing entry's urn:uuid: ours, half-written - to be written again
    (HalfWrittenError: the job reads the server again), never "changed by someone else"; not re-tagged."""
    sent = first_write(bundle)
    assert [e["resource"]["resourceType"] for e in sent["entry"]] == [
        "Device",
        "DiagnosticReport",
        "CarePlan",
        "Provenance",
    ]
    plan = half_written(bundle, "CarePlan", "p1", missing)
    responses.add("POST", BASE, json=_retry_answer(bundle, plan))
    with pytest.raises(HalfWrittenError) as raised:
        sink(transaction=True).write("Patient/classic-poems", sent)
    assert raised.value.found == [plan] and "CarePlan/p1" in str(raised.value)
    assert "half-written" in str(raised.value) and "someone else" not in str(raised.value)
    assert len(responses.calls) == 1  # nothing re-tagged: it is written again, as a whole


@responses.activate(registry=OrderedRegistry)
def test_in_a_transaction_a_half_written_plan_someone_changed_is_theirs(bundle):
    """The same half-written plan, changed by a clinician between the attempts: theirs, the patient fails."""
    sent = first_write(bundle)
    plan = half_written(bundle, "CarePlan", "p1", "Device")
    plan["status"] = "active"
    responses.add("POST", BASE, json=_retry_answer(bundle, plan))
    with pytest.raises(UnlistedResourceError) as raised:
        sink(transaction=True).write("Patient/classic-poems", sent)
    assert raised.value.found == [plan] and "changed by someone else" in str(raised.value)


@responses.activate(registry=OrderedRegistry)
def test_one_by_one_a_create_that_finds_our_plan_half_written_is_ours_and_the_rest_follows(bundle):
    """One request at a time (conditional mode, or the rest of a run after a transaction applied in part): the
    plan's create finds ours half-written by an earlier attempt: the Provenance still follows, then the job is
    told to read again and write it again."""
    sent = _only(first_write(bundle), "DiagnosticReport", "CarePlan", "Provenance")
    register(
        responses,
        "09-if-none-exist.json",
        0,
        url="DiagnosticReport",
        body=json.dumps(stored(bundle, "DiagnosticReport", "r1")),
    )
    plan = half_written(bundle, "CarePlan", "p1", "Device")
    register(responses, "09-if-none-exist.json", 1, url="CarePlan", body=json.dumps(plan))
    responses.add(
        "PUT", f"{BASE}/Provenance", json={"resourceType": "Provenance", "id": "pv1", "meta": {"versionId": "1"}}
    )
    with pytest.raises(HalfWrittenError) as raised:
        sink(transaction=False).write("Patient/classic-poems", copy.deepcopy(sent))
    assert raised.value.found == [plan]
    assert [c.request.method for c in responses.calls] == ["POST", "POST", "PUT"]
