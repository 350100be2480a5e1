"""A patient who leaves scope has our own open report and plan withdrawn the FHIR way (README
"Ownership": report `cancelled` with a conclusion that says why, plan `revoked`), never a resource a
clinician took over; a 412 on the withdrawal leaves things as they are; a dry run withdraws nothing."""

from __future__ import annotations

import json
import logging
from typing import Any

from poems_fhir.criteria.profiles import JAPAN_2019
from poems_fhir.errors import PreconditionFailedError
from poems_fhir.fhir.read import read_paths
from poems_fhir.sync.ownership import key_of
from poems_fhir.sync.state import StateStore
from tests.sync.test_job_write_mutants2 import (
    CLASSIC,
    NOW,
    RELAPSE,
    Server,
    _as_before_markers,
    _take_over_report,
    job,
    records,
)

REASON = (
    "the patient no longer meets the criteria that put them in scope "
    "(polyneuropathy, monoclonal_plasma_cell_disorder not present in the current data)"
)
#: the same for the clinician: labels, never ids, and the date the reader's way
SAID = (
    "the patient no longer meets the criteria that put them in scope "
    "(Polyneuropathy, Monoclonal plasma-cell proliferative disorder not present in the current data)"
)
WHEN = "Nov 27, 2026, 10:00:00\u202fAM UTC"  # Babel's medium date-time for en (a narrow no-break space), with its zone


class IdServer(Server):
    """Also takes plain `PUT Type/id` (how a withdrawal is sent) onto the resource it names."""

    def write(self, patient: str, bundle: dict[str, Any]) -> dict[str, dict[str, str]]:
        bundle = json.loads(json.dumps(bundle))
        for e in bundle["entry"]:
            url = e["request"]["url"]
            if "?" not in url and e["resource"]["resourceType"] != "Provenance":
                assert e["request"]["ifMatch"] == f'W/"{self._at(url)["meta"]["versionId"]}"'
                e["request"]["url"] = f"{e['resource']['resourceType']}?identifier={key_of(e['resource'])}"
        return super().write(patient, bundle)

    def _at(self, ref: str) -> dict[str, Any]:
        return next(r for r in self.by_key.values() if f"{r['resourceType']}/{r['id']}" == ref)


def left_scope(tmp_path, patients=(CLASSIC,)) -> dict[str, Any]:
    """The same two patients, those named now with nothing but their Patient resource."""
    recs = records()
    for patient in patients:
        pid = patient.split("/", 1)[1]
        path = tmp_path / f"bare-{pid}.json"
        path.write_text(
            json.dumps(
                {
                    "resourceType": "Bundle",
                    "type": "collection",
                    "entry": [{"resource": {"resourceType": "Patient", "id": pid, "gender": "male"}}],
                }
            )
        )
        (recs[patient],) = read_paths([path]).records
    return recs


def test_our_open_report_and_plan_are_withdrawn_when_the_patient_leaves_scope(tmp_path, caplog):
    store, server = StateStore(tmp_path / "s.sqlite"), IdServer()
    job(store, server).run()
    (report,) = server.of_type(CLASSIC, "DiagnosticReport")
    (plan,) = server.of_type(CLASSIC, "CarePlan")
    earlier = report["conclusion"]
    with caplog.at_level(logging.INFO, logger="poems_fhir"):
        summary = job(store, server, left_scope(tmp_path), show_phi=True).run()
    assert (summary.out_of_scope, summary.withdrawn, summary.written) == (1, 2, 0)
    (report,) = server.of_type(CLASSIC, "DiagnosticReport")
    (plan,) = server.of_type(CLASSIC, "CarePlan")
    assert report["status"] == "cancelled" and plan["status"] == "revoked"
    notice = f"Withdrawn by poems-fhir on {WHEN}: {SAID}. This decision support no longer holds."
    assert report["conclusion"] == f"{notice} The earlier text was: {earlier}"
    assert plan["description"].startswith(f"{notice} ")
    # what an EHR shows says the withdrawal too: the narrative, no stale page, no proposed activity
    assert notice in report["text"]["div"] and "presentedForm" not in report
    assert notice in plan["text"]["div"] and "Proposed" not in plan["text"]["div"]
    assert {a["detail"]["status"] for a in plan["activity"]} <= {"cancelled", "completed"}
    withdrew = [r.getMessage() for r in caplog.records if ": withdrew " in r.getMessage()]
    assert len(withdrew) == 1 and withdrew[0].startswith(f"{CLASSIC}: withdrew ")
    assert f"withdrew DiagnosticReport/{report['id']}, CarePlan/{plan['id']} ({REASON})" in withdrew[0]
    (event,) = [r for r in caplog.records if getattr(r, "event", None) == "patient.withdrawn"]
    assert event.fields["resources"] == f"DiagnosticReport/{report['id']}, CarePlan/{plan['id']}"  # type: ignore[attr-defined]
    assert store.patient("srv", CLASSIC).status == "out_of_scope"
    # withdrawn is not open: nothing more to withdraw on the next change
    again = job(store, server, left_scope(tmp_path)).run()
    assert again.withdrawn == 0


