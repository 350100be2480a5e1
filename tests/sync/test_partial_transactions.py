# SPDX-License-Identifier: Apache-2.0
"""Write-back edge cases on a server that behaves like one: a transaction applied in part (batch
semantics, transcript 12) and a lost state file - the next runs repair without deleting anything, never
take our own half-written resources for a clinician's, and never rewrite the audit record of an earlier
write (probe37 D02-D05); a clinician's narrative (D09); a merge (D08)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import urllib.parse
from typing import Any

import pytest

from poems_fhir.criteria.profiles import MAYO
from poems_fhir.errors import PartialTransactionError
from poems_fhir.fhir.read import read_paths
from poems_fhir.fhir.write import GUARDED_TYPES, RUN_TAG_SYSTEM
from poems_fhir.mapping.rules import load_mapping
from poems_fhir.sync.job import SyncJob
from poems_fhir.sync.sinks import ServerView, entry_key, is_our_provenance
from poems_fhir.sync.sources import Cohort
from poems_fhir.sync.state import StateStore
from tests.conftest import SAMPLES

NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.timezone.utc)
PATIENT = "Patient/classic-poems"


class Source:
    name = "fake"

    def __init__(self, *paths) -> None:
        read = read_paths(list(paths) or [SAMPLES / "classic-poems.json"])
        self.records = {r.patient: r for r in read.records}

    def cohort(self, since, extra=()):
        return Cohort(sorted(self.records), "2026-11-27T09:59:00.000Z")

    def fetch(self, patient):
        return self.records[patient], []


class BatchServer:
    """Conditional updates the way a FHIR server does them - by identifier for our resources, by the
    run tag for Provenance (updated in place when it matches) - with urn references resolved to the
    entries that were stored and left as they were for entries that were refused. Has no DELETE."""

    name = "server"

    def __init__(self) -> None:
        self.by_url: dict[str, dict[str, Any]] = {}  # conditional URL -> stored resource
        self.refuse: set[str] = set()  # resource types refused in the next write, batch-style
        self.log: list[tuple[str, str]] = []  # (type, "created"|"updated"|"refused")
        self.counter = 0

    def _key(self, entry: dict[str, Any]) -> str:
        rtype = entry["resource"]["resourceType"]
        url = entry["request"]["url"]
        if "?" not in url:  # an update by id: the resource stored under that id, whatever its key
            rid = url.split("/")[-1]
            return next((k for k, r in self.by_url.items() if f"{r['resourceType']}/{r['id']}" == url), rid)
        return f"{rtype}|{entry_key(entry)}"

    def write(self, patient: str, bundle: dict[str, Any]) -> dict[str, dict[str, str]]:
        refused = [e for e in bundle["entry"] if e["resource"]["resourceType"] in self.refuse]
        self.refuse = set()
        ids: dict[str, str] = {}
        for e in bundle["entry"]:
            if e in refused:
                continue
            old = self.by_url.get(self._key(e))
            if old is None:
                self.counter += 1
            ids[e["fullUrl"]] = f"{e['resource']['resourceType']}/{old['id'] if old else f'x{self.counter}'}"
        stored = [e for e in bundle["entry"] if e not in refused]
        text = json.dumps([e["resource"] for e in stored])
        for urn, ref in ids.items():
            text = text.replace(f'"{urn}"', f'"{ref}"')
        written: dict[str, dict[str, str]] = {}
        for e, res in zip(stored, json.loads(text), strict=True):
            key = self._key(e)
            old = self.by_url.get(key)
            res["id"] = ids[e["fullUrl"]].split("/")[1]
            version = int((old or {}).get("meta", {}).get("versionId", "0")) + 1
            res["meta"] = {**res.get("meta", {}), "versionId": str(version), "lastUpdated": NOW.isoformat()}
            self.by_url[key] = res
            self.log.append((res["resourceType"], "updated" if old else "created"))
            written[entry_key(e)] = {"ref": f"{res['resourceType']}/{res['id']}", "version": str(version)}
        self.log += [(e["resource"]["resourceType"], "refused") for e in refused]
        if refused:
            raise PartialTransactionError("the server did not apply every entry (batch)")
        return written

    def current(self, url: str) -> dict[str, Any] | None:
        return None

    def existing(self, patient: str, subject_key: str, recorded=()) -> ServerView:
        mine = [
            copy.deepcopy(r)
            for r in self.by_url.values()
            if r["resourceType"] in GUARDED_TYPES and (r.get("subject") or {}).get("reference") == patient
        ]
        provs = [
            copy.deepcopy(r) for r in self.by_url.values() if r["resourceType"] == "Provenance" and is_our_provenance(r)
        ]
        return ServerView(resources=mine, provenances=provs)

    def of_type(self, rtype: str) -> list[dict[str, Any]]:
        return [r for r in self.by_url.values() if r["resourceType"] == rtype]

    def unresolved(self) -> list[str]:
        return [r["resourceType"] for r in self.by_url.values() if "urn:uuid:" in json.dumps(r)]

    def delete(self, rtype: str) -> None:
        for key in [k for k, r in self.by_url.items() if r["resourceType"] == rtype]:
            del self.by_url[key]


def run(tmp_path, server: BatchServer, state: str = "s.sqlite"):
    store = StateStore(tmp_path / state)
    return SyncJob(Source(), server, store, load_mapping(), MAYO, "srv", lambda: NOW).run()


@pytest.mark.parametrize("refused", ["DiagnosticReport", "CarePlan", "Device"])
@pytest.mark.parametrize("state_kept", [True, False])
def test_an_entry_refused_inside_a_transaction_is_written_by_the_next_run(tmp_path, refused, state_kept):
    server = BatchServer()
    server.refuse = {refused}
    first = run(tmp_path, server)
    assert first.failed == 1 and first.written == 0
    assert server.unresolved()  # what was stored names the refused entry by its urn
    second = run(tmp_path, server, "s.sqlite" if state_kept else "fresh.sqlite")
    assert second.failed == 0 and second.written == 1
    assert second.conflicts == 0 and second.clinician_owned == 0  # our half-written resource is ours
    assert len(server.of_type("DiagnosticReport")) == 1 and len(server.of_type("CarePlan")) == 1
    assert server.unresolved() == []  # every reference resolved, the Provenance's too
    third = run(tmp_path, server, "s.sqlite" if state_kept else "other.sqlite")
    assert third.written == 0 and third.failed == 0 and third.conflicts == 0


def test_a_half_written_plan_is_written_again_even_though_its_content_is_what_this_run_would_send(tmp_path):
    """The stored plan carries the same source hash as the next run's plan: only its unresolved
    reference says it must be sent again."""
    server = BatchServer()
    server.refuse = {"DiagnosticReport"}
    run(tmp_path, server)
    plan = server.of_type("CarePlan")[0]
    assert any(ref.get("reference", "").startswith("urn:uuid:") for ref in plan.get("supportingInfo", []))
    run(tmp_path, server)
    plan = server.of_type("CarePlan")[0]
    report = server.of_type("DiagnosticReport")[0]
    assert {"reference": f"DiagnosticReport/{report['id']}"} in [
        {"reference": r["reference"]} for r in plan["supportingInfo"]
    ]
    assert plan["meta"]["versionId"] == "2"


def test_a_clinician_deletion_is_not_undone_after_the_state_is_lost(tmp_path):
    """probe37 D02: the run after the deletion names only the plan; it must not rewrite the Provenance
    of the first write (same inputs, same run tag) and so erase the record that the report existed."""
    server = BatchServer()
    run(tmp_path, server)
    first_prov = copy.deepcopy(server.of_type("Provenance"))
    assert len(first_prov) == 1
    server.delete("DiagnosticReport")  # a clinician deletes our report
    run(tmp_path, server, "lost-1.sqlite")  # state lost: the plan is sent again without its report
    provs = server.of_type("Provenance")
    assert first_prov[0] in provs  # the first write's audit record is untouched
    assert len(provs) == 2
    second = [p for p in provs if p != first_prov[0]][0]
    assert [t["identifier"]["value"] for t in second["target"]] == [
        t["identifier"]["value"] for t in first_prov[0]["target"] if "criteria-report" not in t["identifier"]["system"]
    ]
    tags = {json.dumps(p["meta"]["tag"]) for p in provs}
    assert len(tags) == 2
    # and the conditional URL names the new tag: a rerun of this very write updates its own record
    for p in provs:
        (run_tag,) = [t["code"] for t in p["meta"]["tag"] if t["system"] == RUN_TAG_SYSTEM]
        assert f"Provenance|{urllib.parse.unquote(run_tag)}" in {
            k.replace(f"{RUN_TAG_SYSTEM}|", "") for k in server.by_url
        }
    # later runs, with or without the state, keep the report deleted
    for state in ("lost-1.sqlite", "lost-2.sqlite"):
        assert run(tmp_path, server, state).failed == 0
        assert server.of_type("DiagnosticReport") == []


def test_a_half_written_plan_a_clinician_changed_is_theirs(tmp_path):
    """An unresolved reference makes a resource ours-to-repair only while the rest of it is exactly what
    we wrote: a clinician's change still makes it theirs, never rewritten."""
    server = BatchServer()
    server.refuse = {"DiagnosticReport"}
    run(tmp_path, server)
    plan = server.of_type("CarePlan")[0]
    plan["status"] = "active"
    second = run(tmp_path, server)
    assert second.conflicts == 1
    assert server.of_type("CarePlan")[0]["status"] == "active"
    assert server.of_type("CarePlan")[0]["meta"]["versionId"] == "1"


