"""Same-day studies told apart by region only where the finding's organ is not seen by both (fix132c; probe131
G1, G2): one spleen, one peritoneal cavity - an abdominal study sees them whatever else the other study covered.
The mapping's `part_regions` says which study regions see which criterion part; controls keep other organs,
a pelvic study beside the spleen, and left/right effusions apart. English, Russian, Kazakh study names."""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.criteria.engine import evaluate
from poems_fhir.criteria.model import Criterion, CriterionResult, State
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record

ICD10 = "http://hl7.org/fhir/sid/icd-10"
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
ORGANOMEGALY = Criterion.ORGANOMEGALY.value
OVERLOAD = Criterion.EXTRAVASCULAR_VOLUME_OVERLOAD.value
DAY = "2024-01-15"
ANOTHER_SITE = "denied the same day by a study of another site"


def report(rid: str, name: str, conclusion: str, day: str = DAY) -> dict[str, Any]:
    return {
        "resourceType": "DiagnosticReport",
        "id": rid,
        "status": "final",
        "category": [{"coding": [{"system": V2_0074, "code": "RAD"}]}],
        "code": {"text": name},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": day,
        "issued": f"{day}T16:00:00Z",
        "conclusion": conclusion,
    }


def condition(code: str, cites: str) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": "c1",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": ICD10, "code": code}], "text": "Splenomegaly"},
        "verificationStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]
        },
        "recordedDate": "2024-01-20",
        "evidence": [{"detail": [{"reference": f"DiagnosticReport/{cites}"}]}],
    }


def result(mapping, topic: str, *resources: dict[str, Any]) -> CriterionResult:
    out = extract(make_record(*resources), mapping)
    return evaluate("Patient/p1", out.findings, MAYO, None).criteria[topic]


# ---------------------------------------------------------------- G2: one peritoneal cavity, one spleen


@pytest.mark.parametrize(
    ("stated", "denied"),
    [
        (("CT abdomen and pelvis", "Moderate ascites."), ("Ultrasound abdomen", "No ascites.")),
        (("Ultrasound abdomen", "Moderate ascites."), ("CT abdomen and pelvis", "No ascites.")),
        (("КТ органов брюшной полости и малого таза", "Умеренный асцит."), ("УЗИ брюшной полости", "Асцита нет.")),
        (("CT chest, abdomen and pelvis", "Moderate ascites."), ("Ultrasound abdomen", "No ascites.")),
        # Kazakh study names (UNVERIFIED: not seen in a real letter): abdomen and pelvis CT, abdominal ultrasound
        (("Құрсақ қуысы мен жамбас КТ", "Асцит анықталды."), ("Құрсақ қуысының УДЗ", "Асцит жоқ.")),
    ],
)
def test_same_day_ascites_stated_and_denied_by_abdominal_studies_is_a_conflict(mapping, stated, denied):
    r = result(mapping, OVERLOAD, report("ct", *stated), report("us", *denied))
    assert r.state is State.INDETERMINATE, r.reason
    assert "conflicting reports of the same day" in r.reason


def test_same_day_splenomegaly_of_a_ct_abdomen_and_pelvis_denied_by_an_abdominal_us_is_a_conflict(mapping):
    r = result(
        mapping,
        ORGANOMEGALY,
        report("ct", "CT abdomen and pelvis", "Splenomegaly 16 cm."),
        report("us", "Ultrasound abdomen", "No splenomegaly."),
    )
    assert r.state is State.INDETERMINATE, r.reason


# ---------------------------------------------------------------- G1: the Condition resting on the conflicted report


def test_a_condition_citing_a_report_denied_the_same_day_by_an_uncited_study_of_its_organ_is_a_conflict(mapping):
    r = result(
        mapping,
        ORGANOMEGALY,
        report("ct", "CT abdomen and pelvis", "Splenomegaly 16 cm."),
        report("us", "Ultrasound abdomen", "No splenomegaly."),
        condition("R16.1", "ct"),
    )
    assert r.state is State.INDETERMINATE, r.reason
    assert "denies its cited evidence the same day" in r.reason
    assert "DiagnosticReport/us" in {e.reference for e in r.evidence}


