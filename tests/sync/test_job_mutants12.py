"""Sync-job behaviours of README "The sync job" that the twenty-seventh session's mutation run found
unguarded (#16): an unchanged input costs no ownership lookup (the same resources in another order,
the same versionIds, an out-of-scope patient on the day a step falls overdue); a report deleted by
someone is not recreated for a treated patient whose conclusion did not change; a named patient with
no resources is missing; a patient that cannot be written back fails with the reason; a held
withdrawal is counted, listed and recorded; "more than 5 minutes ahead" is logged; no value of a
Patient search leaks into a problem line."""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from poems_fhir.cli import main
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.fhir.read import SourceError, read_paths
from poems_fhir.mapping.rules import load_mapping
from poems_fhir.sync.job import SyncJob, pseudonym, scrub_identifiers
from poems_fhir.sync.ownership import key_of
from poems_fhir.sync.sinks import DirSink
from poems_fhir.sync.sources import FileSource
from poems_fhir.sync.state import StateStore
from tests.conftest import SAMPLES
from tests.sync.test_job_mutants import AheadSource, make_job
from tests.sync.test_job_mutants import records as two_records
from tests.sync.test_job_withdraw_mutants2 import left_scope
from tests.sync.test_job_write_mutants2 import CLASSIC, NOW, RELAPSE, Server, Source, forget_input, job, records

KEY = b"k" * 32


class LookupServer(Server):
    """The fake server, counting the ownership lookups (what the server holds of ours for a patient)."""

    def __init__(self) -> None:
        super().__init__()
        self.lookups: list[str] = []

    def existing(self, patient, subject_key, recorded=()):
        self.lookups.append(patient)
        return super().existing(patient, subject_key, recorded)


def _record_of(path: Path) -> Any:
    (record,) = read_paths([path]).records
    return record


def _relapse_bundle(tmp_path: Path, name: str, edit=lambda entries: entries) -> Any:
    """The relapse case, every resource at versionId 1, its entries as ``edit`` leaves them."""
    bundle = json.loads((SAMPLES / "relapse-case.json").read_text(encoding="utf-8"))
    for e in bundle["entry"]:
        e["resource"]["meta"] = {"versionId": "1", "lastUpdated": "2024-01-01T00:00:00Z"}
    bundle["entry"] = edit(bundle["entry"])
    path = tmp_path / name
    path.write_text(json.dumps(bundle), encoding="utf-8")
    return _record_of(path)


# ------------------------------------------------------------------ step 5: unchanged → nothing more


def test_the_same_resources_in_another_order_are_unchanged_input_no_ownership_lookup(tmp_path):
    """A bulk export lists a patient's resources in any order: the same resources at the same versions are
    the same input (README step 5: "unchanged → nothing more (no ownership lookup, no write)")."""
    store, server = StateStore(tmp_path / "s.sqlite"), LookupServer()
    first = job(store, server, {RELAPSE: _relapse_bundle(tmp_path, "a.json")}).run()
    assert first.written == 1 and server.lookups == [RELAPSE]
    reordered = _relapse_bundle(tmp_path, "b.json", lambda entries: entries[:1] + entries[1:][::-1])
    again = job(store, server, {RELAPSE: reordered}).run()
    assert (again.unchanged, again.written, again.failed) == (1, 0, 0)
    assert server.lookups == [RELAPSE]  # not asked again


def test_a_resource_at_the_same_versionid_is_unchanged_input_whatever_else_the_server_sends(tmp_path):
    """The input hash takes a resource's versionId where it has one (README step 5: "versionIds, else
    content"): the same versions served with their lastUpdated spelt another way are the same input."""
    store, server = StateStore(tmp_path / "s.sqlite"), LookupServer()
    first = job(store, server, {RELAPSE: _relapse_bundle(tmp_path, "a.json")}).run()
    assert (first.written, first.failed) == (1, 0) and server.lookups == [RELAPSE]

    def respelt(entries):
        for e in entries:
            e["resource"]["meta"]["lastUpdated"] = "2024-01-01T00:00:00.000+00:00"  # the same instant
        return entries

    again = job(store, server, {RELAPSE: _relapse_bundle(tmp_path, "b.json", respelt)}).run()
    assert (again.unchanged, again.written, again.failed) == (1, 0, 0)
    assert server.lookups == [RELAPSE]  # not asked again
    # a new version is a changed input: read from the server and decided again
    bumped = _relapse_bundle(tmp_path, "c.json", lambda entries: [*entries[:-1], _bump(entries[-1])])
    job(store, server, {RELAPSE: bumped}).run()
    assert server.lookups == [RELAPSE, RELAPSE]


