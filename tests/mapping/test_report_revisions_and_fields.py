"""Report text as hospitals write it (probe71): a report that revises itself, unfilled and zero form
fields, table rows, the technique's "without contrast", hedges and corrections."""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.rules import load_mapping
from tests.mapping.test_extract import report, run


@pytest.fixture(scope="module")
def mapping():
    return load_mapping()


def _findings(mapping, text: str, topic: str, name: str = "CT whole body"):
    return [f for f in run(mapping, report(name, text)).findings if f.topic == topic]


@pytest.mark.parametrize(
    ("text", "later"),
    [
        # D6: the impression denies what the findings named
        ("FINDINGS: Sclerotic lesion in L2.\nIMPRESSION: No sclerotic lesions.", "denies"),
        # the impression names what the findings denied
        ("FINDINGS: No sclerotic lesions.\nIMPRESSION: Sclerotic lesion in L2.", "states"),
        # D5: an addendum withdraws it
        (
            "IMPRESSION: Sclerotic lesion in L2.\n\nADDENDUM (2024-03-12): Sclerotic lesions were reported in error.",
            "denies",
        ),
        # a later doubt revises it too
        (
            "FINDINGS:\nBones: Several small sclerotic foci in T7 and L3.\n\nIMPRESSION:\n"
            "1. The small sclerotic foci are most consistent with bone islands.",
            "doubts",
        ),
    ],
)
def test_a_report_that_revises_itself_is_indeterminate_and_cites_both_sentences(mapping, text, later):
    [finding] = _findings(mapping, text, "sclerotic_bone_lesions")
    assert finding.state is State.INDETERMINATE
    assert finding.note == f"the report contradicts itself: a later impression, addendum or correction {later} it"
    quoted = finding.evidence.summary
    assert quoted.count('"') >= 4  # both sentences quoted


def test_a_denial_in_the_same_section_as_the_finding_leaves_it_present(mapping):
    # present at any time: "a lesion in L2; none in the skull" is no revision
    found = _findings(mapping, "Sclerotic lesion in L2. No sclerotic lesions in the skull.", "sclerotic_bone_lesions")
    assert sorted(f.state.value for f in found) == ["absent", "present"]  # combined: present (criteria.engine)
    assert all(f.note is None or "contradicts" not in f.note for f in found)


@pytest.mark.parametrize(
    ("text", "state"),
    [
        # D1: an unfilled template field is not answered (indeterminate), never present
        ("Sclerotic lesions: ___. Splenomegaly: ___.", State.INDETERMINATE),
        ("Sclerotic lesions: <not entered>", State.INDETERMINATE),
        ("Sclerotic lesions: yes/no", State.INDETERMINATE),
        # D2: zero is none
        ("Sclerotic lesions: 0", State.ABSENT),
        ("Number of sclerotic lesions: 0 (zero).", State.ABSENT),
        # D4: the minus sign of word processors, the empty-set sign
        ("Sclerotic lesions (\u2212)", State.ABSENT),
        ("Sclerotic lesions: \u00d8", State.ABSENT),
        # D7: the technique is no denial
        ("CT w/o contrast: multiple sclerotic lesions in the pelvis.", State.PRESENT),
        ("Нативная КТ без в/в контрастирования: склеротические очаги в L1, L3.", State.PRESENT),
        ("КТ без контрастирования: склеротические очаги в L1.", State.PRESENT),
        # D10: a diffuse metabolic sclerosis is at most a doubt
        ("Diffuse osteosclerosis due to renal osteodystrophy.", State.INDETERMINATE),
    ],
)
def test_fields_signs_and_technique_words(mapping, text, state):
    assert [f.state for f in _findings(mapping, text, "sclerotic_bone_lesions")] == [state]


@pytest.mark.parametrize(
    "text", ["Sclerotic lesions: N/A", "Sclerotic lesions: unknown", "Склеротические очаги: нет данных."]
)
def test_a_field_that_says_there_is_no_information_states_nothing(mapping, text):
    # D12: "N/A" and «нет данных» were read as denials: not assessed became absent
    assert _findings(mapping, text, "sclerotic_bone_lesions") == []


