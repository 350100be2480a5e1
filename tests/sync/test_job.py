"""The sync job end to end on files, and its state store: idempotent, resumable, conflict-safe."""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import sys
from pathlib import Path

import pytest

from poems_fhir.criteria.profiles import MAYO
from poems_fhir.errors import PreconditionFailedError, StateLockedError
from poems_fhir.sync.job import SyncJob, pseudonym
from poems_fhir.sync.sinks import DirSink, entry_key, with_if_match
from poems_fhir.sync.sources import FileSource
from poems_fhir.sync.state import StateStore
from tests.conftest import SAMPLES

NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.timezone.utc)
WORKERS = 1


@pytest.fixture(autouse=True, params=[1, 2], ids=["workers-1", "workers-2"])
def workers(request, monkeypatch) -> int:
    """Every file-mode test runs in this process and with two worker processes evaluating ahead."""
    monkeypatch.setattr(sys.modules[__name__], "WORKERS", request.param)
    return request.param


@pytest.fixture
def data(tmp_path) -> Path:
    folder = tmp_path / "in"
    shutil.copytree(SAMPLES / "origin-case", folder / "origin-case")
    shutil.copy(SAMPLES / "classic-poems.json", folder)
    shutil.copytree(SAMPLES / "mimics", folder / "mimics")
    return folder


class RecordingSink(DirSink):
    def __init__(self, folder: Path, fail_on: set[str] | None = None) -> None:
        super().__init__(folder)
        self.calls: list[str] = []
        self.fail_on = fail_on or set()

    def write(self, patient, bundle):
        self.calls.append(patient)
        if patient in self.fail_on:
            raise PreconditionFailedError("PUT DiagnosticReport failed: HTTP 412: precondition failed")
        return super().write(patient, bundle)


def dangling_references(bundle: dict) -> list[str]:
    """References a server could not resolve: a urn:uuid that names no entry of this transaction
    (a conditional reference "Type?identifier=…" and a literal "Type/id" are resolved by the server)."""
    fulls = {e["fullUrl"] for e in bundle["entry"]}
    found: list[str] = []

    def walk(v):
        if isinstance(v, dict):
            ref = v.get("reference")
            if isinstance(ref, str) and ref.startswith("urn:") and ref not in fulls:
                found.append(ref)
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk([e["resource"] for e in bundle["entry"]])
    return found


def job(data: Path, store: StateStore, sink, **kw) -> SyncJob:
    from poems_fhir.mapping.rules import load_mapping

    kw.setdefault("workers", WORKERS)
    kw.setdefault("profile", MAYO)
    kw.setdefault("now", lambda: NOW)
    kw.setdefault("pseudonym_key", b"one-installation")  # keys the file names: one installation, one key
    return SyncJob(
        source=FileSource([data]),
        sink=sink,
        store=store,
        mapping=load_mapping(),
        server_key="files:test",
        **kw,
    )


def test_first_run_writes_in_scope_patients_second_run_writes_nothing(data, tmp_path):
    store = StateStore(tmp_path / "state.sqlite")
    sink = RecordingSink(tmp_path / "out")
    first = job(data, store, sink).run()
    assert first.patients_scanned == 6 and first.evaluated == 6
    # mimic-castleman has neither polyneuropathy nor a clone: out of scope, nothing written
    assert first.written == 5 and first.out_of_scope == 1
    second = job(data, store, sink).run()
    assert (second.written, second.unchanged) == (0, 5)
    assert len(sink.calls) == 5
    assert len(list((tmp_path / "out").glob("*.json"))) == 5


def test_out_of_scope_patients_get_no_report(data, tmp_path):
    shutil.copy(Path(__file__).resolve().parents[2] / "sample_bundles" / "transaction-urn-uuid.json", data)
    bundle = json.loads((data / "transaction-urn-uuid.json").read_text())
    bundle["entry"] = [
        e
        for e in bundle["entry"]
        if e["resource"]["resourceType"] in ("Patient", "Observation")
        and e["resource"].get("code", {}).get("coding", [{}])[0].get("code") != "25700-6"
    ]
    (data / "transaction-urn-uuid.json").write_text(json.dumps(bundle))
    store = StateStore(tmp_path / "state.sqlite")
    summary = job(data, store, RecordingSink(tmp_path / "out")).run()
    assert summary.out_of_scope == 2  # the Castleman mimic and the neuropathy-free patient
    assert "Patient/txn-patient" not in {c["patient"] for c in summary.conclusions}


def test_changing_one_observation_rewrites_only_that_patient(data, tmp_path):
    store = StateStore(tmp_path / "state.sqlite")
    job(data, store, RecordingSink(tmp_path / "out")).run()
    path = data / "classic-poems.json"
    bundle = json.loads(path.read_text())
    for e in bundle["entry"]:
        if e["resource"]["id"] == "cp-vegf":
            e["resource"]["valueQuantity"]["value"] = 700
    path.write_text(json.dumps(bundle))
    sink = RecordingSink(tmp_path / "out")
    summary = job(data, store, sink).run()
    assert sink.calls == ["Patient/classic-poems"]
    assert (summary.written, summary.unchanged) == (1, 4)


