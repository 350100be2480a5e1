"""Endocrine tests known only by their name (probe62 D12): the display-text fallback covered VEGF, IFE,
M-protein, FLC, platelets and Hb but no hormone, so "Prolactin", "Testosterone, total" or "Кортизол"
with a local code or only `code.text` were dropped (only `mappings coverage` listed them)."""

from __future__ import annotations

import pytest

from tests.conftest import make_record, observation

from poems_fhir.mapping.extract import extract

NAMED = [
    ("Prolactin", "prolactin"),
    ("Пролактин", "prolactin"),
    ("Testosterone, total", "testosterone"),
    ("Тестостерон общий", "testosterone"),
    ("Free testosterone", "testosterone_free"),
    ("Кортизол", "cortisol"),
    ("Cortisol AM", "cortisol"),
    ("TSH", "tsh"),
    ("ТТГ", "tsh"),
    ("Free T4", "free_t4"),
    ("Т4 свободный", "free_t4"),
    ("Estradiol", "estradiol"),
    ("Parathyroid hormone, intact", "pth"),
    ("Паратгормон", "pth"),
    ("HbA1c", "hba1c"),
    ("Glycated haemoglobin", "hba1c"),
    ("Parathyroid hormone (PTH)", "pth"),
    ("Testosterone, calculated free", "testosterone_free"),
    ("Cortisol, serum", "cortisol"),
]
#: other tests whose names contain a hormone's: a urine or suppressed cortisol, macroprolactin, total T4
#: (probe65 D6/D7: each of the later ones was taken for the axis test, and some made a patient `met`)
NOT_THE_AXIS_TEST = [
    "Cortisol post 1 mg DST",
    "Cortisol-binding globulin",
    "Cortisol (24 h U)",
    "PTH-related peptide",
    "Estradiol receptor status",
    "Prolactin recovery post-PEG",
    "Hair cortisol",
    "PTH antibody",
    "Ethinylestradiol",
    "Big-big prolactin",
    "Testosterone/Epitestosterone ratio",
    "Dihydrotestosterone",
    "TSH receptor antibodies",
    "TSI",
    "Testosterone (FT)",
    "Cortisol, urine free",
    "Cortisol after dexamethasone",
    "Macroprolactin",
    "T4 total",
    "Testosterone, saliva",
]


def rules_for(mapping, name: str) -> list[str]:
    return [r.spec.id for r in mapping.observation_rules_by_text(name)]


@pytest.mark.parametrize(("name", "rule"), NAMED)
def test_a_hormone_is_known_by_its_name(mapping, name, rule):
    assert rules_for(mapping, name) == [rule]


@pytest.mark.parametrize("name", NOT_THE_AXIS_TEST)
def test_a_related_test_is_not_taken_for_the_axis_test(mapping, name):
    assert rules_for(mapping, name) == []


def test_a_local_prolactin_with_its_range_gives_the_pituitary_axis_at_lower_confidence(mapping):
    prl = observation(
        {"coding": [{"system": "urn:oid:1.2.3.4.lab", "code": "PRL"}], "text": "Prolactin"},
        "prl",
        valueQuantity={"value": 45, "unit": "ng/mL", "system": "http://unitsofmeasure.org", "code": "ng/mL"},
        referenceRange=[{"low": {"value": 4, "unit": "ng/mL"}, "high": {"value": 15, "unit": "ng/mL"}}],
    )
    out = extract(make_record(prl), mapping)
    [f] = [f for f in out.findings if f.topic == "endocrinopathy"]
    assert f.axis is not None and f.axis.value == "pituitary" and f.state.value == "present"
    assert "test identified by its name 'Prolactin' only: lower confidence" in f.evidence.summary
