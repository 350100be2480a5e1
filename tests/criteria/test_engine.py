"""The criteria engine on plain data: three-valued rules, profiles, caveats, time, flags."""

from __future__ import annotations

import datetime as dt

import pytest

from poems_fhir.criteria.engine import classify, combine, evaluate
from poems_fhir.criteria.model import (
    Classification,
    Criterion as C,
    CriterionResult,
    EndocrineAxis,
    Evidence,
    Finding,
    State,
    Strength,
)
from poems_fhir.criteria.profiles import DISPENZIERI_2003, JAPAN_2019, MAYO, get_profile

D = dt.date(2020, 1, 1)


def f(
    topic: str, state: State = State.PRESENT, *, when: dt.date | None = D, ref: str = "Observation/x", **kw
) -> Finding:
    return Finding(topic, state, Evidence(ref, when, f"{topic} {state.value}"), **kw)


def present(*criteria: C) -> list[Finding]:
    return [f(c.value, ref=f"Condition/{c.value}") for c in criteria]


def absent(*criteria: C) -> list[Finding]:
    return [f(c.value, State.ABSENT, ref=f"Observation/{c.value}-neg") for c in criteria]


BOTH_MANDATORY = present(C.POLYNEUROPATHY, C.MONOCLONAL_PLASMA_CELL_DISORDER)


def test_met_requires_mandatory_other_major_and_minor():
    a = evaluate("Patient/1", BOTH_MANDATORY + present(C.VEGF_ELEVATION, C.SKIN_CHANGES), MAYO)
    assert a.classification is Classification.MET
    assert a.missing == ()


def test_mandatory_absent_is_not_met_even_with_everything_else():
    findings = present(C.MONOCLONAL_PLASMA_CELL_DISORDER, C.VEGF_ELEVATION, C.SKIN_CHANGES)
    findings += absent(C.POLYNEUROPATHY)
    assert evaluate("Patient/1", findings, MAYO).classification is Classification.NOT_MET


def test_mandatory_not_assessed_is_indeterminate_and_listed():
    findings = present(C.MONOCLONAL_PLASMA_CELL_DISORDER, C.VEGF_ELEVATION, C.SKIN_CHANGES)
    a = evaluate("Patient/1", findings, MAYO)
    assert a.classification is Classification.INDETERMINATE
    assert [m.criterion for m in a.missing] == ["polyneuropathy"]


def test_no_other_major_present_but_one_not_assessed_is_indeterminate():
    findings = BOTH_MANDATORY + present(C.ORGANOMEGALY) + absent(C.SCLEROTIC_BONE_LESIONS, C.VEGF_ELEVATION)
    a = evaluate("Patient/1", findings, MAYO)
    assert a.classification is Classification.INDETERMINATE
    assert [m.criterion for m in a.missing] == ["castleman_disease"]
    assert "biopsy" in a.missing[0].suggestion


def test_all_other_majors_absent_with_adequate_tests_is_not_met():
    findings = BOTH_MANDATORY + present(C.ORGANOMEGALY)
    findings += absent(C.SCLEROTIC_BONE_LESIONS, C.VEGF_ELEVATION, C.CASTLEMAN_DISEASE)
    assert evaluate("Patient/1", findings, MAYO).classification is Classification.NOT_MET


def test_majors_met_but_no_minor_present_and_some_not_assessed_is_indeterminate():
    findings = BOTH_MANDATORY + present(C.VEGF_ELEVATION) + absent(C.ORGANOMEGALY)
    a = evaluate("Patient/1", findings, MAYO)
    assert a.classification is Classification.INDETERMINATE
    assert "organomegaly" not in [m.criterion for m in a.missing]
    assert "papilledema" in [m.criterion for m in a.missing]


def test_no_resource_never_becomes_absent():
    a = evaluate("Patient/1", [], MAYO)
    assert all(r.state is State.NOT_ASSESSED for r in a.criteria.values())
    assert a.classification is Classification.INDETERMINATE


