"""A dry run against a server writes to its folder every transaction the real run would send (README
"State, logs, output, exit codes", dry run): a withdrawal too, also when it is the patient's only change
(probe82 D11: after a deletion, or a patient leaving scope, it logged `patient.would_withdraw` but wrote
nothing to DIR and counted nothing)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from poems_fhir.criteria.profiles import JAPAN_2019
from poems_fhir.sync.ownership import key_of
from poems_fhir.sync.sinks import DirSink
from poems_fhir.sync.state import StateStore
from tests.sync.test_job_withdraw_mutants2 import IdServer, left_scope
from tests.sync.test_job_write_mutants2 import CLASSIC, forget_input, job, records

KEY = b"k" * 32


def _dry(store, server, folder: Path, recs=None, **kw):
    """A dry run as the CLI builds it: the folder is the sink, the server is read."""
    sink = DirSink(folder, server=server)
    return job(store, sink, recs, dry_run=True, pseudonym_key=KEY, show_phi=True, **kw).run()


def _files(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


def _requests(bundle: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    return [
        (e["request"]["method"], e["resource"]["resourceType"], e["resource"].get("status")) for e in bundle["entry"]
    ]


def test_a_dry_run_whose_only_change_is_leaving_scope_writes_the_withdrawal_to_its_folder(tmp_path):
    store, server = StateStore(tmp_path / "s.sqlite"), IdServer()
    job(store, server, {CLASSIC: records()[CLASSIC]}).run()
    writes = len(server.writes)
    folder = tmp_path / "dry"
    summary = _dry(store, server, folder, {CLASSIC: left_scope(tmp_path)[CLASSIC]})
    assert (summary.would_write, summary.written, summary.withdrawn, summary.out_of_scope) == (1, 0, 0, 1)
    assert len(server.writes) == writes  # nothing sent
    (bundle,) = _files(folder)
    assert _requests(bundle) == [
        ("PUT", "DiagnosticReport", "cancelled"),
        ("PUT", "CarePlan", "revoked"),
        ("PUT", "Provenance", None),
    ]
    (report,) = server.of_type(CLASSIC, "DiagnosticReport")
    assert bundle["entry"][0]["request"] == {
        "method": "PUT",
        "url": f"DiagnosticReport/{report['id']}",
        "ifMatch": f'W/"{report["meta"]["versionId"]}"',
    }
    assert store.patient("srv", CLASSIC).status == "written"  # recorded nothing


def test_a_dry_run_after_a_deleted_report_writes_the_plans_withdrawal_to_its_folder(tmp_path):
    store, server = StateStore(tmp_path / "s.sqlite"), IdServer()
    recs = {CLASSIC: records()[CLASSIC]}
    job(store, server, recs).run()
    (report,) = server.of_type(CLASSIC, "DiagnosticReport")
    (k,) = [k for k, r in server.by_key.items() if r is report]
    del server.by_key[k], server.subject[k]  # someone deleted our criteria report
    forget_input(store, CLASSIC)
    folder = tmp_path / "dry"
    summary = _dry(store, server, folder, recs)
    # a patient it would write a transaction for: not "unchanged" (nothing to send) as well
    assert (summary.would_write, summary.unchanged, summary.written, summary.withdrawn) == (1, 0, 0, 0)
    (bundle,) = _files(folder)
    assert _requests(bundle) == [("PUT", "CarePlan", "revoked"), ("PUT", "Provenance", None)]
    assert "was deleted" in bundle["entry"][0]["resource"]["description"]
    # the real run sends the same withdrawal
    real = job(store, server, recs).run()
    # the real run counts what it sent: the withdrawal, and the patient as written (probe84 D7: `unchanged`)
    assert (real.withdrawn, real.written, real.unchanged) == (1, 1, 0)
    (plan,) = server.of_type(CLASSIC, "CarePlan")
    assert plan["status"] == "revoked"


def test_a_dry_run_that_writes_and_withdraws_puts_both_in_the_patients_file(tmp_path):
    """A --profile switch: the new profile's report and plan, and the old one's withdrawn, as a real run
    sends them (two transactions), in the one file of the patient."""
    store, server = StateStore(tmp_path / "s.sqlite"), IdServer()
    recs = {CLASSIC: records()[CLASSIC]}
    job(store, server, recs, profile=JAPAN_2019).run()
    japan = {key_of(r): r for t in ("DiagnosticReport", "CarePlan") for r in server.of_type(CLASSIC, t)}
    folder = tmp_path / "dry"
    summary = _dry(store, server, folder, recs)
    assert (summary.would_write, summary.written, summary.withdrawn) == (1, 0, 0)
    (bundle,) = _files(folder)
    withdrawn = [e for e in bundle["entry"] if e["request"]["url"].split("?")[0].count("/") == 1]
    assert {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in withdrawn} == {
        f"{r['resourceType']}/{r['id']}" for r in japan.values()
    }
    assert {e["resource"]["status"] for e in withdrawn} == {"cancelled", "revoked"}
    written = [e for e in bundle["entry"] if e not in withdrawn and e["resource"]["resourceType"] != "Provenance"]
    assert {e["resource"]["resourceType"] for e in written} >= {"DiagnosticReport", "CarePlan"}
    assert not set(japan) & {key_of(e["resource"]) for e in written}
