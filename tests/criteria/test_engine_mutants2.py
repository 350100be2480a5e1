"""What one criterion result says, cites and leaves open (engine.combine, clinician conflicts).

criteria.md §3.3: PRESENT / ABSENT / NOT_ASSESSED / INDETERMINATE, and a criterion that is not
assessed or indeterminate stays *open* (new data could make it present), so the classification can
only be "indeterminate", never "not met", while it is open (§3.3 table; §6 "never infer absent").
The reasons are what a clinician reads beside each criterion.
"""

from __future__ import annotations

import datetime as dt

from poems_fhir.criteria.engine import combine, evaluate
from poems_fhir.criteria.model import (
    Classification,
    CriterionResult,
    EndocrineAxis,
    Evidence,
    Finding,
    State,
    Strength,
)
from poems_fhir.criteria.profiles import DISPENZIERI_2003, MAYO

T0 = dt.date(2021, 3, 1)
TOPIC = "papilledema"


def day(n: int) -> dt.date:
    return T0 + dt.timedelta(days=n)


def fi(state: State, ref: str, n: int | None = 0, strength=Strength.STRONG, note=None, **kw) -> Finding:
    when = None if n is None else day(n)
    return Finding(TOPIC, state, Evidence(ref, when, f"fundoscopy {ref}"), strength=strength, note=note, **kw)


def ev(*refs_days: tuple[str, int]) -> tuple[Evidence, ...]:
    return tuple(Evidence(r, day(n), f"fundoscopy {r}") for r, n in refs_days)


def test_present_cites_every_positive_fact_in_date_order_and_is_closed():
    got = combine(TOPIC, [fi(State.PRESENT, "Observation/b", 5), fi(State.PRESENT, "Observation/a", 1)])
    assert got == CriterionResult(
        TOPIC,
        State.PRESENT,
        "present: fundoscopy Observation/a, fundoscopy Observation/b",
        ev(("Observation/a", 1), ("Observation/b", 5)),
    )
    assert got.open is False


def test_indeterminate_stays_open_and_says_why():
    noted = combine(TOPIC, [fi(State.INDETERMINATE, "Observation/i", note="blurred view")])
    assert noted == CriterionResult(TOPIC, State.INDETERMINATE, "blurred view", ev(("Observation/i", 0)), open=True)
    bare = combine(
        TOPIC, [fi(State.INDETERMINATE, "Observation/i"), fi(State.ABSENT, "Observation/w", 2, Strength.WEAK)]
    )
    assert bare == CriterionResult(
        TOPIC,
        State.INDETERMINATE,
        "conflicting or low-grade evidence",
        ev(("Observation/i", 0), ("Observation/w", 2)),
        open=True,
    )


def test_strong_negatives_are_absent_and_closed():
    got = combine(TOPIC, [fi(State.ABSENT, "Observation/b", 3), fi(State.ABSENT, "Observation/a", 1)])
    assert got == CriterionResult(
        TOPIC,
        State.ABSENT,
        "absent: fundoscopy Observation/a, fundoscopy Observation/b",
        ev(("Observation/a", 1), ("Observation/b", 3)),
    )


def test_weak_negatives_only_are_indeterminate_and_open():
    # §6: a low-grade negative (e.g. plain radiographs only) -> INDETERMINATE rather than ABSENT
    weak = [fi(State.ABSENT, "Observation/b", 3, Strength.WEAK), fi(State.ABSENT, "Observation/a", 1, Strength.WEAK)]
    assert combine(TOPIC, weak) == CriterionResult(
        TOPIC,
        State.INDETERMINATE,
        "low-grade negative only: fundoscopy Observation/a, fundoscopy Observation/b",
        ev(("Observation/a", 1), ("Observation/b", 3)),
        open=True,
    )
    noted = combine(TOPIC, [fi(State.ABSENT, "Observation/a", 1, Strength.WEAK, note="plain radiograph only")])
    assert noted.reason == "low-grade negative only: plain radiograph only"


def test_test_not_performed_is_not_assessed_and_open():
    # §6: dataAbsentReason not-performed = not assessed, never absent
    got = combine(TOPIC, [fi(State.NOT_ASSESSED, "Observation/b", 3), fi(State.NOT_ASSESSED, "Observation/a", 1)])
    assert got == CriterionResult(
        TOPIC,
        State.NOT_ASSESSED,
        "test not performed: fundoscopy Observation/a, fundoscopy Observation/b",
        ev(("Observation/a", 1), ("Observation/b", 3)),
        open=True,
    )