def test_weak_negative_is_indeterminate_not_absent():
    weak = f(C.SCLEROTIC_BONE_LESIONS.value, State.ABSENT, strength=Strength.WEAK, note="plain X-ray only")
    r = combine(C.SCLEROTIC_BONE_LESIONS.value, [weak])
    assert r.state is State.INDETERMINATE and r.open
    assert "X-ray" in r.reason


def test_strong_negative_beats_weak_negative():
    weak = f("sclerotic_bone_lesions", State.ABSENT, strength=Strength.WEAK)
    strong = f("sclerotic_bone_lesions", State.ABSENT, ref="DiagnosticReport/ct")
    assert combine("sclerotic_bone_lesions", [weak, strong]).state is State.ABSENT


def test_present_at_any_time_wins_over_later_normal_measurement():
    early = f("vegf_elevation", when=dt.date(2019, 1, 1))
    late_normal = f("vegf_elevation", State.ABSENT, when=dt.date(2020, 1, 1))
    assert combine("vegf_elevation", [early, late_normal]).state is State.PRESENT


def test_clinician_refuting_a_diagnosis_later_is_a_conflict():
    asserted = f("papilledema", when=dt.date(2019, 1, 1), is_assertion=True, ref="Condition/a")
    refuted = f("papilledema", State.ABSENT, when=dt.date(2019, 6, 1), is_assertion=True, ref="Condition/b")
    r = combine("papilledema", [asserted, refuted])
    assert r.state is State.INDETERMINATE
    assert "Condition/b" in r.reason


def test_data_absent_reason_is_not_assessed():
    r = combine("vegf_elevation", [f("vegf_elevation", State.NOT_ASSESSED)])
    assert r.state is State.NOT_ASSESSED and r.evidence


def test_as_of_excludes_later_and_undated_facts():
    findings = BOTH_MANDATORY + [
        f(C.VEGF_ELEVATION.value, when=dt.date(2021, 1, 1)),
        f(C.SKIN_CHANGES.value, when=None),
        f(C.ORGANOMEGALY.value, when=dt.date(2019, 12, 31)),
    ]
    a = evaluate("Patient/1", findings, MAYO, as_of=dt.date(2020, 6, 1))
    assert a.criteria["vegf_elevation"].state is State.NOT_ASSESSED
    assert a.criteria["skin_changes"].state is State.NOT_ASSESSED
    assert a.criteria["organomegaly"].state is State.PRESENT
    assert evaluate("Patient/1", findings, MAYO).criteria["skin_changes"].state is State.PRESENT


@pytest.mark.parametrize(
    ("axes", "caveat", "state", "open_"),
    [
        ([EndocrineAxis.THYROID], True, State.ABSENT, True),
        ([EndocrineAxis.PANCREATIC], True, State.ABSENT, True),
        ([EndocrineAxis.THYROID, EndocrineAxis.PANCREATIC], True, State.PRESENT, False),
        ([EndocrineAxis.GONADAL], True, State.PRESENT, False),
        ([EndocrineAxis.THYROID], False, State.PRESENT, False),
    ],
)
def test_endocrinopathy_caveat(axes, caveat, state, open_):
    profile = MAYO if caveat else DISPENZIERI_2003
    findings = [f("endocrinopathy", axis=a, ref=f"Condition/{a.value}") for a in axes]
    r = evaluate("Patient/1", findings, profile).criteria["endocrinopathy"]
    assert r.state is state
    assert r.open is open_
    if state is State.ABSENT:
        assert r.caveat in ("thyroid_only", "diabetes_only")


