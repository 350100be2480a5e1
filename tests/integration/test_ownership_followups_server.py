"""What the sync writes beside a report or plan someone else owns, over several runs on a real server
(probe73: a finalised report, a retracted report, a plan saved without meta, Provenance records)."""

from __future__ import annotations

import pytest
import requests

from poems_fhir.fhir.write import CONCLUSION_TAG_SYSTEM, tag_of
from poems_fhir.sync.state import StateStore
from tests.integration.conftest import headers
from tests.integration.test_ownership_server import criteria_report, fresh_run, get, ours, put, set_platelets
from tests.integration.test_sync_server import run


def _supporting(plan):
    return [s["reference"] for s in plan.get("supportingInfo", [])]


def _open_plans(server):
    return [p for p in ours(server, "CarePlan") if p["status"] not in ("revoked", "entered-in-error")]


def _written_then_marked(server, tmp_path, status: str, **kw) -> dict:
    """A first run, then our criteria report given ``status`` by a clinician; the report as it was."""
    run(server, tmp_path, **kw)
    (report,) = criteria_report(server)
    put(server, {**report, "status": status})
    return report


def _provenances(server) -> dict[str, dict]:
    return {e["resource"]["id"]: e["resource"] for e in get(server, "Provenance", _count="300").get("entry", []) or []}


def test_a_new_conclusion_beside_a_finalised_report_is_a_new_draft_report_the_plan_cites(server, tmp_path):
    """probe73 D1: the new conclusion went only into our plan, which kept citing the signed report."""
    report = _written_then_marked(server, tmp_path, "final")
    set_platelets(server, 250)  # thrombocytosis no longer present: the conclusion changes
    _, changed = run(server, tmp_path)
    assert changed.written == 1 and changed.failed == 0
    reports = {r["id"]: r for r in criteria_report(server)}
    assert len(reports) == 2
    signed = reports.pop(report["id"])
    assert (
        signed["status"] == "final"
        and signed["meta"]["versionId"] == get(server, f"DiagnosticReport/{report['id']}")["meta"]["versionId"]
    )
    assert signed["conclusion"] == report["conclusion"]  # never modified
    (beside,) = reports.values()
    assert beside["status"] != "final" and beside["identifier"][0]["value"].endswith(f".after.{report['id']}")
    assert f"DiagnosticReport/{report['id']}" in beside["conclusion"]  # says which report it stands beside
    assert tag_of(beside, CONCLUSION_TAG_SYSTEM) != tag_of(signed, CONCLUSION_TAG_SYSTEM)
    (plan,) = _open_plans(server)
    assert f"DiagnosticReport/{beside['id']}" in _supporting(plan)
    assert f"DiagnosticReport/{report['id']}" not in _supporting(plan)  # no longer rests on the signed report
    assert any("states it beside it" in p for p in changed.problems)
    _, again = run(server, tmp_path)  # nothing changed: nothing written, the note not repeated
    assert again.written == 0 and not any("states it beside it" in p for p in again.problems)
    _, russian = run(server, tmp_path, language="ru")  # rewritten in Russian: no new report, no note (L3)
    assert russian.written == 5 and not any("states it beside it" in p for p in russian.problems)
    assert len(criteria_report(server)) == 2
    set_platelets(server, 530)  # back to the signed report's conclusion
    _, back = run(server, tmp_path)
    assert back.failed == 0
    statuses = {r["id"]: r["status"] for r in criteria_report(server)}
    assert statuses == {report["id"]: "final", beside["id"]: "cancelled"}  # ours withdrawn, theirs stands
    (plan,) = _open_plans(server)
    assert f"DiagnosticReport/{report['id']}" in _supporting(plan)


