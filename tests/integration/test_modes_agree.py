"""File mode = server mode: the same patients through `evaluate --out`, `sync --source` and
`sync --server` give the same report, response report and care plan, field by field - but for "Overdue
since DATE.": `evaluate` without --as-of judges it by the newest data, the sync job by the run's date
(probe58 D1), so those sentences are compared between the two sync modes only."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

from click.testing import CliRunner

from poems_fhir.cli import main
from poems_fhir.report.html_report import without_generation_stamp
from poems_fhir.fhir.write import _normalised
from tests.conftest import SAMPLES
from tests.integration.test_ownership_server import ours
from tests.integration.test_sync_server import run

PATIENTS = ["Patient/poems-origin", "Patient/classic-poems"]
#: what legitimately differs between a file and a server: server ids, meta, the time of issue
VOLATILE = ("id", "meta", "issued", "text")


def comparable(resource: dict) -> dict:
    return _decoded(_normalised({k: v for k, v in resource.items() if k not in VOLATILE}, {}))


def _decoded(resource: dict) -> dict:
    """The readable page attached to a report, as text lines (a readable diff when they differ)."""
    for form in resource.get("presentedForm", []):
        # without the generation time stamp: two runs make the same page at different moments
        form["data"] = without_generation_stamp(base64.b64decode(form["data"]).decode("utf-8")).splitlines()
    return resource


#: also a begun restaging's "Still missing: … (due by DATE, overdue)" (probe137 D2): overdue by the run's date
_OVERDUE = re.compile(r" ?(?:Overdue since [^.]*\.)|, overdue(?=\)\.)")


def without_overdue(value):
    """``value`` without its "Overdue since DATE." sentences (see the module's docstring)."""
    if isinstance(value, str):
        return _OVERDUE.sub("", value)
    if isinstance(value, list):
        return [without_overdue(v) for v in value]
    if isinstance(value, dict):
        return {k: without_overdue(v) for k, v in value.items()}
    return value


def kind(resource: dict) -> str:
    ident = resource["identifier"][0]
    return ident["system"].rsplit("/", 1)[-1]


def from_folder(folder: Path) -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = {}
    for f in sorted(folder.glob("*.json")):
        bundle = json.loads(f.read_text(encoding="utf-8"))
        types = {e["fullUrl"]: e["resource"]["resourceType"] for e in bundle["entry"]}
        for e in bundle["entry"]:
            res = e["resource"]
            if res["resourceType"] in ("DiagnosticReport", "CarePlan"):
                out.setdefault(res["subject"]["reference"], {})[kind(res)] = _decoded(
                    _normalised({k: v for k, v in res.items() if k not in VOLATILE}, types)
                )
    return out


def test_evaluate_sync_source_and_sync_server_write_the_same_resources(server, tmp_path):
    inputs = [str(SAMPLES / "origin-case"), str(SAMPLES / "classic-poems.json")]
    runner = CliRunner()
    result = runner.invoke(main, ["evaluate", *inputs, "--out", str(tmp_path / "evaluate")])
    assert result.exit_code == 0, result.output
    args = ["sync", "--out", str(tmp_path / "sync-source"), "--state", str(tmp_path / "files.sqlite")]
    for i in inputs:
        args += ["--source", i]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    _, summary = run(server, tmp_path, patient=PATIENTS)
    assert summary.written == 2

    evaluated = from_folder(tmp_path / "evaluate")
    synced = from_folder(tmp_path / "sync-source")
    on_server = {
        p: {kind(r): comparable(r) for rtype in ("DiagnosticReport", "CarePlan") for r in ours(server, rtype, p)}
        for p in PATIENTS
    }
    assert set(evaluated) == set(synced) == set(on_server) == set(PATIENTS)
    for patient in PATIENTS:
        assert set(evaluated[patient]) == set(synced[patient]) == set(on_server[patient])
        for k in evaluated[patient]:
            assert without_overdue(evaluated[patient][k]) == without_overdue(synced[patient][k]), (patient, k)
            a, b = synced[patient][k], on_server[patient][k]
            if a != b:
                import difflib

                print(
                    "\n".join(
                        difflib.unified_diff(
                            json.dumps(a, indent=1).splitlines(),
                            json.dumps(b, indent=1).splitlines(),
                            lineterm="",
                            n=12,
                        )
                    )
                )
            assert a == b, (patient, k)
    # the origin case's response report uses the treatment start read from MedicationStatements
    response = on_server["Patient/poems-origin"]["response-report"]
    assert "before the first treatment on Feb 22, 2019" in response["conclusion"]  # in clinical wording
    assert "clinical: Improved" in response["conclusion"]  # the course assessments were read from the server too