def test_a_killed_run_resumes_without_loss_or_duplicates(data, tmp_path):
    store = StateStore(tmp_path / "state.sqlite")
    calls = {"n": 0}

    def stop_after_two() -> bool:
        calls["n"] += 1
        return calls["n"] > 2

    first = job(data, store, RecordingSink(tmp_path / "out"), stop_requested=stop_after_two).run()
    assert first.written == 2 and not first.completed
    assert store.runs("files:test")[-1]["outcome"] == "stopped"
    sink = RecordingSink(tmp_path / "out")
    second = job(data, store, sink).run()
    assert (second.written, second.unchanged) == (3, 2)
    assert len(list((tmp_path / "out").glob("*.json"))) == 5  # one transaction per patient, no duplicates


def test_a_write_refused_412_is_a_failure_that_keeps_what_we_knew_and_is_retried(data, tmp_path):
    # ownership is decided from the server before writing; a 412 then means the resource changed
    # between our read and our write: the patient is recorded failed (not a permanent conflict),
    # what the state knew of our earlier writes is kept, and the next run tries again
    store = StateStore(tmp_path / "state.sqlite")
    job(data, store, RecordingSink(tmp_path / "out")).run()
    before = store.patient("files:test", "Patient/classic-poems")
    path = data / "classic-poems.json"
    bundle = json.loads(path.read_text())
    vegf = bundle["entry"][5]["resource"]
    assert vegf["id"] == "cp-vegf"
    vegf["valueQuantity"]["value"] = 700  # the report now says something else: there is something to write
    path.write_text(json.dumps(bundle))
    sink = RecordingSink(tmp_path / "out", fail_on={"Patient/classic-poems"})
    summary = job(data, store, sink).run()
    assert summary.failed == 1 and "412" in summary.problems[0]
    after = store.patient("files:test", "Patient/classic-poems")
    assert after.status == "failed" and "412" in after.reason
    assert after.written == before.written and after.written  # a failure never erases earlier writes
    again = job(data, store, RecordingSink(tmp_path / "out")).run()
    assert again.written == 1


def test_if_match_is_added_for_reports_and_plans_we_wrote():
    bundle = {
        "entry": [
            {
                "fullUrl": "urn:uuid:1",
                "resource": {"resourceType": "DiagnosticReport"},
                "request": {"method": "PUT", "url": "DiagnosticReport?identifier=s|v"},
            },
            {
                "fullUrl": "urn:uuid:2",
                "resource": {"resourceType": "Provenance"},
                "request": {"method": "PUT", "url": "Provenance?_tag=s|h"},
            },
        ]
    }
    out = with_if_match(bundle, {"s|v": {"ref": "DiagnosticReport/9", "version": "abc"}})
    assert out["entry"][0]["request"]["ifMatch"] == 'W/"abc"'
    assert "ifMatch" not in out["entry"][1]["request"] and "ifMatch" not in bundle["entry"][0]["request"]
    assert entry_key(bundle["entry"][1]) == "s|h"


def test_summary_hashes_patient_ids_unless_phi(data, tmp_path):
    store = StateStore(tmp_path / "state.sqlite")
    hidden = job(data, store, RecordingSink(tmp_path / "out")).run()
    assert all(c["patient"].startswith("patient-") for c in hidden.conclusions)
    shown = job(data, StateStore(tmp_path / "s2.sqlite"), RecordingSink(tmp_path / "o2"), show_phi=True).run()
    assert "Patient/poems-origin" in {c["patient"] for c in shown.conclusions}


def test_one_run_at_a_time(tmp_path):
    a = StateStore(tmp_path / "state.sqlite")
    b = StateStore(tmp_path / "state.sqlite")
    with a.locked():
        with pytest.raises(StateLockedError, match="one run at a time"):
            with b.locked():
                pass
    with b.locked():
        pass


class SinceRecordingSource:
    """A server source with no patients that records the ``since`` of every cohort request; the
    server's clock says ``server_time(n)`` at the n-th request."""

    name = "fake"

    def __init__(self, server_time=lambda n: "2026-11-27T09:59:00.000Z"):
        self.since_seen: list[str | None] = []
        self.server_time = server_time

    def cohort(self, since, extra=()):
        from poems_fhir.sync.sources import Cohort

        self.since_seen.append(since)
        return Cohort([], self.server_time(len(self.since_seen)))

    def fetch(self, patient):
        raise AssertionError


def test_checkpoint_moves_only_when_the_run_completes(tmp_path):
    from poems_fhir.mapping.rules import load_mapping

    store = StateStore(tmp_path / "state.sqlite")
    source = SinceRecordingSource()
    SyncJob(source, None, store, load_mapping(), MAYO, "srv", lambda: NOW).run()
    SyncJob(source, None, store, load_mapping(), MAYO, "srv", lambda: NOW).run()
    assert source.since_seen == [None, "2026-11-27T09:59:00.000Z"]


