"""Value strings as hand-abstracted records and LIS exports write them (README "Units"):

- a unit spaced around its operator ("450 x 10E9 / L", "32 g / L"): the "L" after the "/" is the litre, not
  a "low" flag (it was taken for one and the rest, "x10E9/", refused: the platelet count lost); a flag after
  a whole unit ("520 x 10E9 / L H") is still a flag; a refused unit is named as the source wrote it;
- words after the unit that are a flag, a marker (* or !), the specimen or a reference range leave the
  value read (they refused it); the specimen decides the VEGF cut-off; other words still refuse it;
- more unit spellings: an exponent whose superscript was lost ("x 10 9/L"), upper-case LIS spellings."""

from __future__ import annotations

import pytest

from poems_fhir.mapping.extract import extract
from tests.conftest import make_record, observation, not_read

PLATELETS, ALBUMIN = "777-3", "1751-7"


def _read(mapping, code: str, text: str):
    return extract(make_record(observation(code, valueString=text)), mapping)


@pytest.mark.parametrize(
    ("code", "text", "value", "unit"),
    [
        (PLATELETS, "450 x 10E9 / L", 450.0, "10*9/L"),
        (PLATELETS, "612 x10^9 / L", 612.0, "10*9/L"),
        (ALBUMIN, "32 g / L", 32.0, "g/L"),
        (ALBUMIN, "3.1 g / dL", 31.0, "g/L"),
        (ALBUMIN, "29 g/ L", 29.0, "g/L"),
    ],
)
def test_a_unit_spaced_around_its_slash_is_read_whole(mapping, code, text, value, unit):
    found = _read(mapping, code, text)
    assert found.errors == []
    (m,) = found.measurements
    assert (m.value, m.unit) == (pytest.approx(value), unit)


def test_a_flag_after_a_spaced_unit_is_still_a_flag(mapping):
    high = _read(mapping, PLATELETS, "520 x 10E9 / L H")
    (finding,) = [f for f in high.findings if f.topic == "thrombocytosis_polycythemia"]
    assert finding.state.value == "present" and "(high)" in finding.evidence.summary
    low = _read(mapping, ALBUMIN, "30 g / L L")
    assert low.errors == [] and [(m.value, m.unit) for m in low.measurements] == [(30.0, "g/L")]


def test_a_refused_unit_is_named_as_written(mapping):
    found = _read(mapping, PLATELETS, "1 E3 x10^9/L")
    (error,) = found.errors
    assert "(written 'E3 x10^9/L')" in error.message


# ---- words after the unit: a flag, a marker, the specimen, a reference range ----------------------------

VEGF, M_PROTEIN = "75628-8", "33358-3"


@pytest.mark.parametrize(
    "text",
    [
        "1250 pg/mL *",
        "1250 pg/mL!",
        "1250 pg/mL - High",
        "1250 pg/mL, high",
        "1250 pg/mL [0-96.2]",
        "1250 pg/mL (ref <96.2)",
        "1250 pg/mL (N: 0-96.2 pg/mL)",
        "1250 pg/mL (H) [0-96.2]",
        "1250 пг/мл (норма 0-96)",
        "1250 pg/mL (0 - 96.2)",  # a range with spaces, an en dash or decimal commas is one bracket (probe96 D12)
        "1250 pg/mL (0 – 96.2) H",
        "1250 pg/mL (0,0-96,2)",
    ],
)
def test_a_flag_marker_or_range_after_the_unit_leaves_the_value_read(mapping, text):
    found = _read(mapping, VEGF, text)
    assert found.errors == []
    assert [(m.value, m.unit) for m in found.measurements] == [(1250.0, "pg/mL")]


def test_a_flag_word_after_the_unit_is_the_flag(mapping):
    found = _read(mapping, PLATELETS, "520 x10^9/L - High")
    (finding,) = [f for f in found.findings if f.topic == "thrombocytosis_polycythemia"]
    assert finding.state.value == "present" and "(high)" in finding.evidence.summary


@pytest.mark.parametrize(
    ("text", "state"),
    [
        ("500 pg/mL (plasma)", "present"),  # above the plasma cut-off of 200 pg/mL
        ("500 pg/mL (serum)", "absent"),  # below the serum cut-off of 1000 pg/mL
        ("500 пг/мл (плазма)", "present"),
        ("500 pg/mL", "indeterminate"),  # which cut-off applies is not known
    ],
)
def test_the_specimen_after_a_vegf_value_decides_its_cut_off(mapping, text, state):
    (finding,) = [f for f in _read(mapping, VEGF, text).findings if f.topic == "vegf_elevation"]
    assert finding.state.value == state