def test_a_report_marked_entered_in_error_is_not_cited_and_its_proposals_are_withdrawn(server, tmp_path):
    """probe73 D2: our open plan kept citing the retracted report and was rewritten on that basis."""
    report = _written_then_marked(server, tmp_path, "entered-in-error")
    set_platelets(server, 530)  # new data, the same conclusion
    _, first = run(server, tmp_path)
    assert first.failed == 0 and first.withdrawn == 1
    takeover = [p for p in first.problems if f"DiagnosticReport/{report['id']}" in p]
    assert takeover and "entered-in-error" in takeover[0] and "nothing to do" not in takeover[0]
    (plan,) = ours(server, "CarePlan")
    assert plan["status"] == "revoked" and "entered-in-error" in plan["description"]
    assert f"DiagnosticReport/{report['id']}" not in _supporting(plan)  # probe78 N7: no longer cited at all
    assert [r["status"] for r in criteria_report(server)] == ["entered-in-error"]  # not written again
    _, again = run(server, tmp_path)
    assert again.written == 0 and again.withdrawn == 0
    set_platelets(server, 250)  # a material change: a new draft report beside it, and the proposals again
    _, changed = run(server, tmp_path)
    assert changed.written == 1
    reports = {r["id"]: r for r in criteria_report(server)}
    assert reports.pop(report["id"])["status"] == "entered-in-error"
    (beside,) = reports.values()
    assert beside["identifier"][0]["value"].endswith(f".after.{report['id']}")
    (plan,) = _open_plans(server)
    assert _supporting(plan)[0] == f"DiagnosticReport/{beside['id']}"
    assert f"DiagnosticReport/{report['id']}" not in _supporting(plan)


def _delete(server, resource) -> None:
    ref = f"{resource['resourceType']}/{resource['id']}"
    requests.delete(f"{server['url']}/{ref}", headers=headers(server), timeout=30).raise_for_status()


def _deletion_notes(summary) -> list[str]:
    return [p for p in summary.problems if "deleted by someone" in p]


def test_a_deleted_report_withdraws_the_plan_resting_on_it_and_is_said_once(server, tmp_path):
    """probe78 N4: our plan was rewritten citing nothing, an open proposal resting on no assessment (a
    retraction withdrew it); N3: the note came back on every run that read the patient."""
    run(server, tmp_path)
    (report,) = criteria_report(server)
    _delete(server, report)
    _, first = run(server, tmp_path)
    assert (first.failed, first.withdrawn) == (0, 1)
    (plan,) = ours(server, "CarePlan")
    assert plan["status"] == "revoked" and "deleted" in plan["description"]
    assert f"DiagnosticReport/{report['id']}" not in _supporting(plan)
    (note,) = _deletion_notes(first)
    assert f"DiagnosticReport/{report['id']}" in note and "not recreated" in note
    assert not criteria_report(server)  # not recreated while the conclusion stands
    _, again = run(server, tmp_path)  # the patient is read again: nothing written, nothing said
    assert (again.written, again.withdrawn, again.conflicts, _deletion_notes(again)) == (0, 0, 0, [])
    set_platelets(server, 250)  # a material change: the report and the proposals again
    _, changed = run(server, tmp_path)
    assert changed.written == 1
    (new,) = criteria_report(server)
    (plan,) = _open_plans(server)
    assert _supporting(plan)[0] == f"DiagnosticReport/{new['id']}"


def test_a_deleted_report_put_back_brings_the_plan_back_and_clears_the_deletion(server, tmp_path):
    """probe82 D6: the report PUT back under its id, as we wrote it, left our plan revoked "because the report
    was deleted", `state conflicts` listing the deletion, and every later run "unchanged"."""
    run(server, tmp_path)
    (report,) = criteria_report(server)
    ref = f"DiagnosticReport/{report['id']}"
    _delete(server, report)
    _, gone = run(server, tmp_path)
    assert gone.withdrawn == 1 and _deletion_notes(gone)
    put(server, {k: v for k, v in report.items() if k != "meta"} | {"meta": {"tag": report["meta"]["tag"]}})
    _, back = run(server, tmp_path)
    assert (back.written, back.withdrawn, back.conflicts, back.failed) == (1, 0, 0, 0)
    (plan,) = _open_plans(server)
    assert plan["status"] == "draft" and _supporting(plan)[0] == ref
    store = StateStore(tmp_path / "state.sqlite", readonly=True)
    assert [t for t in store.takeovers() if t["ref"] == ref] == []  # `state conflicts` says nothing of it
    store.close()
    _, again = run(server, tmp_path)
    assert (again.written, again.withdrawn, again.conflicts, _deletion_notes(again)) == (0, 0, 0, [])


