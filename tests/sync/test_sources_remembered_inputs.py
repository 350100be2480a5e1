"""Discovery maps changed, moved, recoded and deleted resources to the patients whose remembered inputs
hold them (probe73 D4, D8): the code searches' own results at no extra request, then per type of input
the type's history where the CapabilityStatement declares `history-type`, else an `_id` search of the
cited inputs compared with the remembered versions. Shapes as Medplum answers (transcripts 06, 13, 15)."""

from __future__ import annotations

import json
import logging
import re
import urllib.parse
from typing import Any

import pytest
import responses

from poems_fhir.fhir.capabilities import parse_capabilities
from poems_fhir.fhir.client import FhirClient
from poems_fhir.mapping.rules import load_mapping
from poems_fhir.sync.sources import ServerSource
from poems_fhir.sync.state import StateStore
from tests.fhir.transcripts import BASE, exchange, fill

DATE = "Fri, 27 Nov 2026 10:00:00 GMT"
SINCE = "2026-11-27T09:00:00.000Z"
AFTER = "2026-11-27T08:55:00.000Z"  # minus the 5-minute overlap
MAPPING = load_mapping()
SUBSETTED = {"system": "http://hl7.org/fhir/v3/ObservationValue", "code": "SUBSETTED"}


def obs(rid: str, patient: str, version: str, code: str = "75628-8", updated: str = "2026-11-27T09:30:00.000Z"):
    """An Observation as a discovery search with `_elements` returns it (transcript 06)."""
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": f"Patient/{patient}"},
        "id": rid,
        "meta": {"versionId": version, "lastUpdated": updated, "tag": [SUBSETTED]},
    }


def condition(rid: str, patient: str, version: str):
    return {
        "resourceType": "Condition",
        "id": rid,
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "77986002"}]},
        "subject": {"reference": f"Patient/{patient}"},
        "meta": {"versionId": version, "lastUpdated": "2026-11-20T10:00:00.000Z"},
    }


def searchset(resources: list[dict[str, Any]], next_url: str | None = None) -> dict[str, Any]:
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"fullUrl": f"{BASE}/{r['resourceType']}/{r['id']}", "search": {"mode": "match"}, "resource": r}
            for r in resources
        ],
    }
    if next_url:
        bundle["link"] = [{"relation": "next", "url": next_url}]
    return bundle


def caps(history: frozenset[str] = frozenset()):
    c = parse_capabilities(fill(exchange("01-metadata.json", 0)["response"]["body"]))
    c.history_types = history
    return c


@pytest.fixture
def store(tmp_path):
    """Four in-scope patients' remembered inputs: A's IFE (moved to Z below), B's VEGF (recoded below),
    C's VEGF (deleted below), D's VEGF (unchanged); A's platelet count is read but cited by nothing."""
    s = StateStore(tmp_path / "state.sqlite")
    s.remember_inputs(
        "srv",
        "Patient/A",
        {"Observation/ife-1": "a1", "Observation/plt-1": "p1", "Condition/mgus-1": "m1"},
        {"Observation/ife-1", "Condition/mgus-1"},
    )
    s.remember_inputs("srv", "Patient/B", {"Observation/vegf-2": "b1"}, {"Observation/vegf-2"})
    s.remember_inputs("srv", "Patient/C", {"Observation/del-3": "c1"}, {"Observation/del-3"})
    s.remember_inputs("srv", "Patient/D", {"Observation/ok-4": "d1"}, {"Observation/ok-4"})
    yield s
    s.close()


