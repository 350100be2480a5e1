"""Which specimen a result was measured on, and which test it is (issue #8, independent probe).

codes.md binds MAJ-5 to LOINC 75628-8 "Vascular endothelial growth factor A … in Serum or Plasma", and
criteria.md §4 defines only the plasma and serum cut-offs: a VEGF measured in pleural fluid, CSF or urine
is another test, and so are VEGF-B, -C and -D (VEGF-D is a lymphangioleiomyomatosis test). Such a result
is reported and not used; it never makes VEGF elevation present. The same holds for every rule read on
blood (a pleural-fluid albumin is no serum albumin), while a urine rule keeps its urine results.
"""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.extract import extract
from tests.conftest import diagnostic_report, make_record, observation

SCT, UCUM, V2 = "http://snomed.info/sct", "http://unitsofmeasure.org", "http://terminology.hl7.org/CodeSystem/v2-0487"
LOCAL = "https://lab.example-hospital.org/codes"


def pg(value: float) -> dict[str, Any]:
    return {"value": value, "unit": "pg/mL", "system": UCUM, "code": "pg/mL"}


def specimen(sid: str, system: str | None, code: str | None, text: str | None = None) -> dict[str, Any]:
    type_: dict[str, Any] = {}
    if code:
        type_["coding"] = [{"system": system, "code": code}]
    if text:
        type_["text"] = text
    return {"resourceType": "Specimen", "id": sid, "type": type_}


def local(display: str) -> dict[str, Any]:
    return {"coding": [{"system": LOCAL, "code": "X1", "display": display}], "text": display}


def vegf_findings(mapping, *resources: dict[str, Any]):
    ex = extract(make_record(*resources), mapping)
    return ex, [f for f in ex.findings if f.topic == "vegf_elevation"]


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        (specimen("s1", SCT, "418564007", "Pleural fluid"), "pleural fluid"),
        (specimen("s1", SCT, "258450006"), "cerebrospinal fluid"),
        (specimen("s1", None, None, "Ascitic fluid"), "Ascitic fluid"),
        (specimen("s1", V2, "UR"), "urine"),
        (specimen("s1", None, None, "Моча"), "Моча"),
    ],
)
def test_a_vegf_on_a_fluid_that_is_not_blood_is_reported_and_not_used(mapping, spec, named):
    ex, found = vegf_findings(
        mapping, spec, observation("75628-8", valueQuantity=pg(3500), specimen={"reference": "Specimen/s1"})
    )
    assert found == []
    (error,) = ex.errors
    assert f"specimen {named!r}" in error.message and "vegf" in error.message and "not used" in error.message


@pytest.mark.parametrize(
    "name",
    [
        "VEGF, pleural fluid",
        "VEGF, urine",
        "VEGF in CSF",
        "VEGF (плевральная жидкость)",
        # probe39: Russian and Kazakh names of other fluids (3,500 pg/mL made a patient "met")
        "ФРЭС-А, выпот",
        "ФРЭС-А (перикардиальная жидкость)",
        "VEGF, плевра сұйықтығы",
        "ФРЭС-А, несеп",
        "VEGF, pericardial fluid",
    ],
)
def test_a_vegf_whose_name_says_another_fluid_is_not_used(mapping, name):
    ex, found = vegf_findings(mapping, observation(local(name), valueQuantity=pg(3500)))
    assert found == [] and len(ex.errors) == 1 and "not used" in ex.errors[0].message


@pytest.mark.parametrize(
    "name", ["VEGF-D, serum", "VEGF-C", "Vascular endothelial growth factor D", "VEGF D", "VEGFR2", "VEGF receptor 1"]
)
def test_other_vegf_proteins_are_not_vegf_a(mapping, name):
    ex, found = vegf_findings(mapping, observation(local(name), valueQuantity=pg(1450)))
    assert found == [] and ex.errors == []


@pytest.mark.parametrize("name", ["VEGF-A, serum (send-out)", "VEGF, plasma", "Vascular endothelial growth factor A"])
def test_vegf_a_by_name_is_still_read(mapping, name):
    _, found = vegf_findings(mapping, observation(local(name), valueQuantity=pg(1450)))
    assert [f.state for f in found] == [State.PRESENT]


@pytest.mark.parametrize(("code", "state"), [("PLAS", State.PRESENT), ("SER", State.ABSENT)])
def test_hl7_v2_specimen_codes_name_plasma_and_serum(mapping, code, state):
    # 300 pg/mL: above the plasma cut-off (200), below the serum one (1000) (criteria.md §4)
    _, found = vegf_findings(
        mapping,
        specimen("s1", V2, code),
        observation("75628-8", valueQuantity=pg(300), specimen={"reference": "Specimen/s1"}),
    )
    assert [f.state for f in found] == [state]


def test_a_pleural_fluid_albumin_is_no_serum_albumin(mapping):
    ex = extract(
        make_record(
            specimen("s1", SCT, "418564007", "Pleural fluid"),
            observation(
                "1751-7",
                valueQuantity={"value": 2.1, "unit": "g/dL", "system": UCUM, "code": "g/dL"},
                specimen={"reference": "Specimen/s1"},
            ),
        ),
        mapping,
    )
    assert ex.measurements == [] and len(ex.errors) == 1 and "albumin" in ex.errors[0].message


def test_a_urine_immunofixation_keeps_its_urine_specimen(mapping):
    ex = extract(
        make_record(
            specimen("s1", SCT, "122575003", "Urine"),
            observation("13440-3", valueString="IgA lambda", specimen={"reference": "Specimen/s1"}),
        ),
        mapping,
    )
    assert ex.errors == []
    assert [f.state for f in ex.findings if f.topic == "monoclonal_plasma_cell_disorder"] == [State.PRESENT]


def test_a_result_contained_in_its_report_is_read_and_cites_the_report(mapping):
    report = diagnostic_report("dr1", "Send-out VEGF")
    report["contained"] = [
        observation("75628-8", "cv", valueQuantity=pg(450), specimen={"reference": "#cs"}),
        specimen("cs", SCT, "119361006"),
    ]
    report["result"] = [{"reference": "#cv"}]
    ex = extract(make_record(report), mapping)
    (found,) = [f for f in ex.findings if f.topic == "vegf_elevation"]
    assert found.state is State.PRESENT and found.specimen == "plasma"
    assert found.evidence.reference == "DiagnosticReport/dr1"


def test_a_contained_result_not_listed_in_result_is_not_read(mapping):
    report = diagnostic_report("dr1", "Send-out VEGF")
    report["contained"] = [observation("75628-8", "cv", valueQuantity=pg(450))]
    ex = extract(make_record(report), mapping)
    assert [f for f in ex.findings if f.topic == "vegf_elevation"] == []


@pytest.mark.parametrize(
    ("text", "state"),
    [("VEGF, plasma", State.PRESENT), ("VEGF, serum", State.ABSENT), ("VEGF (плазма крови)", State.PRESENT)],
)
def test_a_code_text_beside_the_loinc_coding_names_the_specimen(mapping, text, state):
    # probe19: the LOINC display "... in Serum or Plasma" joined to the code.text named both, so a
    # plasma VEGF of 500 pg/mL (>= 200) was indeterminate; each name is judged on its own
    o = observation("75628-8", "v1", valueQuantity=pg(500))
    o["code"]["coding"][0]["display"] = "Vascular endothelial growth factor [Mass/volume] in Serum or Plasma"
    o["code"]["text"] = text
    [f] = [f for f in extract(make_record(o), mapping).findings if f.topic == "vegf_elevation"]
    assert f.state is state