@pytest.mark.parametrize("rtype", ["DiagnosticReport", "CarePlan"])
def test_a_clinician_edit_of_the_narrative_alone_is_a_takeover(tmp_path, rtype):
    """probe37 D09: an EHR shows text.div; a clinician's words there are never overwritten, even when the
    data change afterwards and the state file is lost."""
    server = BatchServer()
    run(tmp_path, server)
    (ours,) = server.of_type(rtype)
    ours["text"] = {
        "status": "additional",
        "div": '<div xmlns="http://www.w3.org/1999/xhtml"><p>Dr X: VEGF to be repeated on plasma.</p></div>',
    }
    summary = run(tmp_path, server, "lost.sqlite")
    assert summary.conflicts == 1
    (kept,) = server.of_type(rtype)
    assert "Dr X" in kept["text"]["div"] and kept["meta"]["versionId"] == "1"


def test_a_narrative_re_serialised_by_the_server_is_still_ours(tmp_path):
    """Markup, entities and spacing a server may rewrite are not a clinician's edit."""
    server = BatchServer()
    run(tmp_path, server)
    (report,) = server.of_type("DiagnosticReport")
    div = report["text"]["div"]
    report["text"]["div"] = div.replace("<p>", "<p >").replace("'", "&#39;").replace(" ", "\n  ", 3)
    assert report["text"]["div"] != div
    summary = run(tmp_path, server, "lost.sqlite")
    assert summary.conflicts == 0 and summary.clinician_owned == 0