def test_a_new_profile_mapping_or_language_reads_every_patient_again(tmp_path):
    """Incremental discovery finds patients whose data changed; a profile, mapping or language change
    changes conclusions of all the others too, so the next run starts from the beginning (once)."""
    from poems_fhir.criteria.profiles import get_profile
    from poems_fhir.mapping.rules import load_mapping

    store = StateStore(tmp_path / "state.sqlite")
    source = SinceRecordingSource(lambda n: f"2026-11-27T09:5{n}:00.000Z")
    site = tmp_path / "site.yaml"
    site.write_text(
        "format: poems-fhir-mapping/1\nname: site\nversion: '1'\n"
        "thresholds:\n  platelets_high: {value: 400, unit: 10*9/L, operator: '>', verification: LOCAL}\n"
    )

    def run(profile=MAYO, mapping=None, **kw):
        SyncJob(source, None, store, mapping or load_mapping(), profile, "srv", lambda: NOW, **kw).run()

    run()  # from the beginning
    run()  # incremental
    run(profile=get_profile("japan-2019"))  # a new profile: from the beginning
    run(profile=get_profile("japan-2019"))  # incremental again
    run(profile=get_profile("japan-2019"), mapping=load_mapping([site]))  # a site mapping: again
    run(profile=get_profile("japan-2019"), mapping=load_mapping([site]), language="ru")  # a language
    run(profile=get_profile("japan-2019"), mapping=load_mapping([site]), language="ru")
    assert source.since_seen == [
        None,
        "2026-11-27T09:51:00.000Z",
        None,
        "2026-11-27T09:53:00.000Z",
        None,
        None,
        "2026-11-27T09:56:00.000Z",
    ]


def test_summary_counts_patients_per_scope_and_classification(data, tmp_path):
    store = StateStore(tmp_path / "state.sqlite")
    first = job(data, store, RecordingSink(tmp_path / "out")).run()
    assert (first.in_scope, first.out_of_scope) == (5, 1)
    assert first.screening.to_dict() == {
        "in_scope": {"total": 5, "met": 1, "not_met": 0, "indeterminate": 4},
        "out_of_scope": {"total": 1, "met": 0, "not_met": 1, "indeterminate": 0},
    }
    # unchanged patients are still counted: the screening describes the population, not the writes
    second = job(data, store, RecordingSink(tmp_path / "out")).run()
    assert second.screening.to_dict() == first.screening.to_dict() and second.unchanged == 5
    # the trigger is the same one evaluate uses: under castleman_disease the Castleman mimic is in scope,
    # and the classic case because its criteria are met (met is always in scope)
    third = job(
        data,
        StateStore(tmp_path / "other.sqlite"),
        RecordingSink(tmp_path / "o2"),
        trigger=("castleman_disease",),
        show_phi=True,
    ).run()
    assert (third.in_scope, third.out_of_scope, third.written) == (2, 4, 2)
    assert sorted(c["patient"] for c in third.conclusions) == ["Patient/classic-poems", "Patient/mimic-castleman"]


# ---------------------------------------------------------------- never lose work (#9.4)


class Killed(BaseException):
    """A kill at a chosen point (not an Exception: nothing may catch it as a patient's failure)."""


def folder_snapshot(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(folder.glob("*.json"))}


@pytest.mark.parametrize("point", ["before-write", "after-write", "after-record"])
@pytest.mark.parametrize("nth", [1, 5])
def test_a_kill_at_any_point_then_a_clean_run_equals_one_clean_run(data, tmp_path, monkeypatch, point, nth):
    reference = tmp_path / "reference"
    job(data, StateStore(tmp_path / "ref.sqlite"), DirSink(reference)).run()

    store = StateStore(tmp_path / "state.sqlite")
    calls = {"write": 0, "record": 0}

    class KillingSink(DirSink):
        def write(self, patient, bundle):
            calls["write"] += 1
            if point == "before-write" and calls["write"] == nth:
                raise Killed(point)
            written = super().write(patient, bundle)
            if point == "after-write" and calls["write"] == nth:
                raise Killed(point)
            return written

    original_record = StateStore.record_patient

    def record(self, *args, **kw):
        original_record(self, *args, **kw)
        calls["record"] += 1
        if point == "after-record" and calls["record"] == nth:
            raise Killed(point)

    out = tmp_path / "out"
    with monkeypatch.context() as patch:
        patch.setattr(StateStore, "record_patient", record)
        with pytest.raises(Killed) as killed:
            job(data, store, KillingSink(out)).run()
    assert killed.value.summary.completed is False  # type: ignore[attr-defined]
    assert store.runs("files:test")[-1]["outcome"] == "failed"
    clean = job(data, store, DirSink(out)).run()
    assert clean.completed and clean.failed == 0
    assert folder_snapshot(out) == folder_snapshot(reference)  # no loss, no duplicate, no diff


def test_a_patient_whose_data_crashes_the_mapper_is_failed_with_its_reason_and_retried(data, tmp_path, monkeypatch):
    import poems_fhir.sync.job as job_module

    real = job_module.evaluate_record

    def crashing(record, *args, **kw):
        if record.patient == "Patient/classic-poems":
            raise TypeError("'int' object is not iterable")
        return real(record, *args, **kw)

    store = StateStore(tmp_path / "state.sqlite")
    with monkeypatch.context() as patch:
        patch.setattr(job_module, "evaluate_record", crashing)
        first = job(data, store, RecordingSink(tmp_path / "out")).run()
    assert first.completed and first.failed == 1 and first.written == 4
    (problem,) = [p for p in first.problems if "internal error" in p]
    assert "TypeError" in problem and "retried next run" in problem
    state = store.patient("files:test", "Patient/classic-poems")
    assert state.status == "failed" and "TypeError" in state.reason
    assert store.retry_queue("files:test") == ["Patient/classic-poems"]
    second = job(data, store, RecordingSink(tmp_path / "out")).run()  # the data (here: the code) is fixed
    assert (second.written, second.unchanged, second.failed) == (1, 4, 0)


