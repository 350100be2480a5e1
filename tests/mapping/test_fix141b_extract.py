"""Coded elements read with case and spaces forgiven, the rest named, contradicting flags undecided (fix141b).

probe140: D2 an interpretation " POS " beside an immunofixation "Negative" made the clone absent (clean "POS" is
indeterminate: the flag contradicts the text), " NEG " beside "IgG lambda" present, "L " beside a VEGF of 624
pg/mL present, " H " beside platelets of 430 no thrombocytosis; D7 [H, L] made that VEGF present, [L, H]
indeterminate; D10 a report category " PAT " was no pathology, its Castleman histology dropped; D6 Patient.gender
"FEMALE" was no sex, and "F" was not named while the reason said "sex not recorded".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from poems_fhir.cli import main
from poems_fhir.criteria.model import Criterion, State
from poems_fhir.mapping.extract import Extraction, extract, observation_cannot_matter
from poems_fhir.mapping.rules import CompiledMapping
from tests.conftest import make_record, observation

IFE, VEGF, PLATELETS, HB = "25700-6", "75628-8", "777-3", "718-7"
CLONE, VEGF_TOPIC = Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value, Criterion.VEGF_ELEVATION.value
THROMBO = Criterion.THROMBOCYTOSIS_POLYCYTHEMIA.value
PLASMA = {
    "resourceType": "Specimen",
    "id": "spl",
    "type": {"coding": [{"system": "http://snomed.info/sct", "code": "119361006"}]},
}


def _flags(*codes: str) -> list[dict[str, Any]]:
    return [
        {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": c}
                for c in codes
            ]
        }
    ]


def _states(found: Extraction, topic: str) -> set[State]:
    return {f.state for f in found.findings if f.topic == topic}


def _vegf(mapping: CompiledMapping, *codes: str) -> Extraction:
    obs = observation(
        VEGF,
        valueQuantity={"value": 624, "unit": "pg/mL", "system": "http://unitsofmeasure.org", "code": "pg/mL"},
        specimen={"reference": "Specimen/spl"},
        interpretation=_flags(*codes),
    )
    return extract(make_record(obs, dict(PLASMA)), mapping)


@pytest.mark.parametrize("flag", [" POS ", "POS\t", "pos", "POS"])
def test_a_negative_immunofixation_flagged_positive_is_indeterminate(mapping: CompiledMapping, flag: str) -> None:
    found = extract(make_record(observation(IFE, valueString="Negative", interpretation=_flags(flag))), mapping)
    assert _states(found, CLONE) == {State.INDETERMINATE}


@pytest.mark.parametrize("flag", [" NEG ", "NEG"])
def test_a_band_flagged_negative_is_indeterminate(mapping: CompiledMapping, flag: str) -> None:
    found = extract(make_record(observation(IFE, valueString="IgG lambda", interpretation=_flags(flag))), mapping)
    assert _states(found, CLONE) == {State.INDETERMINATE}


@pytest.mark.parametrize("flag", ["L ", " l", "L"])
def test_a_vegf_above_the_cut_off_flagged_low_is_indeterminate(mapping: CompiledMapping, flag: str) -> None:
    assert _states(_vegf(mapping, flag), VEGF_TOPIC) == {State.INDETERMINATE}


@pytest.mark.parametrize("flags", [(" H",), ("H",), ()])
def test_a_vegf_above_the_cut_off_flagged_high_or_not_is_present(
    mapping: CompiledMapping, flags: tuple[str, ...]
) -> None:
    assert _states(_vegf(mapping, *flags), VEGF_TOPIC) == {State.PRESENT}  # control


@pytest.mark.parametrize("flag", [" H ", "H"])
def test_platelets_flagged_high_with_spaces_are_thrombocytosis(mapping: CompiledMapping, flag: str) -> None:
    obs = observation(
        PLATELETS,
        valueQuantity={"value": 430, "unit": "10*9/L", "system": "http://unitsofmeasure.org", "code": "10*9/L"},
        interpretation=_flags(flag),
    )
    assert State.PRESENT in _states(extract(make_record(obs), mapping), THROMBO)


@pytest.mark.parametrize("codes", [("H", "L"), ("L", "H"), (" l", "H ")])
def test_contradicting_flags_leave_the_vegf_indeterminate_in_any_order(
    mapping: CompiledMapping, codes: tuple[str, ...]
) -> None:
    found = _vegf(mapping, *codes)
    [finding] = [f for f in found.findings if f.topic == VEGF_TOPIC]
    assert finding.state is State.INDETERMINATE
    assert finding.note is not None and "contradict each other" in finding.note


def test_a_flag_that_is_no_code_is_listed(mapping: CompiledMapping) -> None:
    found = extract(make_record(observation(IFE, valueString="Negative", interpretation=_flags("XYZ"))), mapping)
    assert [e.message for e in found.errors if "'XYZ'" in e.message]


def test_read_flags_are_not_listed(mapping: CompiledMapping) -> None:
    assert _vegf(mapping, " H ").errors == []  # control


# ---------------------------------------------------------------- D6: Patient.gender


def _hb(mapping: CompiledMapping, gender: str) -> Extraction:
    obs = observation(
        HB, valueQuantity={"value": 16.3, "unit": "g/dL", "system": "http://unitsofmeasure.org", "code": "g/dL"}
    )
    return extract(make_record(obs, gender=gender), mapping)


@pytest.mark.parametrize("gender", ["FEMALE", " female", "Female"])
def test_a_female_patient_in_capitals_gets_the_female_cut_off(mapping: CompiledMapping, gender: str) -> None:
    found = _hb(mapping, gender)
    assert _states(found, THROMBO) == {State.PRESENT} and found.errors == []


@pytest.mark.parametrize("gender", ["F", "woman"])
def test_a_gender_that_is_no_code_is_listed_and_not_called_unrecorded(mapping: CompiledMapping, gender: str) -> None:
    found = _hb(mapping, gender)
    assert [e.message for e in found.errors if f"Patient.gender {gender!r}" in e.message]
    [finding] = [f for f in found.findings if f.topic == THROMBO]
    assert finding.state is State.INDETERMINATE
    assert finding.note is not None and "not recorded" not in finding.note and "sex not read" in finding.note


# ---------------------------------------------------------------- D10: a report's category


def _evaluate(tmp_path: Path, report: dict[str, Any]) -> dict[str, Any]:
    patient = {"resourceType": "Patient", "id": "p1", "gender": "male", "birthDate": "1970-01-01"}
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in (patient, report)]}
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    result = CliRunner().invoke(main, ["evaluate", str(path), "--format", "json", "--all"], catch_exceptions=False)
    return json.loads(result.output)["patients"][0]["criteria"]


def _report(category: str, name: str, conclusion: str) -> dict[str, Any]:
    return {
        "resourceType": "DiagnosticReport",
        "id": "r1",
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": category}]}],
        "code": {"text": name},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-20",
        "conclusion": conclusion,
    }


@pytest.mark.parametrize("category", [" PAT ", "Pat", "PAT", "sp "])
def test_a_pathology_category_in_any_case_reads_the_histology(tmp_path: Path, category: str) -> None:
    report = _report(category, "Lymph node, left axillary", "Castleman disease, hyaline-vascular variant.")
    assert _evaluate(tmp_path, report)["castleman_disease"]["state"] == "present"


@pytest.mark.parametrize("category", [" RAD", "Rad", "ct "])
def test_an_imaging_category_in_any_case_reads_the_study(tmp_path: Path, category: str) -> None:
    report = _report(category, "Whole body scan", "Multiple sclerotic bone lesions in the pelvis and spine.")
    assert _evaluate(tmp_path, report)["sclerotic_bone_lesions"]["state"] == "present"


# ---------------------------------------------------------------- D12, D14, D15


@pytest.mark.parametrize("status", ["entered-in-error", "Entered-In-Error ", "entered_in_error"])
def test_a_specimen_entered_in_error_does_not_decide_the_vegf_specimen(mapping: CompiledMapping, status: str) -> None:
    spec = {**PLASMA, "status": status}
    obs = observation(
        VEGF,
        valueQuantity={"value": 624, "unit": "pg/mL", "system": "http://unitsofmeasure.org", "code": "pg/mL"},
        specimen={"reference": "Specimen/spl"},
    )
    found = extract(make_record(obs, spec), mapping)
    [finding] = [f for f in found.findings if f.topic == VEGF_TOPIC]
    assert finding.state is State.INDETERMINATE and "specimen unknown" in finding.evidence.summary
    assert [e.message for e in found.errors if "entered-in-error" in e.message]


def test_an_available_specimen_still_decides_the_vegf_specimen(mapping: CompiledMapping) -> None:
    spec = {**PLASMA, "status": "available"}
    obs = observation(
        VEGF,
        valueQuantity={"value": 624, "unit": "pg/mL", "system": "http://unitsofmeasure.org", "code": "pg/mL"},
        specimen={"reference": "Specimen/spl"},
    )
    found = extract(make_record(obs, spec), mapping)
    assert _states(found, VEGF_TOPIC) == {State.PRESENT} and found.errors == []  # control


UNCODED: list[Any] = [None, {}, {"coding": []}, {"coding": [{"system": "http://x", "code": " "}]}]


@pytest.mark.parametrize("code", UNCODED)
def test_an_observation_naming_no_test_is_listed(mapping: CompiledMapping, code: Any) -> None:
    obs = observation(VEGF, valueQuantity={"value": 624, "unit": "pg/mL"})
    if code is None:
        del obs["code"]
    else:
        obs["code"] = code
    assert not observation_cannot_matter(obs, mapping)  # kept by the reader, so that it can be listed
    found = extract(make_record(obs), mapping)
    assert [e.message for e in found.errors if e.message.startswith("Observation has no code")]


@pytest.mark.parametrize("code", [{"text": "Body weight"}, {"coding": [{"system": "http://x", "code": "abc"}]}])
def test_an_observation_naming_an_unknown_test_is_not_listed(mapping: CompiledMapping, code: Any) -> None:
    obs = observation(VEGF, valueQuantity={"value": 70, "unit": "kg"}, code=code)
    assert extract(make_record(obs), mapping).errors == []  # control


def _imaging(code: Any) -> dict[str, Any]:
    report = {
        **_report("RAD", "", "Multiple sclerotic lesions in the pelvis."),
        "code": code,
    }
    if code is None:
        del report["code"]
    return report


@pytest.mark.parametrize("code", [None, {}])
def test_a_report_naming_no_study_is_listed_and_its_finding_read(mapping: CompiledMapping, code: Any) -> None:
    found = extract(make_record(_imaging(code)), mapping)
    assert [e.message for e in found.errors if e.message.startswith("DiagnosticReport has no code")]
    assert found.text_jobs  # its words are still read (the finding, modality unknown)


def test_a_report_naming_its_study_is_not_listed(mapping: CompiledMapping) -> None:
    assert extract(make_record(_imaging({"text": "CT whole body"})), mapping).errors == []  # control