def test_a_report_a_clinician_took_over_is_left_alone_when_the_patient_leaves_scope(tmp_path, caplog):
    store, server = StateStore(tmp_path / "s.sqlite"), IdServer()
    job(store, server).run()
    signed = json.loads(json.dumps(_take_over_report(server, CLASSIC)))
    with caplog.at_level(logging.INFO, logger="poems_fhir"):
        summary = job(store, server, left_scope(tmp_path), show_phi=True).run()
    assert summary.withdrawn == 1
    assert server.by_key[key_of(signed)] == signed
    (plan,) = server.of_type(CLASSIC, "CarePlan")
    assert plan["status"] == "revoked"
    skipped = [
        r.getMessage() for r in caplog.records if "no longer holds but belongs to someone else" in r.getMessage()
    ]
    assert skipped == [
        f"{CLASSIC}: DiagnosticReport/{signed['id']} no longer holds but belongs to someone else: left alone ({REASON})"
    ]
    # a signed-off report standing beside data that no longer support it is reported once as a conflict
    # (probe50 LOW-2: an INFO line alone alerted nobody)
    assert (summary.conflicts, summary.clinician_owned) == (1, 1)
    (problem,) = [p for p in summary.problems if "review it" in p]
    assert f"DiagnosticReport/{signed['id']} was taken over by someone else (status 'final' changed)" in problem
    assert f"no longer holds ({REASON})" in problem
    again = job(store, server, left_scope(tmp_path), show_phi=True).run()
    assert again.conflicts == 0  # reported once


def test_a_412_on_the_withdrawal_is_read_again_and_decided_again(tmp_path, caplog):
    # probe101 D2: one 412 (someone's change between our read and our write, or an applied attempt whose
    # answer was lost) dropped the withdrawal for good, with exit 0; it is read again and decided again
    store, server = StateStore(tmp_path / "s.sqlite"), IdServer()
    job(store, server).run()
    server.fail_next = 1
    with caplog.at_level(logging.WARNING, logger="poems_fhir"):
        summary = job(store, server, left_scope(tmp_path), show_phi=True).run()
    assert (summary.withdrawn, summary.failed, summary.out_of_scope) == (2, 0, 1)
    assert [r["status"] for r in server.of_type(CLASSIC, "DiagnosticReport")] == ["cancelled"]
    assert [r["status"] for r in server.of_type(CLASSIC, "CarePlan")] == ["revoked"]
    assert store.patient("srv", CLASSIC).status == "out_of_scope"
    # the warning names the resources that were not withdrawn by that attempt, by their ids (mutation seed 22)
    (conflict,) = [r for r in caplog.records if getattr(r, "event", None) == "patient.withdrawal_conflict"]
    named = {
        f"{r['resourceType']}/{r['id']}" for t in ("DiagnosticReport", "CarePlan") for r in server.of_type(CLASSIC, t)
    }
    assert named and set(conflict.fields["resources"].split(", ")) == named


def test_a_withdrawal_refused_twice_fails_the_patient_for_the_next_run(tmp_path):
    store, server = StateStore(tmp_path / "s.sqlite"), IdServer()
    job(store, server).run()
    server.fail_next = 2
    summary = job(store, server, left_scope(tmp_path), show_phi=True).run()
    assert (summary.withdrawn, summary.failed) == (0, 1)
    (problem,) = summary.problems
    assert "the server refused our withdrawal twice" in problem and "retried next run" in problem
    assert [r["status"] for r in server.of_type(CLASSIC, "CarePlan")] == ["draft"]
    assert store.patient("srv", CLASSIC).status == "failed"
    again = job(store, server, left_scope(tmp_path), show_phi=True).run()
    assert (again.withdrawn, again.failed) == (2, 0)
    assert [r["status"] for r in server.of_type(CLASSIC, "CarePlan")] == ["revoked"]


