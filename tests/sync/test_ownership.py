"""The ownership decision on FHIR JSON alone (sync/ownership.py): no server, no state."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from poems_fhir.criteria.profiles import MAYO
from poems_fhir.fhir.write import CONTENT_TAG_SYSTEM, WriteContext, is_unchanged_ours
from poems_fhir.pipeline import evaluate_paths, html_for, transaction_for
from poems_fhir.sync.ownership import owned, plan_writes
from poems_fhir.sync.sinks import ServerView
from tests.conftest import SAMPLES

NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def bundle(mapping):
    run = evaluate_paths([SAMPLES / "classic-poems.json"], mapping, MAYO)
    r = run.results[0]
    return transaction_for(r, WriteContext(NOW, mapping.identity, r.inputs), html_for(r, mapping))


def stored(bundle, rtype, rid, version="1"):
    """A resource as the server holds it after our transaction: an id, meta, references resolved."""
    (entry,) = [e for e in bundle["entry"] if e["resource"]["resourceType"] == rtype]
    res = copy.deepcopy(entry["resource"])
    res["id"] = rid
    res["meta"] = {**res["meta"], "versionId": version, "lastUpdated": "2026-11-27T10:00:01Z"}
    text = __import__("json").dumps(res)
    for e in bundle["entry"]:  # our report r1 and plan p1 (the ids the tests give them), our Device
        rtype = e["resource"]["resourceType"]
        text = text.replace(e["fullUrl"], f"{rtype}/{SERVER_IDS.get(rtype, 'x-' + rtype.lower())}")
    return __import__("json").loads(text)


SERVER_IDS = {"DiagnosticReport": "r1", "CarePlan": "p1"}
#: what a view of the server holds of ours (our report and plan): the references a stored plan must name
OURS = frozenset({"DiagnosticReport/r1", "CarePlan/p1"})


def test_what_we_wrote_reads_as_ours_after_the_server_resolved_the_references(bundle):
    plan = stored(bundle, "CarePlan", "p1")
    assert is_unchanged_ours(plan, OURS)
    assert not owned(plan, ServerView(resources=[stored(bundle, "DiagnosticReport", "r1"), plan]))


@pytest.mark.parametrize(
    "edit",
    [
        lambda r: r.update(status="active"),
        lambda r: r.update(note=[{"text": "discussed with the patient"}]),
        lambda r: r["activity"].pop(),
        lambda r: r.update(description="the clinician's own words"),
    ],
)
def test_any_edit_makes_it_someone_elses(bundle, edit):
    plan = stored(bundle, "CarePlan", "p1")
    edit(plan)
    assert owned(plan, ServerView())


def _with_a_new_conclusion(bundle):
    """The run's bundle with the report's conclusion changed, marked again as the run would."""
    from poems_fhir.fhir.write import mark_ownership

    changed = copy.deepcopy(bundle)
    for e in changed["entry"]:
        if e["resource"]["resourceType"] == "DiagnosticReport":
            e["resource"]["conclusion"] += " New lab."
            e["resource"]["meta"]["tag"] = [
                t for t in e["resource"]["meta"]["tag"] if t["system"] != CONTENT_TAG_SYSTEM
            ]
    mark_ownership(changed, "k")
    return changed


def test_unchanged_content_sends_nothing_and_a_changed_one_sends_with_if_match(bundle):
    view = ServerView(
        resources=[stored(bundle, "DiagnosticReport", "r1"), stored(bundle, "CarePlan", "p1")],
        provenances=[_our_provenance(bundle, "2026-11-27T10:00:01Z")],
    )
    assert plan_writes(bundle, view, "k").bundle is None
    changed = _with_a_new_conclusion(bundle)
    plan = plan_writes(changed, view, "k")
    sent = [e for e in plan.bundle["entry"] if e["resource"]["resourceType"] in ("DiagnosticReport", "CarePlan")]
    assert [e["resource"]["resourceType"] for e in sent] == ["DiagnosticReport"]
    assert sent[0]["request"]["ifMatch"] == 'W/"1"'


def test_resources_from_before_the_markers_are_ours_only_at_the_version_we_recorded(bundle):
    plan = stored(bundle, "CarePlan", "p1", version="4")
    plan["meta"]["tag"] = [t for t in plan["meta"]["tag"] if "poems-fhir.org" not in t["system"]]
    assert owned(plan, ServerView())  # no marker, no record: someone else's, never touched
    assert not owned(plan, ServerView(legacy_versions={"CarePlan/p1": "4"}))
    assert owned(plan, ServerView(legacy_versions={"CarePlan/p1": "3"}))  # changed since our write


def test_a_foreign_provenance_makes_it_someone_elses(bundle):
    plan = stored(bundle, "CarePlan", "p1")
    assert owned(plan, ServerView(foreign_targets={"CarePlan/p1"}))


def test_every_sent_resource_carries_the_hash_of_what_is_sent(bundle):
    # plan_writes re-hashes only what it changed (references dropped, a conclusion amended); whatever
    # it sends must carry the content hash of exactly that content
    from poems_fhir.fhir.write import GUARDED_TYPES, HASH_V2, content_hash, tag_of

    types = {e["fullUrl"]: e["resource"]["resourceType"] for e in bundle["entry"]}
    deleted_plan = stored(bundle, "CarePlan", "p1")
    deleted_plan["status"] = "active"  # a clinician's plan: the report then names it in its conclusion
    for view in (ServerView(), ServerView(resources=[deleted_plan])):
        plan = plan_writes(bundle, view, "material")
        sent = [e["resource"] for e in plan.bundle["entry"] if e["resource"]["resourceType"] in GUARDED_TYPES]
        assert sent
        for res in sent:  # the second version, also where plan_writes re-hashed (probe73 D3: it wrote the first)
            marker = tag_of(res, CONTENT_TAG_SYSTEM)
            assert marker.startswith(HASH_V2) and marker == content_hash(res, types)


def test_a_withdrawal_is_hashed_so_that_a_clinician_re_pointing_it_is_seen(bundle):
    # probe73 D3: a withdrawn plan carried the first hash version, which drops the id of every report it
    # cites: a clinician who re-pointed it to their own CT report still read as "ours, unchanged"
    from poems_fhir.fhir.write import HASH_V2, tag_of, withdrawal_transaction

    plan = stored(bundle, "CarePlan", "p1")
    assert {i["reference"] for i in plan["supportingInfo"]} == {"DiagnosticReport/r1"}
    (put,) = [
        e["resource"]
        for e in withdrawal_transaction([plan], "test", NOW, ours=OURS)["entry"]
        if e["resource"]["resourceType"] == "CarePlan"
    ]
    assert tag_of(put, CONTENT_TAG_SYSTEM).startswith(HASH_V2)
    on_server = {**copy.deepcopy(put), "id": "p1", "meta": {**put["meta"], "versionId": "2"}}
    assert is_unchanged_ours(on_server, OURS)
    re_pointed = copy.deepcopy(on_server)
    re_pointed["supportingInfo"] = [{"reference": "DiagnosticReport/cp-ct"}]
    assert not is_unchanged_ours(re_pointed, OURS)
    assert owned(re_pointed, ServerView(resources=[stored(bundle, "DiagnosticReport", "r1"), re_pointed]))


def _our_provenance(bundle, last_updated):
    (entry,) = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Provenance"]
    prov = copy.deepcopy(entry["resource"])
    prov["id"] = "prov1"
    prov["meta"] = {**prov["meta"], "versionId": "1", "lastUpdated": last_updated}
    return prov


@pytest.mark.parametrize(
    ("ordered", "provenance_at", "provenance_sent"),
    [
        (True, None, True),  # killed after the plan's PUT, before the Provenance's: never written
        (True, "2026-11-27T09:00:00Z", True),  # only an older run's Provenance names them
        (True, "2026-11-27T10:00:01Z", False),  # written right after them (same instant: not earlier)
        (True, "2026-11-27T11:00:02+01:00", False),  # 10:00:02Z in another zone
        # a transaction: a server may apply its entries in any order, so any Provenance of ours naming them
        # will do; none at all is one the server left out (probe63 D1: 200 with one entry fewer)
        (False, "2026-11-27T09:00:00Z", False),
        (False, None, True),
    ],
)
def test_ordered_writes_repair_a_provenance_a_killed_run_never_wrote(bundle, ordered, provenance_at, provenance_sent):
    """Without transactions the Provenance is a PUT of its own after the report and the plan; a run
    killed in between left them exactly ours and unchanged, so the rerun sent nothing and they stayed
    without a Provenance for good. The rerun now sends the Provenance alone, naming them by server id."""
    view = ServerView(
        resources=[stored(bundle, "DiagnosticReport", "r1"), stored(bundle, "CarePlan", "p1")],
        provenances=[_our_provenance(bundle, provenance_at)] if provenance_at else [],
        ordered_writes=ordered,
    )
    plan = plan_writes(bundle, view, "k")
    if not provenance_sent:
        assert plan.bundle is None
        return
    sent = {e["resource"]["resourceType"]: e["resource"] for e in plan.bundle["entry"]}
    assert "DiagnosticReport" not in sent and "CarePlan" not in sent  # exactly ours: not sent again
    targets = {t["reference"] for t in sent["Provenance"]["target"]}
    assert targets == {"DiagnosticReport/r1", "CarePlan/p1"}


def test_a_reference_list_left_empty_by_a_resource_not_sent_is_dropped_not_sent_empty():
    # probe37: after our report was deleted by a clinician, the CarePlan went out with "supportingInfo": []
    # (FHIR JSON has no empty arrays: the server dropped it, which read as a change and cost a re-tagging PUT)
    from poems_fhir.sync.ownership import _rewrite_refs

    plan = {
        "resourceType": "CarePlan",
        "supportingInfo": [{"reference": "urn:uuid:report"}],
        "author": {"reference": "urn:uuid:device"},
        "activity": [{"reference": {"reference": "urn:uuid:report"}}],
    }
    out = _rewrite_refs(plan, {"urn:uuid:report": None, "urn:uuid:device": "Device/d1"})
    assert "supportingInfo" not in out and out["author"] == {"reference": "Device/d1"}
    assert out["activity"] == [{"reference": {"reference": "urn:uuid:report"}}]  # not a list of references
    kept = _rewrite_refs(
        {"supportingInfo": [{"reference": "urn:uuid:report"}, {"reference": "Procedure/asct"}]},
        {"urn:uuid:report": None},
    )
    assert kept == {"supportingInfo": [{"reference": "Procedure/asct"}]}


def _clinicians_copy(bundle, rtype: str, rid: str) -> dict:
    """A clinician's own resource of the patient onto which our identifier was copied (probe68 D1, D4)."""
    (entry,) = [e for e in bundle["entry"] if e["resource"]["resourceType"] == rtype]
    ours = entry["resource"]
    return {
        "resourceType": rtype,
        "id": rid,
        "meta": {"versionId": "1", "lastUpdated": "2026-11-28T09:00:00Z"},
        "identifier": copy.deepcopy(ours["identifier"]),
        "status": "final" if rtype == "DiagnosticReport" else "active",
        "subject": ours["subject"],
        **({"code": ours["code"]} if rtype == "DiagnosticReport" else {"intent": "plan"}),
    }