def test_vegf_not_performed_keeps_the_current_criteria_indeterminate():
    # seed_case.md T0: VEGF "not performed", Castleman not assessed, sclerotic lesions absent on CT:
    # both mandatory and a minor present -> INDETERMINATE (must not be "not met"), VEGF missing
    def f(topic: str, state: State = State.PRESENT) -> Finding:
        return Finding(topic, state, Evidence(f"Observation/{topic}", T0, topic))

    findings = [
        f("polyneuropathy"),
        f("monoclonal_plasma_cell_disorder"),
        f("skin_changes"),
        f("castleman_disease", State.ABSENT),
        f("sclerotic_bone_lesions", State.ABSENT),
        f("vegf_elevation", State.NOT_ASSESSED),
    ]
    a = evaluate("Patient/1", findings, MAYO)
    assert a.classification is Classification.INDETERMINATE
    assert [m.criterion for m in a.missing] == ["vegf_elevation"]
    assert a.missing[0].reason == "test not performed: vegf_elevation"


def test_a_clinician_refuting_what_was_asserted_is_an_open_conflict():
    asserted = [
        fi(State.PRESENT, "Condition/a", 1, is_assertion=True),
        fi(State.PRESENT, "Condition/c", 2, is_assertion=True),
    ]
    refuted = [
        fi(State.ABSENT, "Condition/b", 3, is_assertion=True),
        fi(State.ABSENT, "Condition/d", 4, is_assertion=True),
    ]
    got = combine(TOPIC, asserted + refuted)
    assert got == CriterionResult(
        TOPIC,
        State.INDETERMINATE,
        "conflicting clinician statements: asserted (Condition/a, Condition/c) and later refuted "
        "(Condition/b, Condition/d)",
        ev(("Condition/a", 1), ("Condition/c", 2), ("Condition/b", 3), ("Condition/d", 4)),
        open=True,
    )


def test_a_later_normal_measurement_is_no_refutation_of_an_assertion():
    # §3.3 Time: present once present; only a clinician's own later refutation is a conflict
    got = combine(TOPIC, [fi(State.PRESENT, "Condition/a", 1, is_assertion=True), fi(State.ABSENT, "Observation/n", 9)])
    assert got.state is State.PRESENT and got.open is False


def test_an_undated_assertion_cannot_be_refuted_later():
    # "later" needs a date on the assertion; without one the assertion stands
    got = combine(
        TOPIC,
        [
            fi(State.PRESENT, "Condition/a", None, is_assertion=True),
            fi(State.ABSENT, "Condition/b", 9, is_assertion=True),
        ],
    )
    assert got.state is State.PRESENT and got.reason == "present: fundoscopy Condition/a"


# --------------------------------------------------------------- MIN-3 endocrinopathy (§2, §5)


def endo(axis: EndocrineAxis | None, state: State = State.PRESENT, ref: str = "", n: int = 0) -> Finding:
    ref = ref or f"Observation/{axis.value if axis else 'generic'}-{state.value}"
    return Finding("endocrinopathy", state, Evidence(ref, day(n), ref), axis=axis)


def test_endocrinopathy_present_names_its_abnormal_axes_and_cites_only_the_abnormal_results():
    findings = [
        endo(EndocrineAxis.GONADAL),
        endo(EndocrineAxis.GONADAL, State.ABSENT, n=-5),
        endo(EndocrineAxis.ADRENAL),
        endo(EndocrineAxis.PITUITARY, State.ABSENT),
    ]
    r = evaluate("Patient/1", findings, MAYO).criteria["endocrinopathy"]
    assert (r.criterion, r.state, r.reason) == ("endocrinopathy", State.PRESENT, "abnormal axes: adrenal, gonadal")
    assert sorted(e.reference for e in r.evidence) == ["Observation/adrenal-present", "Observation/gonadal-present"]


def test_endocrinopathy_without_an_axis_is_indeterminate():
    # the thyroid/diabetes caveat cannot be checked for a generic endocrinopathy code (§2 MIN-3)
    r = evaluate("Patient/1", [endo(None)], MAYO).criteria["endocrinopathy"]
    assert (r.criterion, r.state, r.open) == ("endocrinopathy", State.INDETERMINATE, True)
    assert r.reason == (
        "endocrinopathy recorded without an identifiable axis; the thyroid/diabetes caveat cannot be checked"
    )


