"""Write-back ownership decided from the server, with the state file deleted before every run."""

from __future__ import annotations

import pytest
import requests

from poems_fhir.fhir.write import CONTENT_TAG_SYSTEM, tag_of
from tests.integration.conftest import headers
from tests.integration.test_sync_server import run

CP = "Patient/classic-poems"


def fresh_run(server, tmp_path, **kw):
    """A run on a new host: no state file at all."""
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"state.sqlite{suffix}").unlink(missing_ok=True)
    return run(server, tmp_path, **kw)[1]


def get(server, path, **params):
    r = requests.get(f"{server['url']}/{path}", params=params, headers=headers(server), timeout=30)
    r.raise_for_status()
    return r.json()


def put(server, resource):
    r = requests.put(
        f"{server['url']}/{resource['resourceType']}/{resource['id']}",
        json=resource,
        headers=headers(server),
        timeout=30,
    )
    r.raise_for_status()
    return r.json()


def ours(server, rtype, patient=CP):
    bundle = get(server, rtype, subject=patient, _count="100")
    return [
        e["resource"]
        for e in bundle.get("entry", []) or []
        if any(
            str(i.get("system", "")).startswith("https://poems-fhir.org/") for i in e["resource"].get("identifier", [])
        )
    ]


def criteria_report(server, patient=CP):
    return [
        r
        for r in ours(server, "DiagnosticReport", patient)
        if r["code"]["coding"][0]["code"] == "poems-criteria-assessment"
    ]


def set_platelets(server, value):
    plt = get(server, "Observation/cp-plt")
    plt["valueQuantity"]["value"] = value
    if value < 450:
        plt["interpretation"] = [{"coding": [{"code": "N"}]}]
    put(server, plt)


def test_without_state_a_rerun_writes_nothing_and_duplicates_nothing(server, tmp_path):
    first = fresh_run(server, tmp_path)
    assert first.written == 5
    again = fresh_run(server, tmp_path)
    assert (again.written, again.unchanged, again.conflicts) == (0, 5, 0)
    assert len(criteria_report(server)) == 1 and len(ours(server, "CarePlan")) == 1
    (report,) = criteria_report(server)
    assert tag_of(report, CONTENT_TAG_SYSTEM)  # the marker the ownership decision reads


def test_clinician_edits_survive_any_number_of_stateless_runs(server, tmp_path):
    fresh_run(server, tmp_path)
    (report,) = criteria_report(server)
    report["status"] = "final"
    report["conclusion"] = "Verified by Dr. A: POEMS syndrome."
    put(server, report)
    (plan,) = ours(server, "CarePlan")
    plan["status"] = "active"
    plan["note"] = [{"text": "Start lenalidomide-dexamethasone; review in 4 weeks."}]
    put(server, plan)
    set_platelets(server, 530)  # new data, same conclusion
    for _ in range(3):
        summary = fresh_run(server, tmp_path)
        assert summary.failed == 0
        assert summary.clinician_owned == 2  # the report and the plan, left alone
    (after_report,) = criteria_report(server)
    assert (after_report["status"], after_report["conclusion"]) == ("final", "Verified by Dr. A: POEMS syndrome.")
    plans = ours(server, "CarePlan")
    assert len(plans) == 1 and plans[0]["status"] == "active" and plans[0]["note"] == plan["note"]


def test_takeover_is_per_resource_and_reported_once_with_state(server, tmp_path):
    run(server, tmp_path)
    (plan,) = ours(server, "CarePlan")
    plan["status"] = "active"  # a clinician accepted the proposal
    put(server, plan)
    set_platelets(server, 530)  # new lab result, same conclusion
    _, first = run(server, tmp_path)
    assert first.conflicts == 1 and first.written == 1  # reported once; the report still updates
    assert any("taken over" in p and "CarePlan/" in p for p in first.problems)
    (report,) = criteria_report(server)
    assert "530" in report["text"]["div"] and "has taken over the care plan" in report["conclusion"]
    set_platelets(server, 531)
    _, second = run(server, tmp_path)
    assert second.conflicts == 0 and second.clinician_owned == 1 and second.failed == 0  # a known state
    assert len(ours(server, "CarePlan")) == 1  # no proposal: the conclusion did not change


