"""A target word said of something else nearby yields nothing (text target `not_near`; probe31: "Sclerotic
changes of the sacroiliac joints in keeping with sacroiliitis" made MAJ-4 present and the patient met)."""

from __future__ import annotations

from pathlib import Path

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.extract import extract
from poems_fhir.mapping.rules import load_mapping
from tests.conftest import make_record
from tests.mapping.test_extract import report, run

SCL = "sclerotic_bone_lesions"


def states(mapping, conclusion: str) -> list[State]:
    return [
        f.state for f in run(mapping, report("CT chest, abdomen and pelvis", conclusion)).findings if f.topic == SCL
    ]


@pytest.mark.parametrize(
    "conclusion",
    [
        "Sclerotic changes of the sacroiliac joints in keeping with sacroiliitis.",
        "Sclerotic facet joints at L5-S1.",
        "Sclerotic margins of the acetabulum consistent with osteoarthritis.",
        "Possible sclerotic change at the sacroiliac joints.",
        "Склеротические изменения крестцово-подвздошных суставов.",
        "Субхондральный склероз, остеосклероз замыкательных пластинок L4-L5 (остеохондроз).",
    ],
)
def test_sclerosis_of_a_joint_or_a_degenerative_endplate_is_no_bone_lesion(mapping, conclusion):
    assert states(mapping, conclusion) == []


@pytest.mark.parametrize(
    ("conclusion", "state"),
    [
        ("Multiple sclerotic lesions in the pelvis and spine.", State.PRESENT),
        # a lesion named right after the word stands, whatever follows
        ("Sclerotic lesions in T10 and L2; mild degenerative disc disease at L4-L5 and L5-S1.", State.PRESENT),
        ("Sclerotic focus in the iliac bone near the sacroiliac joint.", State.PRESENT),
        ("Склеротические очаги в телах позвонков, дегенеративные изменения.", State.PRESENT),
        # a denial still counts
        ("No sclerotic lesions; degenerative facet joint changes.", State.ABSENT),
    ],
)
def test_a_lesion_or_a_denial_near_the_words_still_counts(mapping, conclusion, state):
    assert states(mapping, conclusion) == [state]


def test_a_site_adds_words_to_a_target(tmp_path: Path):
    site = tmp_path / "site.yaml"
    site.write_text(
        'format: poems-fhir-mapping/1\nname: site\nversion: "1"\n'
        "text:\n  targets:\n    splenomegaly:\n      not_near: ['accessory']\n",
        encoding="utf-8",
    )
    mapping = load_mapping([site])
    ex = extract(make_record(report("CT abdomen", "Splenomegaly of an accessory spleen.")), mapping)
    assert [f for f in ex.findings if f.topic == "organomegaly"] == []
    ex = extract(make_record(report("CT abdomen", "Splenomegaly, 16 cm.")), mapping)
    assert [f.state for f in ex.findings if f.topic == "organomegaly"] == [State.PRESENT]


@pytest.mark.parametrize(
    "conclusion",
    [
        # probe34: sclerosis with a named benign cause
        "Healed rib fracture with sclerotic margins.",
        "Sclerotic vertebral haemangioma at T9.",
        "Schmorl's nodes with sclerotic margins at L2 and L3.",
        "Non-ossifying fibroma of the distal femur with a sclerotic rim.",
        "Остеосклероз в зоне консолидированного перелома ребра.",
    ],
)
def test_sclerosis_of_a_named_benign_cause_is_no_bone_lesion(mapping, conclusion):
    assert states(mapping, conclusion) == []


@pytest.mark.parametrize(
    "conclusion",
    [
        # probe34: POEMS lesions are often neither FDG-avid nor lytic: such a denial says nothing of them
        "No FDG-avid bone lesions.",
        "No hypermetabolic bone lesions.",
        "No lytic lesions in the skeleton.",
        "Метаболически активных очагов в костях нет.",
        "Остеолитических очагов в костях не выявлено.",
        # two kinds coordinated: still no word on sclerotic ones
        "No lytic or expansile bone lesions.",
        "Костно-деструктивных очагов в костях не выявлено.",
    ],
)
def test_a_denial_of_avid_or_lytic_bone_lesions_does_not_rule_sclerotic_ones_out(mapping, conclusion):
    assert states(mapping, conclusion) == []


@pytest.mark.parametrize(
    "conclusion",
    [
        "No bone lesions.",
        # probe71 D17: a kind paired with focal changes of any kind denies them all
        "Костно-деструктивных и очаговых изменений костей не выявлено.",
        "Очаговых изменений скелета не выявлено.",
        "No destructive or focal bone lesions.",
    ],
)
def test_a_denial_of_any_bone_lesion_still_rules_them_out(mapping, conclusion):
    assert states(mapping, conclusion) == [State.ABSENT]


def test_a_bad_not_near_regex_is_a_located_mapping_problem(tmp_path: Path):
    from poems_fhir.mapping.rules import MappingError

    site = tmp_path / "site.yaml"
    site.write_text(
        'format: poems-fhir-mapping/1\nname: site\nversion: "1"\n'
        "text:\n  targets:\n    splenomegaly:\n      not_near: ['acc(essory']\n",
        encoding="utf-8",
    )
    with pytest.raises(
        MappingError, match=r"site.yaml:7: text.targets.splenomegaly.not_near: .*invalid regular expression"
    ):
        load_mapping([site])
