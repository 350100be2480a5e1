"""Core behaviours that a one-token bug would break unnoticed (found by `make mutation`)."""

from __future__ import annotations

import datetime as dt

import pytest

from poems_fhir.criteria.profiles import UnknownProfileError, get_profile


def test_unknown_profile_message_lists_the_choices():
    with pytest.raises(UnknownProfileError) as err:
        get_profile("mayo-2099")
    assert (
        str(err.value)
        == "unknown rule profile 'mayo-2099'; choose one of: dispenzieri-2003, dispenzieri-2003-caveat, japan-2019, mayo"
    )


def test_evidence_to_dict_is_the_json_contract():
    from poems_fhir.criteria.model import Evidence

    bare = Evidence("Observation/1", None, "VEGF 412 pg/mL (plasma)")
    assert bare.to_dict() == {"reference": "Observation/1", "summary": "VEGF 412 pg/mL (plasma)", "effective": None}
    full = Evidence(
        "Observation/2", dt.date(2019, 2, 11), "M-protein 7.7 g/L", 7.7, "g/L", "http://loinc.org|33358-3", ("Media/3",)
    )
    assert full.to_dict() == {
        "reference": "Observation/2",
        "summary": "M-protein 7.7 g/L",
        "effective": "2019-02-11",
        "value": 7.7,
        "unit": "g/L",
        "code": "http://loinc.org|33358-3",
        "supporting": ["Media/3"],
    }
    zero = Evidence("Observation/4", None, "x", 0.0, None)
    assert zero.to_dict()["value"] == 0.0 and zero.to_dict()["unit"] is None


# --- response details a report shows: evidence points, alerts ------------------------------------


def _resp(*ms, events=None):
    from poems_fhir.criteria.response import ResponseConfig, assess_response
    from poems_fhir.criteria.timeline import Event

    events = events or [Event("treatment", T0, "MedicationStatement/t", "x")]
    return assess_response(list(ms), events, [], [], ResponseConfig(vegf_cutoff={"plasma": 200, "serum": 1000}))


def _m(analyte, value, n, specimen=None, unit="g/L"):
    from poems_fhir.criteria.timeline import Measurement

    return Measurement(analyte, value, unit, T0 + dt.timedelta(days=n), f"Observation/{analyte}{n}", specimen)


T0 = dt.date(2021, 3, 1)


def test_vegf_progression_alert_cites_the_latest_vegf():
    r = _resp(_m("vegf", 800, -5, "plasma"), _m("vegf", 100, 60, "plasma"), _m("vegf", 400, 120, "plasma"))
    assert r.vegf.category == "progression"
    (alert,) = [a for a in r.alerts if a.code == "vegf_progression"]
    assert alert.evidence == ("Observation/vegf120",)


def test_vegf_partial_reports_baseline_and_latest_points():
    r = _resp(_m("vegf", 800, -5, "plasma"), _m("vegf", 400, 60, "plasma")).vegf
    assert r.category == "partial" and (r.baseline.value, r.latest.value) == (800, 400)
    assert r.latest.reference == "Observation/vegf60"


def test_imwg_cr_keeps_its_baseline_point():
    r = _resp(_m("serum_m_protein", 20, -5), _m("serum_ife", 0, 90, unit=None), _m("urine_ife", 0, 90, unit=None))
    assert r.hematologic_imwg.category == "CR" and r.hematologic_imwg.baseline.value == 20


def test_serum_negative_alone_is_no_complete_response_to_progress_from():
    # §8.1a: "from CR" needs serum AND urine immunofixation negative; here the urine stayed positive
    r = _resp(
        _m("serum_m_protein", 8, -5),
        _m("serum_ife", 0, 60, unit=None),
        _m("urine_ife", 1, 60, unit=None),
        _m("serum_ife", 1, 120, unit=None),
    )
    assert r.hematologic.category != "PD" and r.hematologic_imwg.category != "PD"


# --- pathway and risk edges (criteria.md §9, §10) -------------------------------------------------


