"""55 Synthea patients (real-world coding): every one evaluates without a crash, none is 'met'."""
from __future__ import annotations

import pytest

from poems_fhir.criteria.profiles import PROFILES
from poems_fhir.pipeline import evaluate_paths
from tests.conftest import SHARED, missing_prerequisite

CORPUS = SHARED / "corpora" / "synthea"


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_patient_evaluates_and_none_is_met(mapping, profile):
    if not CORPUS.exists():
        missing_prerequisite(f"Synthea corpus not found at {CORPUS} (the shared folder beside the checkout)")
    run = evaluate_paths([CORPUS], mapping, PROFILES[profile])
    assert len(run.results) == 55
    assert run.errors == []
    assert [r.assessment.patient for r in run.results if r.assessment.classification.value == "met"] == []
    # real data reached the engine: CBC findings exist for most adults
    assert sum(1 for r in run.results if r.extraction.measurements) > 40
