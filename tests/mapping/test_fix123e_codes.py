"""fix123e (probe123 D3, D5, D8, D9, D10): codes and names as Russian / Kazakh hospital systems send them.

D5: an ICD-10 code typed with a Cyrillic lookalike letter («С90.0», «М85.8», «Е03.9») is the code it renders, the
reading noted in the evidence and in `mappings coverage`. D3: a soluble VEGF receptor (sVEGFR-1, sFlt-1, «рецептор
VEGF / ФРЭС») is another protein than VEGF-A, whatever language names it. D10: every WHO G63.x is a polyneuropathy
(codes.md C: "G63 Polyneuropathy in diseases classified elsewhere"). D8: an FLC ratio judged on the lab's text range.
D9: an autologous stem-cell transplant named in words («АТСК», "auto-SCT", "PBSCT") is a treatment."""

from __future__ import annotations

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