def test_a_field_about_the_finding_keeps_it():
    # "Etiology of polyneuropathy: unknown" names a polyneuropathy: the label is no field of its presence
    [assertions] = load_mapping().text.assert_texts(["Etiology of polyneuropathy: unknown"])
    assert [(a.target, a.label) for a in assertions] == [("polyneuropathy", "present")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # D14: two checkbox fields on one line
        (
            "Pleural effusion: [ ] yes [x] no   Ascites: [x] yes [ ] no",
            [("ascites", "present"), ("pleural_effusion", "negated")],
        ),
        (
            "Гидроторакс: [ ] да [x] нет   Асцит: [x] да [ ] нет",
            [("ascites", "present"), ("pleural_effusion", "negated")],
        ),
        # D3: table rows
        ("Pleural effusion\tNo\nAscites\tNo", [("ascites", "negated"), ("pleural_effusion", "negated")]),
        (
            "| Pleural effusion | No |\n| Splenomegaly | Yes |",
            [("pleural_effusion", "negated"), ("splenomegaly", "present")],
        ),
        # D2 in ml
        ("Ascites: 0 ml, pleural effusion: 0 mm.", [("ascites", "negated"), ("pleural_effusion", "negated")]),
        # D8: a query after a slash abbreviation
        ("Дз: Полинейропатия н/к? Радикулопатия L5?", [("polyneuropathy", "possible")]),
        ("Dx: sensorimotor polyneuropathy b/l LE? vs radiculopathy", [("polyneuropathy", "possible")]),
        # D9, D16: hedges and double negations are doubts
        ("Гистологическая картина не противоречит болезни Кастлемана.", [("castleman_disease", "possible")]),
        ("Гистологически болезнь Кастлемана под сомнением.", [("castleman_disease", "possible")]),
        ("Histology is not without features of Castleman disease.", [("castleman_disease", "possible")]),
        ("Findings are compatible with, but not specific for, Castleman disease.", [("castleman_disease", "possible")]),
        # D15: dictated text without full stops
        (
            "there is no evidence of ascites there is a moderate right pleural effusion",
            [("ascites", "negated"), ("pleural_effusion", "present")],
        ),
        ("There is no evidence that there is splenomegaly.", [("splenomegaly", "negated")]),
        # D19, D5
        ("The left pleural effusion is no longer visualized.", [("pleural_effusion", "historical")]),
        ("The diagnosis of Castleman disease has been withdrawn.", [("castleman_disease", "negated")]),
        ("Спленомегалия указана ошибочно.", [("splenomegaly", "negated")]),
    ],
)
def test_report_wordings(mapping, text, expected):
    [assertions] = mapping.text.assert_texts([text])
    assert sorted({(a.target, a.label) for a in assertions}) == sorted(expected)


@pytest.mark.parametrize(
    ("text", "earlier", "negative"),
    [
        ("Previously seen IgG kappa paraprotein is no longer detectable.", "IgG kappa", True),
        ("Negative (previously IgG lambda).", "IgG lambda", True),
        ("IgA lambda band previously seen, now not detected", "IgA lambda", True),
        ("Ранее выявлявшийся IgG каппа в настоящее время не определяется.", "IgG kappa", True),
        ("IgG kappa detected; previously also IgA lambda.", "IgA lambda", False),
    ],
)
def test_an_immunofixation_naming_an_earlier_band_keeps_it_apart_from_todays(text, earlier, negative):
    from poems_fhir.mapping.ife import parse_ife

    parsed = parse_ife(text)
    assert [b.label() for b in parsed.earlier] == [earlier]
    assert parsed.negative is negative
    assert earlier not in [b.label() for b in parsed.bands]


def test_a_negative_immunofixation_naming_the_earlier_clone_is_no_absence(mapping):
    # probe71 D11: "previously seen ... no longer detectable" made the clone absent - a treated POEMS patient
    # came out not met; a clone counts once present at any time (criteria.md §3.3)
    from tests.mapping.test_extract import obs

    ife = obs("25700-6", valueString="Previously seen IgG kappa paraprotein is no longer detectable.")
    ex = run(mapping, ife)
    [finding] = [f for f in ex.findings if f.topic == "monoclonal_plasma_cell_disorder"]
    assert finding.state is State.INDETERMINATE
    assert "IgG kappa reported before" in finding.evidence.summary
    assert [m.value for m in ex.measurements] == [0.0]  # negative today, for the response timeline


@pytest.mark.parametrize(
    "text",
    [
        "FINDINGS: Sclerotic lesion in L2.\nIMPRESSION: Sclerotic lesion in L2. No sclerotic lesions in the skull or pelvis.",
        "FINDINGS: Sclerotic lesions in T7 and L3.\nIMPRESSION: Sclerotic lesions as above. The ribs are free of sclerotic lesions.",
    ],
)
def test_a_denial_of_one_place_in_the_impression_is_no_revision(mapping, text):
    # probe74 D7: the self-contradiction rule fired on location-limited denials and made a real lesion
    # indeterminate
    found = _findings(mapping, text, "sclerotic_bone_lesions")
    assert State.PRESENT in [f.state for f in found]
    assert State.INDETERMINATE not in [f.state for f in found]


@pytest.mark.parametrize(
    ("text", "today", "earlier"),
    [
        ("Previously seen IgA lambda band is still present", ["IgA lambda"], []),
        ("IgA lambda, previously IgA lambda", ["IgA lambda"], ["IgA lambda"]),
        ("Ранее выявлявшийся IgA лямбда сохраняется", ["IgA lambda"], []),
        ("IgA lambda (previously IgG kappa)", ["IgA lambda"], ["IgG kappa"]),
        ("IgA lambda band previously seen, now not detected", [], ["IgA lambda"]),
    ],
)
def test_a_band_still_there_or_named_before_the_earlier_one_is_todays(text, today, earlier):
    # probe74 D8: these were unrecognised (the clone "no data", the light chain untyped)
    from poems_fhir.mapping.ife import parse_ife

    parsed = parse_ife(text)
    assert parsed.parsed
    assert [b.label() for b in parsed.bands] == today and [b.label() for b in parsed.earlier] == earlier


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("Pleural effusion\tNo\tNo", "Pleural effusion: No."),  # prior and current columns agree (probe74 D5)
        ("Pleural effusion\tNo\tYes", "Pleural effusion No Yes"),  # they differ: left as it is
        ("Ascites: 0.5 cm", "Ascites: 0.5 cm"),  # a decimal is no zero (probe74 D13: "Ascites:no.5 cm")
    ],
)
def test_table_cells_and_decimals(text, read):
    from poems_fhir.mapping.text.layout import answered_forms

    out = answered_forms(text)
    assert len(out) == len(text) and " ".join(out.split()) == read
