"""The whole sync job against a running FHIR server over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from poems_fhir.sync.config import SyncSettings
from poems_fhir.sync.runner import StopFlag, make_job
from poems_fhir.sync.sinks import ServerSink
from poems_fhir.sync.state import StateStore
from tests.conftest import SAMPLES
from tests.integration.conftest import headers

REPORT_SYSTEM = "https://poems-fhir.org/fhir/identifier/criteria-report"
PATIENTS = [
    "Patient/poems-origin",
    "Patient/classic-poems",
    "Patient/mimic-al",
    "Patient/mimic-cidp",
    "Patient/mimic-myeloma",
    "Patient/mimic-castleman",
]


def settings(server, tmp_path: Path, **kw) -> SyncSettings:
    token = tmp_path / "token"
    extra = {}
    if server["token"]:
        token.write_text(server["token"])
        extra = {"auth": "bearer", "token_file": token}
    kw.setdefault("patient", PATIENTS)
    return SyncSettings(server=server["url"], state=tmp_path / "state.sqlite", **extra, **kw)


def run(server, tmp_path, stop=None, **kw):
    s = settings(server, tmp_path, **kw)
    store = StateStore(s.state, readonly=bool(s.dry_run))
    with store.locked():
        job, caps, _ = make_job(s, store, stop or StopFlag(), lambda it: it)
        return job, job.run()


def reports(server) -> list[dict]:
    bundle = requests.get(
        f"{server['url']}/DiagnosticReport",
        params={"identifier": f"{REPORT_SYSTEM}|", "_count": "100"},
        headers=headers(server),
        timeout=30,
    ).json()
    found = [e["resource"] for e in bundle.get("entry", []) or []]
    if not found:  # servers that do not support a system-only token search
        bundle = requests.get(
            f"{server['url']}/DiagnosticReport", params={"_count": "200"}, headers=headers(server), timeout=30
        ).json()
        found = [
            e["resource"]
            for e in bundle.get("entry", []) or []
            if any(i.get("system") == REPORT_SYSTEM for i in e["resource"].get("identifier", []))
        ]
    return found


def test_sync_twice_then_change_one_observation(server, tmp_path):
    _, first = run(server, tmp_path)
    assert (first.written, first.out_of_scope, first.failed) == (5, 1, 0)
    # <= 8 reads (7 + the clinical notes) + 3 ownership searches + 1 transaction per patient, + metadata and paging
    assert first.requests / first.patients_scanned <= 13
    found = reports(server)
    assert len(found) == 5 and all(r["status"] == "partial" for r in found)
    assert all(len(r["contained"]) == 11 for r in found)

    _, second = run(server, tmp_path)
    assert (second.written, second.unchanged) == (0, 5)

    vegf = requests.get(f"{server['url']}/Observation/cp-vegf", headers=headers(server), timeout=30).json()
    vegf["valueQuantity"]["value"] = 900
    requests.put(
        f"{server['url']}/Observation/cp-vegf", json=vegf, headers=headers(server), timeout=30
    ).raise_for_status()
    job, third = run(server, tmp_path)
    assert (third.written, third.unchanged) == (1, 4)
    assert len(reports(server)) == 5


def test_crash_after_writing_and_rerun_leaves_one_report_per_patient(server, tmp_path, monkeypatch):
    class Crash(BaseException):  # a kill, not an error: an Exception would only fail that patient
        pass

    original = ServerSink.write
    calls = {"n": 0}

    def crashing_write(self, patient, bundle):
        result = original(self, patient, bundle)
        calls["n"] += 1
        if calls["n"] == 2:
            raise Crash("killed after the server wrote, before the state was recorded")
        return result

    with monkeypatch.context() as patch:
        patch.setattr(ServerSink, "write", crashing_write)
        with pytest.raises(Crash):
            run(server, tmp_path)
    _, rerun = run(server, tmp_path)
    # the crashed patient's write reached the server: its content hash says it is exactly ours, so
    # it is recognised as unchanged without any state record; the 3 never reached are written
    assert (rerun.written, rerun.unchanged) == (3, 2)
    found = reports(server)
    subjects = [r["subject"]["reference"] for r in found]
    assert len(found) == 5 and len(set(subjects)) == 5


def test_dry_run_sends_nothing(server, tmp_path):
    _, summary = run(server, tmp_path, dry_run=tmp_path / "dry")
    assert (summary.would_write, summary.written) == (5, 0)
    assert len(list((tmp_path / "dry").glob("*.json"))) == 5
    assert reports(server) == []
    assert not (tmp_path / "state.sqlite").exists()  # no state file, no run row
    _, real = run(server, tmp_path)  # a dry run records nothing: the real run still writes everything
    assert real.written == 5 and len(reports(server)) == 5


def test_a_clinician_finalised_report_is_not_overwritten(server, tmp_path):
    run(server, tmp_path)
    (report,) = [r for r in reports(server) if r["subject"]["reference"] == "Patient/classic-poems"]
    report["status"] = "final"  # a clinician verified and finalised it
    requests.put(
        f"{server['url']}/DiagnosticReport/{report['id']}", json=report, headers=headers(server), timeout=30
    ).raise_for_status()
    plt = requests.get(f"{server['url']}/Observation/cp-plt", headers=headers(server), timeout=30).json()
    plt["valueQuantity"]["value"] = 530
    requests.put(
        f"{server['url']}/Observation/cp-plt", json=plt, headers=headers(server), timeout=30
    ).raise_for_status()
    _, summary = run(server, tmp_path)
    assert summary.conflicts == 1 and summary.written == 0
    (after,) = [r for r in reports(server) if r["subject"]["reference"] == "Patient/classic-poems"]
    assert after["status"] == "final"


def test_discovery_finds_the_patients_with_mapped_data(server, tmp_path):
    if not server["resettable"]:
        pytest.skip("discovery counts need a server holding only the sample data")
    s = settings(server, tmp_path)
    s.patient = []
    store = StateStore(s.state)
    with store.locked():
        job, caps, _ = make_job(s, store, StopFlag(), lambda it: it)
        summary = job.run()
    assert summary.patients_scanned == 6 and summary.written == 5
    assert store.checkpoint(job.server_key) is not None  # the server's time, for the next run


def test_our_own_unrecorded_write_is_recognised_after_a_crash(server, tmp_path, monkeypatch):
    run(server, tmp_path)  # versions recorded
    plt = requests.get(f"{server['url']}/Observation/cp-plt", headers=headers(server), timeout=30).json()
    plt["valueQuantity"]["value"] = 540
    requests.put(
        f"{server['url']}/Observation/cp-plt", json=plt, headers=headers(server), timeout=30
    ).raise_for_status()

    class Crash(BaseException):
        pass

    original = ServerSink.write

    def crash_after_write(self, patient, bundle):
        original(self, patient, bundle)
        raise Crash("killed before the new version was recorded")

    with monkeypatch.context() as patch:
        patch.setattr(ServerSink, "write", crash_after_write)
        with pytest.raises(Crash):
            run(server, tmp_path)
    # the state still holds the old version, but the server's content hash shows that what is there
    # is exactly what we would write: no 412, no conflict, no second write
    writes = []
    with monkeypatch.context() as patch:
        patch.setattr(ServerSink, "write", lambda self, p, b: writes.append(p) or original(self, p, b))
        _, rerun = run(server, tmp_path)
    assert writes == [] and rerun.conflicts == 0 and rerun.unchanged == 5
    assert len(reports(server)) == 5


def test_sigkill_mid_run_then_rerun_leaves_one_report_per_patient(server, tmp_path):
    import os
    import signal
    import subprocess
    import sys

    if server["token"]:
        pytest.skip("uses the CLI without credentials")
    hook = Path(__file__).with_name("kill_after_writes.py")
    args = ["sync", "--server", server["url"], "--state", str(tmp_path / "state.sqlite"), "--log-format", "json"]
    for p in PATIENTS:
        args += ["--patient", p]
    # killed right after the 2nd write reached the server and before the job recorded it: deterministic
    env = {**os.environ, "POEMS_FHIR_TEST_KILL_AFTER_WRITES": "2"}
    killed = subprocess.run([sys.executable, str(hook), *args], capture_output=True, text=True, timeout=300, env=env)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert len(reports(server)) == 2
    rerun = subprocess.run(
        [sys.executable, "-m", "poems_fhir.cli", *args, "--format", "json"], capture_output=True, text=True, timeout=300
    )
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    # the first write was recorded; the second reached the server unrecorded and is recognised there as
    # ours and unchanged by its content-hash marker (nothing re-sent); the other three are written
    assert (summary["written"], summary["unchanged"], summary["conflicts"]) == (3, 2, 0)
    found = reports(server)
    assert len(found) == 5 and len({r["subject"]["reference"] for r in found}) == 5


def test_a_report_a_clinician_moved_to_another_patient_and_signed_off_is_never_touched(server, tmp_path):
    # probe37: the conditional update by identifier alone matched our report after a clinician had moved it
    # to the right patient and set it final: it came back to the first patient, partial, our conclusion
    run(server, tmp_path)
    (report,) = [r for r in reports(server) if r["subject"]["reference"] == "Patient/classic-poems"]
    report["subject"] = {"reference": "Patient/mimic-al"}
    report["status"] = "final"
    report["conclusion"] = "Reviewed: this report belongs to this patient."
    requests.put(
        f"{server['url']}/DiagnosticReport/{report['id']}", json=report, headers=headers(server), timeout=30
    ).raise_for_status()
    ct = requests.get(f"{server['url']}/DiagnosticReport/cp-ct", headers=headers(server), timeout=30).json()
    ct["status"] = "entered-in-error"  # a material change for the first patient: its lesions go
    requests.put(
        f"{server['url']}/DiagnosticReport/cp-ct", json=ct, headers=headers(server), timeout=30
    ).raise_for_status()
    (tmp_path / "state.sqlite").unlink()  # and the state lost: the server alone decides
    run(server, tmp_path)
    moved = requests.get(f"{server['url']}/DiagnosticReport/{report['id']}", headers=headers(server), timeout=30).json()
    assert moved["subject"]["reference"] == "Patient/mimic-al"
    assert (moved["status"], moved["conclusion"]) == ("final", "Reviewed: this report belongs to this patient.")


def test_a_named_patient_restored_after_a_404_is_read_again(server, tmp_path):
    """probe73 D6: a --patient the server did not have once was never read again while it stayed configured,
    also after it was restored and its data changed; every run exited 0 with a stale report."""
    url, auth = server["url"], headers(server)
    patient = requests.get(f"{url}/Patient/mimic-al", headers=auth, timeout=30).json()
    run(server, tmp_path)
    requests.delete(f"{url}/Patient/mimic-al", headers=auth, timeout=30).raise_for_status()
    _, gone = run(server, tmp_path)
    assert gone.missing == 1
    _, quiet = run(server, tmp_path)  # reported once: not read, not reported again
    assert quiet.missing == 0 and quiet.patients_scanned == len(PATIENTS) - 1
    restored = {k: v for k, v in patient.items() if k != "meta"}
    requests.put(f"{url}/Patient/mimic-al", json=restored, headers=auth, timeout=30).raise_for_status()
    _, back = run(server, tmp_path)
    assert back.patients_scanned == len(PATIENTS) and back.failed == 0 and back.missing == 0


@pytest.mark.parametrize("discover", [False, True], ids=["named", "discovered"])
def test_all_observations_reads_results_known_by_display_text_only(server, tmp_path, discover):
    """probe81 D8: `Observation/us-ife` (code.text "IFE SERUM", no coding) is read from a file by the
    display-text fallback, but the by-code search of a server never brought it: the patient was
    `indeterminate` from the server and `met` from the file."""
    from tests.integration.conftest import load_bundles

    load_bundles(server, [SAMPLES / "encodings" / "us-vendor-units.json"])
    kw = {"patient": [] if discover else ["Patient/enc-us-1"], "dry_run": tmp_path / "dry", "phi": True}
    for name in ("codes", "all"):
        (tmp_path / name).mkdir()
    _, by_code = run(server, tmp_path / "codes", **kw)
    _, every = run(server, tmp_path / "all", all_observations=True, **kw)

    def classification(summary):
        return {c["patient"]: c["classification"] for c in summary.conclusions}.get("Patient/enc-us-1")

    assert (classification(by_code), classification(every)) == ("indeterminate", "met")


def test_a_merged_records_resources_left_on_the_old_record_are_read_from_the_server(server, tmp_path):
    """probe82 D3: the polyneuropathy filed under the retired record was read from a file (probe79 D1) but
    not from the server, whose searches asked for the survivor only: `indeterminate`, "polyneuropathy: no data"."""
    from tests.integration.conftest import load_bundles

    load_bundles(server, [Path(__file__).parents[1] / "fixtures" / "merge" / "merge-split.json"])
    _, summary = run(server, tmp_path, patient=["Patient/m1-new"], dry_run=tmp_path / "dry", phi=True)
    (conclusion,) = summary.conclusions
    assert (conclusion["patient"], conclusion["classification"]) == ("Patient/m1-new", "met")


def test_clinical_notes_are_read_from_the_server_as_from_a_file(server, tmp_path):
    """The classic case with its CT report and its dermatology consult as US Core DocumentReferences: the server
    lists the type, the sync searches it, and the patient is `met` on the documents' findings, cited."""
    from tests.integration.conftest import load_bundles

    load_bundles(server, [Path(__file__).parents[1] / "fixtures" / "documents" / "classic-as-documents.json"])
    _, summary = run(server, tmp_path, patient=["Patient/doc-classic"], dry_run=tmp_path / "dry", phi=True)
    (conclusion,) = summary.conclusions
    assert (conclusion["patient"], conclusion["classification"]) == ("Patient/doc-classic", "met")
    written = json.dumps([json.loads(p.read_text()) for p in (tmp_path / "dry").rglob("*.json")])
    assert "DocumentReference/dc-ct-note" in written and "DocumentReference/dc-derm-note" in written


def test_a_notes_text_given_by_url_is_fetched_from_the_server(server, tmp_path):
    """The CT note's text in a Binary the DocumentReference names by url (as Epic- and Cerner-style APIs give it):
    the sync fetches it from the server and the patient is `met` as with the text inline."""
    from tests.integration.conftest import load_bundles

    load_bundles(server, [Path(__file__).parents[1] / "fixtures" / "documents" / "classic-as-documents-by-url.json"])
    _, summary = run(server, tmp_path, patient=["Patient/doc-classic"], dry_run=tmp_path / "dry", phi=True)
    (conclusion,) = summary.conclusions
    assert (conclusion["patient"], conclusion["classification"]) == ("Patient/doc-classic", "met")
    written = json.dumps([json.loads(p.read_text()) for p in (tmp_path / "dry").rglob("*.json")])
    assert "DocumentReference/dc-ct-note" in written