def test_restaging_on_day_90_exactly_completes_the_day_100_step():
    from tests.criteria.test_risk_pathway import MANDATORY, d, m, steps_of
    from poems_fhir.criteria.timeline import Event

    events = [
        Event("treatment", d(0), "MedicationStatement/x", "lenalidomide"),
        Event("autologous_hsct", d(110), "Procedure/asct", "ASCT", status="completed"),
    ]
    on_day_90 = steps_of(MANDATORY, [m("serum_ife", 0, 200)], events, as_of=d(220))  # day0 110 + 90
    assert on_day_90["restaging-day100"].status == "in-progress"  # begun: one serum IFE of four parts
    day_89 = steps_of(MANDATORY, [m("serum_ife", 0, 199)], events, as_of=d(220))
    assert day_89["restaging-day100"].status == "not-started"


def test_progression_alert_becomes_a_relapse_step():
    from tests.criteria.test_risk_pathway import MANDATORY, d, m, steps_of
    from poems_fhir.criteria.timeline import Event

    events = [Event("treatment", d(0), "MedicationStatement/x", "lenalidomide")]
    ms = [
        m("vegf", 800, -5, "pg/mL", "plasma"),
        m("vegf", 100, 60, "pg/mL", "plasma"),
        m("vegf", 400, 120, "pg/mL", "plasma"),
    ]
    steps = steps_of(MANDATORY, ms, events, as_of=d(130))
    assert steps["relapse"].title == "Relapse/progression work-up and salvage"


def test_risk_ignores_egfr_after_diagnosis_and_names_every_factor():
    from poems_fhir.criteria.response import ResponseConfig, assess_response
    from poems_fhir.criteria.risk import assess_risk
    from poems_fhir.criteria.timeline import Event, Measurement

    events = [Event("treatment", T0, "MedicationStatement/t", "x")]
    later = [Measurement("egfr", 20, "mL/min/{1.73_m2}", T0 + dt.timedelta(days=30), "Observation/egfr")]
    response = assess_response(later, events, [], [], ResponseConfig(vegf_cutoff={"plasma": 200, "serum": 1000}))
    got = {r.id: r for r in assess_risk([], later, events, response, None, None)}
    assert got["egfr_below_30"].state.value == "not_assessed"  # measured after the diagnosis (baseline)
    assert got["no_hematologic_cr_after_first_line"].state.value == "not_assessed"


def test_post_asct_isotype_factor_reasons():
    from poems_fhir.criteria.model import Evidence, Finding, State
    from poems_fhir.criteria.response import ResponseConfig, assess_response
    from poems_fhir.criteria.risk import assess_risk
    from poems_fhir.criteria.timeline import Event

    events = [Event("autologous_hsct", T0, "Procedure/asct", "ASCT", status="completed")]
    response = assess_response([], events, [], [], ResponseConfig(vegf_cutoff={"plasma": 200, "serum": 1000}))

    def iso(heavy, light):
        clone = [
            Finding(
                "monoclonal_plasma_cell_disorder",
                State.PRESENT,
                Evidence("Observation/ife", T0, "IFE"),
                heavy_chain=heavy,
                light_chain=light,
            )
        ]
        return {r.id: r for r in assess_risk(clone, [], events, response, None, None)}["igg_lambda"]

    assert (iso("IgA", "lambda").state, iso("IgA", "lambda").reason) == (State.ABSENT, "other isotype")
    assert (iso("IgG", "lambda").state, iso("IgG", "lambda").reason) == (State.PRESENT, "IgG-lambda isotype")
    assert (iso(None, "lambda").state, iso(None, "lambda").reason) == (State.NOT_ASSESSED, "isotype unknown")


# --- what a criterion result says and cites (engine.combine, _either, flags) -------------------------


