"""The sync job's write-back decisions against a fake server that keeps what it is sent and answers
with what it holds (README "Sync", "Ownership"): a run whose proposals are already on the server sends
nothing and keeps what the state knew; a 412 is read again and decided again once, twice is a failure;
a resource a clinician took over is counted every run but reported as a conflict once, and recorded;
counts add up over patients; a dry run writes and records nothing."""

from __future__ import annotations

import copy
import json
import datetime as dt
from typing import Any

import pytest

from poems_fhir.criteria.profiles import MAYO
from poems_fhir.errors import ForeignHostError, PreconditionFailedError
from poems_fhir.fhir.read import read_paths
from poems_fhir.fhir.write import CONTENT_TAG_SYSTEM, GUARDED_TYPES
from poems_fhir.mapping.rules import load_mapping
from poems_fhir.sync.job import SyncJob
from poems_fhir.sync.ownership import key_of
from poems_fhir.sync.sinks import ServerView, entry_key, is_our_provenance
from poems_fhir.sync.sources import Cohort
from poems_fhir.sync.state import StateStore
from tests.conftest import SAMPLES

NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.timezone.utc)
SERVER_TIME = "2026-11-27T09:59:00.000Z"
CLASSIC = "Patient/classic-poems"
RELAPSE = "Patient/relapse-vegf"


def records() -> dict[str, Any]:
    read = read_paths([SAMPLES / "classic-poems.json", SAMPLES / "relapse-case.json"])
    return {r.patient: r for r in read.records}


class Source:
    name = "fake"

    def __init__(self, recs: dict[str, Any]) -> None:
        self.records = recs

    def cohort(self, since, extra=()):
        return Cohort(sorted(self.records), SERVER_TIME)

    def fetch(self, patient):
        return self.records[patient], []


class Server:
    """Stores each entry under its business key with an id and a version; shows our reports, plans and
    Provenances back per patient; can answer 412 to the next writes."""

    name = "server"

    def __init__(self) -> None:
        self.by_key: dict[str, dict[str, Any]] = {}  # business key -> resource
        self.subject: dict[str, str] = {}  # business key -> patient
        self.provenances: dict[str, list[dict[str, Any]]] = {}
        self.fail_next = 0
        self.writes: list[dict[str, Any]] = []

    def write(self, patient: str, bundle: dict[str, Any]) -> dict[str, dict[str, str]]:
        if self.fail_next:
            self.fail_next -= 1
            raise PreconditionFailedError("POST transaction failed: HTTP 412: precondition failed", status=412)
        self.writes.append(copy.deepcopy(bundle))
        written = {}
        ids: dict[str, str] = {}  # fullUrl -> id, resolved like a server does before storing
        for e in bundle["entry"]:
            rtype = e["resource"]["resourceType"]
            old = self.by_key.get(entry_key(e))
            ids[e.get("fullUrl", "")] = old["id"] if old else f"{rtype.lower()}-{len(self.by_key) + len(ids) + 1}"
        text = json.dumps(bundle["entry"])
        for e in bundle["entry"]:
            if e.get("fullUrl", "").startswith("urn:"):
                text = text.replace(f'"{e["fullUrl"]}"', f'"{e["resource"]["resourceType"]}/{ids[e["fullUrl"]]}"')
        for n, e in enumerate(json.loads(text)):
            res = e["resource"]
            res["id"] = ids[bundle["entry"][n].get("fullUrl", "")]
            if res["resourceType"] == "Provenance":
                self.provenances.setdefault(patient, []).append(res)
                continue
            key = entry_key(e)
            old = self.by_key.get(key)
            res["meta"] = {
                **res.get("meta", {}),
                "versionId": str(int((old or {"meta": {"versionId": "0"}})["meta"]["versionId"]) + 1),
            }
            self.by_key[key] = res
            self.subject[key] = patient
            written[key] = {"ref": f"{res['resourceType']}/{res['id']}", "version": res["meta"]["versionId"]}
        return written

    def current(self, url: str) -> dict[str, Any] | None:
        return None

    def existing(self, patient: str, subject_key: str, recorded=()) -> ServerView:
        mine = [
            copy.deepcopy(r)
            for k, r in self.by_key.items()
            if self.subject[k] == patient and r["resourceType"] in GUARDED_TYPES
        ]
        provs = [copy.deepcopy(p) for p in self.provenances.get(patient, []) if is_our_provenance(p)]
        return ServerView(resources=mine, provenances=provs)

    def of_type(self, patient: str, rtype: str) -> list[dict[str, Any]]:
        return [r for k, r in self.by_key.items() if self.subject[k] == patient and r["resourceType"] == rtype]


