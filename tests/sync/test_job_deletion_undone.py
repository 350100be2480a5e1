"""Our criteria report, deleted by someone and put back under its id (probe82 D6): the plan withdrawn
"because the report was deleted" stayed withdrawn, `state conflicts` kept saying "deleted by someone",
and every later run was "unchanged" until the conclusion changed. Now the deletion record goes once the
resource is found again; as we wrote it, it is ours again and the plan is updated back to a proposal citing
it; changed by someone, it is a takeover, reported as one (README "Write-back ownership")."""

from __future__ import annotations

import copy
from typing import Any

from poems_fhir.sync.sinks import DirSink
from poems_fhir.sync.sources import Cohort
from poems_fhir.sync.state import StateStore
from tests.sync.test_job_withdraw_mutants2 import IdServer
from tests.sync.test_job_write_mutants2 import CLASSIC, SERVER_TIME, Source, forget_input, job, records


class WatchingSource(Source):
    """A server source's part in this: the job remembers each patient's inputs, our own resources included,
    and discovery brings back (``recheck``) the patients whose remembered inputs changed."""

    remembers_inputs = True

    def __init__(self, recs: dict[str, Any], recheck: frozenset[str] = frozenset()) -> None:
        super().__init__(recs)
        self.recheck = recheck

    def cohort(self, since, extra=()):
        return Cohort(sorted(self.records), SERVER_TIME, recheck=self.recheck)


def _run(store, server, recheck=frozenset(), **kw):
    recs = {CLASSIC: records()[CLASSIC]}
    s = job(store, server, recs, show_phi=True, **kw)
    s.source = WatchingSource(recs, recheck)
    return s.run()


def _delete_report(server) -> dict[str, Any]:
    """Someone deletes our criteria report; it is returned as it was."""
    (report,) = server.of_type(CLASSIC, "DiagnosticReport")
    (k,) = [k for k, r in server.by_key.items() if r is report]
    del server.by_key[k], server.subject[k]
    return copy.deepcopy({"key": k, "resource": report})


def _put_back(server, kept: dict[str, Any], edit=lambda r: r) -> None:
    """Someone puts the report back under its id (a new version on the server)."""
    res = edit(copy.deepcopy(kept["resource"]))
    res["meta"]["versionId"] = str(int(res["meta"]["versionId"]) + 1)
    server.by_key[kept["key"]], server.subject[kept["key"]] = res, CLASSIC


def _deleted_then_withdrawn(tmp_path):
    store, server = StateStore(tmp_path / "s.sqlite"), IdServer()
    assert _run(store, server).written == 1
    kept = _delete_report(server)
    forget_input(store, CLASSIC)
    gone = _run(store, server)
    assert (gone.withdrawn, gone.failed) == (1, 0)
    (plan,) = server.of_type(CLASSIC, "CarePlan")
    assert plan["status"] == "revoked" and "was deleted" in plan["description"]
    ref = f"DiagnosticReport/{kept['resource']['id']}"
    assert [(t["ref"], t["status"]) for t in store.takeovers()] == [(ref, "deleted")]
    # watched for its return at a version no resource has: discovery's `_id` check brings the patient back
    version, cited = store.inputs_of("srv", CLASSIC)[ref]
    assert cited and version not in ("", kept["resource"]["meta"]["versionId"])
    return store, server, kept, ref


def test_a_deleted_report_put_back_as_we_wrote_it_is_ours_again_and_the_plan_comes_back(tmp_path):
    store, server, kept, ref = _deleted_then_withdrawn(tmp_path)
    _put_back(server, kept)
    back = _run(store, server, recheck=frozenset({CLASSIC}))
    assert (back.written, back.withdrawn, back.conflicts, back.failed) == (1, 0, 0, 0)
    (plan,) = server.of_type(CLASSIC, "CarePlan")
    assert plan["status"] == "draft" and plan["intent"] == "proposal"
    assert [s["reference"] for s in plan["supportingInfo"]][:1] == [ref]
    assert "Withdrawn" not in plan["description"]
    assert store.takeovers() == []  # `state conflicts` no longer lists the deletion
    (note,) = [p for p in back.problems if ref in p]
    assert "on the server again as poems-fhir wrote it" in note
    (report,) = server.of_type(CLASSIC, "DiagnosticReport")
    assert report["meta"]["versionId"] == "2"  # not rewritten: it is what we would write
    # the next run has nothing to do; the report is remembered at its version again
    again = _run(store, server)
    assert (again.written, again.unchanged, again.problems) == (0, 1, [])
    assert store.inputs_of("srv", CLASSIC)[ref] == ("2", True)
    # deleted once more: said once more (the record had gone)
    _delete_report(server)
    forget_input(store, CLASSIC)
    twice = _run(store, server)
    assert [p for p in twice.problems if "deleted by someone on the server" in p] and twice.withdrawn == 1


def test_a_deleted_report_put_back_changed_by_someone_is_a_takeover(tmp_path):
    store, server, kept, ref = _deleted_then_withdrawn(tmp_path)
    _put_back(server, kept, lambda r: {**r, "status": "final"})
    back = _run(store, server, recheck=frozenset({CLASSIC}))
    assert (back.conflicts, back.clinician_owned, back.failed) == (1, 1, 0)
    (taken,) = [p for p in back.problems if ref in p]
    assert "taken over by someone else (status 'final' changed)" in taken
    assert [(t["ref"], t["status"]) for t in store.takeovers()] == [(ref, "final")]
    (report,) = server.of_type(CLASSIC, "DiagnosticReport")
    assert report["status"] == "final" and report["meta"]["versionId"] == "2"  # never modified
    # the signed report states the conclusion of this run: our plan cites it as it is (as for any signed report)
    (plan,) = server.of_type(CLASSIC, "CarePlan")
    assert plan["status"] == "draft" and plan["supportingInfo"][0]["reference"] == ref
    again = _run(store, server, recheck=frozenset({CLASSIC}))
    assert (again.conflicts, again.clinician_owned, again.written) == (0, 1, 0)  # reported once


def test_a_dry_run_predicts_the_return_and_records_nothing(tmp_path):
    store, server, kept, ref = _deleted_then_withdrawn(tmp_path)
    _put_back(server, kept, lambda r: {**r, "status": "final"})
    writes = len(server.writes)
    summary = _run(store, DirSink(tmp_path / "dry", server=server), frozenset({CLASSIC}), dry_run=True)
    assert (summary.conflicts, summary.would_write) == (1, 1)  # what the real run will report and write
    assert len(server.writes) == writes
    assert [(t["ref"], t["status"]) for t in store.takeovers()] == [(ref, "deleted")]  # nothing recorded