def test_combine_reasons_and_evidence():
    from poems_fhir.criteria.engine import combine, evaluate
    from poems_fhir.criteria.model import Evidence, Finding, State, Strength
    from poems_fhir.criteria.profiles import MAYO

    def fi(state, ref, strength=Strength.STRONG, note=None, **kw):
        return Finding("papilledema", state, Evidence(ref, T0, f"fundoscopy {ref}"), strength=strength, note=note, **kw)

    nothing = combine("papilledema", [])
    assert (nothing.criterion, nothing.state, nothing.reason, nothing.evidence, nothing.open) == (
        "papilledema",
        State.NOT_ASSESSED,
        "no data",
        (),
        True,
    )
    absent = combine("papilledema", [fi(State.ABSENT, "Observation/a")])
    assert (absent.criterion, absent.state, absent.reason) == (
        "papilledema",
        State.ABSENT,
        "absent: fundoscopy Observation/a",
    )
    assert [e.reference for e in absent.evidence] == ["Observation/a"]
    unsure = combine(
        "papilledema",
        [
            fi(State.INDETERMINATE, "Observation/i", note="blurred view"),
            fi(State.ABSENT, "Observation/w", Strength.WEAK),
        ],
    )
    assert unsure.reason == "blurred view"
    assert [e.reference for e in unsure.evidence] == ["Observation/i", "Observation/w"]

    conflict = evaluate(
        "Patient/1",
        [
            Finding("skin_changes", State.PRESENT, Evidence("Condition/a", T0, "a"), is_assertion=True),
            Finding("skin_changes", State.ABSENT, Evidence("Condition/b", T0, "b"), is_assertion=True),
        ],
        MAYO,
    )
    assert conflict.criteria["skin_changes"].reason.startswith(
        "conflicting clinician statements: asserted (Condition/a)"
    )


def test_either_criterion_reason_names_the_missing_part():
    from poems_fhir.criteria.engine import evaluate
    from poems_fhir.criteria.model import Evidence, Finding, State
    from poems_fhir.criteria.profiles import MAYO

    normal_platelets = Finding(
        "thrombocytosis_polycythemia",
        State.ABSENT,
        Evidence("Observation/plt", T0, "plt 300"),
        component="thrombocytosis",
    )
    r = evaluate("Patient/1", [normal_platelets], MAYO).criteria["thrombocytosis_polycythemia"]
    assert (r.criterion, r.state, r.reason) == (
        "thrombocytosis_polycythemia",
        State.NOT_ASSESSED,
        "no thrombocytosis; polycythemia not assessed",
    )
    assert [e.reference for e in r.evidence] == ["Observation/plt"]
    unclear = Finding(
        "thrombocytosis_polycythemia",
        State.INDETERMINATE,
        Evidence("Observation/cbc", T0, "CBC"),
        component="thrombocytosis",
        note="during transfusion",
    )
    both = evaluate("Patient/1", [unclear], MAYO).criteria["thrombocytosis_polycythemia"]
    assert both.state is State.INDETERMINATE
    assert both.reason == "thrombocytosis indeterminate (during transfusion); polycythemia not assessed"
    r2 = evaluate(
        "Patient/1",
        [
            unclear,
            Finding(
                "thrombocytosis_polycythemia",
                State.ABSENT,
                Evidence("Observation/hb", T0, "Hb 140"),
                component="polycythemia",
            ),
        ],
        MAYO,
    ).criteria["thrombocytosis_polycythemia"]
    assert r2.reason == "no polycythemia; thrombocytosis indeterminate (during transfusion)"


def test_igm_flag_cites_the_igm_result():
    from poems_fhir.criteria.engine import evaluate
    from poems_fhir.criteria.model import Evidence, Finding, State
    from poems_fhir.criteria.profiles import MAYO

    igm = Finding(
        "monoclonal_plasma_cell_disorder",
        State.PRESENT,
        Evidence("Observation/ife", T0, "IgM kappa"),
        heavy_chain="IgM",
        light_chain="kappa",
    )
    flags = {f.code: f for f in evaluate("Patient/1", [igm], MAYO).flags}
    assert [e.reference for e in flags["igm_paraprotein"].evidence] == ["Observation/ife"]
    assert flags["igm_paraprotein"].message.startswith("IgM paraprotein: consider anti-MAG")
    assert flags["igm_paraprotein"].message.endswith("neuropathy may raise VEGF somewhat - interpret VEGF with care")
    assert [e.reference for e in flags["atypical_isotype"].evidence] == ["Observation/ife"]