def test_material_change_beside_a_clinicians_plan_gives_one_follow_up_proposal(server, tmp_path):
    fresh_run(server, tmp_path)
    (plan,) = ours(server, "CarePlan")
    plan["status"] = "active"
    put(server, plan)
    set_platelets(server, 250)  # thrombocytosis no longer present: the conclusion changes
    summary = fresh_run(server, tmp_path)
    assert summary.written == 1
    plans = ours(server, "CarePlan")
    proposals = [p for p in plans if p["status"] == "draft"]
    assert len(plans) == 2 and len(proposals) == 1
    assert proposals[0]["basedOn"][0]["reference"] == f"CarePlan/{plan['id']}"
    assert proposals[0]["intent"] == "proposal"
    (report,) = criteria_report(server)
    assert "new draft CarePlan that refers to it" in report["conclusion"]
    again = fresh_run(server, tmp_path)  # stable: nothing to send, still one open proposal
    assert again.written == 0 and len([p for p in ours(server, "CarePlan") if p["status"] == "draft"]) == 1
    assert not any("the conclusion changed" in p for p in again.problems)  # probe73 D10: said when written


def test_a_deleted_plan_is_recreated_only_when_the_conclusion_changes(server, tmp_path):
    fresh_run(server, tmp_path)
    (plan,) = ours(server, "CarePlan")
    requests.delete(f"{server['url']}/CarePlan/{plan['id']}", headers=headers(server), timeout=30).raise_for_status()
    set_platelets(server, 530)  # same conclusion
    fresh_run(server, tmp_path)
    assert ours(server, "CarePlan") == []
    set_platelets(server, 250)  # a material change
    fresh_run(server, tmp_path)
    assert len(ours(server, "CarePlan")) == 1


def test_a_deleted_report_stays_deleted_when_a_run_without_state_rewrites_the_plan(server, tmp_path):
    """probe37 D02: the run right after the deletion (same inputs) sends the plan without its report; its
    Provenance must be a new record, not the first write's updated in place without the report."""
    fresh_run(server, tmp_path)
    (report,) = criteria_report(server)
    requests.delete(
        f"{server['url']}/DiagnosticReport/{report['id']}", headers=headers(server), timeout=30
    ).raise_for_status()
    fresh_run(server, tmp_path)  # no data change
    named = [
        t["identifier"]["value"]
        for e in get(server, "Provenance", _count="100").get("entry", [])
        for t in e["resource"].get("target", [])
        if "identifier" in t
    ]
    assert report["identifier"][0]["value"] in named  # the first write's record still names it
    set_platelets(server, 530)  # same conclusion
    fresh_run(server, tmp_path)
    assert criteria_report(server) == []


def test_leaving_scope_withdraws_our_report_and_plan(server, tmp_path):
    fresh_run(server, tmp_path)
    for rid in ("cp-pnp",):
        cond = get(server, f"Condition/{rid}")
        cond["verificationStatus"] = {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "entered-in-error"}
            ]
        }
        put(server, cond)
    for rid in ("cp-ife", "cp-mspike"):
        obs = get(server, f"Observation/{rid}")
        obs["status"] = "entered-in-error"
        put(server, obs)
    summary = fresh_run(server, tmp_path)
    assert summary.out_of_scope >= 2 and summary.withdrawn == 2
    (report,) = criteria_report(server)
    (plan,) = ours(server, "CarePlan")
    assert report["status"] == "cancelled" and report["conclusion"].startswith("Withdrawn by poems-fhir")
    assert "no longer meets" in report["conclusion"]
    # probe73 D11: its criterion results go with it (they stayed preliminary, "present")
    assert {c["status"] for c in report["contained"] if c["resourceType"] == "Observation"} == {"cancelled"}
    assert plan["status"] == "revoked"
    provenances = get(server, "Provenance", target=f"CarePlan/{plan['id']}")["entry"]
    assert any(e["resource"]["activity"]["coding"][0]["code"] == "NULLIFY" for e in provenances)
    again = fresh_run(server, tmp_path)  # withdrawn once, not again
    assert again.withdrawn == 0