@pytest.mark.parametrize(
    ("rtype", "ours_first"), [("DiagnosticReport", True), ("DiagnosticReport", False), ("CarePlan", True)]
)
def test_our_identifier_on_two_resources_of_the_patient_fails_the_patient_naming_both(bundle, rtype, ours_first):
    # probe68 D1: whichever came last in the search stood for the identifier - the clinician's report hid
    # ours, never updated again, and our new plan cited the clinician's report as ours; D4: a copied plan
    # identifier withdrew our untouched proposal for a "follow-up" on a conclusion that had not changed
    from poems_fhir.errors import DuplicateIdentifierError, TemporaryNetworkError

    ours = [stored(bundle, "DiagnosticReport", "r1"), stored(bundle, "CarePlan", "p1")]
    copy_ = _clinicians_copy(bundle, rtype, "clin-1")
    view = ServerView(
        resources=[*ours, copy_] if ours_first else [copy_, *ours],
        provenances=[_our_provenance(bundle, "2026-11-27T10:00:01Z")],
    )
    with pytest.raises(DuplicateIdentifierError) as exc:
        plan_writes(bundle, view, "k")
    assert isinstance(exc.value, TemporaryNetworkError)  # the patient fails and is retried next run
    mine = SERVER_IDS[rtype]
    assert f"{rtype}/clin-1 (changed, or not written by poems-fhir), {rtype}/{mine} (as poems-fhir wrote it)" in str(
        exc.value
    )
    assert "nothing was written for this patient, who is retried next run" in str(exc.value)


