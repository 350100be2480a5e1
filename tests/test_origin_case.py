"""The origin case (shared/clinical/seed_case.md §3-4): what the engine must conclude."""
from __future__ import annotations

import datetime as dt

import pytest

from poems_fhir.criteria.model import Classification, State
from poems_fhir.criteria.profiles import get_profile
from poems_fhir.pipeline import evaluate_paths
from tests.conftest import SAMPLES

ORIGIN = SAMPLES / "origin-case"
TIME_POINTS = ["2019-02-28", "2019-03-31", "2019-08-31", "2019-12-31"]


def assess(mapping, profile: str, as_of: str):
    run = evaluate_paths([ORIGIN], mapping, get_profile(profile), dt.date.fromisoformat(as_of))
    assert run.errors == []
    (result,) = run.results
    return result.assessment


@pytest.mark.parametrize("as_of", TIME_POINTS)
def test_current_criteria_indeterminate_at_every_time_point(mapping, as_of):
    a = assess(mapping, "mayo", as_of)
    assert a.classification is Classification.INDETERMINATE
    assert sorted(m.criterion for m in a.missing) == ["castleman_disease", "sclerotic_bone_lesions", "vegf_elevation"]


@pytest.mark.parametrize("as_of", TIME_POINTS)
def test_dispenzieri_2003_met(mapping, as_of):
    assert assess(mapping, "dispenzieri-2003", as_of).classification is Classification.MET


@pytest.mark.parametrize("as_of", TIME_POINTS)
def test_japan_2019_indeterminate_for_vegf(mapping, as_of):
    a = assess(mapping, "japan-2019", as_of)
    assert a.classification is Classification.INDETERMINATE
    assert [m.criterion for m in a.missing] == ["vegf_elevation"]


def test_criteria_states_at_diagnosis(mapping):
    a = assess(mapping, "mayo", "2019-02-28")
    states = {cid: r.state for cid, r in a.criteria.items()}
    assert states == {
        "polyneuropathy": State.PRESENT,
        "monoclonal_plasma_cell_disorder": State.PRESENT,
        "castleman_disease": State.NOT_ASSESSED,
        "sclerotic_bone_lesions": State.INDETERMINATE,  # plain X-ray only
        "vegf_elevation": State.NOT_ASSESSED,  # dataAbsentReason not-performed
        "organomegaly": State.PRESENT,
        "extravascular_volume_overload": State.PRESENT,
        "endocrinopathy": State.ABSENT,  # thyroid-only, by caveat
        "skin_changes": State.PRESENT,
        "papilledema": State.NOT_ASSESSED,
        "thrombocytosis_polycythemia": State.NOT_ASSESSED,
    }
    assert a.criteria["endocrinopathy"].caveat == "thyroid_only"
    assert "gonadal" in a.criteria["endocrinopathy"].reason
    assert "X-ray" in a.criteria["sclerotic_bone_lesions"].reason or "radiograph" in a.criteria["sclerotic_bone_lesions"].reason
    isotypes = {(e.summary) for e in a.criteria["monoclonal_plasma_cell_disorder"].evidence}
    assert any("IgA lambda" in s for s in isotypes)
    codes = [f.code for f in a.flags]
    assert "atypical_isotype" not in codes  # lambda is typical
    assert "cytopenia_without_castleman" in codes  # Hb 90 g/L
    assert [e.reference for e in a.clinician_assertions] == ["Condition/oc-poems-dx"]
    assert {s for s, r in a.signs.items() if r.state is State.PRESENT} >= {
        "pulmonary_hypertension", "clubbing", "weight_loss", "pericardial_effusion", "anemia"}


def test_later_data_does_not_leak_into_earlier_as_of(mapping):
    early = assess(mapping, "mayo", "2019-02-28")
    late = assess(mapping, "mayo", "2019-12-31")
    early_refs = {e.reference for e in early.criteria["monoclonal_plasma_cell_disorder"].evidence}
    late_refs = {e.reference for e in late.criteria["monoclonal_plasma_cell_disorder"].evidence}
    assert "Observation/oc-ife-4" not in early_refs | late_refs  # negative IFE is not 'present' evidence
    assert "Observation/oc-ife-3" in late_refs and "Observation/oc-ife-3" not in early_refs