def test_leaving_scope_leaves_a_clinicians_plan_alone(server, tmp_path):
    fresh_run(server, tmp_path)
    (plan,) = ours(server, "CarePlan")
    plan["status"] = "active"
    put(server, plan)
    cond = get(server, "Condition/cp-pnp")
    cond["verificationStatus"] = {
        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "entered-in-error"}]
    }
    put(server, cond)
    for rid in ("cp-ife", "cp-mspike"):
        obs = get(server, f"Observation/{rid}")
        obs["status"] = "entered-in-error"
        put(server, obs)
    summary = fresh_run(server, tmp_path)
    assert summary.withdrawn == 1  # only the report
    (after,) = ours(server, "CarePlan")
    assert after["status"] == "active"


def test_a_profile_change_withdraws_the_old_profiles_report_and_plan(server, tmp_path):
    fresh_run(server, tmp_path, profile="mayo")
    summary = fresh_run(server, tmp_path, profile="dispenzieri-2003")
    # 5 criteria reports + 5 plans + the origin case's response report of the old profile
    assert summary.written == 5 and summary.withdrawn == 11
    reports = criteria_report(server)
    assert sorted(r["status"] for r in reports) == ["cancelled", "partial"]


def test_a_missing_patient_is_reported_once_then_leaves_the_retry_queue(server, tmp_path):
    from tests.integration.test_sync_server import PATIENTS

    _, first = run(server, tmp_path, patient=[*PATIENTS, "Patient/does-not-exist"])
    assert first.missing == 1 and first.failed == 0
    _, second = run(server, tmp_path)  # the usual cohort: the missing one is not retried
    assert second.missing == 0 and second.patients_scanned == len(PATIENTS)


@pytest.fixture(autouse=True)
def _needs_loopback(server):
    if not server["resettable"]:
        pytest.skip("these tests edit and delete the sample resources: loopback server only")


def test_a_provenance_by_someone_else_makes_the_report_theirs(server, tmp_path):
    fresh_run(server, tmp_path)
    (report,) = criteria_report(server)
    r = requests.post(
        f"{server['url']}/Provenance",
        headers=headers(server),
        timeout=30,
        json={
            "resourceType": "Provenance",
            "target": [{"reference": f"DiagnosticReport/{report['id']}"}],
            "recorded": "2026-11-28T09:00:00Z",
            "activity": {
                "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation", "code": "UPDATE"}]
            },
            "agent": [{"who": {"display": "Dr. A (reviewed in the tumour board)"}}],
        },
    )
    r.raise_for_status()
    set_platelets(server, 530)
    summary = fresh_run(server, tmp_path)
    assert summary.clinician_owned == 1 and summary.failed == 0
    (after,) = criteria_report(server)
    assert after["meta"]["versionId"] == report["meta"]["versionId"]  # untouched
    assert "530" not in str(after["contained"])


def test_a_transient_fetch_failure_forgets_nothing(server, tmp_path, monkeypatch):
    from poems_fhir.errors import TemporaryNetworkError
    from poems_fhir.sync.sources import ServerSource

    run(server, tmp_path)
    (report,) = criteria_report(server)
    report["status"] = "final"
    put(server, report)
    real = ServerSource.fetch

    def flaky(self, patient):
        if patient == CP:
            raise TemporaryNetworkError("GET Observation: body cut short (gave up after 4 attempt(s))")
        return real(self, patient)

    set_platelets(server, 530)
    with monkeypatch.context() as patch:
        patch.setattr(ServerSource, "fetch", flaky)
        _, failing = run(server, tmp_path)
    assert failing.failed == 1
    _, clean = run(server, tmp_path)  # retried from the queue; the clinician's report stays final
    assert clean.failed == 0
    (after,) = criteria_report(server)
    assert after["status"] == "final"


