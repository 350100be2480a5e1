"""Treatment response (criteria.md §8) at the edges the earlier rounds did not reach: what the
evaluation date hides, what each framework says when a fact is missing, and the texts a clinician
reads beside each category (seed_case.md §3 T1-T3 words them).

The expected answers come from criteria.md §8 and seed_case.md §3-4, not from the code.
"""

from __future__ import annotations

import datetime as dt

from poems_fhir.criteria.response import assess_response
from poems_fhir.criteria.timeline import Event, Measurement
from poems_fhir.mapping.rules import load_mapping
from poems_fhir.pipeline import response_config

CFG = response_config(load_mapping())
T0 = dt.date(2021, 3, 1)  # first treatment
TREATED = [Event("treatment", T0, "MedicationStatement/len", "lenalidomide", agent="lenalidomide")]


def day(n: int) -> dt.date:
    return T0 + dt.timedelta(days=n)


def m(analyte: str, value: float, n: int, specimen: str | None = None, unit: str | None = "g/L") -> Measurement:
    return Measurement(analyte, value, unit, day(n), f"Observation/{analyte}{n}", specimen)


def vegf(value: float, n: int, specimen: str | None = "plasma") -> Measurement:
    return m("vegf", value, n, specimen, "pg/mL")


def resp(*ms: Measurement, as_of: dt.date | None = None, findings=(), events=TREATED):
    return assess_response(list(ms), events, list(findings), [], CFG, as_of)


# --------------------------------------------------------------------------- VEGF (§8.2)


def test_vegf_after_the_evaluation_date_is_not_seen():
    # §3.3 / --as-of: a normalised VEGF measured after the evaluation date cannot make it "complete"
    ms = (vegf(400, -10), vegf(100, 90))
    assert resp(*ms).vegf.category == "complete"
    r = resp(*ms, as_of=day(60)).vegf
    assert r.category == "not_evaluable" and r.reason == "no VEGF after the baseline"
    assert r.latest is None and r.baseline is not None and r.baseline.value == 400


def test_vegf_never_measured_asks_for_a_post_treatment_reference():
    # seed_case.md T3: "Not evaluable (no baseline) - propose obtaining VEGF now as a post-treatment reference"
    r = resp(m("serum_m_protein", 7.7, -10)).vegf
    assert r.category == "not_evaluable"
    assert r.reason == (
        "VEGF never measured (no baseline): obtain one now as a post-treatment reference, "
        "same specimen type from then on"
    )


def test_vegf_on_a_user_given_baseline_date_is_the_baseline():
    # --baseline DATE: the baseline is the last value on or before that date (inclusive)
    ms = [vegf(400, 0), vegf(100, 90)]
    r = assess_response(ms, TREATED, [], [], CFG, baseline_date=day(0)).vegf
    assert r.category == "complete" and r.baseline is not None and r.baseline.value == 400


def test_vegf_only_after_the_first_treatment_is_no_baseline():
    r = resp(vegf(400, 10), vegf(100, 90)).vegf
    assert (r.category, r.reason) == (
        "not_evaluable",
        "no VEGF before the first treatment (obtain one now as a post-treatment reference)",
    )
    assert r.baseline is None and r.latest is None and r.specimen is None


def test_vegf_baseline_of_unknown_specimen_is_not_compared():
    # §4 / §6: serum and plasma are not interchangeable; an unknown specimen cannot be followed
    r = resp(vegf(400, -10, specimen=None), vegf(100, 90)).vegf
    assert (r.category, r.reason) == ("not_evaluable", "baseline VEGF specimen type unknown (serum and plasma differ)")
    assert r.specimen is None and r.latest is None
    assert r.baseline is not None and (r.baseline.value, r.baseline.reference) == (400, "Observation/vegf-10")


def test_vegf_follow_up_only_in_other_specimens_names_them():
    # §4: serum and plasma are not comparable; the reason names what was measured instead
    r = resp(vegf(400, -10), vegf(900, 60, specimen="serum"), vegf(150, 90, specimen=None)).vegf
    assert r.category == "not_evaluable" and r.specimen == "plasma" and r.latest is None
    assert r.reason == (
        "follow-up VEGF in another specimen (serum, unknown) than the plasma baseline: serum and plasma are not "
        "comparable"
    )