def test_endocrinopathy_results_carry_their_criterion_id():
    thyroid = evaluate("Patient/1", [endo(EndocrineAxis.THYROID)], MAYO).criteria["endocrinopathy"]
    assert (thyroid.criterion, thyroid.state, thyroid.caveat) == ("endocrinopathy", State.ABSENT, "thyroid_only")
    normal = [endo(a, State.ABSENT) for a in EndocrineAxis]
    every = evaluate("Patient/1", normal, MAYO).criteria["endocrinopathy"]
    assert (every.criterion, every.state, every.reason) == ("endocrinopathy", State.ABSENT, "all endocrine axes normal")
    partial = evaluate("Patient/1", [endo(EndocrineAxis.THYROID, State.ABSENT)], MAYO).criteria["endocrinopathy"]
    assert (partial.criterion, partial.state) == ("endocrinopathy", State.INDETERMINATE)


def test_diabetes_only_is_absent_by_the_caveat_and_says_so():
    r = evaluate("Patient/1", [endo(EndocrineAxis.PANCREATIC)], MAYO).criteria["endocrinopathy"]
    assert (r.state, r.caveat) == (State.ABSENT, "diabetes_only")
    assert r.reason.startswith("absent by caveat (diabetes-only): thyroid or diabetes alone does not satisfy")


def test_thyroid_only_is_absent_by_caveat_and_stays_open_naming_the_untested_axes():
    # seed_case.md §2 MIN-3: "ABSENT_BY_CAVEAT (thyroid-only) - other axes NOT_ASSESSED"
    r = evaluate("Patient/1", [endo(EndocrineAxis.THYROID)], MAYO).criteria["endocrinopathy"]
    assert r == CriterionResult(
        "endocrinopathy",
        State.ABSENT,
        "absent by caveat (thyroid-only): thyroid or diabetes alone does not satisfy this criterion; "
        "not assessed: adrenal, pituitary, gonadal, parathyroid, pancreatic",
        (Evidence("Observation/thyroid-present", day(0), "Observation/thyroid-present"),),
        open=True,
        caveat="thyroid_only",
    )
    generic = evaluate("Patient/1", [endo(None)], MAYO).criteria["endocrinopathy"]
    assert generic.evidence == (Evidence("Observation/generic-present", day(0), "Observation/generic-present"),)


def test_endocrinopathy_without_any_assessed_axis_is_still_the_endocrinopathy_criterion():
    nothing = evaluate("Patient/1", [], MAYO).criteria["endocrinopathy"]
    assert (nothing.criterion, nothing.state, nothing.open) == ("endocrinopathy", State.NOT_ASSESSED, True)
    not_done = evaluate("Patient/1", [endo(None, State.NOT_ASSESSED)], MAYO).criteria["endocrinopathy"]
    assert (not_done.criterion, not_done.state) == ("endocrinopathy", State.NOT_ASSESSED)


def test_partial_normal_work_up_is_open_and_a_full_normal_one_is_absent():
    # §5: absent only when no axis can still turn abnormal; a normal thyroid alone leaves the others open
    partial = [endo(EndocrineAxis.THYROID, State.ABSENT), endo(EndocrineAxis.ADRENAL, State.ABSENT)]
    r = evaluate("Patient/1", partial, MAYO).criteria["endocrinopathy"]
    assert r == CriterionResult(
        "endocrinopathy",
        State.INDETERMINATE,
        "partial endocrine work-up, no abnormal axis; not assessed: pituitary, gonadal, parathyroid",
        tuple(
            sorted(
                (
                    Evidence(f"Observation/{a}-absent", day(0), f"Observation/{a}-absent")
                    for a in ("adrenal", "thyroid")
                ),
                key=lambda e: e.reference,
            )
        ),
        open=True,
    )
    every = [endo(a, State.ABSENT) for a in EndocrineAxis]
    full = evaluate("Patient/1", every, MAYO).criteria["endocrinopathy"]
    assert full.open is False and len(full.evidence) == len(EndocrineAxis)
    assert {e.reference for e in full.evidence} == {f"Observation/{a.value}-absent" for a in EndocrineAxis}


def test_an_any_of_criterion_with_only_generic_statements_keeps_its_id():
    generic = Finding("organomegaly", State.PRESENT, Evidence("Condition/o", T0, "organomegaly"))
    r = evaluate("Patient/1", [generic], MAYO).criteria["organomegaly"]
    assert (r.criterion, r.state, r.reason) == ("organomegaly", State.PRESENT, "present: organomegaly")


