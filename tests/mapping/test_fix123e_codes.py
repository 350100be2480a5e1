"""fix123e (probe123 D3, D5, D8, D9, D10): codes and names as Russian / Kazakh hospital systems send them.

D5: an ICD-10 code typed with a Cyrillic lookalike letter («С90.0», «М85.8», «Е03.9») is the code it renders, the
reading noted in the evidence and in `mappings coverage`. D3: a soluble VEGF receptor (sVEGFR-1, sFlt-1, «рецептор
VEGF / ФРЭС») is another protein than VEGF-A, whatever language names it. D10: every WHO G63.x is a polyneuropathy
(codes.md C: "G63 Polyneuropathy in diseases classified elsewhere"). D8: an FLC ratio judged on the lab's text range.
D9: an autologous stem-cell transplant named in words («АТСК», "auto-SCT", "PBSCT") is a treatment."""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping import coverage
from tests.conftest import make_record
from tests.mapping.test_extract import cond, run, states

NSI = "urn:oid:1.2.643.5.1.13.13.11.1005"  # Russia's MKB-10 reference book (system_equivalents)
WHO = "http://hl7.org/fhir/sid/icd-10"
LOCAL = "urn:oid:1.2.643.5.1.13.3.25.77.1.1.100"  # a lab's own codes


# --- D5: Cyrillic lookalike letters in ICD-10 codes --------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "topic"),
    [
        ("С90.0", "monoclonal_plasma_cell_disorder"),  # Cyrillic С: multiple myeloma
        ("С90.3", "monoclonal_plasma_cell_disorder"),  # solitary plasmacytoma: the mandatory clone
        ("с900", "monoclonal_plasma_cell_disorder"),  # lower-case Cyrillic, undotted
        ("М85.8", "sclerotic_bone_lesions"),  # Cyrillic М
        ("Е03.9", "endocrinopathy"),  # Cyrillic Е: hypothyroidism
        ("Е85.8", "al_amyloidosis"),  # WHO E85.8 raises the AL flag
        ("Ｃ９０．０", "monoclonal_plasma_cell_disorder"),  # full-width
    ],
)
@pytest.mark.parametrize("system", [NSI, WHO])
def test_a_code_typed_with_cyrillic_lookalikes_is_the_code_it_renders(mapping, code, topic, system):
    ex = run(mapping, cond(system, code, "confirmed"))
    assert states(ex, topic) == [State.PRESENT]
    notes = [n for n in ex.notes if n.kind == "lookalike_code"]
    assert len(notes) == 1 and code in notes[0].detail
    assert all("read as" in f.evidence.summary for f in ex.findings if f.topic == topic)


def test_a_cyrillic_myeloma_code_is_not_labelled_poems(mapping):
    ex = run(mapping, cond(NSI, "С90.0", "confirmed"))
    assert states(ex, "multiple_myeloma") == [State.PRESENT]


def test_latin_codes_beside_a_cyrillic_one_are_read_without_a_note(mapping):
    ex = run(mapping, cond(NSI, "C90.0", "confirmed"), cond(NSI, "g629", "confirmed"), cond(NSI, "М85.8", "confirmed"))
    assert states(ex, "monoclonal_plasma_cell_disorder") == [State.PRESENT]
    assert states(ex, "polyneuropathy") == [State.PRESENT]
    assert states(ex, "sclerotic_bone_lesions") == [State.PRESENT]
    assert [n.rule for n in ex.notes if n.kind == "lookalike_code"] == ["sclerotic_bone_lesion"]


def test_folding_is_for_icd10_only(mapping):
    from poems_fhir.mapping.rules import fold_code_lookalikes, has_code_lookalikes

    # a site's own code system may hold any letters: its codes are never folded
    assert mapping.canonical(LOCAL, "С90.0") == (LOCAL, "С90.0")
    assert mapping.canonical(NSI, "С90.0") == (WHO, "C90.0")
    assert fold_code_lookalikes("G63.2*") == "G63.2*" and not has_code_lookalikes("G63.2*")
    assert not has_code_lookalikes("E11.4†")  # a dagger is no lookalike letter
    assert has_code_lookalikes("М85.8")


def test_coverage_lists_codes_typed_with_lookalikes(mapping):
    record = make_record(cond(NSI, "С90.3", "confirmed"))
    report = coverage.to_dict(coverage.collect([record], mapping))
    rows = report["codes_typed_with_lookalike_letters"]
    assert len(rows) == 1 and rows[0]["rule"] == "solitary_plasmacytoma" and "С90.3" in rows[0]["code"]
    assert "lookalike letters" in coverage.render_text(coverage.collect([record], mapping))


