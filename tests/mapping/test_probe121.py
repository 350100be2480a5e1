"""probe121 (the thirty-ninth session's regression probe): an immunofixation report's text that names only another
person's band - a Kazakh son (ұл), a half- or step-relative - is no clone of the patient in any form (D1: the
presentedForm fix sent «Науқастың ұлында … IgA лямбда … анықталды» to the text engine as the patient's band, a
clone-free patient `met`; D4, D5), and "No ascites, still not resolved pleural effusion." keeps the effusion (D2: the
"still" rule let the denial run past it)."""

from __future__ import annotations

import base64

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.ife import Band, others_bands, parse_ife
from tests.mapping.test_extract import run, states

CLONE = "monoclonal_plasma_cell_disorder"
IGA_L = Band("IgA", "lambda")


def _ife_report(text: str, form: str) -> dict:
    report = {
        "resourceType": "DiagnosticReport",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "25700-6"}], "text": "Serum immunofixation"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-02",
    }
    if form == "conclusion":
        report["conclusion"] = text
    else:
        report["presentedForm"] = [{"contentType": "text/plain", "data": base64.b64encode(text.encode()).decode()}]
    return report


ANOTHERS = [
    "Науқастың ұлында моноклоналды IgA лямбда жолағы анықталды, науқаста табылмады.",
    "Ұлында IgA лямбда анықталды.",
    "Ұлы: IgA лямбда.",
    "Ұлының сынамасында IgA лямбда анықталды.",
    "IgA lambda band detected in his half-brother.",
    "IgA lambda band detected in the patient's stepfather.",
    "Step-brother: IgA lambda.",
    "IgA lambda band detected in his stepson.",
]


@pytest.mark.parametrize("text", ANOTHERS)
def test_the_parser_reads_anothers_band_as_anothers(text):
    assert parse_ife(text).bands == ()
    assert others_bands(text) == (IGA_L,)


@pytest.mark.parametrize("form", ["conclusion", "presentedForm"])
@pytest.mark.parametrize("text", ANOTHERS)
def test_a_report_naming_anothers_band_gives_the_patient_no_clone(mapping, text, form):
    assert State.PRESENT not in states(run(mapping, _ife_report(text, form)), CLONE)


@pytest.mark.parametrize("form", ["conclusion", "presentedForm"])
@pytest.mark.parametrize(
    "text",
    [
        "IgA lambda band detected.",
        "Monoclonal IgA lambda band detected.",
        "IgA лямбда анықталды.",
        "Выявлен IgA лямбда.",
    ],
)
def test_a_report_naming_the_patients_band_keeps_it(mapping, text, form):
    assert states(run(mapping, _ife_report(text, form)), CLONE) == [State.PRESENT]


def test_the_patients_own_band_beside_none_of_anothers_is_not_others():
    assert others_bands("IgA lambda band detected.") == ()
    assert others_bands("No monoclonal band detected.") == ()


def _ct(conclusion: str) -> dict:
    return {
        "resourceType": "DiagnosticReport",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "24627-2"}], "text": "CT chest abdomen pelvis"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-02",
        "conclusion": conclusion,
    }


@pytest.mark.parametrize(
    ("conclusion", "topic"),
    [
        ("No ascites, still not resolved pleural effusion.", "extravascular_volume_overload"),
        ("No ascites, still not regressed lymphadenopathy.", "organomegaly"),
        ("No ascites; pleural effusion still not resolved.", "extravascular_volume_overload"),
    ],
)
def test_a_finding_still_not_resolved_after_a_denial_is_stated(mapping, conclusion, topic):
    assert State.PRESENT in states(run(mapping, _ct(conclusion)), topic)


@pytest.mark.parametrize("conclusion", ["Pleural effusion (still not seen).", "Ascites, still absent."])
def test_still_before_a_denial_still_reaches_the_finding(mapping, conclusion):
    assert states(run(mapping, _ct(conclusion)), "extravascular_volume_overload") == [State.ABSENT]