# --------------------------------------------------------------- the seed case at diagnosis (seed_case.md §2-3 T0)


def seed_t0() -> list[Finding]:
    def p(topic: str, state: State = State.PRESENT, ref: str = "", **kw) -> Finding:
        return Finding(topic, state, Evidence(ref or f"Condition/{topic}", T0, topic.replace("_", " ")), **kw)

    return [
        p("polyneuropathy"),
        p("monoclonal_plasma_cell_disorder", heavy_chain="IgA", light_chain="lambda"),
        p("organomegaly"),
        p("extravascular_volume_overload"),
        p("skin_changes"),
        p("endocrinopathy", axis=EndocrineAxis.THYROID),
        p("sclerotic_bone_lesions", State.ABSENT, strength=Strength.WEAK, note="plain radiographs only"),
        p("vegf_elevation", State.NOT_ASSESSED, ref="Observation/vegf"),
        p("anemia", ref="Observation/hb"),
    ]


def test_seed_t0_is_indeterminate_under_mayo_with_the_deciding_work_up():
    a = evaluate("Patient/seed", seed_t0(), MAYO)
    assert a.classification is Classification.INDETERMINATE
    # §3.3: "list the missing tests (VEGF, CT-based bone imaging, LN biopsy)"
    assert [(m.criterion, m.reason) for m in a.missing] == [
        ("castleman_disease", "no data"),
        ("sclerotic_bone_lesions", "low-grade negative only: plain radiographs only"),
        ("vegf_elevation", "test not performed: vegf elevation"),
    ]
    assert a.missing[0].suggestion == "lymph-node biopsy for Castleman histology (imaging cannot establish it)"
    assert a.missing[1].suggestion.startswith("CT-based whole-body bone imaging or FDG PET-CT")
    assert a.missing[2].suggestion.startswith("VEGF, plasma preferred")
    assert a.summary == (
        "Indeterminate under mayo - cannot confirm; present: polyneuropathy, monoclonal_plasma_cell_disorder, "
        "organomegaly, extravascular_volume_overload, skin_changes; "
        "missing: castleman_disease, sclerotic_bone_lesions, vegf_elevation."
    )
    # anaemia without Castleman disease (§2 MIN-6 footnote; seed_case.md §2 "atypical flag")
    (flag,) = [f for f in a.flags if f.code == "cytopenia_without_castleman"]
    assert flag.message == (
        "anaemia and/or thrombocytopenia are distinctively unusual in POEMS unless Castleman disease is present: "
        "consider lymph-node biopsy and reconsider the diagnosis"
    )
    assert [e.reference for e in flag.evidence] == ["Observation/hb"]
    assert [f.code for f in a.flags] == ["cytopenia_without_castleman"]  # lambda: no isotype flag


def test_seed_t0_is_met_under_2003_and_the_summaries_read_right():
    met = evaluate("Patient/seed", seed_t0(), DISPENZIERI_2003)
    assert met.classification is Classification.MET and met.missing == ()
    assert met.summary == (
        "Criteria met under dispenzieri-2003; present: polyneuropathy, monoclonal_plasma_cell_disorder, "
        "organomegaly, extravascular_volume_overload, endocrinopathy, skin_changes."
    )  # §3.2: the thyroid caveat is not applied to 2003 unless its flag is set
    no_clone = [f for f in seed_t0() if f.topic != "monoclonal_plasma_cell_disorder"]
    no_clone.append(
        Finding("monoclonal_plasma_cell_disorder", State.ABSENT, Evidence("Observation/ife", T0, "IFE neg"))
    )
    not_met = evaluate("Patient/seed", no_clone, MAYO)
    assert not_met.classification is Classification.NOT_MET and not_met.missing == ()
    assert not_met.summary == (
        "Criteria not met under mayo; present: polyneuropathy, organomegaly, extravascular_volume_overload, "
        "skin_changes; absent: monoclonal_plasma_cell_disorder, endocrinopathy."
    )
    nothing = evaluate("Patient/x", [Finding("polyneuropathy", State.ABSENT, Evidence("Condition/n", T0, "n"))], MAYO)
    assert nothing.summary == "Criteria not met under mayo; present: none; absent: polyneuropathy."