def test_a_fatal_error_keeps_the_checkpoint_and_what_was_known(tmp_path):
    from poems_fhir.errors import AuthError, TemporaryNetworkError
    from poems_fhir.mapping.rules import load_mapping
    from poems_fhir.sync.sources import Cohort

    class Source:
        name = "fake"

        def __init__(self, fail):
            self.fail = fail

        def cohort(self, since, extra=()):
            return Cohort(["Patient/a", "Patient/b"], "2026-11-27T09:59:00.000Z")

        def fetch(self, patient):
            raise self.fail

    store = StateStore(tmp_path / "state.sqlite")
    store.record_patient("srv", "Patient/a", "h1", {"k": {"ref": "DiagnosticReport/1", "version": "3"}}, "written", "t")
    summary = SyncJob(
        Source(TemporaryNetworkError("GET x: body cut short")), None, store, load_mapping(), MAYO, "srv", lambda: NOW
    ).run()
    assert summary.failed == 2 and summary.completed  # failures are recorded and queued: the checkpoint may move
    kept = store.patient("srv", "Patient/a")
    assert kept.status == "failed" and kept.written == {"k": {"ref": "DiagnosticReport/1", "version": "3"}}
    store2 = StateStore(tmp_path / "s2.sqlite")
    with pytest.raises(AuthError) as exc:
        SyncJob(Source(AuthError("HTTP 401")), None, store2, load_mapping(), MAYO, "srv", lambda: NOW).run()
    assert exc.value.summary.completed is False and "401" in exc.value.summary.fatal  # type: ignore[attr-defined]
    assert store2.checkpoint("srv") is None and store2.runs("srv")[-1]["outcome"] == "failed"


def test_dry_run_counts_would_write_and_records_nothing(data, tmp_path):
    store = StateStore(tmp_path / "state.sqlite", readonly=True)
    summary = job(data, store, DirSink(tmp_path / "dry"), dry_run=True).run()
    assert (summary.would_write, summary.written) == (5, 0)
    assert not (tmp_path / "state.sqlite").exists() and store.runs() == []
    assert len(list((tmp_path / "dry").glob("*.json"))) == 5


def test_log_pseudonyms_are_keyed(data, tmp_path):
    from poems_fhir.sync.job import pseudonym

    store = StateStore(tmp_path / "state.sqlite")
    a = job(data, store, RecordingSink(tmp_path / "out"), pseudonym_key=b"k1").run()
    b = job(data, StateStore(tmp_path / "s2.sqlite"), RecordingSink(tmp_path / "o2"), pseudonym_key=b"k2").run()
    assert {c["patient"] for c in a.conclusions}.isdisjoint({c["patient"] for c in b.conclusions})
    unsalted = "patient-" + __import__("hashlib").sha256(b"Patient/classic-poems").hexdigest()[:12]
    assert pseudonym(b"k1", "Patient/classic-poems") in {c["patient"] for c in a.conclusions}
    assert unsalted not in {c["patient"] for c in a.conclusions}


def _patient_ids(folder: Path) -> set[str]:
    ids = set()
    for path in folder.rglob("*.json"):
        doc = json.loads(path.read_text())
        for e in doc.get("entry", []) if doc.get("resourceType") == "Bundle" else [{"resource": doc}]:
            if e["resource"]["resourceType"] == "Patient":
                ids.add(e["resource"]["id"])
    return ids


@pytest.mark.parametrize("phi", [False, True])
def test_log_lines_below_the_job_name_no_patient_without_phi(data, tmp_path, phi):
    """A server's error text in a retry warning ("cannot load Patient/x: shard offline"), logged by the
    transport, which knows no patient: without --phi the patient in flight and any Patient/<id> are
    pseudonymised in every log line of the run, as in the summary."""
    import io
    import logging

    from poems_fhir.sync.events import setup_logging
    from poems_fhir.sync.job import pseudonym

    ids = _patient_ids(data)
    stream = io.StringIO()
    setup_logging("json", stream)
    transport = logging.getLogger("poems_fhir.fhir.http")

    class Sink(RecordingSink):
        def write(self, patient, bundle):
            pid = patient.split("/", 1)[1]
            transport.warning("retrying GET %s/%s in 1.0s: cannot load %s: shard offline", "Patient", pid, patient)
            transport.warning("retrying GET Observation in 1.0s: HTTP 500: no shard for %s", pid)
            transport.warning("also: Patient/someone-else is offline")
            return super().write(patient, bundle)

    (handler,) = logging.getLogger("poems_fhir").handlers
    try:
        job(data, StateStore(tmp_path / "state.sqlite"), Sink(tmp_path / "out"), pseudonym_key=b"k", show_phi=phi).run()
    finally:
        logging.getLogger("poems_fhir").handlers[:] = []
    assert [type(f).__name__ for f in handler.filters] == ["EventFilter"]  # the run's filter is gone
    text = stream.getvalue()
    assert "shard offline" in text and len(ids) >= 5
    if phi:
        assert "Patient/classic-poems" in text and "Patient/someone-else" in text
        return
    assert not [i for i in ids if i in text], text[:2000]
    assert "someone-else" not in text
    assert pseudonym(b"k", "Patient/classic-poems") in text and pseudonym(b"k", "Patient/someone-else") in text


