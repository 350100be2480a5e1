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
    assert (
        "X-ray" in a.criteria["sclerotic_bone_lesions"].reason
        or "radiograph" in a.criteria["sclerotic_bone_lesions"].reason
    )
    isotypes = {(e.summary) for e in a.criteria["monoclonal_plasma_cell_disorder"].evidence}
    assert any("IgA lambda" in s for s in isotypes)
    codes = [f.code for f in a.flags]
    assert "atypical_isotype" not in codes  # lambda is typical
    assert "cytopenia_without_castleman" in codes  # Hb 90 g/L
    assert [e.reference for e in a.clinician_assertions] == ["Condition/oc-poems-dx"]
    assert {s for s, r in a.signs.items() if r.state is State.PRESENT} >= {
        "pulmonary_hypertension",
        "clubbing",
        "weight_loss",
        "pericardial_effusion",
        "anemia",
    }


def test_later_data_does_not_leak_into_earlier_as_of(mapping):
    early = assess(mapping, "mayo", "2019-02-28")
    late = assess(mapping, "mayo", "2019-12-31")
    early_refs = {e.reference for e in early.criteria["monoclonal_plasma_cell_disorder"].evidence}
    late_refs = {e.reference for e in late.criteria["monoclonal_plasma_cell_disorder"].evidence}
    assert "Observation/oc-ife-4" not in early_refs | late_refs  # negative IFE is not 'present' evidence
    assert "Observation/oc-ife-3" in late_refs and "Observation/oc-ife-3" not in early_refs


def full(mapping, as_of: str):
    run = evaluate_paths([ORIGIN], mapping, get_profile("mayo"), dt.date.fromisoformat(as_of))
    return run.results[0]


def test_response_at_each_restaging_matches_the_seed_case(mapping):
    t0 = full(mapping, "2019-02-28").response
    assert t0.hematologic.category == "not_evaluable" and t0.hematologic.baseline.value == 7.7

    t1 = full(mapping, "2019-03-31").response
    assert (t1.hematologic.category, t1.hematologic_imwg.category, t1.vegf.category, t1.clinical_overall) == (
        "PR",
        "not_evaluable",
        "not_evaluable",
        "worse",
    )
    assert round(t1.hematologic.change, 2) == -0.52
    assert [a.code for a in t1.alerts] == ["discordant_response"]

    t2 = full(mapping, "2019-08-20").response
    assert (t2.hematologic.category, t2.clinical_overall) == ("PR", "improved")
    assert round(t2.hematologic.change, 2) == -0.91
    assert any("VGPR not assessable" in c for c in t2.hematologic.caveats)
    assert t2.hematologic_imwg.category == "not_evaluable" and "VGPR pattern" in t2.hematologic_imwg.caveats[0]
    assert {d: c.direction for d, c in t2.clinical.items() if c.direction != "not_assessed"} == {
        "neuropathy": "improved",
        "volume_overload": "improved",
        "organomegaly": "improved",
        "pulmonary_hypertension": "improved",
        "albumin": "improved",
    }

    t3 = full(mapping, "2019-12-31").response
    assert (t3.hematologic.category, t3.hematologic.provisional, t3.clinical_overall) == ("CR", True, "improved")
    assert t3.hematologic.reason == "serum and urine immunofixation negative"
    assert "obtain one now" in t3.vegf.reason and t3.alerts == ()


def test_risk_factors_at_diagnosis_match_the_seed_case(mapping):
    risk = {r.id: r.state for r in full(mapping, "2019-02-28").risk}
    assert (
        risk["age_over_50"],
        risk["pulmonary_hypertension"],
        risk["pleural_effusion"],
        risk["egfr_below_30"],
        risk["low_albumin"],
    ) == (State.PRESENT, State.PRESENT, State.PRESENT, State.ABSENT, State.PRESENT)


def test_the_care_plan_is_updated_in_place_across_time_points(mapping):
    from poems_fhir.fhir.write import WriteContext
    from poems_fhir.pipeline import transaction_for

    def plan(as_of):
        r = full(mapping, as_of)
        bundle = transaction_for(r, WriteContext(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), [], r.inputs))
        (p,) = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "CarePlan"]
        return p

    t2, t3 = plan("2019-08-20"), plan("2019-12-31")
    assert t2["request"]["url"] == t3["request"]["url"]  # the same CarePlan, conditionally updated
    ids2 = [a["id"] for a in t2["resource"]["activity"]]
    ids3 = [a["id"] for a in t3["resource"]["activity"]]
    assert len(ids3) == len(set(ids3)) and set(ids2) - {"engraftment-syndrome"} <= set(ids3)
    status3 = {a["id"]: a["detail"]["status"] for a in t3["resource"]["activity"]}
    # seed T3: FLC and VEGF not done at the restaging: begun, not done
    assert status3["restaging-day100"] == "in-progress" and status3["engraftment-syndrome"] == "completed"
    restage = next(a for a in t3["resource"]["activity"] if a["id"] == "restaging-day100")
    assert restage["detail"]["scheduledPeriod"] == {"start": "2019-11-28", "end": "2019-12-08"}
    assert {"reference": "Procedure/oc-asct"} in t3["resource"]["supportingInfo"]


@pytest.mark.parametrize("as_of", TIME_POINTS)
def test_the_origin_case_is_in_scope_at_every_time_point_with_its_full_output(mapping, as_of):
    from poems_fhir.criteria.scope import raised_flags

    r = full(mapping, as_of)
    assert r.scope.in_scope and r.scope.matched == ("polyneuropathy", "monoclonal_plasma_cell_disorder")
    assert "Condition/oc-pnp" in {e.reference for e in r.scope.evidence}
    assert raised_flags(r.assessment, r.scope) == r.assessment.flags
    assert "cytopenia_without_castleman" in {f.code for f in r.assessment.flags}


def test_a_normal_vegf_in_remission_leaves_the_origin_case_indeterminate(mapping, tmp_path):
    # seed_case.md T3 asks for a VEGF "now as a post-treatment reference"; a probe followed that advice
    # (plasma VEGF 60 pg/mL in January 2020) and the current criteria became "not met" - criteria.md
    # §3.3: diagnosis is not undone by the response
    import json
    import shutil

    folder = tmp_path / "origin"
    shutil.copytree(ORIGIN, folder)
    vegf = {
        "resourceType": "Observation",
        "id": "vegf-remission",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "75628-8"}]},
        "subject": {"reference": "Patient/poems-origin"},
        "effectiveDateTime": "2020-01-20",
        "valueQuantity": {"value": 60, "unit": "pg/mL", "system": "http://unitsofmeasure.org", "code": "pg/mL"},
        "referenceRange": [{"high": {"value": 96.2, "unit": "pg/mL"}}],
    }
    (folder / "zz-remission.ndjson").write_text(json.dumps(vegf) + "\n", encoding="utf-8")
    run = evaluate_paths([folder], mapping, get_profile("mayo"), dt.date(2020, 2, 28))
    (result,) = run.results
    a = result.assessment
    assert a.classification is Classification.INDETERMINATE
    assert a.criteria["vegf_elevation"].state is State.NOT_ASSESSED
    assert "after treatment began on 2019-02-22" in a.criteria["vegf_elevation"].reason
