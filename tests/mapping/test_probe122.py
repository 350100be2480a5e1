"""probe122 (the thirty-ninth session's second regression probe): the immunofixation parser decides a report's clone
only where it reads a band, or where the text names nothing but others' bands (D1: "His brother has IgA lambda MGUS.
Patient: monoclonal gammopathy detected." lost the patient's clone; D2: a secondary negative became the whole
result); a relative told the result is the label before its colon, not one the band is given to after it (D3); a
dashed size verdict of an earlier study or time is no verdict of today (D4, D5); the text engine takes a relative told
the result as no relative's finding (D6, D7) and knows step-relatives in Russian and in brackets (D8)."""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.ife import Band, others_bands, parse_ife
from tests.mapping.test_extract import run, states
from tests.mapping.test_probe121 import _ife_report, _labels

CLONE = "monoclonal_plasma_cell_disorder"
IGA_L = Band("IgA", "lambda")


@pytest.mark.parametrize("form", ["conclusion", "presentedForm"])
def test_a_relatives_band_beside_the_patients_gammopathy_keeps_the_patients(mapping, form):
    text = "His brother has IgA lambda MGUS. Patient: monoclonal gammopathy detected."
    assert others_bands(text) == ()
    assert states(run(mapping, _ife_report(text, form)), CLONE) == [State.PRESENT]


@pytest.mark.parametrize("form", ["conclusion", "presentedForm"])
def test_a_secondary_negative_beside_a_stated_clone_leaves_the_clone_read(mapping, form):
    # the parser's negative was the report's whole result (an absent clone); now the stated clone is read beside the
    # text engine's reading of the Bence Jones negative (conflicting evidence - README "Known limitations")
    found = states(run(mapping, _ife_report("Monoclonal protein present. Bence Jones protein: negative.", form)), CLONE)
    assert State.PRESENT in found


@pytest.mark.parametrize(
    "text",
    [
        "Explained to him and his daughter: IgA lambda band detected in her sample.",
        "Explained to him and his daughter that her IgA lambda band is unrelated; patient: no monoclonal band.",
        "Explained to his daughter: IgA lambda band detected in her sample; the patient's sample is negative.",
    ],
)
def test_a_band_given_to_the_relative_told_is_theirs(text):
    assert parse_ife(text).bands == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Liver – normal size – spleen – enlarged on the previous study, now 11 cm.", {"hepatomegaly": "negated"}),
        ("Селезенка 14 см – значительно увеличена в 2021 г., сейчас 11 см.", {}),
        ("Spleen 14 cm – mildly enlarged previously, now 11 cm.", {}),
        ("Spleen – normal size – liver – enlarged, 19 cm.", {"splenomegaly": "negated", "hepatomegaly": "present"}),
        ("Spleen 14 cm – mildly enlarged.", {"splenomegaly": "present"}),
        # D6, D7: a relative told
        ("Explained to him and his stepdaughter that the CT shows hepatomegaly.", {"hepatomegaly": "present"}),
        ("Explained to him and his daughter: splenomegaly 16 cm.", {"splenomegaly": "present"}),
        ("Discussed with his half-brother: moderate ascites.", {"ascites": "present"}),
        ("Объяснено пациенту и его дочери: спленомегалия.", {"splenomegaly": "present"}),
        ("His daughter has hepatomegaly.", {"hepatomegaly": "family"}),
        # D8: step-relatives
        ("Отчим: спленомегалия.", {"splenomegaly": "family"}),
        ("Lymphadenopathy (patient's stepfather).", {"lymphadenopathy": "family"}),
        ("Lymphadenopathy (cervical).", {"lymphadenopathy": "present"}),
    ],
)  # fmt: skip
def test_text_readings(mapping, text, expected):
    assert _labels(mapping, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Monoclonal protein present. Bence Jones protein: negative.",
        "A monoclonal protein is present (isotype pending). Previous sample (2021) negative.",
        "Bence Jones protein detected. Serum immunofixation: negative.",
    ],
)
def test_a_clone_stated_without_a_band_beside_anothers_negative_is_no_negative(text):
    # left unread by the parser (no band it can name, no negative result): the text engine reads the clone
    assert not parse_ife(text).negative


@pytest.mark.parametrize(
    "text", ["No monoclonal protein detected.", "Monoclonal protein not detected. Bence Jones protein: negative."]
)
def test_a_denied_clone_stays_negative(text):
    assert parse_ife(text).negative


@pytest.mark.parametrize("form", ["conclusion", "presentedForm"])
@pytest.mark.parametrize(
    "text",
    [
        "Моноклоналды ақуыз анықталды. Ағасында IgA лямбда.",
        "Brother: IgA lambda. Patient: monoclonal protein detected.",
        "Brother: IgA lambda. Patient: Bence Jones protein detected.",
    ],
)
def test_the_patients_untyped_clone_beside_others_is_read(mapping, text, form):
    assert states(run(mapping, _ife_report(text, form)), CLONE) == [State.PRESENT]


def test_a_relative_whose_own_study_is_told_is_the_finding_owner(mapping):
    assert _labels(mapping, "Explained to him and his daughter that her CT showed ascites.") == {"ascites": "family"}


def test_one_chain_denied_beside_an_untyped_clone_is_no_negative():
    assert not parse_ife("Monoclonal protein detected. Kappa: negative.").negative
    assert parse_ife("Positive. No kappa band.").chain_only  # one chain denied alone stays as it was


@pytest.mark.parametrize(
    ("text", "bands"),
    [
        ("IgA lambda band detected in the patient and in his brother.", (IGA_L,)),
        ("Выявлен IgA лямбда у пациента и у его брата.", (IGA_L,)),
        ("IgA lambda band detected in his brother.", ()),
        ("IgA lambda band detected in the patient's brother.", ()),
    ],
)
def test_the_patient_named_beside_a_relative_keeps_the_band(text, bands):
    assert parse_ife(text).bands == bands