def snapshot(server):
    """What of ours is on the server, without server ids, versions and times."""
    from tests.integration.test_modes_agree import comparable

    out = []
    for rtype in ("DiagnosticReport", "CarePlan"):
        bundle = get(server, rtype, _count="200")
        out += [
            json_key(comparable(e["resource"]))
            for e in bundle.get("entry", []) or []
            if any(
                str(i.get("system", "")).startswith("https://poems-fhir.org/")
                for i in e["resource"].get("identifier", [])
            )
        ]
    return sorted(out)


def json_key(value):
    import json

    return json.dumps(value, sort_keys=True)


@pytest.mark.parametrize("point,nth", [("before-write", 1), ("after-write", 3), ("after-record", 5)])
def test_killed_at_a_chosen_point_then_a_clean_run_equals_one_clean_run(server, tmp_path, monkeypatch, point, nth):
    from poems_fhir.sync.sinks import ServerSink
    from poems_fhir.sync.state import StateStore
    from tests.conftest import SAMPLES
    from tests.integration.conftest import load_bundles

    class Killed(BaseException):
        pass

    run(server, tmp_path / "reference")
    reference = snapshot(server)
    requests.post(f"{server['url']}/$reset", timeout=10).raise_for_status()
    load_bundles(server, [SAMPLES / "origin-case", SAMPLES / "classic-poems.json", SAMPLES / "mimics"])

    calls = {"write": 0, "record": 0}
    real_write, real_record = ServerSink.write, StateStore.record_patient

    def write(self, patient, bundle):
        calls["write"] += 1
        if point == "before-write" and calls["write"] == nth:
            raise Killed(point)
        written = real_write(self, patient, bundle)
        if point == "after-write" and calls["write"] == nth:
            raise Killed(point)
        return written

    def record(self, *args, **kw):
        real_record(self, *args, **kw)
        calls["record"] += 1
        if point == "after-record" and calls["record"] == nth:
            raise Killed(point)

    with monkeypatch.context() as patch:
        patch.setattr(ServerSink, "write", write)
        patch.setattr(StateStore, "record_patient", record)
        with pytest.raises(Killed):
            run(server, tmp_path / "killed")
    _, clean = run(server, tmp_path / "killed")
    assert clean.completed and clean.failed == 0
    assert snapshot(server) == reference  # no lost patient, no duplicate, no diff


def test_our_plan_rewritten_beside_our_report_a_clinician_finalised_stays_ours(server, tmp_path):
    """probe56 D1: a clinician finalised only our report; the next material change rewrote our plan, which
    cites it, and re-tagged it as if that report were someone else's - every later run reported our own plan
    as taken over (exit 1), and the next change wrote a second open proposal beside the stale one."""
    run(server, tmp_path)
    (report,) = criteria_report(server)
    report["status"] = "final"
    put(server, report)
    set_platelets(server, 250)  # thrombocytosis no longer present: the conclusion changes
    _, changed = run(server, tmp_path)
    assert changed.written == 1 and changed.conflicts == 1  # the report, reported once; the plan rewritten
    _, again = run(server, tmp_path)
    assert again.conflicts == 0 and again.failed == 0, list(again.problems)
    fresh = fresh_run(server, tmp_path)  # without the state the report's takeover is news again; never the plan
    assert fresh.failed == 0 and not [p for p in fresh.problems if "CarePlan/" in p], list(fresh.problems)
    set_platelets(server, 530)  # the conclusion changes back: our plan is updated, no second proposal
    _, back = run(server, tmp_path)
    assert back.written == 1 and back.conflicts == 0, back.problems
    plans = ours(server, "CarePlan")
    assert len(plans) == 1 and plans[0]["status"] == "draft"