def _merge_classic(data: Path, link: dict | None = None) -> None:
    """The server's merge marks the old record (FHIR R4 Patient.link type replaced-by)."""
    path = data / "classic-poems.json"
    bundle = json.loads(path.read_text())
    for e in bundle["entry"]:
        if e["resource"]["resourceType"] == "Patient":
            e["resource"]["active"] = False
            e["resource"]["link"] = [link or {"other": {"reference": "Patient/classic-poems-2"}, "type": "replaced-by"}]
    path.write_text(json.dumps(bundle))


def test_a_merged_record_is_neither_evaluated_nor_written(data, tmp_path):
    """Patient.link replaced-by: "must no longer be used" (FHIR R4): nothing is written to it."""
    _merge_classic(data)
    store = StateStore(tmp_path / "state.sqlite")
    sink = RecordingSink(tmp_path / "out")
    key = b"k" * 32  # the installation's pseudonym key (kept beside the state)
    summary = job(data, store, sink, pseudonym_key=key).run()
    assert "Patient/classic-poems" not in sink.calls
    assert (summary.written, summary.missing, summary.evaluated) == (4, 1, 5)
    line = next(p for p in summary.problems if "merged into" in p)
    assert "Patient.link replaced-by" in line and "classic-poems" not in line  # pseudonyms only
    name, successor = (pseudonym(key, f"Patient/{i}") for i in ("classic-poems", "classic-poems-2"))
    assert line == (
        f"{name}: merged into {successor} (Patient.link replaced-by): this record is no longer evaluated or "
        "written; the surviving record is evaluated under its own id. Reported once, then no longer retried "
        "(`poems-fhir state retry PATIENT` to try again)"
    )
    assert store.patient("files:test", "Patient/classic-poems").status == "missing"
    again = job(data, store, RecordingSink(tmp_path / "out"), pseudonym_key=key).run()
    assert not any("merged into" in p for p in again.problems) and again.missing == 0  # reported once


def test_each_merged_record_is_counted(data, tmp_path):
    _merge_classic(data)
    twin = {
        "resourceType": "Patient",
        "id": "old-twin",
        "active": False,
        "link": [{"other": {"reference": "Patient/new-twin"}, "type": "replaced-by"}],
    }
    (data / "twin.json").write_text(json.dumps(twin))
    summary = job(data, StateStore(tmp_path / "state.sqlite"), RecordingSink(tmp_path / "out")).run()
    assert summary.missing == 2 and sum("merged into" in p for p in summary.problems) == 2


def test_a_record_merged_after_it_was_written_keeps_our_report_untouched(data, tmp_path):
    store = StateStore(tmp_path / "state.sqlite")
    job(data, store, RecordingSink(tmp_path / "out")).run()
    before = {p.name: p.read_text() for p in (tmp_path / "out").glob("*.json")}
    _merge_classic(data, {"other": {"display": "the new record"}, "type": "replaced-by"})
    written = store.patient("files:test", "Patient/classic-poems").written
    assert written
    sink = RecordingSink(tmp_path / "out")
    summary = job(data, store, sink).run()
    assert sink.calls == [] and summary.missing == 1
    assert "merged into another record" in " ".join(summary.problems)
    assert {p.name: p.read_text() for p in (tmp_path / "out").glob("*.json")} == before  # nothing withdrawn
    # the state still knows what was written there (a later "replaces" link or a retry finds it)
    assert store.patient("files:test", "Patient/classic-poems").written == written


def test_other_links_do_not_stop_the_write(data, tmp_path):
    """'replaces' and 'seealso' name the other record; only 'replaced-by' retires this one."""
    _merge_classic(data, {"other": {"reference": "Patient/old"}, "type": "replaces"})
    sink = RecordingSink(tmp_path / "out")
    summary = job(data, StateStore(tmp_path / "state.sqlite"), sink).run()
    assert "Patient/classic-poems" in sink.calls and summary.missing == 0


