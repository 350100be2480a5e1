# SPDX-License-Identifier: Apache-2.0
"""A converted value is shown as the lab sent it, the converted one rounded beside it (probe38 D18:
"cortisol 85.527 nmol/L" for a lab's 3.1 ug/dL - a precision nobody measured)."""

from __future__ import annotations

from poems_fhir.criteria.profiles import MAYO
from poems_fhir.mapping.extract import _fmt
from poems_fhir.mapping.rules import load_mapping
from poems_fhir.mapping.values import Value, convert_value
from poems_fhir.pipeline import evaluate_paths
from tests.conftest import SAMPLES


def test_the_classic_cases_cortisol_reads_as_the_lab_sent_it():
    (r,) = evaluate_paths([SAMPLES / "classic-poems.json"], load_mapping(), MAYO).results
    summaries = [e.summary for e in r.assessment.criteria["endocrinopathy"].evidence]
    assert "cortisol 3.1 ug/dL (= 85.5 nmol/L) (adrenal axis) abnormal" in summaries
    assert not any("85.527" in s for s in summaries)


def test_only_a_real_conversion_is_shown_twice_and_to_three_digits():
    cortisol = convert_value(3.1, "ug/dL", "nmol/L", {}, 362.46, None, "x")
    assert cortisol.sent == "3.1 ug/dL" and abs(cortisol.value - 85.527) < 0.01
    assert _fmt(cortisol) == "3.1 ug/dL (= 85.5 nmol/L)"
    same = convert_value(624, "ng/L", "pg/mL", {}, None, None, "x")  # factor 1: one number, the rule's unit
    assert same.sent is None and _fmt(same) == "624 pg/mL"
    big = convert_value(1.2345, "g/L", "mg/L", {}, None, "<", "x")
    assert _fmt(big) == "<1.2345 g/L (= <1230 mg/L)"
    assert _fmt(Value(12.0, "mg/L")) == "12 mg/L"
