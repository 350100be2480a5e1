"""observation_cannot_matter (issue #11): an Observation is reduced to its identity before the
boundary only when extracting it would yield nothing at all. Checked as a property — pruned implies
an empty extraction — on every Observation of the samples and the Synthea corpus and on generated
shapes, plus the cases that must never be pruned."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poems_fhir.fhir.boundary import Invalid, validate
from poems_fhir.fhir.read import read_paths
from poems_fhir.mapping.extract import extract, observation_cannot_matter
from poems_fhir.mapping.rules import CompiledMapping
from tests.conftest import SAMPLES, SHARED, make_record, missing_prerequisite

LOINC = "http://loinc.org"
SYNTHEA = SHARED / "corpora" / "synthea"


def _extracts_nothing(data: dict[str, Any], mapping: CompiledMapping) -> bool:
    resource = copy.deepcopy(data)
    try:
        validate(resource)
    except Invalid:
        return True  # refused at the boundary: nothing is extracted either way
    out = extract(make_record(resource), mapping)
    return not (out.findings or out.measurements or out.events or out.course or out.notes or out.errors or out.used)


def _observations(paths: list[Path]) -> list[dict[str, Any]]:
    read = read_paths(paths)
    return [
        raw.data for record in read.records for raw in record.resources if raw.data["resourceType"] == "Observation"
    ]


def _vital(**extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": "v1",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "8867-4", "display": "Heart rate"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-01",
        "valueQuantity": {"value": 72, "unit": "/min"},
        **extra,
    }


def test_a_vital_sign_no_rule_knows_is_pruned_and_extracts_nothing(mapping: CompiledMapping) -> None:
    vital = _vital()
    assert observation_cannot_matter(vital, mapping)
    assert _extracts_nothing(vital, mapping)


@pytest.mark.parametrize(
    "change",
    [
        {"code": {"coding": [{"system": LOINC, "code": "75628-8"}]}},  # VEGF: a rule knows it
        {"code": {"coding": [{"system": "urn:oid:2.16.840.1.113883.6.1", "code": "75628-8"}]}},  # LOINC by OID
        {"code": {"coding": [{"system": "urn:local", "code": "X1", "display": "VEGF-A, serum (send-out)"}]}},
        {"code": {"text": "IFE SERUM"}},  # code.text only
        {"valueString": "spleen 16 cm"},
        {"note": [{"text": "hepatomegaly"}]},
        {"component": [{"code": {"coding": [{"system": LOINC, "code": "75628-8"}]}}]},
        {"component": [{"code": {"text": "VEGF"}}]},
        # a code a rule knows on the Observation itself, beside components no rule knows
        {
            "code": {"coding": [{"system": LOINC, "code": "75628-8"}]},
            "component": [{"code": {"coding": [{"system": LOINC, "code": "8867-4"}]}}],
        },
        {"contained": [{"resourceType": "Specimen", "id": "s"}]},
        # shapes the boundary must see (and report), never silently pruned
        {"code": "8867-4"},
        {"code": {"coding": {"system": LOINC, "code": "8867-4"}}},
        {"code": {"coding": ["8867-4"]}},
        {"code": {"coding": [{"system": LOINC, "code": 8867}]}},
        {"code": {"coding": [{"system": 7, "code": "8867-4"}]}},
        {"component": {"code": {}}},
        {"component": ["x"]},
        {"code": {"coding": [{"system": LOINC, "code": "8867-4"}], "text": 5}},
        {"code": {"coding": 7}},
        {"code": {"coding": [{"system": LOINC, "code": "8867-4", "display": 5}]}},
        {"code": {"coding": [{"system": LOINC}], "text": "VEGF"}},  # a system without a code: the text is read
    ],
)
def test_what_can_matter_or_must_be_checked_is_kept(mapping: CompiledMapping, change: dict[str, Any]) -> None:
    assert not observation_cannot_matter(_vital(**change), mapping)


def test_an_observation_without_a_code_is_judged_by_its_components(mapping: CompiledMapping) -> None:
    uncoded = _vital(component=[{"code": {"coding": [{"system": LOINC, "code": "75628-8"}]}}])  # VEGF
    del uncoded["code"]
    assert not observation_cannot_matter(uncoded, mapping)


def test_a_coded_vital_sign_with_a_text_is_pruned(mapping: CompiledMapping) -> None:
    vital = _vital(code={"coding": [{"system": LOINC, "code": "8867-4"}], "text": "Heart rate"})
    assert observation_cannot_matter(vital, mapping)
    assert _extracts_nothing(vital, mapping)


def test_a_panel_no_rule_knows_is_pruned_with_its_components(mapping: CompiledMapping) -> None:
    # blood pressure: a panel code and two component codes, none of them a POEMS finding
    panel = _vital(
        code={"coding": [{"system": LOINC, "code": "85354-9", "display": "Blood pressure panel"}]},
        component=[
            {"code": {"coding": [{"system": LOINC, "code": code}]}, "valueQuantity": {"value": v, "unit": "mm[Hg]"}}
            for code, v in (("8480-6", 120), ("8462-4", 80))
        ],
    )
    del panel["valueQuantity"]
    assert observation_cannot_matter(panel, mapping)
    assert _extracts_nothing(panel, mapping)


def test_every_sample_observation_pruned_extracts_nothing(mapping: CompiledMapping) -> None:
    observations = _observations([SAMPLES])
    pruned = [o for o in observations if observation_cannot_matter(o, mapping)]
    assert all(_extracts_nothing(o, mapping) for o in pruned)
    # the samples are mostly POEMS work-up: most of their Observations are kept
    assert len(pruned) < len(observations) / 2


def test_every_synthea_observation_pruned_extracts_nothing(mapping: CompiledMapping) -> None:
    if not SYNTHEA.is_dir():
        missing_prerequisite(f"the Synthea corpus is not at {SYNTHEA}")
    observations = _observations([SYNTHEA])
    pruned = [o for o in observations if observation_cannot_matter(o, mapping)]
    assert [o["id"] for o in pruned if not _extracts_nothing(o, mapping)] == []
    # vitals, panels and surveys: most of a general population's Observations
    assert len(pruned) > len(observations) / 2


_CODES = st.sampled_from(["75628-8", "777-3", "33358-3", "8867-4", "29463-7", "X1", "G61.8", None])
_SYSTEMS = st.sampled_from([LOINC, "http://snomed.info/sct", "urn:local", "urn:oid:2.16.840.1.113883.6.1", None])
_TEXTS = st.sampled_from(["VEGF", "IFE SERUM", "Heart rate", "spleen 16 cm", "нет", ""])


@st.composite
def _concept(draw: st.DrawFn) -> dict[str, Any]:
    concept: dict[str, Any] = {}
    codings = []
    for _ in range(draw(st.integers(0, 2))):
        c: dict[str, Any] = {}
        system, code = draw(_SYSTEMS), draw(_CODES)
        if system:
            c["system"] = system
        if code:
            c["code"] = code
        if draw(st.booleans()):
            c["display"] = draw(_TEXTS)
        codings.append(c)
    if codings or draw(st.booleans()):
        concept["coding"] = codings
    if draw(st.integers(0, 3)) == 0:
        concept["text"] = draw(_TEXTS)
    return concept


@st.composite
def _observation(draw: st.DrawFn) -> dict[str, Any]:
    o = _vital()
    o["code"] = draw(_concept())
    if draw(st.integers(0, 3)) == 0:
        o["component"] = [
            {"code": draw(_concept()), "valueQuantity": {"value": 5, "unit": "g/L"}}
            for _ in range(draw(st.integers(1, 2)))
        ]
    if draw(st.integers(0, 4)) == 0:
        o["valueString"] = draw(_TEXTS)
    if draw(st.integers(0, 4)) == 0:
        o["note"] = [{"text": draw(_TEXTS)}]
    if draw(st.booleans()):
        o["valueCodeableConcept"] = draw(_concept())
        del o["valueQuantity"]
    return o


@settings(max_examples=300, deadline=None)
@given(observation=_observation())
def test_any_observation_pruned_extracts_nothing(mapping: CompiledMapping, observation: dict[str, Any]) -> None:
    if observation_cannot_matter(observation, mapping):
        assert _extracts_nothing(observation, mapping)
