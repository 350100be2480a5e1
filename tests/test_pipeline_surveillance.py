"""Surveillance goes on once a response was reached, also when it is lost again (probe64 D1: an NR at the
latest restaging after a VGPR took "Surveillance every 3-6 months" and the VEGF surveillance out of the
plan - criteria.md §10 step 6, trigger "After response")."""

from __future__ import annotations

from poems_fhir.criteria.response import assess_response
from poems_fhir.mapping.extract import Extraction
from poems_fhir.pipeline import _responded_before, response_config
from tests.criteria.test_response_mutants2 import TREATED, day, flc, m


def test_a_response_reached_at_an_earlier_restaging_is_found_when_none_stands_now(mapping):
    # dFLC 140 -> 39 (VGPR on day 120) -> 85 mg/L (no response on day 180); M-protein below its gate
    ms = [m("serum_m_protein", 3.0, -10), *flc(140, -10), *flc(39, 120), *flc(85, 180)]
    ex = Extraction(measurements=ms, events=list(TREATED))
    now = assess_response(ms, TREATED, [], [], response_config(mapping), day(190))
    assert now.hematologic.category == "NR"
    assert _responded_before(ex, mapping, day(190), None, now)
    # never a response: nothing to survey
    flat = [m("serum_m_protein", 3.0, -10), *flc(140, -10), *flc(120, 120), *flc(110, 180)]
    ex_flat = Extraction(measurements=flat, events=list(TREATED))
    none = assess_response(flat, TREATED, [], [], response_config(mapping), day(190))
    assert not _responded_before(ex_flat, mapping, day(190), None, none)
    # the restaging of day 120 is after --as-of: not known yet
    assert not _responded_before(
        ex, mapping, day(100), None, assess_response(ms, TREATED, [], [], response_config(mapping), day(100))
    )