def test_a_deleted_report_and_plan_are_each_named_once(server, tmp_path):
    """probe78 N3: both deleted gave the same line twice, naming only the identifier they share."""
    run(server, tmp_path)
    (report,) = criteria_report(server)
    (plan,) = ours(server, "CarePlan")
    _delete(server, report)
    _delete(server, plan)
    _, first = run(server, tmp_path)
    assert (first.failed, first.written, first.withdrawn) == (0, 0, 0)
    notes = _deletion_notes(first)
    assert len(notes) == 2
    assert any(f"DiagnosticReport/{report['id']}" in n for n in notes)
    assert any(f"CarePlan/{plan['id']}" in n for n in notes)
    _, again = run(server, tmp_path)
    assert (again.written, _deletion_notes(again)) == (0, [])
    assert not ours(server, "CarePlan") and not criteria_report(server)


def test_a_plan_saved_without_meta_gets_no_second_proposal_for_the_same_conclusion(server, tmp_path):
    """probe73 D7: the conclusion tag went with meta; our Provenance still says what the plan answers."""
    run(server, tmp_path)
    (plan,) = ours(server, "CarePlan")
    edited = {k: v for k, v in plan.items() if k != "meta"}
    edited["note"] = [{"text": "Discussed with the patient."}]
    put(server, edited)
    set_platelets(server, 530)  # unrelated to the conclusion
    _, summary = run(server, tmp_path)
    assert summary.failed == 0
    assert len(ours(server, "CarePlan")) == 1  # the clinician's, no proposal beside it
    assert not any("the conclusion changed" in p for p in summary.problems)
    set_platelets(server, 250)  # a material change: now one proposal beside it
    run(server, tmp_path)
    assert len(ours(server, "CarePlan")) == 2


PLASMA_VEGF = {
    "resourceType": "Observation",
    "id": "cp-vegf-later",
    "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "75628-8"}]},
    "subject": {"reference": "Patient/classic-poems"},
    "effectiveDateTime": "2024-03-01",
    "valueQuantity": {"value": 50, "unit": "pg/mL", "system": "http://unitsofmeasure.org", "code": "pg/mL"},
}


def test_inputs_back_to_an_earlier_state_keep_the_first_writes_provenance(server, tmp_path):
    """probe73 D5: the first write's Provenance (CREATE) was updated in place into the third write's UPDATE,
    the only current record of the first write gone."""

    def activity(prov):
        return prov["activity"]["coding"][0]["code"]

    fresh_run(server, tmp_path)
    first = _provenances(server)
    put(server, PLASMA_VEGF)  # a new result: our report and plan are updated
    assert fresh_run(server, tmp_path).written >= 1
    retracted = {**get(server, "Observation/cp-vegf-later"), "status": "entered-in-error"}
    put(server, retracted)  # the inputs are those of the first write again
    third = fresh_run(server, tmp_path)
    assert third.written >= 1 and third.failed == 0
    now = _provenances(server)
    for pid, prov in first.items():  # every record of the first write as it was: same version, CREATE
        assert now[pid]["meta"]["versionId"] == prov["meta"]["versionId"]
        assert activity(now[pid]) == "CREATE"
    new = [p for pid, p in now.items() if pid not in first]
    assert new and all(activity(p) == "UPDATE" for p in new if "NULLIFY" != activity(p))
    assert fresh_run(server, tmp_path).written == 0  # and a rerun records nothing more
    assert _provenances(server).keys() == now.keys()


def test_a_retraction_race_leaves_the_clinicians_report_alone(server, tmp_path):
    """The clinician's status is never overwritten, whatever the run's read said (If-Match)."""
    report = _written_then_marked(server, tmp_path, "entered-in-error")
    set_platelets(server, 250)
    run(server, tmp_path)
    assert get(server, f"DiagnosticReport/{report['id']}")["status"] == "entered-in-error"
    r = requests.get(f"{server['url']}/DiagnosticReport/{report['id']}/_history", headers=headers(server), timeout=30)
    assert len(r.json()["entry"]) == 2  # ours, then the clinician's: nothing of ours after it