class Server:
    """Answers the discovery's requests: the code searches list A's IFE moved to Patient/Z; an `_id`
    search lists what still exists (B's VEGF at a new version: recoded; C's deleted); history as given."""

    def __init__(self, history: Any = None) -> None:
        self.history = history
        self.calls: list[tuple[str, dict[str, list[str]]]] = []
        self.current = {
            "Observation/ife-1": obs("ife-1", "Z", "a2", code="25700-6"),
            "Observation/plt-1": obs("plt-1", "A", "p1", code="777-3"),
            "Observation/vegf-2": obs("vegf-2", "B", "b2", code="2951-2"),
            "Observation/ok-4": obs("ok-4", "D", "d1", updated="2026-11-01T00:00:00.000Z"),
            "Condition/mgus-1": condition("mgus-1", "A", "m1"),
        }

    def __call__(self, request: Any) -> tuple[int, dict[str, str], str]:
        url = urllib.parse.urlsplit(request.url)
        query = urllib.parse.parse_qs(url.query)
        if request.method == "POST":
            query.update(urllib.parse.parse_qs(request.body))
        path = url.path.removeprefix(urllib.parse.urlsplit(BASE).path + "/").removesuffix("/_search")
        self.calls.append((path, query))
        if path.endswith("/_history"):
            return self.history(path, query)
        rtype = path
        if "_id" in query:
            wanted = query["_id"][0].split(",")
            found = [r for ref, r in self.current.items() if ref.split("/")[0] == rtype and ref.split("/")[1] in wanted]
            return 200, {}, json.dumps(searchset(found))
        if rtype == "Observation" and "25700-6" in query.get("code", [""])[0]:
            return 200, {}, json.dumps(searchset([self.current["Observation/ife-1"]]))
        return 200, {}, json.dumps(searchset([]))

    def by_id(self, rtype: str) -> list[list[str]]:
        return [q["_id"][0].split(",") for p, q in self.calls if p == rtype and "_id" in q]


def discover(server: Server, store: StateStore, history: frozenset[str] = frozenset(), since: str | None = SINCE):
    responses.add("GET", f"{BASE}/metadata", json={"resourceType": "CapabilityStatement"}, headers={"Date": DATE})
    for method in ("GET", "POST"):
        responses.add_callback(method, re.compile(f"{re.escape(BASE)}/[A-Z].*"), callback=server)
    source = ServerSource(
        FhirClient(BASE, sleep=lambda s: None), MAPPING, caps(history), remembered=store.remembered("srv")
    )
    return source.cohort(since)


@responses.activate
def test_moved_recoded_and_deleted_inputs_bring_back_the_patients_they_left(store):
    server = Server()
    cohort = discover(server, store)
    # Z: the IFE's new subject (as before); A: the patient it left; B: its VEGF recoded to sodium (another
    # version); C: its VEGF deleted (absent from the _id search); D: unchanged
    assert cohort.patients == ["Patient/A", "Patient/B", "Patient/C", "Patient/Z"]
    # one _id search per type of remembered input, of the cited inputs only (not A's platelet count)
    assert sorted(server.by_id("Observation")[0]) == ["del-3", "ife-1", "ok-4", "vegf-2"]
    assert server.by_id("Condition") == [["mgus-1"]]
    queries = [q for p, q in server.calls if "_id" in q]
    assert all("_lastUpdated" not in q for q in queries)  # deletions are absences: the whole chunk is asked


@responses.activate
def test_a_full_discovery_checks_the_remembered_inputs_too(store):
    server = Server()
    cohort = discover(server, store, since=None)
    assert {"Patient/B", "Patient/C"} <= set(cohort.patients)  # recoded and deleted: no code search lists them


@responses.activate
def test_nothing_remembered_changed_brings_nobody(tmp_path):
    s = StateStore(tmp_path / "state.sqlite")
    s.remember_inputs("srv", "Patient/D", {"Observation/ok-4": "d1"}, {"Observation/ok-4"})
    server = Server()
    assert discover(server, s).patients == ["Patient/Z"]  # the IFE's new subject only
    s.close()


