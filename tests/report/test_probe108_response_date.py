"""probe108 D1: with a radiological-progression alert from a PET-CT of 2024-06-20 the response report was dated on
the first treatment's day and said "No restaging since the first treatment" right after that alert (README
"Dates that mean something"; criteria.md §8.3: the imaging report after treatment is a restaging)."""

from __future__ import annotations

from poems_fhir.criteria.response import assess_response
from poems_fhir.fhir.write import restaging_date
from poems_fhir.i18n import translator
from poems_fhir.report.wording import response_heading
from tests.criteria.test_pathway_mutants2 import CFG, d
from tests.criteria.test_pathway_mutants4 import PATIENT
from tests.report.test_probe108_radiotherapy_advice import IMAGING, LENALIDOMIDE


def test_the_response_report_is_dated_by_the_imaging_report_of_progression():
    r = assess_response([], [LENALIDOMIDE], [*PATIENT, IMAGING], [], CFG, d(160))
    assert [a.code for a in r.alerts] == ["radiologic_progression"]
    assert restaging_date(r) == d(150)
    heading = response_heading(translator("en"), r, restaging_date(r))
    assert "No restaging" not in heading
    # before the imaging report: nothing after the first treatment, so still "No restaging"
    before = assess_response([], [LENALIDOMIDE], [*PATIENT, IMAGING], [], CFG, d(140))
    assert restaging_date(before) == before.baseline_date
