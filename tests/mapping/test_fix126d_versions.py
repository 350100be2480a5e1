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
from tests.conftest import make_record
from tests.mapping.test_fix125e_versions import PLASMA, SERUM, SNOMED, VEGF_MAJOR, pairs, state, tube, vegf

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
