# SPDX-License-Identifier: Apache-2.0
"""The sentence that opens a response report names what the baseline is (probe42: "the baseline of
Feb 22", the first treatment's day, read as a sample taken on Feb 22)."""

from __future__ import annotations

import datetime as dt

from poems_fhir.criteria.response import assess_response
from poems_fhir.mapping.rules import load_mapping
from poems_fhir.pipeline import response_config
from poems_fhir.criteria.timeline import Event, Measurement
from poems_fhir.i18n import translator
from poems_fhir.report.wording import no_restaging, response_heading

START = dt.date(2020, 3, 2)
T = translator("en")


def assessed(baseline: dt.date | None = None):
    ms = [
        Measurement("serum_m_protein", 8.0, "g/L", dt.date(2020, 2, 10), "Observation/m0"),
        Measurement("serum_m_protein", 2.0, "g/L", dt.date(2020, 6, 1), "Observation/m1"),
    ]
    events = [Event("treatment", START, "Procedure/asct", "autologous stem-cell transplant")]
    return assess_response(ms, events, [], [], response_config(load_mapping()), None, baseline)


def test_the_default_baseline_is_named_as_the_last_results_before_the_first_treatment():
    r = assessed()
    assert response_heading(T, r, dt.date(2020, 6, 1)) == (
        "Response at Jun 1, 2020 compared with the last results before the first treatment on Mar 2, 2020:"
    )
    assert no_restaging(T, r) == "No restaging since the first treatment on Mar 2, 2020."
    assert response_heading(T, r, START) == no_restaging(T, r)


def test_a_baseline_date_given_by_the_user_is_named_as_such():
    r = assessed(dt.date(2020, 2, 15))
    assert response_heading(T, r, dt.date(2020, 6, 1)) == (
        "Response at Jun 1, 2020 compared with the baseline of Feb 15, 2020:"
    )
    assert no_restaging(T, r) == "No restaging after the baseline of Feb 15, 2020."


def test_the_russian_heading_is_translated():
    ru = response_heading(translator("ru"), assessed(), dt.date(2020, 6, 1))
    assert "Response" not in ru and "2020" in ru