@pytest.mark.parametrize(
    "text",
    [
        # (an isotype beside an M-protein, "0.5 g/dl (IgG kappa)", is read with the amount since fix139b B2:
        # tests/mapping/test_fix139b_extract.py)
        "1.2 g/dL (not confirmed)",
        "1.2 g/dL (haemolysed)",
    ],
)
def test_other_words_after_the_unit_still_refuse_the_value(mapping, text):
    found = _read(mapping, M_PROTEIN, text)
    assert found.measurements == [] and len(found.errors) == 1
    assert "is not a valid UCUM unit" in found.errors[0].message


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("450 x 10 9/L", 450.0, "10*9/L"),  # "× 10⁹/L" with its superscript lost in a copy
        ("450 X10E3/UL", 450.0, "10*9/L"),
        ("450 Thousand/uL", 450.0, "10*9/L"),
        ("450 G/l", 450.0, "10*9/L"),  # French "giga par litre"
        ("450 x10*3/µl", 450.0, "10*9/L"),
        ("450x10(9)/L", 450.0, "10*9/L"),  # brackets inside a unit are the unit's
    ],
)
def test_more_platelet_unit_spellings(mapping, text, value, unit):
    found = _read(mapping, PLATELETS, text)
    assert found.errors == []
    assert [(m.value, m.unit) for m in found.measurements] == [(value, unit)]


@pytest.mark.parametrize("text", ["14.2 GM/DL", "14.2 G/dL", "14.2 G/dl", "14.2 Gm/dL", "14.2 g/DL"])
def test_upper_case_grams_per_decilitre(mapping, text):
    # probe97 D12: "17.8 G/dL" was giga per decilitre, refused
    found = _read(mapping, "718-7", text)
    assert found.errors == [] and [(m.value, m.unit) for m in found.measurements] == [(142.0, "g/L")]


@pytest.mark.parametrize(
    "value",
    [
        {"valueString": "1250 pg/mL L"},
        {"valueString": "1250 pg/mL (plasma) - Low"},
        {
            "valueQuantity": {"value": 1250, "unit": "pg/mL", "system": "http://unitsofmeasure.org", "code": "pg/mL"},
            "interpretation": [
                {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": "L"}
                    ]
                }
            ],
        },
    ],
)
def test_a_vegf_above_the_cut_off_flagged_low_is_indeterminate(mapping, value):
    """probe96 D13: the flag contradicts the number, as a platelet count's does; which is wrong is not known."""
    found = extract(make_record(observation(VEGF, **value)), mapping)
    (finding,) = [f for f in found.findings if f.topic == "vegf_elevation"]
    assert finding.state.value == "indeterminate"
    assert "flag contradicts the value" in (finding.note or "")
    high = _read(mapping, VEGF, "1250 pg/mL H")
    assert [f.state.value for f in high.findings if f.topic == "vegf_elevation"] == ["present"]


def test_a_value_wrapped_over_lines_is_read_as_one_line(mapping):
    """probe96 D10: "5 g/L⏎IgG kappa" lost its number in silence (the words under it read alone)."""
    assert [(m.value, m.unit) for m in _read(mapping, VEGF, "1250\npg/mL\n(plasma)").measurements] == [
        (1250.0, "pg/mL")
    ]
    wrapped = _read(mapping, M_PROTEIN, "5 g/L\nIgG kappa")
    assert not_read(wrapped.findings) and wrapped.measurements == []
    assert "is not a valid UCUM unit" in wrapped.errors[0].message


@pytest.mark.parametrize(
    ("text", "state"),
    [
        ("1250 pg/mL (serum, ref <500) H", "present"),  # probe96 X57: a bracket's parts after a comma
        ("150 pg/mL (H, plasma)", "indeterminate"),  # above the lab's limit, below the plasma cut-off
    ],
)
def test_a_bracket_of_several_parts_after_a_vegf_value(mapping, text, state):
    (finding,) = [f for f in _read(mapping, VEGF, text).findings if f.topic == "vegf_elevation"]
    assert finding.state.value == state
    assert _read(mapping, VEGF, "1250 pg/mL (serum, haemolysed)").measurements == []  # other words: refused


@pytest.mark.parametrize(("code", "text", "value"), [("718-7", "178 G/L", 178.0), (ALBUMIN, "32 G/L", 32.0)])
def test_a_capital_g_per_litre_is_grams_where_a_count_cannot_be_the_result(mapping, code, text, value):
    # probe97 c556: "178 G/L" (an upper-case export) was giga per litre and refused for a haemoglobin
    found = _read(mapping, code, text)
    assert found.errors == [] and [(m.value, m.unit) for m in found.measurements] == [(value, "g/L")]


def test_a_capital_g_per_litre_stays_giga_for_a_count_and_refused_elsewhere(mapping):
    found = _read(mapping, PLATELETS, "450 G/L")
    assert [(m.value, m.unit) for m in found.measurements] == [(450.0, "10*9/L")]
    vegf = _read(mapping, VEGF, "500 G/L")  # no gram reading of a VEGF: refused, as before
    assert vegf.measurements == [] and len(vegf.errors) == 1 and "G/L" in vegf.errors[0].message