def job(store, server, recs=None, profile=MAYO, **kw) -> SyncJob:
    return SyncJob(Source(recs or records()), server, store, load_mapping(), profile, "srv", lambda: NOW, **kw)


def forget_input(store: StateStore, patient: str) -> None:
    """Make the state believe the input changed (a new lab value that changes nothing concluded)."""
    st = store.patient("srv", patient)
    assert st is not None
    store.record_patient("srv", patient, "older-input", st.written, st.status, NOW.isoformat())


def test_the_fake_server_round_trip(tmp_path):
    store, server = StateStore(tmp_path / "s.sqlite"), Server()
    first = job(store, server).run()
    assert first.written == 2 and first.unchanged == 0
    assert server.of_type(CLASSIC, "DiagnosticReport") and server.of_type(RELAPSE, "CarePlan") is not None


def test_proposals_already_on_the_server_send_nothing_and_keep_what_the_state_knew(tmp_path):
    store, server = StateStore(tmp_path / "s.sqlite"), Server()
    job(store, server).run()
    before = {p: store.patient("srv", p) for p in (CLASSIC, RELAPSE)}
    assert all(st.written and st.status == "written" for st in before.values())
    for p in before:
        forget_input(store, p)
    again = job(store, server).run()
    assert (again.unchanged, again.written, again.failed) == (2, 0, 0)
    assert len(server.writes) == 2  # nothing sent the second time
    for p, st in before.items():
        now = store.patient("srv", p)
        assert now.status == "written" and now.written == st.written
        assert now.input_hash == st.input_hash  # the real input hash again: the next run skips it early
    third = job(store, server).run()
    assert (third.unchanged, third.written) == (2, 0) and len(server.writes) == 2


def test_a_412_is_read_again_and_decided_again_once(tmp_path):
    store, server = StateStore(tmp_path / "s.sqlite"), Server()
    server.fail_next = 1
    summary = job(store, server).run()
    assert (summary.written, summary.failed) == (2, 0)
    assert store.patient("srv", CLASSIC).status == "written"


def test_two_412s_in_a_row_are_a_failure_retried_next_run(tmp_path):
    store, server = StateStore(tmp_path / "s.sqlite"), Server()
    server.fail_next = 2  # the first patient (classic) twice; the second is written
    summary = job(store, server).run()
    assert (summary.written, summary.failed) == (1, 1)
    (problem,) = summary.problems
    assert "HTTP 412" in problem and "internal error" not in problem
    # the cause and the next step, not only the server's words (a probe: "a persistent 412 without cause")
    assert "refused our conditional write twice" in problem and "retried next run" in problem
    assert "look for duplicates of our resources" in problem
    st = store.patient("srv", CLASSIC)
    assert st.status == "failed" and "HTTP 412" in st.reason
    assert store.patient("srv", RELAPSE).status == "written"


def test_counts_add_up_over_patients(tmp_path):
    dry = job(StateStore(tmp_path / "d.sqlite"), Server(), dry_run=True).run()
    assert (dry.would_write, dry.written) == (2, 0)  # (a dry run's sink is a folder: it writes there)
    real = job(StateStore(tmp_path / "s.sqlite"), Server()).run()
    assert (real.written, real.would_write, real.unchanged) == (2, 0, 0)


def _take_over_report(server: Server, patient: str) -> dict[str, Any]:
    (report,) = [r for r in server.of_type(patient, "DiagnosticReport") if r.get("status") != "final"][:1]
    report["status"] = "final"  # a clinician signed it off
    report["meta"]["versionId"] = str(int(report["meta"]["versionId"]) + 1)
    return report