def test_a_refuted_cyrillic_code_refutes_as_the_latin_one_does(mapping):
    cyrillic = states(run(mapping, cond(NSI, "М85.8", "refuted")), "sclerotic_bone_lesions")
    latin = states(run(mapping, cond(NSI, "M85.8", "refuted")), "sclerotic_bone_lesions")
    assert cyrillic == latin and latin


# --- D3: a VEGF receptor is another protein ----------------------------------------------------------------------


def _local_result(name: str, value: float, rid: str, display: str | None = None) -> dict[str, Any]:
    """A lab's own code named ``name`` (code.text; the display too unless ``display`` is given), in pg/mL, on plasma."""
    coding = {"system": LOCAL, "code": rid.upper(), "display": display or name}
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": {"coding": [coding], "text": name},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-02",
        "valueQuantity": {"value": value, "unit": "пг/мл"},
    }


# the receptor word before VEGF, or in another language: read as VEGF before probe123 D3
RECEPTORS = [
    "Растворимый рецептор VEGF 1 типа (sVEGFR-1), сыворотка",
    "Рецептор ФРЭС 1 типа (sFlt-1), плазма",
    "löslicher VEGF-Rezeptor 1, Plasma",
    "Récepteur soluble du VEGF, plasma",
    "VEGF рецепторы, плазма",  # Kazakh word order (UNVERIFIED)
    "Soluble receptor of VEGF type 1, plasma",
]
# already another protein (a lookahead after VEGF, or no VEGF word): kept so
RECEPTORS_ALREADY_EXCLUDED = [
    "Рецептор фактора роста эндотелия сосудов 2 типа, плазма",
    "Soluble VEGF receptor-1 (sFlt-1), plasma",
    "Vascular endothelial growth factor receptor 1, plasma",
    "sFlt-1/PlGF ratio",
    "KDR (VEGFR2), plasma",
    "VEGF R1, plasma",
    "sVEGFR-1 плазмы",
    "Neuropilin-1, plasma",
]


@pytest.mark.parametrize("name", RECEPTORS)
def test_a_vegf_receptor_named_in_any_language_is_not_vegf(mapping, name):
    # beside a real VEGF-A of 120 pg/mL (a positive control, read): the receptor's 3 100 pg/mL is not VEGF
    ex = run(mapping, _local_result(name, 3100, "r1"), _local_result("VEGF плазмы", 120, "v1"))
    assert states(ex, "vegf_elevation") == [State.ABSENT]
    assert {n.rule for n in ex.notes if n.kind == "text_fallback"} == {"vegf"}
    assert all("'VEGF плазмы'" in n.detail for n in ex.notes if n.kind == "text_fallback")


def test_no_receptor_name_is_vegf(mapping):
    names = RECEPTORS + RECEPTORS_ALREADY_EXCLUDED
    results = [_local_result(name, 3100, f"r{i}") for i, name in enumerate(names)]
    ex = run(mapping, *results, _local_result("VEGF плазмы", 120, "v1"))
    assert states(ex, "vegf_elevation") == [State.ABSENT]


def test_a_receptors_full_name_outweighs_a_short_display(mapping):
    # code.text names the receptor, the local display only «ФРЭС»: the test is the receptor
    ex = run(
        mapping,
        _local_result("Рецептор ФРЭС 1 типа (sFlt-1), плазма", 3100, "r1", display="ФРЭС"),
        _local_result("ФРЭС-А, плазма", 120, "v1"),
    )
    assert states(ex, "vegf_elevation") == [State.ABSENT]


@pytest.mark.parametrize(
    "name",
    [
        "VEGF плазмы",
        "VEGF-A, serum (send-out)",
        "Фактор роста эндотелия сосудов (ФРЭС), плазма",
        "ФРЭС-А плазмы",
        "Тамырлар эндотелийінің өсу факторы (VEGF), плазма",
        "VEGF, plasma (reception desk sample)",
    ],
)
def test_vegf_a_names_are_still_read_beside_a_receptor(mapping, name):
    # the receptor's low value beside it is no negative VEGF (it was read as one)
    ex = run(mapping, _local_result(name, 1500, "v1"), _local_result("Рецептор VEGF 1 типа, плазма", 50, "r1"))
    assert states(ex, "vegf_elevation") == [State.PRESENT]