def test_thyroid_only_with_all_other_axes_normal_is_closed_absent():
    findings = [f("endocrinopathy", axis=EndocrineAxis.THYROID)]
    others = (EndocrineAxis.ADRENAL, EndocrineAxis.GONADAL, EndocrineAxis.PITUITARY, EndocrineAxis.PARATHYROID)
    findings += [f("endocrinopathy", State.ABSENT, axis=a, ref=f"Observation/{a.value}") for a in others]
    # diabetes not tested: thyroid + diabetes are two distinct axes (criteria.md §5), so it stays open
    r = evaluate("Patient/1", findings, MAYO).criteria["endocrinopathy"]
    assert r.state is State.ABSENT and r.open and r.reason.endswith("not assessed: pancreatic")
    findings.append(f("endocrinopathy", State.ABSENT, axis=EndocrineAxis.PANCREATIC, ref="Observation/hba1c"))
    r = evaluate("Patient/1", findings, MAYO).criteria["endocrinopathy"]
    assert r.state is State.ABSENT and not r.open


def test_thyroid_only_beside_an_undecided_second_axis_is_indeterminate_citing_both():
    """probe62 D16: a high TSH beside a prediabetic HbA1c (pancreatic undecided) read "absent by caveat"."""
    findings = [
        f("endocrinopathy", axis=EndocrineAxis.THYROID, ref="Observation/tsh"),
        f("endocrinopathy", State.INDETERMINATE, axis=EndocrineAxis.PANCREATIC, ref="Observation/hba1c"),
    ]
    r = evaluate("Patient/1", findings, MAYO).criteria["endocrinopathy"]
    assert r.state is State.INDETERMINATE and r.open
    assert {e.reference for e in r.evidence} == {"Observation/tsh", "Observation/hba1c"}
    assert "pancreatic undecided" in r.reason


def test_partial_normal_endocrine_work_up_is_indeterminate():
    findings = [f("endocrinopathy", State.ABSENT, axis=EndocrineAxis.THYROID)]
    r = evaluate("Patient/1", findings, MAYO).criteria["endocrinopathy"]
    assert r.state is State.INDETERMINATE
    assert "gonadal" in r.reason


def test_thyroid_only_endocrinopathy_as_sole_minor_keeps_classification_open():
    findings = BOTH_MANDATORY + present(C.VEGF_ELEVATION)
    findings += [f("endocrinopathy", axis=EndocrineAxis.THYROID)]
    findings += absent(
        C.ORGANOMEGALY, C.EXTRAVASCULAR_VOLUME_OVERLOAD, C.SKIN_CHANGES, C.PAPILLEDEMA, C.THROMBOCYTOSIS_POLYCYTHEMIA
    )
    a = evaluate("Patient/1", findings, MAYO)
    assert a.classification is Classification.INDETERMINATE
    assert [m.criterion for m in a.missing] == ["endocrinopathy"]


def test_dispenzieri_2003_counts_sclerotic_and_castleman_as_minor():
    a = evaluate("Patient/1", BOTH_MANDATORY + present(C.CASTLEMAN_DISEASE), DISPENZIERI_2003)
    assert a.classification is Classification.MET
    # VEGF and thrombocytosis are not 2003 criteria
    b = evaluate(
        "Patient/1",
        BOTH_MANDATORY
        + present(C.VEGF_ELEVATION, C.THROMBOCYTOSIS_POLYCYTHEMIA)
        + absent(
            C.SCLEROTIC_BONE_LESIONS,
            C.CASTLEMAN_DISEASE,
            C.ORGANOMEGALY,
            C.EXTRAVASCULAR_VOLUME_OVERLOAD,
            C.ENDOCRINOPATHY,
            C.SKIN_CHANGES,
            C.PAPILLEDEMA,
        ),
        DISPENZIERI_2003,
    )
    assert b.classification is Classification.NOT_MET