def test_castleman_disease_without_neuropathy_or_clone_is_flagged_as_the_variant():
    # §7: Castleman variant without clonal plasma-cell disorder -> classified separately
    findings = [
        Finding("castleman_disease", State.PRESENT, Evidence("DiagnosticReport/ln", T0, "Castleman histology")),
        Finding("monoclonal_plasma_cell_disorder", State.ABSENT, Evidence("Observation/ife", T0, "IFE neg")),
        Finding("anemia", State.PRESENT, Evidence("Observation/hb", T0, "Hb 90")),
    ]
    a = evaluate("Patient/1", findings, MAYO)
    (flag,) = a.flags  # Castleman present: no cytopenia flag
    assert flag.code == "differential_castleman_without_neuropathy"
    assert flag.message == (
        "Castleman disease without polyneuropathy or without a clonal plasma-cell disorder: the Castleman "
        "variant is classified separately, not as POEMS"
    )
    assert [e.reference for e in flag.evidence] == ["DiagnosticReport/ln"]
    neuropathy_only_absent = [findings[0], Finding("polyneuropathy", State.ABSENT, Evidence("Condition/n", T0, "n"))]
    assert [f.code for f in evaluate("Patient/1", neuropathy_only_absent, MAYO).flags] == [
        "differential_castleman_without_neuropathy"
    ]
    both_present = [findings[0], *seed_t0()[:2]]
    assert evaluate("Patient/1", both_present, MAYO).flags == ()


def test_kappa_clone_is_flagged_atypical_but_not_excluding():
    # §2 MAJ-2 / §7: kappa -> "atypical isotype - review", never rejected
    kappa = Finding(
        "monoclonal_plasma_cell_disorder",
        State.PRESENT,
        Evidence("Observation/ife", T0, "IgG kappa"),
        heavy_chain="IgG",
        light_chain="kappa",
    )
    a = evaluate("Patient/1", [kappa], MAYO)
    assert a.criteria["monoclonal_plasma_cell_disorder"].state is State.PRESENT
    (flag,) = a.flags
    assert (flag.code, flag.message) == (
        "atypical_isotype",
        "kappa light chain: atypical for POEMS (almost always lambda) but not excluding - review",
    )
    assert [e.reference for e in flag.evidence] == ["Observation/ife"]


def test_an_any_of_criterion_present_by_one_part_cites_only_that_part():
    # §2 MIN-1 "splenomegaly, hepatomegaly or lymphadenopathy": an enlarged liver with a spleen recorded
    # as not enlarged is organomegaly present, evidenced by the liver
    liver = Finding("organomegaly", State.PRESENT, Evidence("Condition/liver", T0, "hepatomegaly"), component="liver")
    spleen = Finding(
        "organomegaly", State.ABSENT, Evidence("Observation/spleen", T0, "spleen normal"), component="spleen"
    )
    r = evaluate("Patient/1", [liver, spleen], MAYO).criteria["organomegaly"]
    assert (r.criterion, r.state, r.reason) == ("organomegaly", State.PRESENT, "present: hepatomegaly (spleen absent)")
    assert r.evidence == (liver.evidence,)


def organ(part: str, state: State, ref: str, note: str | None = None) -> Finding:
    return Finding("organomegaly", state, Evidence(ref, T0, ref.split("/")[1]), component=part, note=note)


def test_any_of_reasons_name_each_part_in_words():
    present = [
        organ("liver", State.PRESENT, "Condition/hepatomegaly"),
        organ("liver", State.PRESENT, "Condition/liver-enlarged"),
        organ("liver", State.ABSENT, "Observation/liver-normal-earlier"),
        organ("spleen", State.NOT_ASSESSED, "Observation/spleen-not-done"),
        organ("lymph_nodes", State.ABSENT, "Observation/nodes-normal"),
    ]
    r = evaluate("Patient/1", present, MAYO).criteria["organomegaly"]
    assert (r.state, r.reason) == (
        State.PRESENT,
        "present: hepatomegaly, liver-enlarged (spleen not assessed; lymph nodes absent)",
    )
    assert [e.reference for e in r.evidence] == ["Condition/hepatomegaly", "Condition/liver-enlarged"]
    unclear = [
        organ("liver", State.INDETERMINATE, "Observation/liver-us", note="poor window"),
        organ("spleen", State.INDETERMINATE, "Observation/spleen-us", note="poor window"),
        organ("lymph_nodes", State.ABSENT, "Observation/nodes-normal"),
    ]
    u = evaluate("Patient/1", unclear, MAYO).criteria["organomegaly"]
    assert (u.criterion, u.state, u.reason) == (
        "organomegaly",
        State.INDETERMINATE,
        "no lymph nodes; liver and spleen indeterminate (poor window)",
    )
    normal = [organ(p, State.ABSENT, f"Observation/{p}") for p in ("liver", "spleen", "lymph_nodes")]
    n = evaluate("Patient/1", normal, MAYO).criteria["organomegaly"]
    assert (n.criterion, n.state) == ("organomegaly", State.ABSENT)