@responses.activate
def test_a_version_less_server_is_compared_by_lastupdated(tmp_path):
    s = StateStore(tmp_path / "state.sqlite")
    s.remember_inputs("srv", "Patient/D", {"Observation/ok-4": ""}, {"Observation/ok-4"})
    s.remember_inputs("srv", "Patient/E", {"Observation/new-5": ""}, {"Observation/new-5"})
    server = Server()
    for ref in ("Observation/ok-4",):
        del server.current[ref]["meta"]["versionId"]
    server.current["Observation/new-5"] = obs("new-5", "E", "e9")  # updated after the checkpoint
    del server.current["Observation/new-5"]["meta"]["versionId"]
    assert discover(server, s).patients == ["Patient/E", "Patient/Z"]
    s.close()


def history_pages(path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, str], str]:
    """Observation/_history since AFTER, 2 pages: B's VEGF updated (recoded), then C's deleted - a history
    entry without resource, request DELETE, response 410 (transcripts 13, 15)."""
    if "page" not in query:
        assert query["_since"] == [AFTER] and query["_count"] == ["200"]
        bundle = {
            "resourceType": "Bundle",
            "type": "history",
            "link": [{"relation": "next", "url": f"{BASE}/Observation/_history?_since={AFTER}&page=2"}],
            "entry": [
                {
                    "fullUrl": f"{BASE}/Observation/vegf-2",
                    "request": {"method": "PUT", "url": "Observation/vegf-2"},
                    "response": {"status": "200"},
                    "resource": obs("vegf-2", "B", "b2", code="2951-2"),
                },
                {  # a change of another hospital patient's result: nobody of ours
                    "fullUrl": f"{BASE}/Observation/other-9",
                    "request": {"method": "POST", "url": "Observation"},
                    "response": {"status": "201"},
                    "resource": obs("other-9", "Q", "q1"),
                },
            ],
        }
    else:
        bundle = {
            "resourceType": "Bundle",
            "type": "history",
            "entry": [
                {
                    "fullUrl": f"{BASE}/Observation/del-3",
                    "request": {"method": "DELETE", "url": "Observation/del-3/_history/c2"},
                    "response": {"status": "410"},
                }
            ],
        }
    return 200, {}, json.dumps(bundle)


@responses.activate
def test_history_type_pages_are_followed_and_deletions_mapped(store):
    server = Server(history=history_pages)
    cohort = discover(server, store, history=frozenset({"Observation"}))
    # B (updated) and C (deleted) from the history, A from the code search; D's unchanged VEGF is not
    # in the history; the mapping reads no remembered Observation by id (history covered them)
    assert cohort.patients == ["Patient/A", "Patient/B", "Patient/C", "Patient/Z"]
    assert [p for p, q in server.calls if p.endswith("_history")] == ["Observation/_history"] * 2
    assert server.by_id("Observation") == []
    assert server.by_id("Condition") == [["mgus-1"]]  # no history-type declared for Condition


def bad(status: int, body: Any) -> Any:
    def answer(path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, str], str]:
        return status, {}, body if isinstance(body, str) else json.dumps(body)

    return answer


NOT_FOUND = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "not-found"}]}


@pytest.mark.parametrize(
    "history",
    [
        bad(404, NOT_FOUND),  # the loopback Medplum router: no type-level history route
        bad(400, {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "not-supported"}]}),
        bad(500, {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "exception"}]}),
        bad(200, {"resourceType": "OperationOutcome", "issue": []}),  # no Bundle
        bad(200, {"resourceType": "Bundle", "type": "history", "entry": {"x": 1}}),  # malformed page
        bad(200, "<html>garbage</html>"),
    ],
    ids=["404", "400", "500", "not-a-bundle", "malformed", "garbage"],
)
@responses.activate
def test_history_answered_badly_falls_back_to_the_id_check(store, history, caplog):
    server = Server(history=history)
    with caplog.at_level(logging.WARNING, logger="poems_fhir.sync"):
        cohort = discover(server, store, history=frozenset({"Observation"}))
    assert cohort.patients == ["Patient/A", "Patient/B", "Patient/C", "Patient/Z"]
    assert sorted(server.by_id("Observation")[0]) == ["del-3", "ife-1", "ok-4", "vegf-2"]
    events = [getattr(r, "event", None) for r in caplog.records]
    assert "cohort.history_unusable" in events


