"""probe128 D5: the seed report's own M-protein notation, "7,7 г/л (12,1%)" (the band's quantity and, in a
bracket, its share of the total protein), was refused ("'г/л(12,1%)' is not a valid UCUM unit") and the
haematological response left `not_evaluable`; seed_case.md T1 expects an amyloid-style PR (-52 %). The
quantity and its unit are read; a bracket holding only a percentage is passed over."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from poems_fhir.criteria.profiles import MAYO
from poems_fhir.mapping.extract import extract
from poems_fhir.pipeline import evaluate_record
from tests.conftest import ROOT, make_record, observation

M_PROTEIN = "33358-3"


def _read(mapping, text: str):
    return extract(make_record(observation(M_PROTEIN, valueString=text)), mapping)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("7,7 г/л (12,1%)", 7.7),
        ("7.7 g/L (12.1%)", 7.7),
        ("0,77 г/дл (12,1 %)", 7.7),
        ("3,7 г/л (5,8%)", 3.7),
        ("7,7 г/л (12%)", 7.7),
        ("7.7 g/L [12.1 %]", 7.7),
        ("7.7 g/L (12.1%) H", 7.7),  # a flag after the share is still read
    ],
)
def test_a_bracketed_share_of_total_protein_leaves_the_quantity_read(mapping, text, value):
    found = _read(mapping, text)
    assert found.errors == []
    assert [(m.value, m.unit) for m in found.measurements] == [(pytest.approx(value), "g/L")]


@pytest.mark.parametrize(
    "text",
    [
        # ("7,7 г/л (IgG kappa)" is read as the amount and its band, "7,7 г/л, 12,1%" as the amount and its share since
        # fix139b B2, B3: tests/mapping/test_fix139b_extract.py, test_fix139b_results.py)
        "7,7 г/л (12,1% IgG kappa)",  # a percentage with other words is not only a share
        "7,7 г/л (12,1)",  # a number without its percent sign is not said to be a share
    ],
)
def test_other_brackets_still_refuse_the_value(mapping, text):
    found = _read(mapping, text)
    assert found.measurements == [] and len(found.errors) == 1


def test_the_seed_notation_gives_the_amyloid_style_partial_response(mapping):
    """probe128's min/D5 (p41): 7,7 g/L before cyclophosphamide-dexamethasone, 3,7 g/L after."""
    path = ROOT / "tests" / "fixtures" / "probe128" / "D5.json"
    bundle = json.loads(path.read_text(encoding="utf-8"))
    resources = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] != "Patient"]
    for r in resources:
        r["subject"] = {"reference": "Patient/p1"}
    result = evaluate_record(make_record(*resources), mapping, MAYO, dt.date(2019, 3, 31))
    assert result.response is not None
    hem = result.response.hematologic
    assert hem.category == "PR"
    assert "-52%" in hem.reason