def test_japan_2019_requires_vegf_and_two_minors():
    base = BOTH_MANDATORY + present(C.SKIN_CHANGES, C.ORGANOMEGALY)
    assert evaluate("Patient/1", base, JAPAN_2019).classification is Classification.INDETERMINATE
    assert [m.criterion for m in evaluate("Patient/1", base, JAPAN_2019).missing] == ["vegf_elevation"]
    assert evaluate("Patient/1", base + present(C.VEGF_ELEVATION), JAPAN_2019).classification is Classification.MET
    one_minor = (
        BOTH_MANDATORY
        + present(C.VEGF_ELEVATION, C.SKIN_CHANGES)
        + absent(C.ORGANOMEGALY, C.EXTRAVASCULAR_VOLUME_OVERLOAD, C.SCLEROTIC_BONE_LESIONS)
    )
    assert evaluate("Patient/1", one_minor, JAPAN_2019).classification is Classification.NOT_MET
    # papilledema and thrombocytosis are not minors in the Japanese proposal
    assert (
        evaluate("Patient/1", one_minor + present(C.PAPILLEDEMA), JAPAN_2019).classification is Classification.NOT_MET
    )


def test_classify_directly_from_results():
    results = {c.value: CriterionResult(c.value, State.ABSENT, "x") for c in C}
    results["polyneuropathy"] = CriterionResult("polyneuropathy", State.PRESENT, "x")
    results["monoclonal_plasma_cell_disorder"] = CriterionResult(
        "monoclonal_plasma_cell_disorder", State.INDETERMINATE, "x", open=True
    )
    cls, missing = classify(MAYO, results)
    assert cls is Classification.NOT_MET  # other majors all absent: can never be met


def test_unknown_profile_message_lists_choices():
    with pytest.raises(ValueError, match="mayo"):
        get_profile("nope")


def test_flags_kappa_igm_cytopenia_and_differentials():
    findings = BOTH_MANDATORY + [
        f("monoclonal_plasma_cell_disorder", light_chain="kappa", heavy_chain="IgM", ref="Observation/ife"),
        f("anemia", ref="Observation/hb"),
        f("cidp", ref="Condition/cidp"),
    ]
    codes = [fl.code for fl in evaluate("Patient/1", findings, MAYO).flags]
    assert codes == ["atypical_isotype", "igm_paraprotein", "cytopenia_without_castleman", "differential_cidp"]
    with_castleman = evaluate("Patient/1", findings + present(C.CASTLEMAN_DISEASE), MAYO)
    assert "cytopenia_without_castleman" not in [fl.code for fl in with_castleman.flags]


@pytest.mark.parametrize(
    ("chains", "flagged"), [(("kappa",), True), (("kappa", "lambda"), False), (("lambda",), False)]
)
def test_a_kappa_clone_is_atypical_only_without_a_lambda_clone(chains, flagged):
    # probe46 D3: a biclonal "IgG kappa and IgA lambda" has the usual lambda clone
    clones = [
        f("monoclonal_plasma_cell_disorder", light_chain=chain, ref=f"Observation/ife-{chain}") for chain in chains
    ]
    codes = [fl.code for fl in evaluate("Patient/1", BOTH_MANDATORY + clones, MAYO).flags]
    assert ("atypical_isotype" in codes) is flagged


def test_castleman_without_neuropathy_flag():
    findings = present(C.CASTLEMAN_DISEASE) + absent(C.POLYNEUROPATHY)
    a = evaluate("Patient/1", findings, MAYO)
    assert a.classification is Classification.NOT_MET
    assert "differential_castleman_without_neuropathy" in [fl.code for fl in a.flags]


def test_clinician_assertion_is_not_evidence():
    assertion = f("clinician_poems_assertion", ref="Condition/poems")
    a = evaluate("Patient/1", [assertion], MAYO)
    assert a.classification is Classification.INDETERMINATE
    assert [e.reference for e in a.clinician_assertions] == ["Condition/poems"]


def test_thrombocytosis_polycythemia_needs_both_sides_to_be_absent():
    hb_normal = f("thrombocytosis_polycythemia", State.ABSENT, component="polycythemia", ref="Observation/hb")
    plt_normal = f("thrombocytosis_polycythemia", State.ABSENT, component="thrombocytosis", ref="Observation/plt")
    plt_high = f("thrombocytosis_polycythemia", component="thrombocytosis", ref="Observation/plt2")
    only_hb = evaluate("Patient/1", [hb_normal], MAYO).criteria["thrombocytosis_polycythemia"]
    assert only_hb.state is State.NOT_ASSESSED and only_hb.open
    assert "thrombocytosis not assessed" in only_hb.reason
    both = evaluate("Patient/1", [hb_normal, plt_normal], MAYO).criteria["thrombocytosis_polycythemia"]
    assert both.state is State.ABSENT
    assert (
        evaluate("Patient/1", [hb_normal, plt_high], MAYO).criteria["thrombocytosis_polycythemia"].state
        is State.PRESENT
    )


