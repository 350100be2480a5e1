"""Versions that are two results, and names read as another test (probe125 R7, R8, R9, G10, R11).

One accession on two tubes of other types is two draws (R7); one RIS accession on two studies whose names give
other body regions is two studies (R8). A local VEGF name that mentions a receptor as context is still VEGF
(R9, G10), and an allogeneic transplant named by its donor ("MUD HSCT", «ТГСК от HLA-идентичного сиблинга») is not
the autologous treatment (R11). Each positive control beside them keeps the reading that was right."""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.criteria.engine import evaluate
from poems_fhir.criteria.model import Criterion, State
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.mapping.corrections import replaced_results
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record, observation
from tests.mapping.test_extract import run
from tests.mapping.test_fix123e_codes import _procedure, _transplants

VEGF = "75628-8"
LIS = "urn:lab:acc"
RIS = "urn:ris:accession"
SNOMED = "http://snomed.info/sct"
PLASMA = "119361006"
SERUM = "119364003"
VEGF_MAJOR = Criterion.VEGF_ELEVATION.value
BONE = Criterion.SCLEROTIC_BONE_LESIONS.value


def state(resources: list[dict[str, Any]], criterion: str, mapping) -> State:
    out = extract(make_record(*resources), mapping)
    return evaluate("Patient/p1", out.findings, MAYO, None).criteria[criterion].state


def pairs(*resources: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(f"{r['resourceType']}/{r['id']}", r) for r in resources]


# --- R7: one accession, a plasma and a serum tube ---------------------------------------------------------------


def tube(sid: str, kind: str, accession: str = "ACC-888", **more: Any) -> dict[str, Any]:
    return {
        "resourceType": "Specimen",
        "id": sid,
        "type": {"coding": [{"system": SNOMED, "code": kind}]},
        "accessionIdentifier": {"system": LIS, "value": accession},
        **more,
    }


def vegf(rid: str, value: float, status: str, issued: str, sid: str, name: str = "VEGF", **more: Any) -> dict:
    return observation(
        {"coding": [{"system": "http://loinc.org", "code": VEGF}], "text": name},
        rid,
        status=status,
        effectiveDateTime="2023-03-01",
        issued=issued,
        specimen={"reference": f"Specimen/{sid}"},
        valueQuantity={"value": value, "unit": "pg/mL"},
        **more,
    )


@pytest.mark.parametrize("status", ["corrected", "amended"])
@pytest.mark.parametrize("names", [("VEGF, plasma", "VEGF, serum"), ("VEGF", "VEGF")])
def test_a_serum_correction_under_the_plasma_s_accession_is_another_draw(mapping, status, names):
    """probe125 R7 (W13, W22, W24): the plasma 650 stands beside a 'corrected' serum 300 of one accession."""
    resources = [
        tube("sp", PLASMA),
        tube("ss", SERUM),
        vegf("o1", 650, "final", "2023-03-02T10:00:00Z", "sp", names[0]),
        vegf("o2", 300, status, "2023-03-04T10:00:00Z", "ss", names[1]),
    ]
    assert replaced_results(pairs(*resources), resolve=make_record(*resources).resolve) == {}
    assert state(resources, VEGF_MAJOR, mapping) is State.PRESENT
    # a preliminary plasma and a final serum of one accession: the plasma is no preliminary of the serum
    prelim = [*resources[:2], {**resources[2], "status": "preliminary"}, {**resources[3], "status": "final"}]
    assert "Observation/o1" not in replaced_results(pairs(*prelim), resolve=make_record(*prelim).resolve)


def test_positive_controls_one_type_under_one_accession_is_still_one_draw(mapping):
    """The correction of one tube (plasma and plasma, or plasma said in SNOMED and in HL7 v2) still replaces the
    original; and a correction that shares the result's own identifier fixes its specimen type."""
    resources = [
        tube("s1", PLASMA),
        tube("s2", PLASMA),
        vegf("o1", 650, "final", "2023-03-02T10:00:00Z", "s1"),
        vegf("o2", 150, "corrected", "2023-03-04T10:00:00Z", "s2"),
    ]
    assert state(resources, VEGF_MAJOR, mapping) is State.ABSENT
    v2 = {
        **tube("s2", PLASMA),
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0487", "code": "PLAS"}]},
    }
    assert state([resources[0], v2, *resources[2:]], VEGF_MAJOR, mapping) is State.ABSENT
    same = [{"system": "urn:lab:filler", "value": "F-1"}]
    fixed = [
        tube("s1", SERUM),
        tube("s2", PLASMA),
        vegf("o1", 650, "final", "2023-03-02T10:00:00Z", "s1", identifier=same),
        vegf("o2", 150, "corrected", "2023-03-04T10:00:00Z", "s2", identifier=same),
    ]
    assert "Observation/o1" in replaced_results(pairs(*fixed), resolve=make_record(*fixed).resolve)