def test_a_resource_without_versionid_is_the_same_input_whatever_the_order_of_its_elements(tmp_path):
    """Without a versionId the input hash takes a resource's content (README step 5: "versionIds, else
    content"): a file export that writes the same resources with their elements in another order is the
    same input, and a changed value is a changed one."""

    def unversioned(reorder: bool, value: float | None = None):
        def edit(entries):
            for e in entries:
                e["resource"].pop("meta", None)
                if reorder:
                    e["resource"] = dict(reversed(list(e["resource"].items())))
            if value is not None:
                measured = next(e["resource"] for e in entries if "valueQuantity" in e["resource"])
                measured["valueQuantity"]["value"] = value
            return entries

        return edit

    store, server = StateStore(tmp_path / "s.sqlite"), LookupServer()
    first = job(store, server, {RELAPSE: _relapse_bundle(tmp_path, "a.json", unversioned(False))}).run()
    assert (first.written, first.failed) == (1, 0) and server.lookups == [RELAPSE]
    again = job(store, server, {RELAPSE: _relapse_bundle(tmp_path, "b.json", unversioned(True))}).run()
    assert (again.unchanged, again.written, again.failed) == (1, 0, 0)
    assert server.lookups == [RELAPSE]  # not asked again
    changed = _relapse_bundle(tmp_path, "c.json", unversioned(True, value=987.0))
    job(store, server, {RELAPSE: changed}).run()
    assert server.lookups == [RELAPSE, RELAPSE]


def _bump(entry: dict[str, Any]) -> dict[str, Any]:
    entry["resource"]["meta"]["versionId"] = "2"
    return entry


def test_an_out_of_scope_patient_is_unchanged_on_the_day_a_step_falls_overdue(tmp_path):
    """Only a written plan says what is overdue: the run's date makes an in-scope patient's plan due again
    (README "What poems-fhir writes"), never an out-of-scope patient's unchanged input (step 5). The
    origin case is out of scope under `--trigger castleman_disease` (README "Scope"), its surveillance
    falls overdue by 2020-07-01."""
    store, server = StateStore(tmp_path / "s.sqlite"), LookupServer()
    recs = {"Patient/poems-origin": _record_of(SAMPLES / "origin-case")}

    def run_on(day: dt.date):
        at = dt.datetime.combine(day, dt.time(10), dt.timezone.utc)
        return SyncJob(
            Source(recs), server, store, load_mapping(), MAYO, "srv", lambda: at, trigger=("castleman_disease",)
        ).run()

    first = run_on(dt.date(2020, 1, 10))
    assert (first.out_of_scope, first.written, first.in_scope) == (1, 0, 0)
    assert server.lookups == ["Patient/poems-origin"]  # anything of ours to withdraw?
    later = run_on(dt.date(2020, 7, 1))
    assert (later.out_of_scope, later.written, later.failed) == (1, 0, 0)
    assert server.lookups == ["Patient/poems-origin"]  # unchanged: not asked again
    assert store.patient("srv", "Patient/poems-origin").status == "out_of_scope"


# ------------------------------------------------------------------ ownership: deleted by someone