def test_a_merge_leaves_one_open_report_and_plan_in_the_surviving_record(tmp_path):
    """probe37 D08: the EHR re-points A's resources (ours included) to the survivor B and links the two;
    A's report and plan, ours and otherwise unchanged, are withdrawn in B's record - not kept as a
    clinician's takeover beside B's own (two open reports, two draft plans)."""
    source = Source(SAMPLES / "classic-poems.json", SAMPLES / "mimics" / "myeloma-with-neuropathy.json")
    a, b = "Patient/classic-poems", "Patient/mimic-myeloma"
    assert set(source.records) == {a, b}
    server = BatchServer()
    store = StateStore(tmp_path / "s.sqlite")
    assert SyncJob(source, server, store, load_mapping(), MAYO, "srv", lambda: NOW).run().written >= 1
    for res in server.by_url.values():  # the merge, as EHRs do it
        if (res.get("subject") or {}).get("reference") == a:
            res["subject"] = {"reference": b}
    source.records[a].patient_resource["link"] = [{"other": {"reference": b}, "type": "replaced-by"}]
    source.records[b].patient_resource["link"] = [{"other": {"reference": a}, "type": "replaces"}]
    # a merge moves A's clinical data to B too, so B's input changes: here a new state file stands for that
    fresh = StateStore(tmp_path / "after-merge.sqlite")
    summary = SyncJob(source, server, fresh, load_mapping(), MAYO, "srv", lambda: NOW).run()
    assert summary.conflicts == 0 and summary.clinician_owned == 0
    in_b = [r for r in server.by_url.values() if (r.get("subject") or {}).get("reference") == b]
    open_plans = [r for r in in_b if r["resourceType"] == "CarePlan" and r["status"] == "draft"]
    revoked = [r for r in in_b if r["resourceType"] == "CarePlan" and r["status"] == "revoked"]
    assert len(open_plans) <= 1 and len(revoked) == 1
    assert [r["status"] for r in in_b if r["resourceType"] == "DiagnosticReport" and "classic" in json.dumps(r)]


