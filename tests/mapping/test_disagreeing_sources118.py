"""Sources that disagree, per criterion part and per place (fix118b; probe118 D7-D13): a same-day denial of one
organ is no denial of the other organ a report states; a Condition is supported by a cited report that states
its finding, a later denial being an ordinary later report; places in a report's name tell two biopsies apart; a
denial of a wider place covers the places inside it; one spleen is one spleen, whatever the study's field; a
Condition citing its report by full URL cites it.

criteria.md §3.3: INDETERMINATE for conflicting evidence; a finding present at any time counts; organomegaly is
present when any of its parts is. Fixtures are whole FHIR resources as an EHR sends them, English and Russian."""

from __future__ import annotations

from typing import Any

from poems_fhir.criteria.model import State
from tests.mapping.test_disagreeing_sources116 import (
    CASTLEMAN,
    DAY,
    ICD10,
    ORGANOMEGALY,
    SCLEROTIC,
    SPLENOMEGALY,
    cited,
    condition,
    report,
    result,
)

HEPATOSPLENOMEGALY = {
    "system": ICD10,
    "code": "R16.2",
    "display": "Hepatomegaly with splenomegaly, not elsewhere classified",
}


def citing(rid: str, coding: dict[str, str], *references: str) -> dict[str, Any]:
    """A confirmed Condition whose evidence.detail cites each of ``references`` as written."""
    c = condition(rid, coding, "unused")
    c["evidence"] = [{"detail": [{"reference": ref} for ref in references]}]
    return c


# ---------------------------------------------------------------- per part (D7, D8)


def test_a_same_day_denial_of_the_spleen_leaves_the_liver_of_hepatosplenomegaly_present(mapping):
    r = result(
        mapping,
        ORGANOMEGALY,
        report("ct", "CT abdomen", "Hepatosplenomegaly."),
        report("us", "Ultrasound abdomen", "Spleen normal in size. No splenomegaly."),
    )
    assert r.state is State.PRESENT  # the liver is not disputed
    assert "spleen indeterminate" in r.reason  # the spleen, and only the spleen, is the conflict
    assert "DiagnosticReport/ct" in cited(r)


def test_a_russian_same_day_denial_of_the_spleen_leaves_the_liver_present(mapping):
    r = result(
        mapping,
        ORGANOMEGALY,
        report("ct", "КТ органов брюшной полости", "Гепатоспленомегалия."),
        report("us", "УЗИ органов брюшной полости", "Селезенка не увеличена."),
    )
    assert r.state is State.PRESENT
    assert "spleen indeterminate" in r.reason


def test_a_hepatosplenomegaly_condition_whose_cited_report_denies_only_the_spleen_stays_present(mapping):
    us = report("us", "Ultrasound abdomen", "Liver 19 cm. No splenomegaly.", section="US")
    r = result(mapping, ORGANOMEGALY, us, condition("c1", HEPATOSPLENOMEGALY, "us"))
    assert r.state is State.PRESENT
    assert "Condition/c1" in cited(r)
    assert "spleen indeterminate" in r.reason  # the spleen, and only the spleen, is the conflict


# ---------------------------------------------------------------- a Condition citing several reports (D9)


def test_a_condition_citing_a_stating_ct_and_a_later_denying_ultrasound_is_present(mapping):
    ct = report("ct", "CT abdomen", "Splenomegaly 16 cm.", day="2024-03-01")
    us = report("us", "Ultrasound abdomen", "No splenomegaly.", section="US", day="2024-03-05")
    r = result(mapping, ORGANOMEGALY, ct, us, citing("c1", SPLENOMEGALY, "DiagnosticReport/ct", "DiagnosticReport/us"))
    assert r.state is State.PRESENT  # the CT's finding of its own day stands: present at any time
    assert "Condition/c1" in cited(r)


def test_a_russian_condition_citing_a_stating_ct_and_a_later_denying_ultrasound_is_present(mapping):
    ct = report("ct", "КТ органов брюшной полости", "Спленомегалия, селезенка 16 см.", day="2024-03-01")
    us = report("us", "УЗИ органов брюшной полости", "Селезенка не увеличена.", section="US", day="2024-03-05")
    r = result(mapping, ORGANOMEGALY, ct, us, citing("c1", SPLENOMEGALY, "DiagnosticReport/ct", "DiagnosticReport/us"))
    assert r.state is State.PRESENT


