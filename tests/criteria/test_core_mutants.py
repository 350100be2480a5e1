"""Core behaviours that a one-token bug would break unnoticed (found by `make mutation`)."""
from __future__ import annotations

import datetime as dt

import pytest

from poems_fhir.criteria.profiles import UnknownProfileError, get_profile


def test_unknown_profile_message_lists_the_choices():
    with pytest.raises(UnknownProfileError) as err:
        get_profile("mayo-2099")
    assert str(err.value) == "unknown rule profile 'mayo-2099'; choose one of: dispenzieri-2003, japan-2019, mayo"


def test_evidence_to_dict_is_the_json_contract():
    from poems_fhir.criteria.model import Evidence

    bare = Evidence("Observation/1", None, "VEGF 412 pg/mL (plasma)")
    assert bare.to_dict() == {"reference": "Observation/1", "summary": "VEGF 412 pg/mL (plasma)", "effective": None}
    full = Evidence("Observation/2", dt.date(2019, 2, 11), "M-protein 7.7 g/L", 7.7, "g/L", "http://loinc.org|33358-3",
                    ("Media/3",))
    assert full.to_dict() == {"reference": "Observation/2", "summary": "M-protein 7.7 g/L", "effective": "2019-02-11",
                              "value": 7.7, "unit": "g/L", "code": "http://loinc.org|33358-3",
                              "supporting": ["Media/3"]}
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
    r = _resp(_m("serum_m_protein", 8, -5), _m("serum_ife", 0, 60, unit=None), _m("urine_ife", 1, 60, unit=None),
              _m("serum_ife", 1, 120, unit=None))
    assert r.hematologic.category != "PD" and r.hematologic_imwg.category != "PD"