def test_in_file_mode_a_patient_who_leaves_scope_gets_a_withdrawal_in_place_of_the_stale_file(data, tmp_path, caplog):
    """README sync step 4: a patient who leaves scope gets our report and plan withdrawn. In file mode
    the folder held the old transaction, which someone posting the folder would send again."""
    store = StateStore(tmp_path / "state.sqlite")
    out = tmp_path / "out"
    sink = RecordingSink(out)
    job(data, store, sink).run()
    path = sink.path_of("Patient/classic-poems")
    assert path.exists()
    bundle = json.loads((data / "classic-poems.json").read_text())
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
    (data / "classic-poems.json").write_text(json.dumps(bundle))  # nothing suggests POEMS any more
    with caplog.at_level(logging.INFO, logger="poems_fhir"):
        summary = job(data, store, RecordingSink(out), show_phi=True).run()
    assert summary.out_of_scope == 2 and summary.withdrawn == 2  # with the Castleman mimic, always out
    # a file's resources have no server id: the log names them as ours
    (said,) = [r for r in caplog.records if getattr(r, "event", None) == "patient.withdrawn"]
    assert said.fields["resources"] == "DiagnosticReport/ours, CarePlan/ours"  # type: ignore[attr-defined]
    withdrawal = json.loads(path.read_text())
    assert dangling_references(withdrawal) == []  # posted on its own, every reference resolves
    by_type = {e["resource"]["resourceType"]: e for e in withdrawal["entry"]}
    assert by_type["DiagnosticReport"]["resource"]["status"] == "cancelled"
    assert by_type["CarePlan"]["resource"]["status"] == "revoked"
    assert by_type["DiagnosticReport"]["request"]["url"].startswith("DiagnosticReport?identifier=")
    provenance = by_type["Provenance"]["resource"]
    assert provenance["activity"]["coding"][0]["code"] == "NULLIFY"
    fulls = {e["fullUrl"] for e in withdrawal["entry"]}
    assert {t["reference"] for t in provenance["target"]} <= fulls
    again = job(data, store, RecordingSink(out)).run()
    assert again.withdrawn == 0 and json.loads(path.read_text()) == withdrawal  # nothing more to withdraw


def test_in_file_mode_a_new_profile_withdraws_the_old_profiles_report_and_plan_in_the_same_file(data, tmp_path):
    """writeprobe Y04: the new profile's transaction replaced the file, and the old profile's report and
    plan, posted before, stayed open on the EHR for ever. The new file withdraws them in the same transaction."""
    from poems_fhir.criteria.profiles import get_profile

    store, out = StateStore(tmp_path / "state.sqlite"), tmp_path / "out"
    sink = RecordingSink(out)
    first = job(data, store, sink).run()
    path = sink.path_of("Patient/classic-poems")
    before = json.loads(path.read_text())
    ours = {
        e["resource"]["resourceType"]: e["resource"]["identifier"][0]
        for e in before["entry"]
        if e["resource"]["resourceType"] in ("DiagnosticReport", "CarePlan")
    }
    assert len(ours) == 2 and all(i["value"].endswith(".mayo") for i in ours.values())
    guarded = [
        e["resource"]["resourceType"]
        for f in out.glob("*.json")
        for e in json.loads(f.read_text())["entry"]
        if e["resource"]["resourceType"] in ("DiagnosticReport", "CarePlan")
    ]
    assert first.written == 5 and len(guarded) >= 10
    summary = job(data, store, RecordingSink(out), profile=get_profile("dispenzieri-2003")).run()
    assert summary.written == 5 and summary.withdrawn == len(guarded)  # every report and plan of the old profile
    after = json.loads(path.read_text())
    by_ident: dict[tuple[str, str], list[dict]] = {}
    for e in after["entry"]:
        for ident in e["resource"].get("identifier", [])[:1]:
            by_ident.setdefault((ident["system"], ident["value"]), []).append(e)
    for rtype, ident in ours.items():  # the old profile's, withdrawn by its identifier and patient, as
        # every write of ours (probe51 D1: by identifier alone, posting the folder would cancel our report a
        # clinician had moved to the right patient)
        (entry,) = by_ident[(ident["system"], ident["value"])]
        subject = entry["resource"]["subject"]["reference"]
        assert subject.startswith("Patient/")
        assert entry["request"]["url"] == f"{rtype}?identifier={ident['system']}|{ident['value']}&subject={subject}"
        assert entry["resource"]["status"] == ("cancelled" if rtype == "DiagnosticReport" else "revoked")
    new = [k for k in by_ident if k[1].endswith(".dispenzieri-2003")]
    assert len(new) == 2 and all(by_ident[k][0]["resource"]["status"] in ("partial", "draft") for k in new)
    nullify = [
        e["resource"]
        for e in after["entry"]
        if e["resource"]["resourceType"] == "Provenance" and e["resource"]["activity"]["coding"][0]["code"] == "NULLIFY"
    ]
    assert len(nullify) == 1 and {t["reference"] for t in nullify[0]["target"]} <= {
        e["fullUrl"] for e in after["entry"]
    }
    assert len({e["fullUrl"] for e in after["entry"]}) == len(after["entry"])
    assert dangling_references(after) == []
    from fhir.resources.R4B.bundle import Bundle

    Bundle.model_validate(after)  # still one valid transaction
    again = job(data, store, RecordingSink(out), profile=get_profile("dispenzieri-2003")).run()
    assert (again.written, again.withdrawn) == (0, 0) and json.loads(path.read_text()) == after


