"""A relative named after the finding with the patient as theirs ("… in the patient's daughter") is the relative's: the
text engine's family rule took only "in his/her/the daughter", so an immunofixation report's "IgA lambda band detected in
the patient's daughter." was the patient's band (fix120b's leftover)."""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import State
from tests.mapping.test_extract import run, states

LOINC = "http://loinc.org"


def _report(code: str, conclusion: str) -> dict:
    return {
        "resourceType": "DiagnosticReport",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}], "text": "report"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-02",
        "conclusion": conclusion,
    }


@pytest.mark.parametrize(
    "conclusion",
    [
        "IgA lambda band detected in the patient's daughter.",
        "IgA lambda band detected in the patient's brother.",
        "IgA lambda paraprotein found in the patient’s older sister.",
    ],
)
def test_a_band_in_the_patients_relative_is_not_the_patients(mapping, conclusion):
    assert State.PRESENT not in states(run(mapping, _report("25700-6", conclusion)), "monoclonal_plasma_cell_disorder")


@pytest.mark.parametrize(
    "conclusion",
    ["IgA lambda band detected in the patient's serum.", "IgA lambda band detected in the patient."],
)
def test_a_band_in_the_patients_own_sample_stays(mapping, conclusion):
    assert states(run(mapping, _report("25700-6", conclusion)), "monoclonal_plasma_cell_disorder") == [State.PRESENT]


def test_an_organ_finding_in_the_patients_mother_is_hers(mapping):
    ct = _report("24627-2", "Hepatomegaly, 19 cm, in the patient's mother (screening).")
    assert states(run(mapping, ct), "organomegaly") == []
    ct = _report("24627-2", "Hepatomegaly, 19 cm.")
    assert states(run(mapping, ct), "organomegaly") == [State.PRESENT]


@pytest.mark.parametrize(
    "text",
    [
        "IgA lambda paraprotein found in the patient’s older sister.",
        "IgA lambda paraprotein found in his half-brother.",
        "IgA lambda paraprotein (patient’s older brother).",
    ],
)
def test_the_immunofixation_parser_takes_a_qualified_relative_as_the_owner(text):
    from poems_fhir.mapping.ife import parse_ife

    assert parse_ife(text).bands == ()
