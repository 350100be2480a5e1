"""fix132d (probe132 D3, D4): an addendum that adds a finding the original report missed - "…, which was not described in
the original report", "Additional finding not included in the original report: 1.4 cm sclerotic lesion" - states it:
the finding is present (it was indeterminate as another report's quoted finding, or a strong absent). Controls: an
addendum that refutes the original report's finding, or denies a finding, stays as before."""

from __future__ import annotations

import pytest

from tests.mapping.test_extract import report, run

SCL = "sclerotic_bone_lesions"


def _states(mapping, text: str) -> set[str]:
    ex = run(mapping, report("PET/CT SKULL BASE TO THIGH", text, category="RAD"))
    return {f.state.value for f in ex.findings if f.topic == SCL}


@pytest.mark.parametrize(
    "text",
    [
        "ADDENDUM: On review of the CT bone windows, there is a 1.4 cm sclerotic lesion in the L2 vertebral body, not "
        "FDG-avid, which was not described in the original report.",
        "ADDENDUM: There is a 1.4 cm sclerotic lesion in L2, which was not mentioned in the original report.",
        "ADDENDUM: Additional finding not included in the original report: 1.4 cm sclerotic lesion in the L2 vertebral "
        "body.",
        "Addendum: 1.4 cm sclerotic lesion in L2, not reported in the initial interpretation.",
        "ДОПОЛНЕНИЕ: склеротический очаг 1,4 см в теле L2, не описанный в первичном заключении.",
        "Дополнение: не отражено в первичном протоколе: склеротический очаг 1,4 см в теле L2.",
        "Дополнение: в теле L2 склеротический очаг 1,4 см, не упомянутый в исходном протоколе.",
    ],
)
def test_fix132d_addendum_adds_a_finding(mapping, text):
    assert _states(mapping, text) == {"present"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Addendum: the sclerotic lesion in L3 described in the original report is a motion artefact.", {"absent"}),
        ("Addendum: the sclerotic lesion described in the original report is not seen on review.", {"absent"}),
        ("Дополнение: описанный в первичном заключении склеротический очаг не подтверждается.", {"absent"}),
        ("Addendum: no sclerotic lesion in L2 is seen on review.", {"absent"}),
    ],
)
def test_fix132d_addendum_controls(mapping, text, expected):
    assert _states(mapping, text) == expected