def test_in_file_mode_a_lost_state_or_the_input_under_another_path_rewrites_nothing(data, tmp_path):
    """fuzzprobe4: without the state (or with the same files under another --source path) every file
    was rewritten with the same content apart from the clock. The file is the record of what was written."""
    out = tmp_path / "out"
    first = job(data, StateStore(tmp_path / "one.sqlite"), RecordingSink(out)).run()
    files = {f.name: f.read_bytes() for f in out.glob("*.json")}
    assert first.written == 5 and len(files) == 5
    later = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.timezone.utc)
    sink = RecordingSink(out)
    lost = job(data, StateStore(tmp_path / "new.sqlite"), sink, now=lambda: later).run()
    assert (lost.written, lost.unchanged, lost.withdrawn) == (0, 5, 0) and sink.calls == []
    moved = tmp_path / "moved"
    shutil.copytree(data, moved)
    again = job(moved, StateStore(tmp_path / "new.sqlite"), RecordingSink(out), now=lambda: later).run()
    assert (again.written, again.unchanged) == (0, 5)
    assert {f.name: f.read_bytes() for f in out.glob("*.json")} == files


def test_in_file_mode_a_withdrawal_is_written_even_when_each_run_has_its_own_out_folder(data, tmp_path):
    """writeprobe Y04: a new --out folder per run (each one posted, then archived) lost track of what
    the last run wrote, so a patient leaving scope kept an open report on the EHR. The state records the
    file; its content is read from there and the withdrawal goes to this run's folder."""
    store = StateStore(tmp_path / "state.sqlite")
    first = RecordingSink(tmp_path / "out1")
    job(data, store, first).run()
    written = json.loads(first.path_of("Patient/classic-poems").read_text())
    bundle = json.loads((data / "classic-poems.json").read_text())
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
    (data / "classic-poems.json").write_text(json.dumps(bundle))  # nothing suggests POEMS any more
    second = RecordingSink(tmp_path / "out2")
    summary = job(data, store, second).run()
    assert summary.withdrawn == 2
    withdrawal = json.loads(second.path_of("Patient/classic-poems").read_text())
    assert dangling_references(withdrawal) == []
    from fhir.resources.R4B.bundle import Bundle

    Bundle.model_validate(withdrawal)
    plan = next(e["resource"] for e in withdrawal["entry"] if e["resource"]["resourceType"] == "CarePlan")
    device = next(e["resource"] for e in written["entry"] if e["resource"]["resourceType"] == "Device")
    assert plan["author"]["type"] == "Device" and plan["author"]["identifier"] == device["identifier"][0]
    by_type = {e["resource"]["resourceType"]: e["resource"] for e in withdrawal["entry"]}
    assert (by_type["DiagnosticReport"]["status"], by_type["CarePlan"]["status"]) == ("cancelled", "revoked")
    old_report = next(e["resource"] for e in written["entry"] if e["resource"]["resourceType"] == "DiagnosticReport")
    assert by_type["DiagnosticReport"]["identifier"] == old_report["identifier"]
    assert old_report["conclusion"] in by_type["DiagnosticReport"]["conclusion"]  # the earlier text is kept
    assert second.calls == ["Patient/classic-poems"]  # the other patients were unchanged
    # back in scope, in a third folder: written again (the last file said "withdrawn")
    shutil.copy(SAMPLES / "classic-poems.json", data / "classic-poems.json")
    third = RecordingSink(tmp_path / "out3")
    again = job(data, store, third).run()
    assert again.written == 1 and third.calls == ["Patient/classic-poems"]
    back = json.loads(third.path_of("Patient/classic-poems").read_text())
    report = next(e["resource"] for e in back["entry"] if e["resource"]["resourceType"] == "DiagnosticReport")
    assert report["status"] == "partial"


@pytest.mark.parametrize("target", ["Patient/classic-poems", "Patient/loop-twin"])
def test_merge_links_that_go_round_leave_no_survivor_so_the_record_is_evaluated(data, tmp_path, target):
    # probe32: a record replaced by itself, or A replaced by B replaced by A, dropped both records with
    # "the surviving record is evaluated under its own id" - none was
    _merge_classic(data, {"other": {"reference": target}, "type": "replaced-by"})
    twin = {
        "resourceType": "Patient",
        "id": "loop-twin",
        "link": [{"other": {"reference": "Patient/classic-poems"}, "type": "replaced-by"}],
    }
    (data / "twin.json").write_text(json.dumps(twin))
    store = StateStore(tmp_path / "state.sqlite")
    sink = RecordingSink(tmp_path / "out")
    summary = job(data, store, sink).run()
    assert "Patient/classic-poems" in sink.calls
    assert not any("merged into" in p and "classic" in p for p in summary.problems)


def _break_dates(data: Path, types: tuple[str, ...], bad: str) -> int:
    """Give the classic case's resources of ``types`` a date that is no day of the calendar."""
    bundle = json.loads((data / "classic-poems.json").read_text())
    broken = 0
    for e in bundle["entry"]:
        r = e["resource"]
        if r["resourceType"] in types:
            for element in ("onsetDateTime", "effectiveDateTime", "recordedDate"):
                if element in r:
                    r[element] = bad
                    broken += 1
    (data / "classic-poems.json").write_text(json.dumps(bundle))
    return broken