def test_what_is_said_beside_a_clinicians_resources_is_in_the_reports_language(server, tmp_path):
    """The sentences added beside a clinician's plan or report were English in a Russian report."""
    run(server, tmp_path, language="ru")
    (plan,) = ours(server, "CarePlan")
    put(server, {**plan, "status": "active"})
    (report,) = criteria_report(server)
    put(server, {**report, "status": "final"})
    set_platelets(server, 250)  # the conclusion changes: a proposal and a report beside them
    run(server, tmp_path, language="ru")
    beside = [r for r in criteria_report(server) if r["id"] != report["id"]]
    assert len(beside) == 1 and beside[0]["language"] == "ru"
    assert f"Прежний отчёт DiagnosticReport/{report['id']}" in beside[0]["conclusion"]
    assert f"Врач принял план ведения (CarePlan/{plan['id']})" in beside[0]["conclusion"]
    (proposal,) = [p for p in ours(server, "CarePlan") if p["id"] != plan["id"]]
    assert proposal["description"].startswith(f"Изменённые предложения после плана ведения врача CarePlan/{plan['id']}")


def test_a_follow_up_beside_a_plan_saved_without_meta_stays_through_unrelated_changes(server, tmp_path):
    """probe75 H2: our Provenance named the follow-up proposal by the plan's identifier, so a later run read
    the proposal's conclusion as the clinician's plan's: an unrelated lab result withdrew the proposal."""
    run(server, tmp_path)
    (plan,) = ours(server, "CarePlan")
    put(server, {**{k: v for k, v in plan.items() if k != "meta"}, "note": [{"text": "Seen in clinic."}]})
    set_platelets(server, 250)  # a material change: one proposal beside the clinician's plan
    run(server, tmp_path)
    (proposal,) = [p for p in ours(server, "CarePlan") if p["id"] != plan["id"]]
    assert proposal["status"] == "draft"
    set_platelets(server, 240)  # unrelated to the conclusion
    _, unrelated = run(server, tmp_path)
    assert unrelated.withdrawn == 0
    assert get(server, f"CarePlan/{proposal['id']}")["status"] == "draft"
    named = [
        t["identifier"]["value"]
        for e in get(server, "Provenance", _count="200").get("entry", [])
        for t in e["resource"].get("target", [])
        if t.get("reference") == f"CarePlan/{proposal['id']}"
    ]
    assert named and all(v == proposal["identifier"][0]["value"] for v in named)  # by its own identifier


def test_a_profile_round_trip_keeps_the_first_writes_provenance(server, tmp_path):
    """probe75 H3: back to the first profile, our withdrawn report and plan were written again under the first
    write's run tag, its CREATE Provenance updated in place into an UPDATE (the withdrawal's Provenance was
    not among those the run reads)."""
    fresh_run(server, tmp_path)

    first = _provenances(server)
    fresh_run(server, tmp_path, profile="japan-2019")
    fresh_run(server, tmp_path)  # mayo again: what was withdrawn comes back
    now = _provenances(server)
    for pid, prov in first.items():
        assert now[pid]["meta"]["versionId"] == prov["meta"]["versionId"], prov["target"]
    assert fresh_run(server, tmp_path).written == 0


def test_a_report_back_to_a_signed_reports_conclusion_cites_it_even_after_the_one_beside_was_signed(server, tmp_path):
    """probe75 L1: a third draft repeated the first signed report's conclusion."""
    report = _written_then_marked(server, tmp_path, "final")
    set_platelets(server, 250)
    run(server, tmp_path)
    (beside,) = [r for r in criteria_report(server) if r["id"] != report["id"]]
    put(server, {**get(server, f"DiagnosticReport/{beside['id']}"), "status": "final"})
    set_platelets(server, 530)  # back to the first signed report's conclusion
    _, back = run(server, tmp_path)
    assert back.failed == 0
    assert {r["id"] for r in criteria_report(server)} == {report["id"], beside["id"]}  # no third draft
    (plan,) = _open_plans(server)
    assert f"DiagnosticReport/{report['id']}" in _supporting(plan)