def test_a_bad_not_synonyms_pattern_is_refused_at_load_and_a_site_may_add_its_own(tmp_path):
    from poems_fhir.mapping.rules import MappingError, load_mapping
    from tests.mapping.test_rules import SITE_HEADER, write

    bad = write(tmp_path, SITE_HEADER + '\nobservations:\n  - id: vegf\n    not_synonyms: ["rec("]\n', "bad.yaml")
    with pytest.raises(MappingError) as err:
        load_mapping([bad])
    assert "not_synonyms" in str(err.value) and "invalid regular expression" in str(err.value)
    site = write(tmp_path, SITE_HEADER + '\nobservations:\n  - id: vegf\n    not_synonyms: ["send-out"]\n', "site.yaml")
    assert load_mapping([site]).observation_rules_by_text("VEGF-A, serum (send-out)") == []


# --- D10: every WHO G63.x is a polyneuropathy --------------------------------------------------------------------


@pytest.mark.parametrize("code", ["G63.0", "G63.3", "G63.3*", "G633", "G63.4", "G63.5", "G63.5*", "G63.6", "G63"])
@pytest.mark.parametrize("system", [NSI, WHO, "http://dmed.kz/fhir/CodeSystem/MKB10"])
def test_every_who_g63_is_a_polyneuropathy_without_a_differential(mapping, code, system):
    ex = run(mapping, cond(system, code, "confirmed"))
    assert states(ex, "polyneuropathy") == [State.PRESENT]
    assert states(ex, "diabetic_polyneuropathy") == []  # only G63.2 names diabetes
    assert states(ex, "toxic_polyneuropathy") == []


@pytest.mark.parametrize("diabetic", ["G63.2", "G63.2*", "G632"])
def test_the_diabetic_g63_keeps_its_flag_beside_another_g63(mapping, diabetic):
    ex = run(mapping, cond(NSI, diabetic, "confirmed"), cond(NSI, "G63.3", "confirmed"))
    assert states(ex, "polyneuropathy") == [State.PRESENT, State.PRESENT]
    assert states(ex, "diabetic_polyneuropathy") == [State.PRESENT]


def test_a_refuted_g63_subcode_denies_the_polyneuropathy_it_codes(mapping):
    # listed in the table (not only reached as a parent), a refuted G63.5 is read as the refuted G62.9 is
    assert states(run(mapping, cond(WHO, "G63.5", "refuted")), "polyneuropathy") == states(
        run(mapping, cond(WHO, "G62.9", "refuted")), "polyneuropathy"
    )
    assert states(run(mapping, cond(WHO, "G63.5", "refuted")), "polyneuropathy")


# --- D8: an FLC ratio judged on the lab's text range -------------------------------------------------------------


def _ratio(value: Any, range_text: str, rid: str = "f1") -> dict[str, Any]:
    """An FLC ratio (LOINC 48378-4) as Russian labs send it: the value a string or a unitless Quantity, the range text."""
    data: dict[str, Any] = {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "48378-4"}], "text": "Соотношение СЛЦ каппа/лямбда"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-02",
        "referenceRange": [{"text": range_text}],
    }
    data.update({"valueString": value} if isinstance(value, str) else {"valueQuantity": {"value": value}})
    return data


FLC = "monoclonal_plasma_cell_disorder"


@pytest.mark.parametrize("range_text", ["0,26-1,65", "0.26-1.65", "0,26 – 1,65", "0.26..1.65"])
@pytest.mark.parametrize("value", ["0,84", "1,09", 0.84])
def test_a_normal_ratio_within_the_labs_text_range_is_judged_normal(mapping, value, range_text):
    # a normal ratio is no evidence of absence (usual in POEMS): it adds no finding, no "cannot judge" either
    ex = run(mapping, _ratio(value, range_text))
    assert states(ex, FLC) == []
    assert [m.abnormal for m in ex.measurements if m.analyte == "flc_ratio"] == [False]


@pytest.mark.parametrize(
    ("value", "range_text", "chain"),
    [
        ("3,5", "0,26-1,65", "kappa"),
        ("0,1", "0.26-1.65", "lambda"),
        (12.0, "< 1,65", "kappa"),
        ("0,12", "> 0,26", "lambda"),
    ],
)
def test_an_abnormal_ratio_outside_the_labs_text_range_is_a_clone(mapping, value, range_text, chain):
    ex = run(mapping, _ratio(value, range_text))
    found = [f for f in ex.findings if f.topic == FLC]
    assert [f.state for f in found] == [State.PRESENT] and chain in found[0].evidence.summary


