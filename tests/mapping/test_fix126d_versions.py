"""Two draws and two studies under one accession, told apart by what they are (probe126 G5, G6).

A plasma and a serum Specimen under one accession are two draws whatever code system or words type them (G5:
SNOMED plasma beside HL7 v2 "SER", or "Plasma" beside «Сыворотка» by text only). A spine study and a brain
study under one RIS accession are two studies: the spine is a region of a study's name (G6). Positive controls
keep one material said two ways, and one region named two ways, a version."""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.corrections import replaced_results
from poems_fhir.mapping.text.sites import field_of
from tests.conftest import make_record
from tests.mapping.test_fix125e_versions import BONE, PLASMA, SERUM, SNOMED, VEGF_MAJOR, pairs, state, study, tube, vegf

V2 = "http://terminology.hl7.org/CodeSystem/v2-0487"


def typed(sid: str, kind: dict[str, Any]) -> dict[str, Any]:
    """A Specimen of the shared accession typed by ``kind`` (a CodeableConcept)."""
    return {**tube(sid, PLASMA), "type": kind}


def coded(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding = {"system": system, "code": code, **({"display": display} if display else {})}
    return {"coding": [coding]}


# --- G5: plasma and serum typed in other code systems or by text only -------------------------------------------


@pytest.mark.parametrize(
    ("plasma", "serum"),
    [
        (coded(SNOMED, PLASMA, "Plasma specimen"), coded(V2, "SER", "Serum")),
        (coded(V2, "PLAS"), coded(SNOMED, SERUM)),
        ({"text": "Plasma"}, {"text": "Serum"}),
        ({"text": "EDTA plasma"}, {"text": "Serum (SST)"}),
        ({"text": "Плазма"}, {"text": "Сыворотка"}),
        ({"text": "Плазма ЭДТА"}, {"text": "Сыворотка крови"}),
        ({"text": "Қан сарысуы"}, {"text": "Плазма"}),  # reversed: the Kazakh serum is the plasma's correction
        (coded(SNOMED, PLASMA), {"text": "сыворотка"}),
        ({"coding": [{"system": "urn:local:lis", "code": "P1", "display": "Plasma"}]}, coded(V2, "SER")),
    ],
)
@pytest.mark.parametrize("status", ["corrected", "amended"])
def test_plasma_and_serum_in_other_code_systems_or_words_are_two_draws(mapping, plasma, serum, status):
    """probe126 G5 (D04, D05): a 'corrected' serum VEGF 300 is no version of the final plasma VEGF 650."""
    resources = [
        typed("sp", plasma),
        typed("ss", serum),
        vegf("o1", 650, "final", "2023-03-02T10:00:00Z", "sp"),
        vegf("o2", 300, status, "2023-03-04T10:00:00Z", "ss"),
    ]
    assert replaced_results(pairs(*resources), resolve=make_record(*resources).resolve) == {}
    # the 650 is read as whichever material its tube names: a plasma 650 is present, a serum 650 (the Kazakh
    # case, reversed) is above the serum cut-off too; nothing is dropped
    assert state(resources, VEGF_MAJOR, mapping) is State.PRESENT


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (coded(SNOMED, PLASMA), coded(V2, "PLAS")),
        ({"text": "Plasma"}, coded(SNOMED, PLASMA)),
        ({"text": "Плазма"}, {"text": "EDTA plasma"}),
        ({"text": "Serum or plasma"}, coded(V2, "SER")),  # names two materials: tells nothing apart
        ({"text": "Blood"}, {"text": "Serum"}),  # a material the table does not know: nothing told apart
    ],
)
def test_positive_controls_one_material_said_two_ways_is_still_one_draw(mapping, first, second):
    """A correction of one tube, its type said in another code system or words, still replaces the original."""
    resources = [
        typed("s1", first),
        typed("s2", second),
        vegf("o1", 650, "final", "2023-03-02T10:00:00Z", "s1"),
        vegf("o2", 150, "corrected", "2023-03-04T10:00:00Z", "s2"),
    ]
    assert "Observation/o1" in replaced_results(pairs(*resources), resolve=make_record(*resources).resolve)


# --- G6: a spine study and a brain study under one RIS accession ------------------------------------------------


@pytest.mark.parametrize(
    ("spine", "brain"),
    [
        ("MRI spine", "MRI brain"),
        ("MRI lumbar spine", "MRI head"),
        ("MRI L-spine w/o contrast", "MRI brain with contrast"),
        ("MRI C-spine", "MRI brain"),
        ("МРТ позвоночника", "МРТ головного мозга"),
        ("МРТ пояснично-крестцового отдела", "МРТ головного мозга"),
        ("Омыртқа МРТ", "Бас миының МРТ"),  # UNVERIFIED Kazakh study names
    ],
)
@pytest.mark.parametrize(("first", "later"), [("final", "amended"), ("preliminary", "final")])
def test_a_spine_study_and_a_brain_study_under_one_accession_are_two_studies(mapping, spine, brain, first, later):
    """probe126 G6 (E10): the spine's L2 lesion is no earlier version of the amended brain report."""
    lesion = study("s", first, spine, "Sclerotic lesion in the L2 vertebral body.", "2024-02-10T09:00:00Z")
    normal = study("b", later, brain, "Normal.", "2024-02-11T09:00:00Z")
    assert replaced_results(pairs(lesion, normal)) == {}
    assert state([lesion, normal], BONE, mapping) is State.PRESENT


def test_positive_controls_one_spine_named_two_ways_is_still_one_study(mapping):
    """A wet read of a spine MRI and its amendment named otherwise are still one study; a name with no region
    beside a spine name stays a version too."""
    for wet_name, amended_name in (
        ("MRI L-spine (wet read)", "MRI lumbar spine without contrast"),
        ("МРТ позвоночника (предварительно)", "МРТ поясничного отдела позвоночника"),
        ("MRI (wet read)", "MRI spine"),
    ):
        wet = study("w", "preliminary", wet_name, "Sclerotic focus in L3.", "2024-02-10T09:00:00Z")
        amended = study("m", "amended", amended_name, "No sclerotic bone lesions.", "2024-02-11T09:00:00Z")
        assert "DiagnosticReport/w" in replaced_results(pairs(wet, amended)), wet_name


@pytest.mark.parametrize(
    ("name", "regions"),
    [
        ("MRI spine", {"spine"}),
        ("MRI cervical spine", {"neck", "spine"}),
        ("MRI thoracic spine", {"chest", "spine"}),
        ("МРТ позвоночника", {"spine"}),
        ("MRI brain", {"head"}),
        ("CT chest", {"chest"}),
        ("Skeletal survey", {"whole"}),
        ("MRI sacroiliac joints", set()),  # a joint, not the spine
    ],
)
def test_the_spine_is_a_region_of_a_study_name(name, regions):
    assert field_of(name) == frozenset(regions)