# --- R8: one RIS accession, two regions -------------------------------------------------------------------------


def study(rid: str, status: str, name: str, conclusion: str, issued: str, code: str = "77477000") -> dict[str, Any]:
    return {
        "resourceType": "DiagnosticReport",
        "id": rid,
        "status": status,
        "identifier": [{"system": RIS, "value": "RIS-43"}],
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD"}]}],
        "code": {"coding": [{"system": SNOMED, "code": code}], "text": name},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-02-10",
        "issued": issued,
        "conclusion": conclusion,
    }


@pytest.mark.parametrize(
    ("first", "later", "lesion", "other"),
    [
        ("final", "amended", "CT chest", "CT abdomen and pelvis"),
        ("preliminary", "final", "CT chest", "CT abdomen and pelvis"),
        ("final", "amended", "PET-CT whole body", "PET-CT brain"),
        ("final", "corrected", "КТ органов грудной клетки", "КТ органов брюшной полости"),
        ("final", "amended", "Кеуде қуысының КТ", "Құрсақ қуысының КТ"),
    ],
)
def test_an_amended_report_of_another_region_under_one_accession_is_another_study(mapping, first, later, lesion, other):
    """probe125 R8 (W17, W18, W25): the chest's T6 lesion is no earlier version of the abdomen's report."""
    chest = study("c", first, lesion, "Sclerotic lesion in the T6 vertebral body.", "2024-02-10T09:00:00Z")
    abdomen = study("a", later, other, "Liver and spleen normal. No ascites.", "2024-02-11T09:00:00Z")
    assert replaced_results(pairs(chest, abdomen)) == {}
    assert state([chest, abdomen], BONE, mapping) is State.PRESENT


def test_positive_controls_one_region_named_two_ways_is_still_one_study(mapping):
    """probe124 D7 stays: a wet read and its amendment of one region, or a name with no region, are versions."""
    for wet_name, amended_name in (
        ("CT CAP w contrast (wet read)", "CT chest, abdomen and pelvis with contrast"),
        ("CT chest (wet read)", "CT thorax with contrast"),
        ("КТ ОГК (предварительно)", "КТ органов грудной клетки"),
    ):
        wet = study("w", "preliminary", wet_name, "Sclerotic focus in T11.", "2024-02-10T09:00:00Z")
        amended = study("m", "amended", amended_name, "No sclerotic bone lesions.", "2024-02-11T09:00:00Z")
        assert "DiagnosticReport/w" in replaced_results(pairs(wet, amended)), wet_name
        # the amended denial stands alone (a chest-only field is a low-grade negative, not a finding)
        assert state([wet, amended], BONE, mapping) in (State.ABSENT, State.INDETERMINATE), wet_name


# --- R9, G10: a receptor named as the VEGF test's context; an isoform's name -----------------------------------


def local_vegf(name: str, value: float, rid: str) -> dict[str, Any]:
    """A lab's own code named ``name``, in pg/mL (no LOINC: the name alone says the test)."""
    coding = {"system": "urn:oid:1.2.643.5.1.13.99", "code": rid.upper(), "display": name}
    return observation(
        {"coding": [coding], "text": name},
        rid,
        effectiveDateTime="2024-01-02",
        valueQuantity={"value": value, "unit": "pg/mL"},
    )