def test_any_of_open_reasons_join_parts_in_words_and_one_finding_can_name_two_parts():
    two_absent = [
        organ("liver", State.ABSENT, "Observation/liver"),
        organ("spleen", State.ABSENT, "Observation/spleen"),
        organ("lymph_nodes", State.INDETERMINATE, "Observation/nodes", note="borderline"),
    ]
    r = evaluate("Patient/1", two_absent, MAYO).criteria["organomegaly"]
    assert r.reason == "no liver or spleen; lymph nodes indeterminate (borderline)"
    unassessed = [organ("lymph_nodes", State.ABSENT, "Observation/nodes")]
    u = evaluate("Patient/1", unassessed, MAYO).criteria["organomegaly"]
    assert (u.state, u.reason) == (State.NOT_ASSESSED, "no lymph nodes; liver and spleen not assessed")
    # "liver+spleen" speaks for both parts, not for the lymph nodes (engine.COMPONENTS)
    both = [organ("liver+spleen", State.ABSENT, "Observation/abdomen-us")]
    b = evaluate("Patient/1", both, MAYO).criteria["organomegaly"]
    assert (b.state, b.reason) == (State.NOT_ASSESSED, "no liver or spleen; lymph nodes not assessed")


# --- the order of the evidence cited and the notes joined (whole-module mutation run, session 7) ----


def test_undated_evidence_is_cited_first_then_by_date_then_by_reference():
    got = combine(TOPIC, [fi(State.PRESENT, "b", 5), fi(State.PRESENT, "z", None), fi(State.PRESENT, "a", 5)])
    assert [e.reference for e in got.evidence] == ["z", "a", "b"]
    assert got.reason == "present: fundoscopy z, fundoscopy a, fundoscopy b"


def test_the_notes_of_indeterminate_findings_are_joined_with_a_semicolon_once_each():
    got = combine(
        TOPIC,
        [
            fi(State.INDETERMINATE, "a", 1, note="optic disc margins blurred"),
            fi(State.INDETERMINATE, "b", 2, note="fundus view limited"),
            fi(State.INDETERMINATE, "c", 3, note="fundus view limited"),
        ],
    )
    assert got.reason == "fundus view limited; optic disc margins blurred"


def test_tests_not_performed_only_are_not_assessed_citing_them():
    got = combine(TOPIC, [fi(State.NOT_ASSESSED, "x", 1)])
    assert (got.state, got.reason, got.open) == (State.NOT_ASSESSED, "test not performed: fundoscopy x", True)
    assert [e.reference for e in got.evidence] == ["x"]
    nothing = combine(TOPIC, [])
    assert (nothing.state, nothing.reason, nothing.evidence, nothing.open) == (State.NOT_ASSESSED, "no data", (), True)


def test_the_2003_rule_applies_the_endocrine_caveat_only_in_its_caveat_profile():
    """criteria.md §3.2: the caveat is UNVERIFIED for 2003 - "apply it only when a flag is set" (probe77 D2: no
    way to set it, and the flag said diabetes did not count beside a conclusion that counted it)."""
    from poems_fhir.criteria.profiles import get_profile

    diabetic = Finding(
        "diabetic_polyneuropathy", State.PRESENT, Evidence("Condition/dm", day(0), "Diabetic polyneuropathy")
    )
    findings = [endo(EndocrineAxis.PANCREATIC), diabetic]
    plain = evaluate("Patient/1", findings, DISPENZIERI_2003)
    assert plain.criteria["endocrinopathy"].state is State.PRESENT
    assert [f.code for f in plain.flags] == ["differential_diabetic_polyneuropathy_counted"]
    assert "counts diabetes alone" in plain.flags[0].message
    caveat = evaluate("Patient/1", findings, get_profile("dispenzieri-2003-caveat"))
    assert (caveat.criteria["endocrinopathy"].state, caveat.criteria["endocrinopathy"].caveat) == (
        State.ABSENT,
        "diabetes_only",
    )
    assert [f.code for f in caveat.flags] == ["differential_diabetic_polyneuropathy"]
    assert caveat.profile == "dispenzieri-2003-caveat"