class SigningServer(IdServer):
    """A clinician signs our report off just before our withdrawal arrives: the withdrawal's If-Match no
    longer holds for it, and the server refuses the whole transaction with 412."""

    sign_next = False

    def write(self, patient: str, bundle: dict[str, Any]) -> dict[str, dict[str, str]]:
        if self.sign_next and any(e["resource"].get("status") == "cancelled" for e in bundle["entry"]):
            self.sign_next = False
            _take_over_report(self, patient)
            raise PreconditionFailedError("POST transaction failed: HTTP 412: precondition failed", status=412)
        return super().write(patient, bundle)


def test_a_report_signed_during_the_withdrawal_is_reported_and_our_plan_still_withdrawn(tmp_path):
    store, server = StateStore(tmp_path / "s.sqlite"), SigningServer()
    job(store, server).run()
    server.sign_next = True
    summary = job(store, server, left_scope(tmp_path), show_phi=True).run()
    (report,) = server.of_type(CLASSIC, "DiagnosticReport")
    (plan,) = server.of_type(CLASSIC, "CarePlan")
    assert report["status"] == "final" and plan["status"] == "revoked"
    assert (summary.withdrawn, summary.conflicts, summary.failed) == (1, 1, 0)
    (problem,) = [p for p in summary.problems if "review it" in p]
    assert f"DiagnosticReport/{report['id']} was taken over by someone else" in problem


def test_a_withdrawal_applied_with_its_answer_lost_counts_as_withdrawn(tmp_path):
    # the attempt was applied, its answer lost, the retry refused 412: read again, it is withdrawn already
    class LostAnswer(IdServer):
        lose_next = False

        def write(self, patient: str, bundle: dict[str, Any]) -> dict[str, dict[str, str]]:
            written = super().write(patient, bundle)
            if self.lose_next:
                self.lose_next = False
                raise PreconditionFailedError("POST transaction failed: HTTP 412: precondition failed", status=412)
            return written

    store, server = StateStore(tmp_path / "s.sqlite"), LostAnswer()
    job(store, server).run()
    server.lose_next = True
    writes = len(server.writes)
    summary = job(store, server, left_scope(tmp_path), show_phi=True).run()
    assert (summary.withdrawn, summary.failed, summary.conflicts) == (2, 0, 0)
    assert len(server.writes) == writes + 1  # nothing sent again
    assert [r["status"] for r in server.of_type(CLASSIC, "CarePlan")] == ["revoked"]


def test_a_dry_run_withdraws_nothing(tmp_path, caplog):
    store, server = StateStore(tmp_path / "s.sqlite"), IdServer()
    job(store, server).run()
    writes = len(server.writes)
    with caplog.at_level(logging.INFO, logger="poems_fhir"):
        summary = job(store, server, left_scope(tmp_path), dry_run=True, show_phi=True).run()
    assert summary.withdrawn == 0 and len(server.writes) == writes
    assert [r["status"] for r in server.of_type(CLASSIC, "DiagnosticReport")] == ["partial"]
    # what it would do is said, as its own event (an operator reads the dry run for exactly this)
    (would,) = [r for r in caplog.records if getattr(r, "event", None) == "patient.would_withdraw"]
    (report,) = server.of_type(CLASSIC, "DiagnosticReport")
    assert would.getMessage().startswith(f"{CLASSIC}: would withdraw DiagnosticReport/{report['id']}, CarePlan/")
    assert not [r for r in caplog.records if getattr(r, "event", None) == "patient.withdrawn"]


def test_withdrawn_time_is_the_job_clock():
    assert NOW.isoformat(timespec="seconds") == "2026-11-27T10:00:00+00:00"


def test_another_profiles_open_proposals_are_withdrawn_when_this_profile_writes(tmp_path, caplog):
    # at most one open proposal per patient: the report and plan written under Japan 2019 are
    # superseded by the Mayo run's
    store, server = StateStore(tmp_path / "s.sqlite"), IdServer()
    recs = {CLASSIC: records()[CLASSIC]}
    job(store, server, recs, profile=JAPAN_2019).run()
    japan = {key_of(r) for r in server.of_type(CLASSIC, "DiagnosticReport") + server.of_type(CLASSIC, "CarePlan")}
    assert len(japan) == 2
    mayo = job(store, server, recs, pseudonym_key=b"k" * 32)
    with caplog.at_level(logging.INFO, logger="poems_fhir"):
        summary = mayo.run()
    assert (summary.written, summary.withdrawn) == (1, 2)
    withdrew = [r.getMessage() for r in caplog.records if ": withdrew " in r.getMessage()]
    assert len(withdrew) == 1 and withdrew[0].startswith(f"{mayo.pseudonym(CLASSIC)}: withdrew ")
    statuses = {key_of(r): r["status"] for k, r in server.by_key.items() if server.subject[k] == CLASSIC}
    assert sorted(statuses[k] for k in japan) == ["cancelled", "revoked"]
    (old_report,) = [r for r in server.of_type(CLASSIC, "DiagnosticReport") if key_of(r) in japan]
    assert old_report["conclusion"].startswith(
        f"Withdrawn by poems-fhir on {WHEN}: superseded by this run's proposals (Current Dispenzieri criteria). "
    )
    assert sorted(
        s
        for k, s in statuses.items()
        if k not in japan and not k.startswith("https://poems-fhir.org/fhir/identifier/device")
    ) == [
        "draft",
        "partial",
    ]


