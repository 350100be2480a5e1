# SPDX-License-Identifier: Apache-2.0
"""probe128 D4: a follow-up CT or PET-CT that says a sclerotic lesion is new since an earlier study in words other than
"new …" ("not seen on the prior study", "previously unseen", "de novo", "have developed since", «вновь выявленные»,
«ранее не определявшиеся») is radiologic progression (criteria.md §8.3); a denial of today, a known lesion and a bare
"additional" are not."""

import pytest

from poems_fhir.mapping.extract import extract
from poems_fhir.mapping.rules import load_mapping
from tests.conftest import make_record

MAPPING = load_mapping()


def _states(text: str, name: str = "PET-CT whole body") -> dict[str, str]:
    report = {
        "resourceType": "DiagnosticReport",
        "status": "final",
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "77477000"}], "text": name},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2021-01-10",
        "conclusion": text,
    }
    return {f.topic: f.state.value for f in extract(make_record(report), MAPPING).findings}


@pytest.mark.parametrize(
    "text",
    [
        "Sclerotic lesions in T6 and L3, not seen on the prior study of 03/2020.",
        "Previously unseen sclerotic foci in T6 and L3.",
        "De novo sclerotic lesions in T6 and L3.",
        "Sclerotic lesions in T6 and L3 have developed since the previous examination.",
        "Two sclerotic lesions (T6, L3) which were not present on the baseline PET-CT.",
        "Compared with 03/2020 there are additional sclerotic lesions in T6 and L3 not present previously.",
        "A sclerotic focus in the left ilium has appeared in the interval.",
        "Вновь выявленные остеосклеротические очаги в Th6 и L3.",
        "Выявлены ранее не определявшиеся склеротические очаги в Th6 и L3.",
        "Определяются ранее не визуализировавшиеся склеротические очаги в крыле подвздошной кости.",
    ],
)
def test_a_lesion_said_new_is_progression_and_stated(text: str) -> None:
    states = _states(text)
    assert states.get("radiologic_progression") == "present", states
    assert states.get("sclerotic_bone_lesions") == "present", states


@pytest.mark.parametrize(
    "text",
    [
        "No new lesions.",
        "Sclerotic lesion in L2, not seen on the prior study and not now.",
        "Previously described sclerotic lesions unchanged.",
        "Two additional sclerotic lesions in T6 and L3.",
        "Sclerotic lesion in L2 unchanged, not seen on the prior radiograph.",
        "Sclerotic lesions are stable and have not developed since the previous examination.",
        "Ранее описанные склеротические очаги без динамики.",
    ],
)
def test_no_progression_without_a_new_lesion(text: str) -> None:
    assert _states(text).get("radiologic_progression") != "present"


def test_the_earlier_denial_still_denies_today() -> None:
    assert _states("Sclerotic lesion in L2, not seen on the prior study and not now.")["sclerotic_bone_lesions"] in (
        "absent",
        "indeterminate",
    )
