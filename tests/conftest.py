from __future__ import annotations

import importlib.util
import json
import os
import types
from pathlib import Path
from typing import Any, NoReturn

import pytest

from poems_fhir.criteria.model import Finding, State
from poems_fhir.fhir.read import PatientRecord, Raw, ResourceIndex
from poems_fhir.mapping.rules import CompiledMapping, load_mapping

# the file-name key of `evaluate --out DIR/` and `report --html DIR/` (fhir/file_names.py) lives in the
# user's configuration folder: tests keep theirs in a temporary one, never the real home
os.environ["XDG_CONFIG_HOME"] = __import__("tempfile").mkdtemp(prefix="poems-fhir-test-config-")
os.environ.pop("POEMS_FHIR_NAME_KEY", None)
os.environ.pop("POEMS_FHIR_NAME_KEY_FILE", None)

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_bundles"
SHARED = ROOT.parent / "shared"


def in_ci() -> bool:
    """CI sets CI (to "true"); "", "0", "false" and "no" count as unset."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing_prerequisite(message: str) -> NoReturn:
    """Skip a test whose prerequisite (Node test server, Chromium, ../shared) is missing - locally.

    In CI a missing prerequisite fails the run instead: a skip there would hide exactly the tests
    that need the real server or browser. `.ci/run` -> `make test` installs them.
    """
    if in_ci():
        pytest.fail(f"CI is set and a test prerequisite is missing (not skipped in CI): {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def mapping() -> CompiledMapping:
    return load_mapping()


def observation(code: dict[str, Any] | str, rid: str = "o1", /, **elements: Any) -> dict[str, Any]:
    """A final Observation of Patient/p1 on 2024-01-02: a LOINC code (or the CodeableConcept given),
    then ``elements`` added or replacing these."""
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]} if isinstance(code, str) else code,
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-02",
        **elements,
    }


def diagnostic_report(rid: str, text: str, conclusion: str = "") -> dict[str, Any]:
    """A final DiagnosticReport of Patient/p1 on 2024-01-01 named by ``text`` (and its conclusion)."""
    return {
        "resourceType": "DiagnosticReport",
        "id": rid,
        "status": "final",
        "code": {"text": text},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-01",
        **({"conclusion": conclusion} if conclusion else {}),
    }


def read_findings(findings: list[Finding]) -> list[Finding]:
    """The findings read from a value, without those saying a result on record was not read (probe102 A2)."""
    return [f for f in findings if f.retest != "unread"]


def not_read(findings: list[Finding]) -> bool:
    """Only findings of a result on record that could not be read: 'not assessed', saying so (probe102 A2)."""
    return bool(findings) and all(
        f.state is State.NOT_ASSESSED and f.retest == "unread" and "on record, not read" in f.evidence.summary
        for f in findings
    )


def make_record(*resources: dict[str, Any], gender: str | None = "male") -> PatientRecord:
    """A PatientRecord from plain resource dicts (ids added where missing)."""
    index = ResourceIndex()
    raws = []
    for i, r in enumerate(resources):
        r.setdefault("id", f"r{i}")
        raw = Raw(r, f"test#{i}", f"{r['resourceType']}/{r['id']}")
        index.by_key[raw.ref] = raw
        if r["resourceType"] not in ("Specimen",):
            raws.append(raw)
    patient = {"resourceType": "Patient", "id": "p1", "gender": gender} if gender else None
    return PatientRecord("Patient/p1", raws, index, patient)


def relapse_case_with_asct_in_words(path: Path, performed: str) -> Path:
    """The relapse case without its drugs, its transplant dated only by ``performed`` (a performedString):
    written to ``path``."""
    bundle = json.loads((SAMPLES / "relapse-case.json").read_text(encoding="utf-8"))
    kept = []
    for e in bundle["entry"]:
        r = e["resource"]
        if r["resourceType"].startswith("Medication"):
            continue
        if r.get("id") == "rv-asct":
            for k in [k for k in r if k.startswith("performed")]:
                del r[k]
            r["performedString"] = performed
        kept.append(e)
    bundle["entry"] = kept
    path.write_text(json.dumps(bundle), encoding="utf-8")
    return path


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def benchmark_script(name: str) -> types.ModuleType:
    """A script of benchmarks/ imported as a module (its __main__ part does not run)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under mutmut (`make mutation`), run the fastest tests first: it stops at the first failure
    (-x), so a killed mutant then costs its cheapest killing test, not whatever came first."""
    mutant = os.environ.get("MUTANT_UNDER_TEST", "")
    stats = Path("mutmut-stats.json")  # mutmut runs the tests from its mutants/ folder
    if "__mutmut_" not in mutant or not stats.is_file():
        return
    duration = json.loads(stats.read_text(encoding="utf-8")).get("duration_by_test", {})
    items.sort(key=lambda item: duration.get(item.nodeid, float("inf")))