def test_a_report_taken_over_is_counted_every_run_reported_once_and_recorded(tmp_path):
    store, server = StateStore(tmp_path / "s.sqlite"), Server()
    j = job(store, server, pseudonym_key=b"k" * 32)
    j.run()
    report = _take_over_report(server, CLASSIC)
    ref = f"DiagnosticReport/{report['id']}"
    signed = copy.deepcopy(report)
    forget_input(store, CLASSIC)
    second = job(store, server, pseudonym_key=b"k" * 32).run()
    assert (second.clinician_owned, second.conflicts) == (1, 1)
    name = j.pseudonym(CLASSIC)
    taken = [p for p in second.problems if "taken over" in p]
    assert taken == [
        f"{name}: {ref} was taken over by someone else (status 'final' changed): poems-fhir never updates it "
        "again; nothing to do unless you want software updates back: then delete it and run "
        "`poems-fhir state forget PATIENT`"
    ]
    assert store.known_takeover("srv", CLASSIC, ref)
    assert [
        (t["server"], t["patient"], t["ref"], t["key"], t["status"], t["reported_at"]) for t in store.takeovers()
    ] == [("srv", CLASSIC, ref, key_of(report), "final", NOW.isoformat())]
    assert server.by_key[key_of(report)] == signed  # never modified
    forget_input(store, CLASSIC)
    third = job(store, server, pseudonym_key=b"k" * 32).run()
    assert (third.clinician_owned, third.conflicts) == (1, 0)
    assert not [p for p in third.problems if "taken over" in p]
    assert server.by_key[key_of(report)] == signed


def test_a_dry_run_reports_a_takeover_every_time_and_records_none(tmp_path):
    store, server = StateStore(tmp_path / "s.sqlite"), Server()
    job(store, server).run()
    _take_over_report(server, CLASSIC)
    forget_input(store, CLASSIC)
    for _ in range(2):
        dry = job(store, server, dry_run=True).run()
        assert (dry.clinician_owned, dry.conflicts) == (1, 1)
    assert store.takeovers() == []


def _as_before_markers(server: Server, patient: str) -> None:
    """What poems-fhir < 0.2 left on the server: the same resources without the content marker."""
    for rtype in GUARDED_TYPES:
        for res in server.of_type(patient, rtype):
            res["meta"]["tag"] = [t for t in res["meta"].get("tag", []) if t.get("system") != CONTENT_TAG_SYSTEM]


def test_resources_written_before_the_markers_are_ours_at_the_version_the_state_recorded(tmp_path):
    store, server = StateStore(tmp_path / "s.sqlite"), Server()
    recs = {CLASSIC: records()[CLASSIC]}
    job(store, server, recs).run()
    _as_before_markers(server, CLASSIC)
    forget_input(store, CLASSIC)
    summary = job(store, server, recs).run()
    # ours, and what this run would write is what is there: nothing sent, nothing taken over
    assert (summary.clinician_owned, summary.conflicts, summary.unchanged, summary.written) == (0, 0, 1, 0)


def test_takeovers_are_counted_per_resource_over_patients(tmp_path):
    store, server = StateStore(tmp_path / "s.sqlite"), Server()
    job(store, server).run()
    for p in (CLASSIC, RELAPSE):
        _take_over_report(server, p)
        forget_input(store, p)
    summary = job(store, server).run()
    assert (summary.clinician_owned, summary.conflicts) == (2, 2)
    assert len(store.takeovers()) == 2


def test_the_job_tells_the_sink_what_the_state_recorded_writing(tmp_path):
    # probe45 D3: the sink reads these again when the patient's search does not return them
    class Recording(Server):
        asked: list[tuple[str, list[str]]] = []

        def existing(self, patient, subject_key, recorded=()):
            self.asked.append((patient, sorted(recorded)))
            return super().existing(patient, subject_key, recorded)

    store, server = StateStore(tmp_path / "s.sqlite"), Recording()
    job(store, server).run()
    assert server.asked == [(CLASSIC, []), (RELAPSE, [])]  # nothing recorded yet
    server.asked.clear()
    forget_input(store, CLASSIC)
    job(store, server).run()
    (report,) = server.of_type(CLASSIC, "DiagnosticReport")
    (plan,) = server.of_type(CLASSIC, "CarePlan")
    ((patient, recorded),) = server.asked
    assert patient == CLASSIC and {f"DiagnosticReport/{report['id']}", f"CarePlan/{plan['id']}"} <= set(recorded)
    assert all("/" in r and not r.startswith("poems-fhir") for r in recorded)


class LostAnswerServer(Server):
    """Applies the next write, then answers it as refused (a 5xx after the commit, retried into a 412)."""

    def __init__(self) -> None:
        super().__init__()
        self.lose_next = 0

    def write(self, patient: str, bundle: dict[str, Any]) -> dict[str, dict[str, str]]:
        written = super().write(patient, bundle)
        if self.lose_next:
            self.lose_next -= 1
            raise PreconditionFailedError("POST transaction failed: HTTP 412: precondition failed", status=412)
        return written


