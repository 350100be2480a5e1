"""fix111a item 5: a "Clinical query:" heading heads its question only - to the question's "?" or its sentence's end
- not its whole line: "Clinical query: Castleman disease? Lymph node: no features of Castleman disease." is the
node's histology denying Castleman disease (the denial was the referrer's, so the disease stayed unassessed and the
biopsy was proposed again). The question itself stays the referrer's."""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.criteria.profiles import get_profile
from poems_fhir.pipeline import evaluate_record
from tests.conftest import make_record
from tests.mapping.test_text_probe105_history import _patient, _read


def _castleman(mapping, text: str) -> str:
    """probe105's `M` patient with ``text`` as the conclusion of a lymph node's histology report."""
    resources: list[dict[str, Any]] = _patient(text)
    resources[-1]["code"] = {
        "coding": [{"system": "http://loinc.org", "code": "60567-5"}],
        "text": "Lymph node excision biopsy - histopathology",
    }
    resources[-1]["category"] = [
        {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "SP"}]}
    ]
    result = evaluate_record(make_record(*resources), mapping, get_profile("mayo"), None)
    states = {str(getattr(c, "value", c)): r.state.value for c, r in result.assessment.criteria.items()}
    return states["castleman_disease"]


@pytest.mark.parametrize(
    "text",
    [
        "Clinical query: Castleman disease? Lymph node: no features of Castleman disease.",
        "Clinical query: Castleman disease. Lymph node: no features of Castleman disease.",
        "Clinical question: Castleman disease? Lymph node: no features of Castleman disease.",
        "Клинический вопрос: болезнь Кастлемана? Лимфоузел: признаков болезни Кастлемана нет.",
    ],
)
def test_a_histologys_denial_after_the_query_on_its_line_is_the_reports(mapping, text):
    assert _castleman(mapping, text) == "absent"


def test_a_heading_after_the_query_keeps_its_denial(mapping):
    """A regression guard (read so before the fix too: the inline "Histology:" heading ended the query)."""
    assert (
        _castleman(mapping, "Clinical query: Castleman disease? Histology: no features of Castleman disease.")
        == "absent"
    )


# regression guards (read alike before the fix)
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Clinical query: Castleman disease?", {"castleman_disease": "hypothetical"}),
        ("Clinical query: ?Castleman ?POEMS", {"castleman_disease": "hypothetical"}),
        # after a full stop with no field's label, a sentence may still be the referrer's
        ("Clinical query: POEMS. Known sclerotic lesions on PET 2022.", {"sclerotic_bone_lesion": "hypothetical"}),
        # a heading that is no question heads its line
        ("Clinical details: POEMS. Known sclerotic lesions on PET 2022.", {"sclerotic_bone_lesion": "hypothetical"}),
    ],
)  # fmt: skip
def test_the_query_itself_stays_the_referrers(mapping, text, expected):
    assert _read(mapping, text) == expected