def test_vegf_confounder_flag():
    findings = BOTH_MANDATORY + present(C.VEGF_ELEVATION) + [f("vegf_confounder", ref="Condition/copd")]
    flags = {fl.code: fl for fl in evaluate("Patient/1", findings, MAYO).flags}
    assert "interpret VEGF with care" in flags["differential_vegf_confounder"].message
    assert flags["differential_vegf_confounder"].evidence[0].reference == "Condition/copd"


def test_a_criterion_found_absent_only_after_treatment_began_is_not_assessed():
    # criteria.md §3.3 "Time": diagnosis is about the disease, the state over time is the response. A
    # probe: a plasma VEGF of 60 pg/mL, a clear CT and a node without Castleman features, all in remission
    # after a transplant (tests the tool itself proposed), turned the origin case "not met"
    start = dt.date(2019, 2, 22)
    later = dt.date(2020, 1, 20)
    findings = BOTH_MANDATORY + present(C.ORGANOMEGALY)
    findings += [
        f(c.value, State.ABSENT, when=later, ref=f"Observation/{c.value}-neg")
        for c in (C.SCLEROTIC_BONE_LESIONS, C.VEGF_ELEVATION, C.CASTLEMAN_DISEASE)
    ]
    untreated = evaluate("Patient/1", findings, MAYO)
    assert untreated.classification is Classification.NOT_MET  # without treatment, adequate negatives
    treated = evaluate("Patient/1", findings, MAYO, treated_from=start)
    assert treated.classification is Classification.INDETERMINATE
    vegf = treated.criteria["vegf_elevation"]
    assert vegf.state is State.NOT_ASSESSED and vegf.open
    assert vegf.reason == (
        "vegf_elevation absent on 2020-01-20 is after treatment began on 2019-02-22: a negative result then may "
        "reflect the response, not the state at diagnosis"
    )
    assert [e.reference for e in vegf.evidence] == ["Observation/vegf_elevation-neg"]
    assert sorted(m.criterion for m in treated.missing) == [
        "castleman_disease",
        "sclerotic_bone_lesions",
        "vegf_elevation",
    ]


def test_after_treatment_a_negative_before_it_and_a_clinicians_refutation_still_count():
    start = dt.date(2019, 2, 22)
    before = f(C.VEGF_ELEVATION.value, State.ABSENT, when=dt.date(2019, 2, 15), ref="Observation/vegf-pre")
    on_the_day = f(C.SCLEROTIC_BONE_LESIONS.value, State.ABSENT, when=start, ref="Observation/ct-day0")
    refuted = f(C.CASTLEMAN_DISEASE.value, State.ABSENT, when=dt.date(2020, 1, 1), is_assertion=True)
    a = evaluate("Patient/1", [*BOTH_MANDATORY, before, on_the_day, refuted], MAYO, treated_from=start)
    assert a.criteria["vegf_elevation"].state is State.ABSENT
    assert a.criteria["sclerotic_bone_lesions"].state is State.ABSENT  # the morning treatment began
    assert a.criteria["castleman_disease"].state is State.ABSENT  # a diagnostic statement, not a test
    # present after treatment still counts (criteria.md §3.3: present at any time)
    late_present = f(C.VEGF_ELEVATION.value, when=dt.date(2020, 1, 1), ref="Observation/vegf-late")
    assert (
        evaluate("Patient/1", [*BOTH_MANDATORY, late_present], MAYO, treated_from=start)
        .criteria["vegf_elevation"]
        .state
        is State.PRESENT
    )