def _activity(bundle_sent) -> str:
    (prov,) = [e["resource"] for e in bundle_sent["entry"] if e["resource"]["resourceType"] == "Provenance"]
    return prov["activity"]["coding"][0]["code"]


def test_the_provenance_of_an_update_says_update_and_of_a_first_write_create(bundle):
    # probe68 D5: every write's Provenance said CREATE, also where our report was updated in place
    first = plan_writes(bundle, ServerView(), "k")
    assert _activity(first.bundle) == "CREATE"
    view = ServerView(
        resources=[stored(bundle, "DiagnosticReport", "r1"), stored(bundle, "CarePlan", "p1")],
        provenances=[_our_provenance(bundle, "2026-11-27T10:00:01Z")],
    )
    changed = _with_a_new_conclusion(bundle)
    update = plan_writes(changed, view, "k")
    (prov,) = [e["resource"] for e in update.bundle["entry"] if e["resource"]["resourceType"] == "Provenance"]
    assert prov["activity"]["coding"] == [
        {"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation", "code": "UPDATE", "display": "revise"}
    ]
    assert _activity(bundle) == "CREATE"  # the bundle as built is left as it was


@pytest.mark.parametrize("how", ["second identifier", "another letter case"])
def test_a_copy_of_our_identifier_as_a_second_one_or_in_another_case_is_found_too(bundle, how):
    # probe69 D5: only the first identifier was compared, and exactly
    from poems_fhir.errors import DuplicateIdentifierError

    copy_ = _clinicians_copy(bundle, "DiagnosticReport", "clin-2")
    ours_id = copy_["identifier"][0]
    if how == "second identifier":
        copy_["identifier"] = [{"system": "urn:oid:1.2.3.4", "value": "LAB-77"}, ours_id]
    else:
        copy_["identifier"] = [{**ours_id, "value": ours_id["value"].upper()}]
    view = ServerView(
        resources=[stored(bundle, "DiagnosticReport", "r1"), stored(bundle, "CarePlan", "p1"), copy_],
        provenances=[_our_provenance(bundle, "2026-11-27T10:00:01Z")],
    )
    with pytest.raises(DuplicateIdentifierError) as exc:
        plan_writes(bundle, view, "k")
    assert "DiagnosticReport/clin-2 (changed, or not written by poems-fhir), DiagnosticReport/r1" in str(exc.value)


def test_a_retracted_response_report_does_not_promise_to_withdraw_the_plan():
    """probe75 L2: only the criteria report carries the plan; the notice of a retracted response report said
    poems-fhir withdraws the proposals resting on it, and nothing was withdrawn."""
    from poems_fhir.sync.ownership import takeover_of

    def retracted(code: str) -> dict:
        return {
            "resourceType": "DiagnosticReport",
            "id": "r1",
            "status": "entered-in-error",
            "code": {"coding": [{"code": code}]},
            "identifier": [{"system": "https://poems-fhir.org/fhir/identifier/x", "value": "p.mayo"}],
        }

    assert "withdraws its own open proposals" in takeover_of(retracted("poems-criteria-assessment")).message
    said = takeover_of(retracted("poems-response-assessment")).message
    assert "entered-in-error" in said and "no longer cites it" in said and "withdraws" not in said
