"""probe99 D2: a resource (or an element the mapping reads) carrying a modifierExtension poems-fhir does not
understand is not read as if the extension were not there (FHIR R4 Extensibility: a reader SHALL NOT process
it as normal). It is refused and listed with the url and what to do; a site may declare a url harmless in its
mapping file (``understood_modifier_extensions``)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from poems_fhir.criteria.model import Criterion, State, Strength
from poems_fhir.fhir.read import read_paths
from poems_fhir.mapping.extract import extract
from poems_fhir.mapping.rules import load_mapping
from tests.conftest import diagnostic_report, make_record, observation

FIXTURES = Path(__file__).parent.parent / "fixtures" / "probe99"
BUNDLE = FIXTURES / "modifier-extension-bundle.json"
CLONE = Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value
ORGANS = Criterion.ORGANOMEGALY.value
INVALIDATED = "https://lab.example.org/fhir/StructureDefinition/result-invalidated"
NEGATED = "https://ehr.example.org/fhir/StructureDefinition/negated"
POLY = Criterion.THROMBOCYTOSIS_POLYCYTHEMIA.value
UCUM = "http://unitsofmeasure.org"


def modifier(url):
    return [{"url": url, "valueBoolean": True}]


def extracted(mapping, path=BUNDLE):
    (record,) = read_paths([path]).records
    return extract(record, mapping)


def test_the_probe_bundle_reads_neither_the_invalidated_result_nor_the_negated_condition(mapping):
    ex = extracted(mapping)
    assert [f.topic for f in ex.findings if f.topic in (CLONE, ORGANS)] == []
    messages = {e.resource: e.message for e in ex.errors}
    assert messages["Observation/ife"].startswith(
        f"Observation.modifierExtension[0] {INVALIDATED!r} is not understood: it changes the meaning"
    )
    assert "list its url under `understood_modifier_extensions`" in messages["Observation/ife"]
    assert messages["Condition/spl"].startswith(f"Condition.modifierExtension[0] {NEGATED!r} is not understood")
    # the polyneuropathy beside them is read
    assert [f.state for f in ex.findings if f.topic == Criterion.POLYNEUROPATHY.value] == [State.PRESENT]


def test_a_site_may_declare_a_modifier_extension_harmless(mapping, tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text(
        f"format: poems-fhir-mapping/1\nname: site\nversion: '1'\nunderstood_modifier_extensions:\n  - {INVALIDATED}\n",
        encoding="utf-8",
    )
    ex = extracted(load_mapping([site]))
    assert [f.state for f in ex.findings if f.topic == CLONE] == [State.PRESENT]
    assert [e.resource for e in ex.errors] == ["Condition/spl"]  # the other url is still not understood


def test_a_modifier_extension_on_a_component_refuses_the_result(mapping):
    ife = observation(
        "25700-6",
        "ife",
        valueString="IgG kappa",
        component=[{"code": {"text": "heavy chain"}, "valueString": "IgG", "modifierExtension": modifier(NEGATED)}],
    )
    ex = extract(make_record(ife), mapping)
    assert ex.findings == []
    (error,) = ex.errors
    assert error.message.startswith(f"Observation.component[0].modifierExtension[0] {NEGATED!r} is not understood")


def test_a_modifier_extension_without_url_is_not_understood(mapping):
    ife = observation("25700-6", "ife", valueString="IgG kappa", modifierExtension=[{"valueBoolean": True}])
    (error,) = extract(make_record(ife), mapping).errors
    assert error.message.startswith("Observation.modifierExtension[0] has no url")


def test_a_modifier_extension_on_an_element_not_read_costs_nothing(mapping):
    ife = observation("25700-6", "ife", valueString="IgG kappa")
    ife["performer"] = [{"reference": "Practitioner/x"}]
    ife["contained"] = [{"resourceType": "Practitioner", "id": "x", "modifierExtension": modifier(NEGATED)}]
    ex = extract(make_record(ife), mapping)
    assert ex.errors == []
    assert [f.state for f in ex.findings if f.topic == CLONE] == [State.PRESENT]


def test_a_report_with_an_unknown_modifier_gives_no_contained_results(mapping):
    ife = observation("25700-6", "ife", valueString="IgG kappa")
    del ife["subject"]
    report = {
        "resourceType": "DiagnosticReport",
        "id": "rep",
        "status": "final",
        "code": {"text": "Immunofixation"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-02",
        "contained": [ife],
        "result": [{"reference": "#ife"}],
        "modifierExtension": modifier(INVALIDATED),
    }
    ex = extract(make_record(copy.deepcopy(report)), mapping)
    assert [f for f in ex.findings if f.topic == CLONE] == []
    assert [e.resource for e in ex.errors] == ["DiagnosticReport/rep"]
    del report["modifierExtension"]
    ex = extract(make_record(report), mapping)
    assert [f.state for f in ex.findings if f.topic == CLONE] == [State.PRESENT]


def test_the_fixture_is_valid_json():
    assert json.loads(BUNDLE.read_text(encoding="utf-8"))["resourceType"] == "Bundle"


def test_a_specimen_with_an_unknown_modifier_refuses_the_result_resting_on_it(mapping):
    vegf = observation(
        "75628-8",
        "vegf",
        valueQuantity={"value": 624, "unit": "pg/mL", "system": "http://unitsofmeasure.org", "code": "pg/mL"},
        specimen={"reference": "Specimen/s1"},
    )
    specimen = {
        "resourceType": "Specimen",
        "id": "s1",
        "subject": {"reference": "Patient/p1"},
        "type": {"text": "plasma"},
        "modifierExtension": modifier(INVALIDATED),
    }
    ex = extract(make_record(vegf, specimen), mapping)
    assert ex.findings == []
    (error,) = ex.errors
    assert error.message.startswith(f"its specimen Specimen/s1: Specimen.modifierExtension[0] {INVALIDATED!r}")


# --- the resources read beside a result (the leftovers of probe99 D2) ---------------------------------


def _with_patient_modifier(record, url):
    record.patient_resource = {**record.patient_resource, "modifierExtension": modifier(url)}
    return record


def test_a_patient_with_an_unknown_modifier_gives_no_sex_to_the_reference_ranges(mapping, tmp_path):
    # 162 g/L haemoglobin is above a woman's cut-off only: the Patient's sex decides, and it is not read
    hb = observation("718-7", "hb", valueQuantity={"value": 162, "unit": "g/L", "system": UCUM, "code": "g/L"})
    plain = extract(make_record(copy.deepcopy(hb), gender="female"), mapping)
    assert [f.state for f in plain.findings if f.topic == POLY] == [State.PRESENT] and plain.errors == []
    ex = extract(_with_patient_modifier(make_record(copy.deepcopy(hb), gender="female"), NEGATED), mapping)
    [f] = [f for f in ex.findings if f.topic == POLY]
    assert f.state is State.INDETERMINATE and f.note.startswith("sex not recorded (Patient.gender)")
    [error] = ex.errors
    assert (error.source, error.resource) == ("Patient/p1", "Patient/p1")
    assert error.message.startswith(f"Patient.modifierExtension[0] {NEGATED!r} is not understood")
    assert error.message.endswith("; its sex and birth date are not used")
    # a url the site declares harmless leaves the Patient read
    site = tmp_path / "site.yaml"
    site.write_text(
        f"format: poems-fhir-mapping/1\nname: site\nversion: '1'\nunderstood_modifier_extensions:\n  - {NEGATED}\n",
        encoding="utf-8",
    )
    ex = extract(_with_patient_modifier(make_record(copy.deepcopy(hb), gender="female"), NEGATED), load_mapping([site]))
    assert [f.state for f in ex.findings if f.topic == POLY] == [State.PRESENT] and ex.errors == []


def test_a_medication_with_an_unknown_modifier_refuses_the_administration_naming_it(mapping):
    medication = {
        "resourceType": "Medication",
        "id": "x",
        "code": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "358258"}]},
    }
    given = {
        "resourceType": "MedicationAdministration",
        "id": "m1",
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "medicationReference": {"reference": "Medication/x"},
        "effectiveDateTime": "2024-05-05",
    }
    read = extract(make_record(copy.deepcopy(medication), copy.deepcopy(given)), mapping)
    assert [e.agent for e in read.events] == ["bortezomib"] and read.errors == []
    ex = extract(make_record({**medication, "modifierExtension": modifier(INVALIDATED)}, given), mapping)
    assert ex.events == []
    [error] = ex.errors
    assert error.resource == "MedicationAdministration/m1"
    assert error.message.startswith(
        f"the Medication it names (Medication/x) is not read: Medication.modifierExtension[0] {INVALIDATED!r} is not "
        "understood"
    )


def test_a_refutation_resting_on_a_report_with_an_unknown_modifier_is_low_grade(mapping):
    ct = diagnostic_report("c2", "CT whole body")
    refuted = {
        "resourceType": "Condition",
        "id": "c1",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M85.89"}]},
        "verificationStatus": {"coding": [{"code": "refuted"}]},
        "recordedDate": "2024-01-01",
        "evidence": [{"detail": [{"reference": "DiagnosticReport/c2"}]}],
    }
    [strong] = [
        f
        for f in extract(make_record(copy.deepcopy(ct), copy.deepcopy(refuted)), mapping).findings
        if f.evidence.reference == "Condition/c1"
    ]
    assert (strong.state, strong.strength) == (State.ABSENT, Strength.STRONG)
    ex = extract(make_record({**ct, "modifierExtension": modifier(INVALIDATED)}, refuted), mapping)
    [f] = [f for f in ex.findings if f.evidence.reference == "Condition/c1"]
    assert (f.state, f.strength) == (State.ABSENT, Strength.WEAK)
    assert f.note.startswith("refuted on DiagnosticReport/c2 (a modifier extension not understood) only")
    assert [e.resource for e in ex.errors] == ["DiagnosticReport/c2"]  # the report itself is listed