@responses.activate
def test_an_id_check_answered_badly_is_logged_and_the_run_goes_on(store, caplog):
    class Failing(Server):
        def __call__(self, request: Any) -> tuple[int, dict[str, str], str]:
            if "_id=" in request.url or "_id=" in str(request.body or ""):
                return 500, {}, json.dumps(NOT_FOUND)
            return super().__call__(request)

    with caplog.at_level(logging.WARNING, logger="poems_fhir.sync"):
        cohort = discover(Failing(), store)
    # the code search still maps A (moved) at no request; the rest is compared again next run
    assert cohort.patients == ["Patient/A", "Patient/Z"]
    assert "cohort.inputs_check_failed" in [getattr(r, "event", None) for r in caplog.records]
    # and among the run's problems, not only in the log (probe75 L5: a blind discovery was a silent exit 0)
    assert cohort.notices and all("could not be checked for a change" in n for n in cohort.notices)


@responses.activate
def test_long_id_lists_are_chunked_and_posted(tmp_path):
    s = StateStore(tmp_path / "state.sqlite")
    ids = [f"{i:08d}-0000-4000-8000-000000000000" for i in range(250)]  # Medplum's UUID ids
    for i in ids:
        s.remember_inputs("srv", f"Patient/p{i[:8]}", {f"Observation/{i}": "v1"}, {f"Observation/{i}"})
    server = Server()
    server.current.update({f"Observation/{i}": obs(i, f"p{i[:8]}", "v1") for i in ids[1:]})  # ids[0] deleted
    cohort = discover(server, s)
    assert cohort.patients == ["Patient/Z", f"Patient/p{ids[0][:8]}"]
    chunks = server.by_id("Observation")
    assert [len(c) for c in chunks] == [100, 100, 50]
    assert all(len(c) for c in chunks)
    s.close()


def test_the_capability_statement_declares_history_type_per_type():
    body = fill(exchange("01-metadata.json", 0)["response"]["body"])
    assert parse_capabilities(body).history_types == frozenset()  # Medplum: history-instance only
    for resource in body["rest"][0]["resource"]:
        if resource["type"] == "Observation":
            resource["interaction"].append({"code": "history-type"})
    assert parse_capabilities(body).history_types == frozenset({"Observation"})


@responses.activate
def test_a_deleted_report_of_ours_is_news_only_when_it_is_put_back(tmp_path):
    """probe82 D6: our criteria report deleted by someone is remembered at `DELETED_INPUT`; while it stays
    absent, the `_id` check brings nobody back (it is known), once someone puts it back under its id it
    brings its patient back - before, it was not remembered at all, and the plan withdrawn for the
    deletion stayed withdrawn until the conclusion changed."""
    from poems_fhir.sync.state import DELETED_INPUT

    s = StateStore(tmp_path / "state.sqlite")
    s.remember_inputs("srv", "Patient/D", {"Observation/ok-4": "d1"}, {"Observation/ok-4"})
    s.remember_inputs(
        "srv",
        "Patient/R",
        {"Observation/ok-4": "d1", "DiagnosticReport/dr-9": DELETED_INPUT},
        {"DiagnosticReport/dr-9"},
    )
    server = Server()
    assert discover(server, s).patients == ["Patient/Z"]  # still deleted: no news
    assert server.by_id("DiagnosticReport") == [["dr-9"]]
    responses.reset()
    back = Server()
    back.current["DiagnosticReport/dr-9"] = {
        "resourceType": "DiagnosticReport",
        "id": "dr-9",
        "meta": {"versionId": "7", "lastUpdated": "2026-11-27T09:40:00.000Z"},
    }
    assert discover(back, s).patients == ["Patient/R", "Patient/Z"]
    s.close()


