"""A line in another script than the line above is a sentence of its own: an English heading over a Kazakh or Russian
result with the band's name in brackets was read as one sentence by the Latin pipeline, the Cyrillic denial unread,
and the immunofixation report came out conflicting (probe119 y07prerm: `not_met` became `indeterminate` when the
Kazakh «моноклоналды жолақ» became a target)."""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import State
from tests.mapping.test_extract import run, states
from tests.mapping.test_probe121 import _ife_report

CLONE = "monoclonal_plasma_cell_disorder"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Serum immunofixation electrophoresis\nIgA лямбда (моноклоналды жолақ) табылмады.", [State.ABSENT]),
        ("Serum immunofixation electrophoresis\nIgA лямбда (моноклональная полоса) не выявлена.", [State.ABSENT]),
        # controls: the band stated under the heading, and a line wrapped within one script
        ("Serum immunofixation electrophoresis\nIgA лямбда выявлена.", [State.PRESENT]),
        ("Serum immunofixation electrophoresis shows\nan IgA lambda band.", [State.PRESENT]),
    ],
)
@pytest.mark.parametrize("form", ["conclusion", "presentedForm"])
def test_a_heading_in_another_script_is_a_sentence_of_its_own(mapping, text, expected, form):
    assert states(run(mapping, _ife_report(text, form)), CLONE) == expected