def test_a_write_applied_whose_answer_was_lost_counts_as_written_not_unchanged(tmp_path):
    """probe56 D3: the server stored the transaction but answered 503; the retry got 412 (our own write had
    moved the version); read again, the server held exactly what we send - counted `unchanged`, which the
    README defines as "nothing written"."""
    store, server = StateStore(tmp_path / "s.sqlite"), LostAnswerServer()
    server.lose_next = 1
    summary = job(store, server).run()
    assert (summary.written, summary.unchanged, summary.failed) == (2, 0, 0)
    assert len(server.writes) == 2  # nothing sent twice
    for p in (CLASSIC, RELAPSE):
        forget_input(store, p)
    again = job(store, server).run()
    assert (again.written, again.unchanged) == (0, 2)


class ForeignSource(Source):
    """A search whose next page points at another host: the run stops (exit 2)."""

    def fetch(self, patient):
        url = f"http://other.example/fhir/Condition?patient={patient.split('/')[1]}"
        raise ForeignHostError(f"refusing {url}: not the configured server", url=url)


def test_a_refused_foreign_url_is_raised_with_the_patient_masked_in_message_and_url(tmp_path):
    """Mutation sample seed 24 (`_one` scrubbing the patient instead of the URL): the URL the CLI reports
    must keep its host and path with the patient's id masked (probe33: the id was shown without --phi)."""
    store = StateStore(tmp_path / "s.sqlite")
    j = SyncJob(ForeignSource(records()), Server(), store, load_mapping(), MAYO, "srv", lambda: NOW,
                pseudonym_key=b"k")  # fmt: skip
    with pytest.raises(ForeignHostError) as raised:
        j.run()
    masked = j.pseudonym(CLASSIC)
    assert raised.value.url == f"http://other.example/fhir/Condition?patient={masked}"
    assert "classic-poems" not in str(raised.value) and masked in str(raised.value)


class RefusedThenLostServer(LostAnswerServer):
    """The first write is refused (changed under us: nothing stored), the second is applied and its
    answer lost into a 412 (probe63 D5: two 412s, the second after the server had stored our write)."""

    def __init__(self) -> None:
        super().__init__()
        self.refuse_next = 0

    def write(self, patient: str, bundle: dict[str, Any]) -> dict[str, dict[str, str]]:
        if self.refuse_next:
            self.refuse_next -= 1
            raise PreconditionFailedError("POST transaction failed: HTTP 412: precondition failed", status=412)
        return super().write(patient, bundle)


def test_two_412s_after_which_the_server_holds_what_we_sent_are_a_write_not_a_failure(tmp_path):
    # probe63 D5: "nothing was written for this patient" (exit 1) while the server held exactly our write
    store, server = StateStore(tmp_path / "s.sqlite"), RefusedThenLostServer()
    server.refuse_next, server.lose_next = 1, 1
    summary = job(store, server).run()
    assert (summary.written, summary.unchanged, summary.failed) == (2, 0, 0)
    assert not summary.problems
    assert store.patient("srv", CLASSIC).status == "written"
    for p in (CLASSIC, RELAPSE):
        forget_input(store, p)
    again = job(store, server).run()
    assert (again.written, again.unchanged) == (0, 2)  # nothing sent again: it was all there


def test_a_failed_patient_read_names_the_patient_url_with_only_its_id_masked(tmp_path):
    """probe82 D12: the problem line of a Patient read answered 500 said ".../fhir/R4/patient-<hex>", as if
    that were the endpoint; it keeps `Patient/`, the id alone masked (without --phi)."""
    from poems_fhir.errors import TemporaryNetworkError
    from poems_fhir.sync.job import pseudonym

    url = "http://127.0.0.1:8172/fhir/R4/Patient/classic-poems"

    class Failing(Source):
        def fetch(self, patient):
            raise TemporaryNetworkError(f"GET {url} failed: HTTP 500", url=url, status=500)

    store, key = StateStore(tmp_path / "s.sqlite"), b"k" * 32
    recs = {CLASSIC: records()[CLASSIC]}
    summary = SyncJob(Failing(recs), Server(), store, load_mapping(), MAYO, "srv", lambda: NOW, pseudonym_key=key).run()
    shown = pseudonym(key, CLASSIC)
    assert list(summary.problems) == [f"{shown}: GET http://127.0.0.1:8172/fhir/R4/Patient/{shown} failed: HTTP 500"]
    assert store.patient("srv", CLASSIC).reason == f"GET http://127.0.0.1:8172/fhir/R4/Patient/{shown} failed: HTTP 500"