def test_in_file_mode_a_written_patient_whose_own_resources_are_refused_keeps_its_report(data, tmp_path, caplog):
    """probe47 D2: a date typo ("2023-02-30") in a met patient's own resources refused them, the patient
    fell out of scope on what was left, and its report was withdrawn as "no longer meets the criteria
    ... not present in the current data" - data that is there, only unreadable. Now nothing is withdrawn:
    the patient fails (listed, exit 1) and is evaluated again next run."""
    store = StateStore(tmp_path / "state.sqlite")
    out = tmp_path / "out"
    sink = RecordingSink(out)
    job(data, store, sink).run()
    path = sink.path_of("Patient/classic-poems")
    written = path.read_text()
    assert _break_dates(data, ("Condition", "Observation"), "2023-02-30")
    with caplog.at_level(logging.INFO, logger="poems_fhir"):
        summary = job(data, store, RecordingSink(out)).run()
    assert summary.withdrawn == 0 and summary.failed == 1
    assert path.read_text() == written  # the report and plan stay as written
    (held,) = [r for r in caplog.records if getattr(r, "event", None) == "patient.withdrawal_held"]
    assert held.fields["unread"] > 0  # type: ignore[attr-defined]
    assert any("could not be read" in p and "not withdrawn" in p for p in summary.problems)
    assert "classic-poems" not in " ".join(summary.problems)  # pseudonymised
    assert store.patient("files:test", "Patient/classic-poems").status == "failed"  # retried next run
    again = job(data, store, RecordingSink(out)).run()
    assert again.withdrawn == 0 and again.failed == 1 and path.read_text() == written


def test_in_file_mode_a_patient_out_of_scope_with_nothing_unread_is_still_withdrawn(data, tmp_path):
    # the hold is only for unread data: a readable record that no longer puts the patient in scope is
    # withdrawn as before (test above: the same patient with its Observations refused is held)
    store = StateStore(tmp_path / "state.sqlite")
    out = tmp_path / "out"
    job(data, store, RecordingSink(out)).run()
    bundle = json.loads((data / "classic-poems.json").read_text())
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
    (data / "classic-poems.json").write_text(json.dumps(bundle))
    summary = job(data, store, RecordingSink(out)).run()
    assert summary.withdrawn == 2 and summary.failed == 0


def _overdue_steps(out: Path) -> set[str]:
    found = set()
    for f in out.glob("*.json"):
        for e in json.loads(f.read_text())["entry"]:
            if e["resource"]["resourceType"] == "CarePlan":
                found |= {a["id"] for a in e["resource"]["activity"] if "Overdue since" in a["detail"]["description"]}
    return found


def test_a_step_falls_overdue_by_the_run_date_and_only_then_is_the_plan_written_again(tmp_path):
    """probe58 D1: sync judged "overdue" by the newest data, so a patient lost to follow-up (no newer data)
    was never flagged. The run's date judges it now; a run on unchanged data writes again only on the
    day a step falls overdue (criteria.md §10 step 6: surveillance every 3-6 months)."""
    folder = tmp_path / "in"
    shutil.copytree(SAMPLES / "origin-case", folder / "origin-case")
    store, sink = StateStore(tmp_path / "state.sqlite"), RecordingSink(tmp_path / "out")

    def run_on(day: dt.date):
        at = dt.datetime.combine(day, dt.time(10), dt.timezone.utc)
        return job(folder, store, sink, now=lambda: at).run()

    first = run_on(dt.date(2020, 1, 10))
    assert first.written == 1 and "surveillance" not in _overdue_steps(tmp_path / "out")
    assert run_on(dt.date(2020, 3, 1)).written == 0  # nothing fell overdue since
    later = run_on(dt.date(2020, 7, 1))  # the surveillance's next date (3 months after the response) passed
    assert later.written == 1 and "surveillance" in _overdue_steps(tmp_path / "out")
    assert run_on(dt.date(2020, 7, 2)).written == 0


def test_a_stop_during_discovery_ends_the_run_incomplete_with_nothing_read(data, tmp_path):
    """probe63 D2: a stop requested while the patients are being found ends the run at once: not
    completed (the CLI exits 143), no patient read, no checkpoint moved, the run recorded as stopped."""
    from poems_fhir.errors import DiscoveryStopped

    store = StateStore(tmp_path / "state.sqlite")
    stopped_job = job(data, store, RecordingSink(tmp_path / "out"))

    def cohort(since, extra=()):
        raise DiscoveryStopped("search Patient: stop requested while finding the patients; stopped")

    stopped_job.source.cohort = cohort  # type: ignore[method-assign]
    summary = stopped_job.run()
    assert (summary.completed, summary.fatal, summary.patients_scanned) == (False, None, 0)
    assert store.checkpoint("files:test") is None


def test_a_merged_records_resources_are_synced_with_its_survivor(tmp_path):
    """probe79 D1, `sync --source`: the survivor's report rests on the Condition left under the retired
    record; the retired record is reported merged once, as before."""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(Path(__file__).resolve().parents[1] / "fixtures" / "merge" / "merge-split.json", folder)
    sink = RecordingSink(tmp_path / "out")
    summary = job(folder, StateStore(tmp_path / "state.sqlite"), sink).run()
    assert sink.calls == ["Patient/m1-new"] and (summary.written, summary.missing) == (1, 1)
    bundle = json.loads(sink.path_of("Patient/m1-new").read_text())
    report = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DiagnosticReport")
    assert "Condition/pn" in json.dumps(bundle) and "met" in json.dumps(report["conclusionCode"]).lower()
    assert sum("merged into" in p for p in summary.problems) == 1