def test_a_reference_a_clinician_re_points_is_a_takeover(tmp_path):
    """probe40 D14: our plan re-pointed to the clinician's own note was rewritten with our reference back:
    every reference of our types counted as ours. The content hash (second version) keeps references to
    other resources literal; ours lose their id only."""
    server = BatchServer()
    run(tmp_path, server)
    (plan,) = server.of_type("CarePlan")
    plan["supportingInfo"][0] = {"reference": "DiagnosticReport/their-note"}
    summary = run(tmp_path, server, "lost.sqlite")
    assert summary.conflicts == 1
    (kept,) = server.of_type("CarePlan")
    assert kept["supportingInfo"][0] == {"reference": "DiagnosticReport/their-note"}
    assert kept["meta"]["versionId"] == "1"


def test_a_plan_citing_an_input_report_is_still_ours_and_unchanged_data_writes_nothing(tmp_path):
    """The plan cites the CT report (an input of our type) and our own report: both verified, nothing
    rewritten, with or without the state."""
    server = BatchServer()
    run(tmp_path, server)
    (plan,) = server.of_type("CarePlan")
    assert "DiagnosticReport/cp-ct" in json.dumps(plan)  # cited (an activity's reason)
    for state in ("s.sqlite", "lost.sqlite"):
        again = run(tmp_path, server, state)
        assert (again.written, again.conflicts, again.clinician_owned) == (0, 0, 0)


def test_resources_written_under_the_first_hash_version_stay_ours_and_are_not_rewritten(tmp_path):
    """An upgrade: what an earlier poems-fhir stored (tags without the v2- prefix, every reference of our
    types hashed without its id) is still ours and, unchanged, not sent again."""
    from poems_fhir.fhir.write import CONTENT_TAG_SYSTEM, SOURCE_TAG_SYSTEM, ownership_hash

    server = BatchServer()
    run(tmp_path, server)
    for res in server.by_url.values():
        if res["resourceType"] in GUARDED_TYPES:
            old = ownership_hash(res)  # the first version's hash of what is stored
            res["meta"]["tag"] = [
                {**t, "code": old} if t["system"] in (CONTENT_TAG_SYSTEM, SOURCE_TAG_SYSTEM) else t
                for t in res["meta"]["tag"]
            ]
    again = run(tmp_path, server, "lost.sqlite")
    assert (again.written, again.conflicts, again.clinician_owned) == (0, 0, 0)
