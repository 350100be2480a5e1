"""The result-encoding corpus (tests/mapping/corpus/result_encodings.yaml): values without a
number, comparators, local number formats, lab unit spellings, local and national codes, each
with the criterion state criteria.md prescribes (issue #8)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from poems_fhir.mapping.extract import extract
from tests.conftest import make_record

CORPUS = yaml.safe_load((Path(__file__).parent / "corpus" / "result_encodings.yaml").read_text(encoding="utf-8"))
SCT = "http://snomed.info/sct"
SPECIMEN_TYPES = {"serum": "119364003", "plasma": "119361006"}


def build(entry: dict[str, Any]) -> list[dict[str, Any]]:
    if "resource" in entry:
        resource = copy.deepcopy(entry["resource"])
        resource.setdefault("subject", {"reference": "Patient/p1"})
        resource.setdefault("recordedDate", "2024-01-01")
        return [resource]
    code = entry["code"]
    if "loinc" in code:
        concept: dict[str, Any] = {"coding": [{"system": "http://loinc.org", "code": code["loinc"]}]}
    elif "system" in code:
        concept = {"coding": [{k: v for k, v in code.items() if k in ("system", "code", "display")}]}
    else:
        concept = {"text": code["text"]}
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "id": "o1",
        "status": "final",
        "code": concept,
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-02",
        **copy.deepcopy(entry.get("value") or {}),
    }
    resources = [obs]
    if entry.get("specimen"):
        obs["specimen"] = {"reference": "Specimen/s1"}
        resources.append(
            {
                "resourceType": "Specimen",
                "id": "s1",
                "type": {"coding": [{"system": SCT, "code": SPECIMEN_TYPES[entry["specimen"]]}]},
            }
        )
    return resources


def test_corpus_is_large_and_bilingual():
    assert len(CORPUS) >= 80
    assert len({e["id"] for e in CORPUS}) == len(CORPUS)
    russian = [e for e in CORPUS if any("\u0400" <= ch <= "\u04ff" for ch in yaml.safe_dump(e, allow_unicode=True))]
    assert len(russian) >= 15


@pytest.mark.parametrize("entry", CORPUS, ids=[e["id"] for e in CORPUS])
def test_encoding(mapping, entry):
    ex = extract(make_record(*build(entry)), mapping)
    if "error" in entry:
        assert ex.errors, f"expected an error containing {entry['error']!r}, got findings {ex.findings}"
        assert entry["error"] in ex.errors[0].message
        return
    assert ex.errors == []
    got: dict[str, set[str]] = {}
    for f in ex.findings:
        got.setdefault(f.topic, set()).add(f.state.value)
    if entry.get("none"):
        assert got == {}
    else:
        assert got == {topic: {state} for topic, state in entry["expect"].items()}
    if "measured" in entry:
        assert [m.value for m in ex.measurements] == [pytest.approx(entry["measured"])]
    elif not entry.get("none") and "resource" not in entry:
        # a value used without its unit, or without a number, is never recorded as a measurement
        # (response assessment would compare magnitudes)
        for m in ex.measurements:
            assert m.unit is not None or m.analyte.endswith("ife")


def test_evidence_says_how_a_value_was_read(mapping):
    entry = next(e for e in CORPUS if e["id"] == "vegf-russian-decimal-comma-thin-space")
    (finding,) = extract(make_record(*build(entry)), mapping).findings
    assert "read from text" in finding.evidence.summary and "пг/мл" in finding.evidence.summary


def test_evidence_marks_display_text_matches_lower_confidence(mapping):
    entry = next(e for e in CORPUS if e["id"] == "vegf-local-code-send-out")
    ex = extract(make_record(*build(entry)), mapping)
    (finding,) = ex.findings
    assert "lower confidence" in finding.evidence.summary
    assert finding.evidence.code == "urn:oid:1.2.3.4.5.6|SO-VEGFA"
    assert [n.kind for n in ex.notes] == ["text_fallback"]


def test_unitless_decision_is_visible(mapping):
    entry = next(e for e in CORPUS if e["id"] == "mprot-unitless-positive")
    (finding,) = extract(make_record(*build(entry)), mapping).findings
    assert "no unit: used for presence only" in finding.evidence.summary


WEIRD = [
    None,
    1,
    "x",
    [],
    {},
    [1],
    {"value": "1"},
    {"value": True},
    {"coding": "H"},
    [{"coding": [{"code": 5, "system": 3}]}],
    "1,250",
    "<",
    "",
    {"text": 5},
    [{"text": "High"}],
    {"value": 1, "unit": 5},
]
ELEMENTS = [
    "valueQuantity",
    "valueString",
    "valueCodeableConcept",
    "valueInteger",
    "interpretation",
    "referenceRange",
    "valueBoolean",
    "valueRatio",
    "code",
]


@pytest.mark.parametrize("element", ELEMENTS)
def test_malformed_elements_are_reported_never_raised(mapping, element):
    """Wrong JSON types in any element a result is read from: the resource is reported or
    ignored, the extraction never raises."""
    for entry in CORPUS:
        if "resource" in entry:
            continue
        for weird in WEIRD:
            resources = build(entry)
            resources[0][element] = copy.deepcopy(weird)
            extract(make_record(*resources), mapping)