def test_a_condition_citing_a_report_denied_by_a_pelvic_study_stays_present(mapping):
    # control: the pelvis does not show the spleen
    r = result(
        mapping,
        ORGANOMEGALY,
        report("ct", "CT abdomen", "Splenomegaly 16 cm."),
        report("us", "Ultrasound pelvis", "No splenomegaly."),
        condition("R16.1", "ct"),
    )
    assert r.state is State.PRESENT, r.reason


def test_a_condition_citing_a_report_denied_on_another_day_stays_present(mapping):
    # control: present at any time (probe118 D9)
    r = result(
        mapping,
        ORGANOMEGALY,
        report("ct", "CT abdomen and pelvis", "Splenomegaly 16 cm."),
        report("us", "Ultrasound abdomen", "No splenomegaly.", day="2024-03-01"),
        condition("R16.1", "ct"),
    )
    assert r.state is State.PRESENT, r.reason


# ---------------------------------------------------------------- controls: studies that do not see the organ


@pytest.mark.parametrize(
    ("stated", "denied"),
    [
        (("CT abdomen", "Splenomegaly 16 cm."), ("Ultrasound pelvis", "No splenomegaly.")),
        (("КТ брюшной полости", "Спленомегалия."), ("УЗИ малого таза", "Спленомегалии нет.")),
        (("Құрсақ қуысының КТ", "Көкбауыр ұлғайған."), ("Жамбас УДЗ", "Көкбауыр ұлғаймаған.")),
        (("CT abdomen", "Moderate ascites."), ("CT chest", "No ascites.")),
        (("CT chest", "Right pleural effusion."), ("Ultrasound abdomen", "No pleural effusion.")),
    ],
)
def test_a_same_day_denial_by_a_study_that_does_not_see_the_part_keeps_it(mapping, stated, denied):
    topic = ORGANOMEGALY if any(w in stated[1] for w in ("pleno", "плено", "Көкбауыр")) else OVERLOAD
    r = result(mapping, topic, report("ct", *stated), report("us", *denied))
    assert r.state is State.PRESENT, r.reason
    assert ANOTHER_SITE in r.reason or ANOTHER_SITE in str([e.summary for e in r.evidence])


def test_a_chest_ct_denying_pleural_effusion_beside_abdominal_ascites_is_no_conflict(mapping):
    r = result(
        mapping,
        OVERLOAD,
        report("ct", "CT abdomen", "Moderate ascites."),
        report("cx", "CT chest", "No pleural effusion."),
    )
    assert r.state is State.PRESENT, r.reason


def test_left_and_right_pleural_effusions_of_one_day_stay_two_sides(mapping):
    r = result(
        mapping,
        OVERLOAD,
        report("ct", "CT chest", "Right pleural effusion."),
        report("cx", "CT chest", "No left pleural effusion."),
    )
    assert r.state is State.PRESENT, r.reason


def test_nodes_of_other_stations_stay_other_sites(mapping):
    # lymph nodes have no part_regions entry: a chest CT says nothing of abdominal nodes
    r = result(
        mapping,
        ORGANOMEGALY,
        report("ct", "CT abdomen and pelvis", "Enlarged retroperitoneal lymph nodes up to 2 cm."),
        report("cx", "CT chest", "No lymphadenopathy."),
    )
    assert r.state is State.PRESENT, r.reason


# ---------------------------------------------------------------- the mapping table is checked


def test_part_regions_with_an_unknown_region_or_part_is_a_mapping_problem(tmp_path):
    from poems_fhir.mapping.rules import MappingError, load_mapping

    site = tmp_path / "site.yaml"
    site.write_text(
        "format: poems-fhir-mapping/1\nname: site\nversion: '1'\npart_regions:\n  spleen: [belly]\n  kidney: [abdomen]\n",
        encoding="utf-8",
    )
    with pytest.raises(MappingError) as err:
        load_mapping([site])
    text = str(err.value)
    assert "belly" in text and "kidney" in text


def test_a_site_can_replace_a_parts_regions(tmp_path):
    from poems_fhir.mapping.rules import load_mapping

    site = tmp_path / "site.yaml"
    site.write_text(
        "format: poems-fhir-mapping/1\nname: site\nversion: '1'\npart_regions:\n  ascites: [abdomen, pelvis]\n",
        encoding="utf-8",
    )
    m = load_mapping([site])
    assert m.part_regions["ascites"] == frozenset({"abdomen", "pelvis"})
    assert m.part_regions["spleen"] == frozenset({"abdomen"})