def test_resources_from_before_the_markers_are_withdrawn_at_the_version_the_state_recorded(tmp_path):
    store, server = StateStore(tmp_path / "s.sqlite"), IdServer()
    job(store, server).run()
    _as_before_markers(server, CLASSIC)
    summary = job(store, server, left_scope(tmp_path)).run()
    assert summary.withdrawn == 2
    assert [r["status"] for r in server.of_type(CLASSIC, "DiagnosticReport")] == ["cancelled"]


def test_withdrawals_add_up_over_patients(tmp_path):
    store, server = StateStore(tmp_path / "s.sqlite"), IdServer()
    job(store, server).run()
    summary = job(store, server, left_scope(tmp_path, (CLASSIC, RELAPSE))).run()
    assert (summary.out_of_scope, summary.withdrawn) == (2, 5)  # report + plan, two reports + plan


def test_a_withdrawn_resource_does_not_stop_the_withdrawal_of_the_open_ones_after_it(tmp_path):
    store, server = StateStore(tmp_path / "s.sqlite"), IdServer()
    recs = {CLASSIC: records()[CLASSIC]}
    job(store, server, recs, profile=JAPAN_2019).run()
    job(store, server, recs).run()  # the Japan 2019 report and plan are withdrawn: they come first
    assert sorted(r["status"] for r in server.of_type(CLASSIC, "DiagnosticReport")) == ["cancelled", "partial"]
    summary = job(store, server, {CLASSIC: left_scope(tmp_path)[CLASSIC]}).run()
    assert summary.withdrawn == 2
    assert sorted(r["status"] for r in server.of_type(CLASSIC, "CarePlan")) == ["revoked", "revoked"]


def test_a_withdrawal_is_said_in_the_written_language_without_ids(tmp_path):
    # found by a held-out probe (probe26): a Russian run's withdrawal was an English sentence with
    # engine ids and an ISO instant, and the narrative still said "criteria met"
    store, server = StateStore(tmp_path / "s.sqlite"), IdServer()
    job(store, server, language="ru").run()
    job(store, server, left_scope(tmp_path), language="ru").run()
    (report,) = server.of_type(CLASSIC, "DiagnosticReport")
    (plan,) = server.of_type(CLASSIC, "CarePlan")
    for text in (report["conclusion"], report["text"]["div"], plan["description"], plan["text"]["div"]):
        assert "Отозвано poems-fhir" in text
        assert "monoclonal_plasma_cell_disorder" not in text and "2026-11-27T" not in text
    assert "Полинейропатия" in report["conclusion"]
    # the withdrawal comes first, in bold; the old conclusion only as the earlier text
    assert "<p><b>Отозвано poems-fhir" in report["text"]["div"]
    for text in (report["conclusion"], report["text"]["div"]):
        assert text.count("Критерии выполнены") == text.count("Прежний текст: Критерии выполнены") == 1


def test_a_profile_change_withdrawal_is_said_in_the_written_language(tmp_path):
    # the other withdrawal reason ("superseded by this run's proposals") in the run's language, with the
    # profile's translated label (a mutation check: it was always English)
    store, server = StateStore(tmp_path / "s.sqlite"), IdServer()
    recs = {CLASSIC: records()[CLASSIC]}
    job(store, server, recs, profile=JAPAN_2019, language="ru").run()
    japan = {key_of(r) for r in server.of_type(CLASSIC, "DiagnosticReport")}
    job(store, server, recs, language="ru").run()
    (old_report,) = [r for r in server.of_type(CLASSIC, "DiagnosticReport") if key_of(r) in japan]
    assert "Отозвано poems-fhir" in old_report["conclusion"]
    assert "заменено предложениями этого запуска (" in old_report["conclusion"]
    assert (
        "superseded" not in old_report["conclusion"]
        and "(Current Dispenzieri criteria)" not in old_report["conclusion"]
    )