def test_a_deletion_recorded_by_an_earlier_version_is_watched_without_replacing_the_inputs(tmp_path):
    """A state whose deletion record predates the watch: `remember_deletions` adds it, at `DELETED_INPUT`,
    cited, leaving every other remembered input (and a resource remembered at a version) as it is."""
    from poems_fhir.sync.state import DELETED_INPUT

    s = StateStore(tmp_path / "state.sqlite")
    s.remember_inputs("srv", "Patient/R", {"Observation/ok-4": "d1", "CarePlan/cp-1": "3"}, {"CarePlan/cp-1"})
    s.add_takeover("srv", "Patient/R", "DiagnosticReport/dr-9", "k|v", "deleted", "t")
    s.add_takeover("srv", "Patient/R", "CarePlan/cp-1", "k|p", "deleted", "t")
    s.add_takeover("srv", "Patient/R", "CarePlan?identifier=x", "k|q", "deleted", "t")  # no id: not watchable
    s.add_takeover("srv", "Patient/R", "DiagnosticReport/dr-8", "k|w", "final", "t")  # a takeover: no
    s.remember_deletions("srv", "Patient/R")
    assert s.inputs_of("srv", "Patient/R") == {
        "CarePlan/cp-1": ("3", True),
        "DiagnosticReport/dr-9": (DELETED_INPUT, True),
        "Observation/ok-4": ("d1", False),
    }
    assert s.deletions("srv", "Patient/R") == {
        "CarePlan/cp-1": "k|p",
        "CarePlan?identifier=x": "k|q",
        "DiagnosticReport/dr-9": "k|v",
    }
    s.forget_takeover("srv", "Patient/R", "CarePlan/cp-1")
    assert "CarePlan/cp-1" not in s.deletions("srv", "Patient/R")
    s.close()


class RefusingNotes(Server):
    """The server now refuses DocumentReference (403): a deployment whose scopes no longer grant notes."""

    def __call__(self, request: Any) -> tuple[int, dict[str, str], str]:
        if "/DocumentReference" in request.url:
            self.calls.append(("DocumentReference", {}))
            outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "forbidden"}]}
            return 403, {}, json.dumps(outcome)
        return super().__call__(request)


def _with_a_remembered_note(store: StateStore) -> None:
    store.remember_inputs("srv", "Patient/E", {"DocumentReference/note-5": "e1"}, {"DocumentReference/note-5"})


@responses.activate
def test_a_refused_note_check_costs_the_notes_not_the_discovery(store):
    """A remembered note whose `_id` check the server refuses (403): the other types are still compared and the
    run goes on, the refusal listed once among the run's problems (as for a patient's own note search)."""
    _with_a_remembered_note(store)
    server = RefusingNotes()
    responses.add("GET", f"{BASE}/metadata", json={"resourceType": "CapabilityStatement"}, headers={"Date": DATE})
    for method in ("GET", "POST"):
        responses.add_callback(method, re.compile(f"{re.escape(BASE)}/[A-Z].*"), callback=server)
    with_notes = caps()
    with_notes.types = with_notes.types | {"DocumentReference"}
    source = ServerSource(
        FhirClient(BASE, sleep=lambda s: None), MAPPING, with_notes, remembered=store.remembered("srv")
    )
    cohort = source.cohort(SINCE)
    assert cohort.patients == ["Patient/A", "Patient/B", "Patient/C", "Patient/Z"]  # as without the note
    assert [n for n in cohort.notices if "DocumentReference" in n and "403" in n]
    assert [p for p, _ in server.calls].count("DocumentReference") == 1


@responses.activate
def test_notes_of_a_server_that_no_longer_lists_them_are_not_compared(store):
    _with_a_remembered_note(store)
    server = RefusingNotes()
    cohort = discover(server, store)  # the recorded CapabilityStatement lists no DocumentReference
    assert "DocumentReference" not in [p for p, _ in server.calls]
    assert cohort.patients == ["Patient/A", "Patient/B", "Patient/C", "Patient/Z"]
    assert not cohort.notices