@pytest.mark.parametrize("named", [True, False], ids=["named patients", "discovery"])
def test_a_retraction_or_deletion_of_what_we_wrote_is_seen_without_any_data_change(
    server, tmp_path, monkeypatch, named
):
    """probe75 H1, M1: a clinician's retraction of our report, or deletion of the report we wrote beside a
    signed one, changes no input: nothing happened until the patient's data changed, the open plan citing the
    retracted (or deleted) report run after run."""
    from poems_fhir.sync import sources

    monkeypatch.setattr(sources, "OVERLAP", sources.dt.timedelta(0))  # no 5-minute wait past the checkpoint
    kw = {} if named else {"patient": []}
    report = _written_then_marked(server, tmp_path, "entered-in-error", **kw)
    _, seen = run(server, tmp_path, **kw)  # nothing else changed
    assert seen.withdrawn == 1 and seen.failed == 0
    (plan,) = ours(server, "CarePlan")
    assert plan["status"] == "revoked"
    _, quiet = run(server, tmp_path, **kw)
    assert (quiet.written, quiet.withdrawn, quiet.failed) == (0, 0, 0)
    set_platelets(server, 250)  # a new conclusion: the report of ours beside the retracted one, the plan again
    run(server, tmp_path, **kw)
    (beside,) = [r for r in criteria_report(server) if r["id"] != report["id"]]
    requests.delete(
        f"{server['url']}/DiagnosticReport/{beside['id']}", headers=headers(server), timeout=30
    ).raise_for_status()
    _, after = run(server, tmp_path, **kw)  # the clinician deleted it; nothing else changed
    assert (after.failed, after.withdrawn) == (0, 1)
    # M1: it cited the deleted report; probe78 N4: then it rested on nothing - now withdrawn, like a retraction
    assert not _open_plans(server)
    assert all(f"DiagnosticReport/{beside['id']}" not in _supporting(p) for p in ours(server, "CarePlan"))


def test_a_dry_run_reports_a_takeover_like_the_real_run(server, tmp_path):
    """probe75 L4: after a finalisation, a dry run reported conflicts=2 and an extra "no longer holds" line
    where the real run reported one takeover."""
    _written_then_marked(server, tmp_path, "final")
    set_platelets(server, 250)
    _, dry = run(server, tmp_path, dry_run=tmp_path / "dry")
    _, real = run(server, tmp_path)
    assert (dry.conflicts, dry.clinician_owned) == (real.conflicts, real.clinician_owned) == (1, 1)
    assert [p for p in dry.problems if "taken over" in p] == [p for p in real.problems if "taken over" in p]


def test_a_trigger_round_trip_keeps_the_first_writes_provenance(server, tmp_path):
    """probe78 N1: the same inputs under another --trigger write other content; the run tag (the inputs')
    was the first write's, whose CREATE Provenance was updated in place."""
    fresh_run(server, tmp_path)

    first = _provenances(server)
    fresh_run(server, tmp_path, trigger=["papilledema"])
    fresh_run(server, tmp_path)
    now = _provenances(server)
    for pid, prov in first.items():
        assert now[pid]["meta"]["versionId"] == prov["meta"]["versionId"], prov["target"]


def test_a_dry_run_predicts_what_a_retraction_makes_the_real_run_do(server, tmp_path, monkeypatch):
    """probe78 N2: a dry run after a clinician retracted our report predicted nothing (it recorded no recheck
    and so did not plan the patient again); the real run withdrew the plan."""
    from poems_fhir.sync import sources

    monkeypatch.setattr(sources, "OVERLAP", sources.dt.timedelta(0))  # no 5-minute wait past the checkpoint
    _written_then_marked(server, tmp_path, "entered-in-error")
    _, dry = run(server, tmp_path, dry_run=tmp_path / "dry")
    _, real = run(server, tmp_path)
    assert real.withdrawn == 1
    assert dry.conflicts == real.conflicts and any("entered-in-error" in p for p in dry.problems)
