from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from poems_fhir.fhir.read import PatientRecord, Raw, ResourceIndex
from poems_fhir.mapping.rules import CompiledMapping, load_mapping

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_bundles"
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def mapping() -> CompiledMapping:
    return load_mapping()


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


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
