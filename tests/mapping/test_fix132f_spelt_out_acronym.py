# SPDX-License-Identifier: Apache-2.0
"""probe132 D5: a list right after a POEMS name that spells out the acronym is part of the name, never findings.

"Differential diagnosis includes POEMS syndrome (polyneuropathy, organomegaly, endocrinopathy, M-protein, skin
changes), CIDP, and CMT1." made the clone and organomegaly doubted, outweighing a negative immunofixation; "Criteria
for POEMS syndrome (polyneuropathy, monoclonal protein) are not met" denied them. Findings named as the patient's
outside a spelt-out list, or a list with any item that is the patient's detail, are read as before."""

import pytest

from poems_fhir.mapping.rules import load_mapping

MAPPING = load_mapping()
FEATURES = {"monoclonal_protein", "m_protein", "monoclonal_gammopathy", "organomegaly", "hepatosplenomegaly"}


def _labels(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for a in MAPPING.text.assert_texts([text])[0]:
        out.setdefault(a.target, a.label)
    return out


@pytest.mark.parametrize(
    "text",
    [
        "Differential diagnosis includes POEMS syndrome (polyneuropathy, organomegaly, endocrinopathy, M-protein, "
        "skin changes), CIDP, and CMT1.",
        "Assessment: POEMS syndrome (polyneuropathy, organomegaly, endocrinopathy, M-protein, skin changes).",
        "Criteria for POEMS syndrome (polyneuropathy, monoclonal protein) are not met.",
        "Crow-Fukase syndrome - polyneuropathy, organomegaly, endocrinopathy, monoclonal gammopathy, skin changes - "
        "was considered.",
        "POEMS syndrome (P - polyneuropathy, O - organomegaly, E - endocrinopathy, M - M-protein, S - skin changes) "
        "is unlikely.",
        "Дифференциальный диагноз: POEMS-синдром (полинейропатия, органомегалия, эндокринопатия, М-протеин, "
        "изменения кожи), ХВДП.",
        "Синдром Кроу-Фукасе: полинейропатия, органомегалия, эндокринопатия, моноклональный белок, изменения кожи - "
        "исключить.",
        "Критерии POEMS-синдрома (полинейропатия, моноклональная гаммапатия) не выполнены.",
        "POEMS синдромы (полинейропатия, органомегалия, эндокринопатия, М-протеин, тері өзгерістері) жоққа шығарылды.",
    ],
)
def test_a_spelt_out_acronym_names_no_finding(text: str) -> None:
    labels = _labels(text)
    assert not FEATURES & set(labels), labels
    assert labels.get("polyneuropathy") in (None, "possible"), labels  # CIDP in the differential may doubt it


@pytest.mark.parametrize(
    ("text", "target", "label"),
    [
        ("POEMS syndrome with polyneuropathy and IgA lambda M-protein.", "polyneuropathy", "present"),
        ("POEMS syndrome (polyneuropathy, IgA lambda M-protein, splenomegaly 16 cm).", "splenomegaly", "present"),
        ("POEMS syndrome: polyneuropathy, splenomegaly.", "splenomegaly", "present"),
        (
            "Crow-Fukase syndrome - polyneuropathy, organomegaly, endocrinopathy, monoclonal gammopathy, skin changes; "
            "splenomegaly 16 cm noted.",
            "splenomegaly",
            "present",
        ),
        ("POEMS-синдром: полинейропатия, моноклональная гаммапатия IgA лямбда.", "polyneuropathy", "present"),
    ],
)
def test_the_patients_findings_beside_the_name_stay(text: str, target: str, label: str) -> None:
    assert _labels(text).get(target) == label, _labels(text)