@pytest.mark.parametrize(
    "conclusion", ["Hepatomegaly in the patient's stepfather.", "Hepatomegaly in his half-brother."]
)
def test_a_step_or_half_relatives_finding_is_theirs(mapping, conclusion):
    assert states(run(mapping, _ct(conclusion)), "organomegaly") == []


@pytest.mark.parametrize("form", ["conclusion", "presentedForm"])
@pytest.mark.parametrize(
    "text",
    [
        # D3: the requester's doubt before the colon - the text engine doubted the parser's band in a report
        "Immunofixation requested for suspected POEMS: IgA lambda band detected.",
        "?POEMS: IgA lambda band detected.",
        # D6: the other chain's denial after the bracket - the text engine read it against the band
        "IgA lambda (monoclonal band), free kappa not detected.",
    ],
)
def test_the_parsers_band_is_the_reports_reading(mapping, text, form):
    assert states(run(mapping, _ife_report(text, form)), CLONE) == [State.PRESENT]


@pytest.mark.parametrize("form", ["conclusion", "presentedForm"])
@pytest.mark.parametrize(
    ("text", "state"),
    [("No monoclonal band detected.", State.ABSENT), ("Possible faint IgA lambda band.", State.INDETERMINATE)],
)
def test_the_parsers_negative_or_doubt_is_the_reports_reading(mapping, text, state, form):
    assert states(run(mapping, _ife_report(text, form)), CLONE) == [state]


@pytest.mark.parametrize(
    "text",
    [
        # D10: a relative told the result after "to him and"
        "Explained to him and his daughter: IgA lambda band detected.",
        "Discussed with her and her son: IgA lambda band detected.",
        "Результат разъяснен ему и его дочери: выявлен IgA лямбда.",
    ],
)
def test_a_relative_told_with_the_patient_leaves_the_band(text):
    assert parse_ife(text).bands == (IGA_L,)


def test_a_relative_told_of_their_own_band_is_theirs():
    assert parse_ife("Explained to him that his daughter has IgA lambda.").bands == ()


def _labels(mapping, text: str) -> dict[str, str]:
    [assertions] = mapping.text.assert_texts([text])
    return {a.target: a.label for a in assertions}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # D7: a chain of dashed verdicts that opens with a normal size
        ("Spleen – normal size – liver – enlarged, 19 cm.", {"splenomegaly": "negated", "hepatomegaly": "present"}),
        ("Liver – normal size – spleen – not enlarged.", {"hepatomegaly": "negated", "splenomegaly": "negated"}),
        ("Селезенка – нормальных размеров – печень – увеличена.", {"splenomegaly": "negated", "hepatomegaly": "present"}),
        ("Spleen – normal size.", {"splenomegaly": "negated"}),
        # D8: the Russian normal in a bracket, a degree between the measure and the verdict
        ("Длина селезенки 15 см (нормальное значение 12 см).", {"splenomegaly": "present"}),
        ("Селезенка 14 см – умеренно увеличена.", {"splenomegaly": "present"}),
        ("Печень 19 см, значительно увеличена.", {"hepatomegaly": "present"}),
        ("Селезенка 11 см, не увеличена.", {"splenomegaly": "negated"}),
        # D9: "still" between the copula and the verdict
        ("The spleen is still enlarged.", {"splenomegaly": "present"}),
        ("Spleen still enlarged.", {"splenomegaly": "present"}),
        ("The liver is still enlarged.", {"hepatomegaly": "present"}),
        ("The spleen is still not enlarged.", {"splenomegaly": "negated"}),
    ],
)  # fmt: skip
def test_organ_verdicts_read(mapping, text, expected):
    assert _labels(mapping, text) == expected


def test_a_dashed_word_that_is_no_size_verdict_names_no_spleen(mapping):
    assert "splenomegaly" not in _labels(mapping, "Spleen – normal echotexture – liver – enlarged.")