def test_a_condition_citing_a_stating_and_a_same_day_denying_report_is_still_a_conflict(mapping):
    """The guard of the rule above (probe118 b-cit-two-same-day): the denial of the stating report's own day."""
    ct = report("ct", "CT abdomen", "Splenomegaly 16 cm.")
    us = report("us", "Ultrasound abdomen", "No splenomegaly.", section="US")
    r = result(mapping, ORGANOMEGALY, ct, us, citing("c1", SPLENOMEGALY, "DiagnosticReport/ct", "DiagnosticReport/us"))
    assert r.state is State.INDETERMINATE


# ---------------------------------------------------------------- places in a report's name (D10)


def test_places_in_biopsy_report_names_tell_two_same_day_nodes_apart(mapping):
    r = result(
        mapping,
        CASTLEMAN,
        report("h1", "Lymph node biopsy, right axilla", "Castleman disease, hyaline vascular type.", section="PAT"),
        report(
            "h2",
            "Lymph node biopsy, left inguinal",
            "Reactive lymph node; no features of Castleman disease.",
            section="PAT",
        ),
    )
    assert r.state is State.PRESENT


def test_places_in_russian_biopsy_report_names_tell_two_same_day_nodes_apart(mapping):
    r = result(
        mapping,
        CASTLEMAN,
        report(
            "h1",
            "Биопсия лимфоузла, правая подмышечная область",
            "Болезнь Кастлемана, гиалиново-васкулярный вариант.",
            section="PAT",
        ),
        report(
            "h2",
            "Биопсия лимфоузла, левая паховая область",
            "Реактивная гиперплазия лимфоузла, признаков болезни Кастлемана нет.",
            section="PAT",
        ),
    )
    assert r.state is State.PRESENT


# ---------------------------------------------------------------- a wider place, one organ (D11, D12)


def test_a_denial_of_the_pelvis_covers_a_lesion_of_the_iliac_bone_the_same_day(mapping):
    r = result(
        mapping,
        SCLEROTIC,
        report("ct", "CT", "Sclerotic lesion in the left iliac bone."),
        report("mri", "MRI", "No sclerotic lesions in the pelvis."),
    )
    assert r.state is State.INDETERMINATE


def test_a_russian_denial_of_the_spine_covers_a_lesion_of_l3_the_same_day(mapping):
    r = result(
        mapping,
        SCLEROTIC,
        report("ct", "КТ", "Склеротический очаг в теле L3 позвонка."),
        report("mri", "МРТ", "Склеротических очагов в позвоночнике не выявлено."),
    )
    assert r.state is State.INDETERMINATE


def test_a_whole_body_splenomegaly_and_a_same_day_abdominal_ct_denying_it_are_a_conflict(mapping):
    r = result(
        mapping,
        ORGANOMEGALY,
        report("pet", "PET-CT", "Splenomegaly 17 cm."),
        report("ct", "CT abdomen", "No splenomegaly."),
    )
    assert r.state is State.INDETERMINATE


def test_a_denial_naming_the_axilla_covers_a_whole_body_axillary_statement(mapping):
    r = result(
        mapping,
        ORGANOMEGALY,
        report("pet", "PET-CT", "FDG-avid axillary lymphadenopathy."),
        report("ct", "CT neck and chest", "No cervical or axillary lymphadenopathy."),
    )
    assert r.state is State.INDETERMINATE


# ---------------------------------------------------------------- a cited report by full URL (D13)


def test_a_condition_citing_its_denying_report_by_full_url_is_a_conflict(mapping):
    ct = report("ct", "CT abdomen", "Liver normal size. No splenomegaly.")
    c = citing("c1", SPLENOMEGALY, "https://ehr.example.org/fhir/DiagnosticReport/ct")
    r = result(mapping, ORGANOMEGALY, ct, c)
    assert r.state is State.INDETERMINATE
    assert {"Condition/c1", "DiagnosticReport/ct"} <= cited(r)


def test_a_report_of_another_day_is_no_conflict_of_the_parts(mapping):
    """Consecutive days stay present at any time (no regression of probe118 b-sd-spleno-consecutive)."""
    r = result(
        mapping,
        ORGANOMEGALY,
        report("ct", "CT abdomen", "Hepatosplenomegaly.", day="2024-03-01"),
        report("us", "Ultrasound abdomen", "No hepatosplenomegaly.", section="US", day="2024-03-02"),
    )
    assert r.state is State.PRESENT
    assert DAY not in r.reason