VEGF_WITH_RECEPTOR_CONTEXT = [
    "VEGF-A (лиганд рецептора VEGFR-2), плазма",
    "VEGF-A plasma (ELISA, receptor-binding assay)",
    "VEGF-A, plasma (receptor-binding isoform VEGF165)",
    "VEGF-A, VEGFR-2 ligand, plasma",
    "VEGF-A (ligand of VEGF receptors 1 and 2), plasma",
    "VEGF-A (binds VEGFR-1 and VEGFR-2), plasma",
    "ФРЭС-А (связывающий рецепторы VEGFR-1/2), плазма",
    "Фактор роста эндотелия сосудов A (рецептор-связывающая изоформа), плазма",
    "VEGF-A (VEGFR-2 рецепторының лиганды), плазма",  # Kazakh (UNVERIFIED)
]
VEGF_ISOFORMS = ["VEGF165, plasma", "VEGF-A165, plasma", "VEGF 121, plasma", "VEGF-A 165 (ELISA), плазма"]
# the receptor is the test, whatever else its name says: still not VEGF
STILL_RECEPTORS = [
    "Soluble VEGF receptor-1 (ligand trap), plasma",
    "sVEGFR-2 (VEGF-binding), serum",
    "VEGF, soluble receptor 1, plasma",
    "VEGF receptor 2 (KDR), ligand binding, plasma",
    "Растворимый рецептор VEGF 1 типа (лиганд VEGF-A), плазма",
    "VEGF165b, plasma",
]


@pytest.mark.parametrize("name", VEGF_WITH_RECEPTOR_CONTEXT + VEGF_ISOFORMS)
def test_a_vegf_name_with_a_receptor_as_context_or_an_isoform_is_vegf(mapping, name):
    """probe125 R9 (V04, V15, V16), G10 (V13): plasma VEGF-A 650 under a local code is MAJ-5 present."""
    assert [r.spec.id for r in mapping.observation_rules_by_text(name)] == ["vegf"]
    assert state([local_vegf(name, 650, "v1")], VEGF_MAJOR, mapping) is State.PRESENT


@pytest.mark.parametrize("name", STILL_RECEPTORS)
def test_positive_controls_a_receptor_named_with_its_ligand_is_still_the_receptor(mapping, name):
    assert mapping.observation_rules_by_text(name) == []
    assert state([local_vegf(name, 3100, "r1"), local_vegf("VEGF плазмы", 120, "v1")], VEGF_MAJOR, mapping) is (
        State.ABSENT
    )


def test_a_bad_not_synonym_contexts_pattern_is_refused_at_load_and_a_site_may_add_its_own(tmp_path):
    from poems_fhir.mapping.rules import MappingError, load_mapping
    from tests.mapping.test_rules import SITE_HEADER, write

    bad = write(tmp_path, SITE_HEADER + '\nobservations:\n  - id: vegf\n    not_synonym_contexts: ["(lig"]\n', "b.yaml")
    with pytest.raises(MappingError) as err:
        load_mapping([bad])
    assert "not_synonym_contexts" in str(err.value) and "invalid regular expression" in str(err.value)
    name = "VEGF-A (target of the receptor trap aflibercept), plasma"
    site = write(
        tmp_path,
        SITE_HEADER + '\nobservations:\n  - id: vegf\n    not_synonym_contexts: ["target of [^)]*"]\n',
        "s.yaml",
    )
    assert [r.spec.id for r in load_mapping([site]).observation_rules_by_text(name)] == ["vegf"]


# --- R11: an allogeneic transplant named by its donor's type -------------------------------------------------


ALLOGENEIC_BY_DONOR = [
    "MUD HSCT",
    "HSCT (MUD)",
    "MMUD HSCT",
    "Sibling HSCT",
    "MSD HSCT",
    "HLA-identical sibling HSCT",
    "HSCT from a matched related sibling",
    "PBSCT, URD",
    "HSCT from his brother",
    "ТГСК от HLA-идентичного сиблинга",
    "ТГСК от брата",
    "Родственная ТГСК",
    "Неродственная HLA-совместимая ТГСК",
    "ТГСК (бауырынан)",  # Kazakh: from a sibling (UNVERIFIED)
]
# the autologous transplant still, whatever else the name says
AUTOLOGOUS_STILL = [
    "HSCT",
    "ТГСК",
    "Autologous HSCT, MRD-negative",
    "ASCT (sibling donor search not needed)",
    "Auto-HSCT",
    "АТСК",
]


@pytest.mark.parametrize("name", ALLOGENEIC_BY_DONOR)
def test_an_allogeneic_transplant_named_by_its_donor_is_not_the_autologous_treatment(mapping, name):
    """probe125 R11 (T58, T64, T69, T70, T72, T74): the later negatives stay diagnostic."""
    assert _transplants(run(mapping, _procedure(name))) == []


def test_positive_controls_the_autologous_transplant_is_still_a_treatment(mapping):
    for name in AUTOLOGOUS_STILL:
        assert _transplants(run(mapping, _procedure(name))) == [name], name