def test_a_treated_patients_report_deleted_by_someone_is_not_recreated_while_the_conclusion_stands(tmp_path):
    """README "Write-back ownership": named by our Provenance, gone from the server → "not recreated until
    the conclusion changes materially" - the conclusion of a treated patient includes its response
    categories, the same on this run as on the run that wrote it."""
    store, server = StateStore(tmp_path / "s.sqlite"), Server()
    recs = {RELAPSE: records()[RELAPSE]}
    assert job(store, server, recs).run().written == 1
    reports = server.of_type(RELAPSE, "DiagnosticReport")
    assert reports
    gone = {key_of(r) for r in reports}
    for k in [k for k, r in server.by_key.items() if key_of(r) in gone]:
        del server.by_key[k], server.subject[k]  # a clinician deleted our reports
    forget_input(store, RELAPSE)
    again = job(store, server, recs, show_phi=True).run()
    assert again.failed == 0
    assert not server.of_type(RELAPSE, "DiagnosticReport")  # not recreated
    notes = [p for p in again.problems if "deleted by someone on the server" in p]
    assert len(notes) == len(gone)
    assert all("not recreated until the conclusion changes" in p for p in notes)


# ------------------------------------------------------------------ missing, not writable


def test_a_named_patient_the_files_do_not_hold_is_missing_reported_once(tmp_path):
    """README exit code 1: a patient that went missing; `FileSource`: a --patient the files do not hold is
    reported like a 404 from a server, not failed (and so not retried for ever)."""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SAMPLES / "classic-poems.json", folder)
    store = StateStore(tmp_path / "s.sqlite")
    source = FileSource([folder], patients=["Patient/classic-poems", "Patient/nobody-here"])
    summary = SyncJob(
        source, DirSink(tmp_path / "out"), store, load_mapping(), MAYO, "files:t", lambda: NOW, show_phi=True
    ).run()
    assert (summary.patients_scanned, summary.written, summary.missing, summary.failed) == (2, 1, 1, 0)
    assert summary.evaluated == 1
    assert list(summary.problems) == [
        "Patient/nobody-here: no resources found for this patient: reported once, then no longer retried "
        "(`poems-fhir state retry PATIENT` to try again)"
    ]
    st = store.patient("files:t", "Patient/nobody-here")
    assert (st.status, st.reason) == ("missing", "no resources found")


def test_a_patient_that_cannot_be_written_back_fails_with_the_reason(tmp_path):
    """A Patient with only a transaction fullUrl has no id to write to: the patient fails, listed and
    recorded with why (`poems-fhir state failed`), not as an internal error."""
    bundle = json.loads((SAMPLES / "transaction-urn-uuid.json").read_text(encoding="utf-8"))
    del bundle["entry"][0]["resource"]["id"]
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "t.json").write_text(json.dumps(bundle), encoding="utf-8")
    store = StateStore(tmp_path / "s.sqlite")
    summary = SyncJob(
        FileSource([folder]), DirSink(tmp_path / "out"), store, load_mapping(), MAYO, "files:t", lambda: NOW
    ).run()
    assert (summary.in_scope, summary.written, summary.failed) == (1, 0, 1)
    why = (
        "the Patient has no id (only a transaction fullUrl), so results cannot be written back to it; "
        "load the data into the server first and evaluate what it returns"
    )
    (problem,) = summary.problems
    assert problem.endswith(f": {why}") and "internal error" not in problem
    (patient,) = [p for p in FileSource([folder]).cohort(None).patients]
    st = store.patient("files:t", patient)
    assert (st.status, st.reason) == ("failed", why)


# ------------------------------------------------------------------ the withdrawal held


class UnreadSource(Source):
    """Each patient's record with one of its own resources that could not be read."""

    def fetch(self, patient):
        return self.records[patient], [SourceError(f"{patient}.json#entry[3]", "date '2023-02-30' is no day")]