def test_a_ratio_beside_a_negative_ife_is_clone_free(mapping):
    ife = {
        "resourceType": "Observation",
        "id": "i1",
        "status": "final",
        "code": {"coding": [{"system": LOCAL, "code": "IFE-S"}], "text": "Иммунофиксация белков сыворотки"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-02",
        "valueString": "Отрицательно",
    }
    ex = run(mapping, ife, _ratio("1,09", "0,26-1,65"))
    assert states(ex, FLC) == [State.ABSENT]


def test_a_text_range_without_a_unit_is_still_not_guessed_for_a_dimensioned_value(mapping):
    # a ratio needs no unit; VEGF does: "0-115" beside a unitless VEGF stays unread, as before (beside the ratio)
    vegf = _local_result("VEGF плазмы", 0, "v1")
    vegf["valueQuantity"] = {"value": 700}
    vegf["referenceRange"] = [{"text": "0-115"}]
    ex = run(mapping, vegf, _ratio("0,84", "0,26-1,65"))
    assert states(ex, "vegf_elevation") != [State.PRESENT]
    assert [m.abnormal for m in ex.measurements if m.analyte == "flc_ratio"] == [False]


# --- D9: an autologous stem-cell transplant named in words is a treatment ----------------------------------------


def _procedure(name: str, rid: str = "p1", when: str = "2022-03-15") -> dict[str, Any]:
    return {
        "resourceType": "Procedure",
        "id": rid,
        "status": "completed",
        "code": {"text": name},
        "subject": {"reference": "Patient/p1"},
        "performedDateTime": when,
    }


def _transplants(ex: Any) -> list[str]:
    return [e.summary for e in ex.events if e.kind == "autologous_hsct"]


# not read as a treatment before probe123 D9
TRANSPLANTS = [
    "АТСК",
    "АТСК (аутотрансплантация стволовых клеток крови)",
    "Аутотрансплантация стволовых клеток крови",
    "Аутотрансплантация гемопоэтических стволовых клеток",
    "Аутотрансплантация периферических стволовых клеток",
    "Аутотрансплантация костного мозга",
    "ВДХТ с АТСК",
    "АТГСК",
    "ТГСК (аутологичная)",
    "Высокодозная химиотерапия с аутотрансплантацией стволовых клеток",
    "PBSCT",
    "HSCT",
    "Autologous transplant",
    "Autotransplant, 15.03.2022",
    "Stem cell autotransplantation",
    "autotransplantation of peripheral blood stem cells",
    "Дің жасушаларының аутотрансплантациясы",  # Kazakh (UNVERIFIED)
]
# read before, and still
ALREADY_READ = [
    "Ауто-ТГСК",
    "ASCT",
    "auto-SCT",
    "autologous stem cell transplantation",
    "Autologous PBSCT",
    "HDM/ASCT",
    "Аутологичная трансплантация гемопоэтических стволовых клеток",
    "Аутологиялық дің жасушаларын трансплантациялау",
]
# no autologous transplant done: another kind, another organ, a consultation or a referral
NOT_A_TRANSPLANT = [
    "Аллогенная ТГСК",
    "алло-ТГСК",
    "PBSCT (allogeneic)",
    "HSCT from matched unrelated donor",
    "ТГСК от родственного донора",
    "Allogeneic stem cell transplantation",
    "Аутотрансплантация почки",
    "Аутотрансплантация кожи",
    "Autologous kidney transplant",
    "Autologous transplant (kidney)",
    "Консультация по АТСК",
    "Обследование перед АТСК",
    "Направление на АТСК",
    "Подготовка к АТСК",
    "ASCT evaluation",
    "Hematocrit (HCT)",
]


@pytest.mark.parametrize("name", TRANSPLANTS)
def test_an_autologous_transplant_named_in_words_is_a_treatment(mapping, name):
    ex = run(mapping, _procedure(name))
    assert _transplants(ex) == [name]
    assert [e.effective.isoformat() for e in ex.events if e.kind == "autologous_hsct"] == ["2022-03-15"]


def test_the_family_is_read_and_nothing_else(mapping):
    names = TRANSPLANTS + ALREADY_READ + NOT_A_TRANSPLANT
    ex = run(mapping, *(_procedure(name, f"p{i}") for i, name in enumerate(names)))
    assert sorted(_transplants(ex)) == sorted(TRANSPLANTS + ALREADY_READ)


def test_mobilisation_for_the_transplant_stays_mobilisation(mapping):
    ex = run(mapping, _procedure("Мобилизация стволовых клеток для АТСК", "m1"), _procedure("АТСК", "t1"))
    assert [e.kind for e in ex.events if e.kind in ("stem_cell_mobilisation", "autologous_hsct")] == [
        "stem_cell_mobilisation",
        "autologous_hsct",
    ]
