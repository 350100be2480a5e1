"""DiagnosticReports: imaging (MAJ-4 sclerotic lesions, organomegaly) and pathology (MAJ-3 Castleman)
findings from conclusion codes and report text.

criteria.md §2: MAJ-3 Castleman only by histology ("imaging lymphadenopathy != Castleman"); MAJ-4 from
imaging reports, with the modality recorded; §6: a negative on plain radiographs only is low-grade
evidence of absence. A report still being registered, cancelled or entered in error says nothing."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import pytest

from poems_fhir.criteria.model import State, Strength
from poems_fhir.mapping.extract import extract
from poems_fhir.mapping.rules import load_mapping
from tests.conftest import make_record

SCT = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
SCLEROTIC = {"coding": [{"system": ICD10CM, "code": "M85.89"}]}
CASTLEMAN = {"coding": [{"system": ICD10CM, "code": "D47.Z2"}]}
HEPATOMEGALY = {"coding": [{"system": SCT, "code": "80515008"}]}
XRAY_NOTE = "excluded by radiograph only: plain radiographs miss small sclerotic lesions; CT-based imaging needed"


def report(text: str | None = None, *, category: list[dict[str, Any]] | None = None, **kw: Any) -> dict[str, Any]:
    r: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "id": "d1",
        "status": "final",
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-05",
        "code": {"text": text} if text else {},
    }
    if category:
        r["category"] = category
    r.update(kw)
    return r


def run(mapping, resource: dict[str, Any]):
    ex = extract(make_record(resource), mapping)
    assert ex.errors == []
    return ex, ex.findings


@pytest.mark.parametrize("name", ["CT whole body", "Skeletal survey", "PET-CT"])
def test_a_coded_sclerotic_lesion_on_imaging_is_present(mapping, name):
    _, [f] = run(mapping, report(name, conclusionCode=[SCLEROTIC]))
    assert (f.topic, f.state, f.strength, f.note) == ("sclerotic_bone_lesions", State.PRESENT, Strength.STRONG, None)
    assert f.evidence.summary == f"{name}: sclerotic bone lesion"
    assert f.evidence.code == f"{ICD10CM}|M85.89" and f.evidence.effective == dt.date(2024, 1, 5)
    assert f.evidence.reference == "DiagnosticReport/d1"
    assert (f.source_rule, f.is_assertion, f.from_text) == ("sclerotic_bone_lesion", False, False)


def test_the_first_display_labels_a_report_without_text(mapping):
    r = report(
        code={"coding": [{"system": SCT, "code": "77477000", "display": "Computerized axial tomography"}]},
        conclusionCode=[SCLEROTIC],
    )
    _, [f] = run(mapping, r)
    assert f.evidence.summary == "Computerized axial tomography: sclerotic bone lesion"


def test_a_coded_organ_finding_keeps_its_component_once_per_topic(mapping):
    r = report("CT abdomen", conclusionCode=[HEPATOMEGALY, {"coding": [{"system": ICD10CM, "code": "R16.0"}]}])
    _, found = run(mapping, r)
    assert [(f.topic, f.component, f.state, f.evidence.summary) for f in found] == [
        ("organomegaly", "liver", State.PRESENT, "CT abdomen: hepatomegaly")
    ]


def test_two_coded_organs_of_one_report_are_two_parts(mapping):
    # organomegaly combines liver, spleen and nodes as parts: a CT coding both keeps both
    spleen = {"coding": [{"system": SCT, "code": "16294009"}]}
    _, found = run(mapping, report("CT abdomen", conclusionCode=[HEPATOMEGALY, spleen]))
    assert [(f.topic, f.component, f.state) for f in found] == [
        ("organomegaly", "liver", State.PRESENT),
        ("organomegaly", "spleen", State.PRESENT),
    ]


def test_a_coded_finding_is_not_read_again_from_the_conclusion_text(mapping):
    _, found = run(mapping, report("CT abdomen", conclusionCode=[HEPATOMEGALY], conclusion="Hepatomegaly."))
    assert [(f.topic, f.from_text) for f in found] == [("organomegaly", False)]


@pytest.mark.parametrize(
    ("name", "strength", "note"),
    [
        ("Skeletal survey", Strength.WEAK, XRAY_NOTE),
        ("X-ray pelvis", Strength.WEAK, XRAY_NOTE),
        ("CT whole body", Strength.STRONG, None),
    ],
)
def test_a_negative_on_plain_radiographs_is_a_weak_negative(mapping, name, strength, note):
    _, [f] = run(mapping, report(name, conclusion="No sclerotic bone lesions."))
    assert (f.topic, f.state, f.strength, f.note) == ("sclerotic_bone_lesions", State.ABSENT, strength, note)
    assert f.from_text is True and f.evidence.effective == dt.date(2024, 1, 5)


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("Lymph node biopsy", None),
        ("Lymph node histology", None),
        ("Surgical pathology report", None),
        ("Lymph node", [{"coding": [{"system": V2_0074, "code": "SP"}]}]),
        ("Lymph node", [{"coding": [{"system": V2_0074, "code": "PATH"}]}]),
        ("Lymph node", [{"coding": [{"system": V2_0074, "code": "SP", "display": "Surgical Pathology"}]}]),
        ("Lymph node", [{"coding": [{"system": V2_0074, "code": "CP", "display": "Cytopathology"}]}]),
        ("Lymph node", [{"coding": [{"system": V2_0074, "code": "CP"}]}]),
        (
            "Lymph node",
            [{"coding": [{"system": V2_0074, "code": "LAB"}]}, {"coding": [{"system": V2_0074, "code": "SP"}]}],
        ),
    ],
)
def test_castleman_from_a_pathology_report(mapping, name, category):
    _, [f] = run(mapping, report(name, category=category, conclusionCode=[CASTLEMAN]))
    assert (f.topic, f.state, f.source_rule) == ("castleman_disease", State.PRESENT, "castleman_disease")
    assert f.evidence.summary == f"{name}: castleman disease"
    assert f.evidence.code == f"{ICD10CM}|D47.Z2"


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("CT chest", None),  # imaging: lymphadenopathy is not Castleman
        ("Lymph node", [{"coding": [{"system": V2_0074, "code": "LAB"}]}]),
        ("Lymph node", [{"coding": [{"system": V2_0074, "code": "HM", "display": "Hematology"}]}]),
    ],
)
def test_castleman_never_from_imaging_or_a_laboratory_report(mapping, name, category):
    _, found = run(mapping, report(name, category=category, conclusionCode=[CASTLEMAN]))
    assert [f for f in found if f.topic == "castleman_disease"] == []


def test_a_sclerotic_lesion_code_on_a_pathology_report_is_not_an_imaging_finding(mapping):
    _, found = run(mapping, report("Bone biopsy", conclusionCode=[SCLEROTIC]))
    assert found == []


@pytest.mark.parametrize("status", ["registered", "cancelled", "entered-in-error"])
def test_a_report_not_issued_says_nothing(mapping, status):
    ex, found = run(
        mapping, report("CT abdomen", status=status, conclusionCode=[HEPATOMEGALY], conclusion="Hepatomegaly.")
    )
    assert found == [] and ex.notes == []


@pytest.mark.parametrize("status", ["preliminary", "final", "amended"])
def test_a_plain_text_report_body_is_read(mapping, status):
    data = base64.b64encode("Hepatomegaly.".encode()).decode()
    r = report(
        "CT abdomen",
        status=status,
        presentedForm=[
            {"contentType": "application/pdf", "data": base64.b64encode(b"Splenomegaly.").decode()},
            "not a form",
            {"contentType": "text/plain; charset=utf-8", "data": "%%% not base64 %%%"},
            {"contentType": "text/plain; charset=utf-8", "data": data},
        ],
    )
    ex = extract(make_record(r), mapping)
    # the broken attachment is listed (probe32: it vanished), the readable one read
    assert [e.message.split(" (")[0] for e in ex.errors] == ["presentedForm[2]: data is not base64"]
    [f] = [f for f in ex.findings if f.evidence.reference == "DiagnosticReport/d1"]
    assert (f.topic, f.component, f.state, f.from_text) == ("organomegaly", "liver", State.PRESENT, True)
    assert f.evidence.summary == 'CT abdomen: "Hepatomegaly." (from report text, presentedForm[3])'
    assert f.evidence.effective == dt.date(2024, 1, 5)


def test_the_conclusion_of_a_laboratory_report_is_read_as_report_text(mapping):
    _, [f] = run(mapping, report("Basic metabolic panel", conclusion="Hepatomegaly."))
    assert (f.topic, f.component, f.state, f.from_text) == ("organomegaly", "liver", State.PRESENT, True)
    assert f.evidence.summary == 'Basic metabolic panel: "Hepatomegaly." (from report text, conclusion)'
    assert f.evidence.effective == dt.date(2024, 1, 5) and f.evidence.reference == "DiagnosticReport/d1"


def test_a_radiograph_negative_names_its_source_text(mapping):
    _, [f] = run(mapping, report("Skeletal survey", conclusion="No sclerotic bone lesions."))
    assert f.evidence.summary == (
        "Skeletal survey: \"No sclerotic bone lesions.\" (from report text, conclusion; negated ('No'))"
    )


def test_an_imaging_report_without_a_name_is_called_report(mapping):
    r = report(code={"coding": [{"system": SCT, "code": "77477000"}]}, conclusionCode=[SCLEROTIC])
    _, [f] = run(mapping, r)
    assert f.evidence.summary == "report: sclerotic bone lesion"


def test_a_coded_conclusion_wins_over_its_own_words_unless_they_deny_it(mapping):
    # words that repeat what the code states add nothing: the code decides
    r = report("CT abdomen", conclusionCode=[HEPATOMEGALY], conclusion="Hepatomegaly, liver span 19 cm.")
    _, found = run(mapping, r)
    assert [(f.topic, f.state, f.from_text) for f in found] == [("organomegaly", State.PRESENT, False)]
    # probe88 D10: words that only suggest it make it a doubt, naming both
    r = report("CT abdomen", conclusionCode=[HEPATOMEGALY], conclusion="Possible hepatomegaly.")
    _, found = run(mapping, r)
    assert [(f.topic, f.state, f.from_text) for f in found] == [("organomegaly", State.INDETERMINATE, False)]
    assert "its code states it and its own text only suggests it" in (found[0].note or "")
    # probe86 D1: words that deny it conflict with it - one indeterminate finding naming both
    r = report("CT abdomen", conclusionCode=[HEPATOMEGALY], conclusion="No hepatomegaly.")
    _, found = run(mapping, r)
    assert [(f.topic, f.state, f.from_text) for f in found] == [("organomegaly", State.INDETERMINATE, False)]
    assert found[0].note is not None
    assert "its code states it and its own text denies it" in found[0].note and "No hepatomegaly." in found[0].note


def test_the_words_of_a_coded_conclusion_are_not_read_again(mapping):
    # both organs are coded; the text repeats one of them: it adds nothing from text
    r = report(
        "CT abdomen",
        conclusionCode=[HEPATOMEGALY, {"coding": [{"system": SCT, "code": "16294009"}]}],
        conclusion="Splenomegaly.",
    )
    _, found = run(mapping, r)
    assert found and all(not f.from_text for f in found)
    assert {(f.topic, f.state) for f in found} == {("organomegaly", State.PRESENT)}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    "data",
    [
        b64("Hepatomegaly. Résumé".encode("latin-1")),  # not UTF-8: read with the bad byte replaced
        "\n".join([b64(b"Hepatomegaly.")[:8], b64(b"Hepatomegaly.")[8:]]),  # base64 broken over lines
    ],
)
def test_a_plain_text_body_is_read_leniently(mapping, data):
    r = report("CT abdomen", presentedForm=[{"contentType": "text/plain", "data": data}])
    ex = extract(make_record(r), mapping)
    [f] = ex.findings
    assert (f.component, f.state, f.from_text) == ("liver", State.PRESENT, True)
    # the replaced byte is listed (probe136 D3: never silent), in another sentence than the finding
    replaced = [e.message for e in ex.errors]
    assert replaced == [] if "\n" in data else "read as UTF-8 with 2 undecodable characters replaced" in replaced[0]


def test_a_radiograph_body_negative_is_weak_too(mapping):
    r = report(
        "Skeletal survey", presentedForm=[{"contentType": "text/plain", "data": b64(b"No sclerotic bone lesions.")}]
    )
    _, [f] = run(mapping, r)
    assert (f.topic, f.state, f.strength, f.note) == ("sclerotic_bone_lesions", State.ABSENT, Strength.WEAK, XRAY_NOTE)


def test_castleman_from_the_body_of_a_pathology_report(mapping):
    r = report(
        "Lymph node biopsy",
        presentedForm=[{"contentType": "text/plain", "data": b64(b"Castleman disease, hyaline vascular type.")}],
    )
    _, found = run(mapping, r)
    assert [(f.topic, f.state) for f in found] == [("castleman_disease", State.PRESENT)]


def test_the_body_of_a_coded_report_adds_nothing_for_what_is_coded(mapping):
    r = report(
        "CT abdomen",
        conclusionCode=[HEPATOMEGALY, {"coding": [{"system": SCT, "code": "16294009"}]}],
        presentedForm=[{"contentType": "text/plain", "data": b64(b"Splenomegaly.")}],
    )
    _, found = run(mapping, r)
    assert found and all(not f.from_text for f in found)


SITE = """format: poems-fhir-mapping/1
name: site
version: '1'
conditions:
  - id: castleman_disease
    add_codes: [{system: "https://h.example/dx", code: LN, verification: LOCAL}]
  - id: lymphadenopathy
    add_codes: [{system: "https://h.example/dx", code: LN, verification: LOCAL}]
"""


def test_each_rule_of_a_conclusion_code_is_judged_on_its_own_source(tmp_path):
    # one local code mapped to Castleman (histology only) and to lymphadenopathy: on a CT the
    # lymphadenopathy stands although the Castleman rule cannot
    site = tmp_path / "site.yaml"
    site.write_text(SITE, encoding="utf-8")
    r = report("CT chest", conclusionCode=[{"coding": [{"system": "https://h.example/dx", "code": "LN"}]}])
    _, found = run(load_mapping([site]), r)
    assert [(f.topic, f.component, f.source_rule) for f in found] == [
        ("organomegaly", "lymph_nodes", "lymphadenopathy")
    ]
