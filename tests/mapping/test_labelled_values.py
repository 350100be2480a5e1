"""A numeric value that names its own test before the number - "VEGF 486 pg/mL", "VEGF: 486 pg/mL", "Result: 150
pg/mL." in a lab comment the value points to (probe135 G1), "M-protein 7.7 g/L" as a valueString - was refused; the
test's own name (its code's text or a display, a name the rule's synonyms match, "Result", «Результат») is passed
over. A label naming anything else stays refused, as before."""

from __future__ import annotations

import pytest

from poems_fhir.mapping.extract import extract
from tests.conftest import make_record, observation

VEGF, MPROT = "75628-8", "33358-3"


def read(mapping, value: str, note: str | None = None, code: str = VEGF, **elements):
    o = observation(code, "o1", effectiveDateTime="2024-01-02", valueString=value, **elements)
    if note is not None:
        o["note"] = [{"text": note}]
    out = extract(make_record(o), mapping)
    return [f.evidence.value for f in out.findings], out.errors


@pytest.mark.parametrize(
    ("value", "note", "expected"),
    [
        ("See comment", "VEGF 486 pg/mL.", 486.0),
        ("See comment", "VEGF: 486 pg/mL", 486.0),
        ("See comment", "Result: 150 pg/mL.", 150.0),
        ("VEGF 486 pg/mL", None, 486.0),
        ("Результат: 150 pg/mL", None, 150.0),
        ("486 pg/mL", None, 486.0),
    ],
)
def test_the_tests_own_label_is_passed_over(mapping, value, note, expected) -> None:
    values, errors = read(mapping, value, note)
    assert values == [expected] and not errors


def test_the_codes_own_name_is_a_label_too(mapping) -> None:
    code = {"coding": [{"system": "http://loinc.org", "code": MPROT, "display": "M-spike"}], "text": "Paraprotein"}
    o = observation(code, "o1", effectiveDateTime="2024-01-02", valueString="Paraprotein: 7.7 g/L")
    assert [f.evidence.value for f in extract(make_record(o), mapping).findings] == [7.7]


@pytest.mark.parametrize("value", ["IgG kappa 486 pg/mL", "Serum albumin 486 pg/mL", "Previously 486 pg/mL"])
def test_another_label_stays_refused(mapping, value) -> None:
    values, errors = read(mapping, value)
    assert values == [None] and errors