def test_held_withdrawals_each_fail_the_patient_listed_and_recorded_keeping_what_was_written(tmp_path, caplog):
    """README step 4: out of scope while some of its own resources could not be read, a patient keeps its
    report and plan, "and the patient fails (listed, exit 1, event `patient.withdrawal_held`)"; a failure
    never erases what the state knew about earlier writes."""
    store, server = StateStore(tmp_path / "s.sqlite"), Server()
    assert job(store, server).run().written == 2
    before = {p: store.patient("srv", p) for p in (CLASSIC, RELAPSE)}
    assert all(st.written for st in before.values())
    recs = left_scope(tmp_path, (CLASSIC, RELAPSE))  # both now with nothing but their Patient resource
    held = SyncJob(UnreadSource(recs), server, store, load_mapping(), MAYO, "srv", lambda: NOW, pseudonym_key=KEY)
    with caplog.at_level(logging.WARNING, logger="poems_fhir"):
        summary = held.run()
    assert (summary.failed, summary.withdrawn, summary.out_of_scope) == (2, 0, 0)  # each held patient counts
    reason = (
        "out of scope on this run's data, but 1 of the patient's own resources could not be read (listed): "
        "the written report and plan are kept, not withdrawn; fix those resources"
    )
    for p in (CLASSIC, RELAPSE):
        assert f"{pseudonym(KEY, p)}: {reason}" in summary.problems
        st = store.patient("srv", p)
        assert (st.status, st.reason) == ("failed", reason)  # `poems-fhir state failed` says why
        assert st.written == before[p].written  # what the state knew of the report and plan is kept
    events = [r for r in caplog.records if getattr(r, "event", None) == "patient.withdrawal_held"]
    assert [r.fields["reason"] for r in events] == [reason, reason]  # type: ignore[attr-defined]
    assert [r["status"] for r in server.of_type(CLASSIC, "DiagnosticReport")] == ["partial"]


# ------------------------------------------------------------------ step 7: the server's clock


def test_a_server_clock_exactly_five_minutes_ahead_is_no_news(tmp_path, caplog):
    """README step 7 / `run.server_clock_ahead`: "more than 5 minutes ahead is logged"; 5 minutes is the
    discovery's overlap, within which the checkpoint is simply our time."""
    caplog.set_level(logging.INFO, logger="poems_fhir")
    store = StateStore(tmp_path / "state.sqlite")
    make_job(AheadSource(two_records(), "2026-11-27T10:05:00.000Z"), store).run()
    assert store.checkpoint("srv") == "2026-11-27T10:00:00.000Z"  # ours, the earlier
    assert not [r for r in caplog.records if getattr(r, "event", None) == "run.server_clock_ahead"]
    caplog.clear()
    make_job(AheadSource(two_records(), "2026-11-27T10:05:00.001Z"), StateStore(tmp_path / "other.sqlite")).run()
    assert len([r for r in caplog.records if getattr(r, "event", None) == "run.server_clock_ahead"]) == 1


# ------------------------------------------------------------------ pseudonyms in problem lines


def test_a_patient_search_value_ending_in_a_bar_is_masked_whole(tmp_path):
    """README "State, logs, output": without --phi every value of a Patient search in a problem line is a
    pseudonym - a family name or an MRN followed by a "|" (no code after it) included: only a system in
    front of a value is kept, and here nothing follows the bar."""
    folder = tmp_path / "in"
    folder.mkdir()
    lab = {"coding": [{"system": "http://loinc.org", "code": "777-3"}]}
    value = {"value": 500, "unit": "10*9/L", "system": "http://unitsofmeasure.org", "code": "10*9/L"}
    resources = [{"resourceType": "Patient", "id": "good-one", "gender": "male"}]
    for n, ref in enumerate(("Patient?name=Phimarkfam|", "Patient?identifier=MRN-778899|")):
        resources.append(
            {
                "resourceType": "Observation",
                "id": f"orphan-{n}",
                "status": "final",
                "code": lab,
                "subject": {"reference": ref},
                "effectiveDateTime": "2024-01-12",
                "valueQuantity": value,
            }
        )
    (folder / "in.ndjson").write_text("".join(json.dumps(r) + "\n" for r in resources), encoding="utf-8")
    args = ["sync", "--source", str(folder), "--out", str(tmp_path / "out"), "--state", str(tmp_path / "s.sqlite")]
    result = CliRunner().invoke(main, [*args, "--format", "json"])
    problems = "\n".join(json.loads(result.stdout)["problems"])
    assert "Patient?name=patient-" in problems and "Patient?identifier=patient-" in problems
    assert "Phimarkfam" not in problems and "MRN-778899" not in problems
    assert scrub_identifiers(KEY, "Patient?name=Phimarkfam|") == f"Patient?name={pseudonym(KEY, 'Phimarkfam|')}"
