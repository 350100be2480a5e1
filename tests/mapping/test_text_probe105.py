"""probe105 D1-D5: a generic list - a drug's or a disease's possible effects, warning signs to report,
patient information, a textbook description of the disease, a differential - names no finding of the
patient, to its last item (``over_list`` context rules, ``engine._in_list``)."""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.criteria.profiles import get_profile
from poems_fhir.pipeline import evaluate_record
from tests.conftest import make_record, observation
from tests.mapping.test_text_corpus import labels


def _read(mapping, text: str) -> dict[str, str]:
    [assertions] = mapping.text.assert_texts([text])
    return labels(assertions)


def _patient(conclusion: str, *, coded_polyneuropathy: bool = True) -> list[dict[str, Any]]:
    """probe105's base patients: an IgG-lambda clone, VEGF 624 and platelets 512 coded (a polyneuropathy
    too, unless the text is to decide it), and a clinic letter whose text decides the rest."""
    resources: list[dict[str, Any]] = [
        observation("25700-6", "ife", valueString="IgG lambda"),
        observation(
            "75628-8",
            "vegf",
            valueQuantity={"value": 624, "unit": "pg/mL", "system": "http://unitsofmeasure.org", "code": "pg/mL"},
        ),
        {
            "resourceType": "DiagnosticReport",
            "id": "letter",
            "status": "final",
            "subject": {"reference": "Patient/p1"},
            "code": {"text": "Clinic letter"},
            "effectiveDateTime": "2024-02-01",
            "conclusion": conclusion,
        },
    ]
    if coded_polyneuropathy:
        resources.append(
            {
                "resourceType": "Condition",
                "id": "pn",
                "subject": {"reference": "Patient/p1"},
                "verificationStatus": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}
                    ]
                },
                "code": {
                    "coding": [{"system": "http://snomed.info/sct", "code": "42345000", "display": "Polyneuropathy"}]
                },
                "recordedDate": "2024-01-10",
            }
        )
    else:
        resources.append(
            observation(
                "777-3",
                "plt",
                valueQuantity={"value": 512, "unit": "10*9/L", "system": "http://unitsofmeasure.org", "code": "10*9/L"},
            )
        )
    return resources


def _evaluate(mapping, conclusion: str, *, coded_polyneuropathy: bool = True):
    return evaluate_record(
        make_record(*_patient(conclusion, coded_polyneuropathy=coded_polyneuropathy)),
        mapping,
        get_profile("mayo"),
        None,
    ).assessment


# D1: a drug's possible side effects past the trigger's short scope ("can cause" reached six words)
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Lenalidomide was discussed. It can cause tiredness, diarrhoea, a skin rash, blood clots and, less "
         "commonly, swelling of the ankles.", {"diarrhea": "hypothetical", "edema": "hypothetical"}),
        ("POEMS syndrome can cause swelling of the legs, fluid in the abdomen (ascites), an enlarged liver and "
         "spleen, skin darkening and papilloedema.",
         {"edema": "hypothetical", "ascites": "hypothetical", "hepatomegaly": "hypothetical",
          "splenomegaly": "hypothetical", "papilledema": "hypothetical"}),
        ("Tiredness, diarrhoea and ankle swelling are common side effects of lenalidomide.",
         {"diarrhea": "hypothetical", "edema": "hypothetical"}),
        ("Препарат может вызывать слабость, диарею, кожную сыпь, тромбозы и, реже, отеки ног.",
         {"diarrhea": "hypothetical", "thrombosis": "hypothetical", "edema": "hypothetical"}),
        ("Талидомид полинейропатия, іш қату және аяқтың ісінуі тудыруы мүмкін.",
         {"polyneuropathy": "hypothetical", "edema": "hypothetical"}),
        # the list ends at a contrast or a clause about the patient: what follows is the patient's
        ("Thalidomide can cause neuropathy, but the patient has marked ankle swelling and ascites.",
         {"edema": "present", "ascites": "present"}),
        ("It may cause diarrhoea; there is moderate ascites.", {"diarrhea": "hypothetical", "ascites": "present"}),
        ("Splenomegaly 16 cm and ascites, which can cause abdominal discomfort.",
         {"splenomegaly": "present", "ascites": "present"}),
    ],
)  # fmt: skip
def test_d1_every_item_of_a_possible_effects_list_is_hypothetical(mapping, text, expected):
    assert _read(mapping, text) == expected


def test_d1_a_side_effect_list_does_not_make_the_patient_met(mapping):
    result = _evaluate(
        mapping,
        "Lenalidomide was discussed. It can cause tiredness, diarrhoea, a skin rash, blood clots and, less "
        "commonly, swelling of the ankles.",
    )
    assert result.criteria["extravascular_volume_overload"].state is State.NOT_ASSESSED
    assert result.classification.value != "met"


# D2: safety-netting, the warning signs to report
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Warning signs to report to the team: ankle swelling, fluid in the abdomen (ascites), or blurred vision "
         "from papilloedema.", {"edema": "hypothetical", "ascites": "hypothetical", "papilledema": "hypothetical"}),
        ("Red flags: leg swelling, abdominal distension from ascites or visual blurring from papilloedema.",
         {"edema": "hypothetical", "ascites": "hypothetical", "papilledema": "hypothetical"}),
        ("Seek medical attention if you develop ankle swelling, abdominal swelling or blurred vision.",
         {"edema": "hypothetical"}),
        ("Warning signs to report:\n- ankle swelling\n- ascites\n- blurred vision from papilloedema",
         {"edema": "hypothetical", "ascites": "hypothetical", "papilledema": "hypothetical"}),
        ("Аяқтың ісінуі, асцит пайда болса, дәрігерге жүгіну керек.", {"edema": "hypothetical", "ascites": "hypothetical"}),
    ],
)  # fmt: skip
def test_d2_warning_signs_to_report_are_no_findings(mapping, text, expected):
    assert _read(mapping, text) == expected


def test_d2_warning_signs_do_not_make_the_patient_met(mapping):
    result = _evaluate(
        mapping,
        "Warning signs to report to the team: ankle swelling, fluid in the abdomen (ascites), or blurred vision "
        "from papilloedema.",
    )
    assert result.criteria["extravascular_volume_overload"].state is State.NOT_ASSESSED
    assert result.criteria["papilledema"].state is State.NOT_ASSESSED
    assert result.classification.value != "met"


# D3: Russian patient information on the disease's possible manifestations
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Пациент информирован о возможных проявлениях заболевания, при которых следует обратиться к врачу: отеки "
         "ног, асцит, увеличение печени и селезенки.",
         {"edema": "hypothetical", "ascites": "hypothetical", "hepatomegaly": "hypothetical",
          "splenomegaly": "hypothetical"}),
        ("Пациенту разъяснены тревожные симптомы: отеки ног, асцит, нечеткость зрения.",
         {"edema": "hypothetical", "ascites": "hypothetical"}),
        ("При появлении отеков ног, увеличения живота (асцит) следует обратиться к врачу.",
         {"edema": "hypothetical", "ascites": "hypothetical"}),
        ("Возможные проявления заболевания:\n- отеки ног\n- асцит", {"edema": "hypothetical", "ascites": "hypothetical"}),
        # the patient's own findings stay
        ("У пациента отмечаются отеки ног, асцит, спленомегалия.",
         {"edema": "present", "ascites": "present", "splenomegaly": "present"}),
        ("Препарат может вызывать отеки, но у пациента асцит и спленомегалия.",
         {"ascites": "present", "splenomegaly": "present"}),
    ],
)  # fmt: skip
def test_d3_patient_information_on_possible_manifestations_is_no_finding(mapping, text, expected):
    assert _read(mapping, text) == expected


def test_d3_patient_information_does_not_make_the_patient_met(mapping):
    result = _evaluate(
        mapping,
        "Пациент информирован о возможных проявлениях заболевания, при которых следует обратиться к врачу: отеки "
        "ног, асцит, увеличение печени и селезенки.",
    )
    assert result.criteria["organomegaly"].state is State.NOT_ASSESSED
    assert result.criteria["extravascular_volume_overload"].state is State.NOT_ASSESSED
    assert result.classification.value != "met"


# D4: a textbook description of the disease
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Клиническая картина POEMS-синдрома включает полинейропатию, органомегалию (увеличение печени, селезенки), "
         "отеки, асцит, гиперпигментацию кожи.",
         {"polyneuropathy": "hypothetical", "hepatomegaly": "hypothetical", "ascites": "hypothetical",
          "hyperpigmentation": "hypothetical"}),
        ("POEMS-синдром характеризуется полинейропатией, спленомегалией, асцитом и гиперпигментацией кожи.",
         {"polyneuropathy": "hypothetical", "splenomegaly": "hypothetical", "ascites": "hypothetical",
          "hyperpigmentation": "hypothetical"}),
        ("The features of POEMS syndrome include polyneuropathy, splenomegaly, ascites and papilloedema.",
         {"polyneuropathy": "hypothetical", "splenomegaly": "hypothetical", "ascites": "hypothetical",
          "papilledema": "hypothetical"}),
        ("POEMS синдромының белгілері: полинейропатия, спленомегалия, асцит.",
         {"polyneuropathy": "hypothetical", "splenomegaly": "hypothetical", "ascites": "hypothetical"}),
        # the patient's clinical picture, and a denial of a disease's features, are read as before
        ("Клиническая картина: полинейропатия, спленомегалия, асцит.",
         {"polyneuropathy": "present", "splenomegaly": "present", "ascites": "present"}),
        ("Морфологические признаки болезни Кастлемана не выявлены, реактивная гиперплазия.",
         {"castleman_disease": "negated"}),
        ("Features of Castleman disease are not seen.", {"castleman_disease": "negated"}),
    ],
)  # fmt: skip
def test_d4_a_textbook_description_of_the_disease_names_nothing_of_the_patient(mapping, text, expected):
    assert _read(mapping, text) == expected


def test_d4_a_textbook_description_does_not_make_the_patient_met(mapping):
    result = _evaluate(
        mapping,
        "Клиническая картина POEMS-синдрома включает полинейропатию, органомегалию (увеличение печени, селезенки), "
        "отеки, асцит, гиперпигментацию кожи.",
    )
    for criterion in ("organomegaly", "extravascular_volume_overload", "skin_changes"):
        assert result.criteria[criterion].state is State.NOT_ASSESSED, criterion
    assert result.classification.value != "met"


# D5: a differential list without a colon; "and an" ended the scope before the last item
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Impression: The differential diagnosis includes CIDP, POEMS syndrome and an anti-MAG neuropathy.",
         {"cidp": "possible", "anti_mag_neuropathy": "possible"}),
        ("The differential includes CIDP, amyloidosis and a diabetic polyneuropathy.",
         {"cidp": "possible", "diabetic_polyneuropathy": "possible"}),
        ("DDx: CIDP, POEMS syndrome and an anti-MAG neuropathy.", {"cidp": "possible", "anti_mag_neuropathy": "possible"}),
        ("Дифференциальный диагноз проводится между ХВДП, AL-амилоидозом и анти-MAG-нейропатией.",
         {"cidp": "possible", "al_amyloidosis": "possible", "anti_mag_neuropathy": "possible"}),
        ("Дифференциалды диагноз: ХВДП, POEMS синдромы және анти-MAG нейропатия.",
         {"cidp": "possible", "anti_mag_neuropathy": "possible"}),
        ("The differential diagnosis includes CIDP; the patient has splenomegaly.",
         {"cidp": "possible", "splenomegaly": "present"}),
    ],
)  # fmt: skip
def test_d5_every_item_of_a_differential_list_is_possible(mapping, text, expected):
    assert _read(mapping, text) == expected


def test_d5_a_differential_list_does_not_make_the_patient_met(mapping):
    result = _evaluate(
        mapping,
        "Impression: The differential diagnosis includes CIDP, POEMS syndrome and an anti-MAG neuropathy.",
        coded_polyneuropathy=False,
    )
    assert result.criteria["polyneuropathy"].state is not State.PRESENT
    assert result.classification.value != "met"


def test_a_site_adds_where_a_list_ends_and_a_list_rule_of_its_own(tmp_path):
    from poems_fhir.mapping.rules import load_mapping

    text = "It can cause diarrhoea, yet marked ascites."
    assert _read(load_mapping(), text) == {"diarrhea": "hypothetical", "ascites": "hypothetical"}
    site = tmp_path / "site.yaml"
    site.write_text(
        "format: poems-fhir-mapping/1\nname: site\nversion: '1'\ntext:\n  list_ends: ['yet']\n  context:\n"
        "    - {lang: en, literal: 'patient leaflet lists', category: HYPOTHETICAL, direction: FORWARD,"
        " max_scope: 2, over_list: true}\n",
        encoding="utf-8",
    )
    mapping = load_mapping([site])
    assert _read(mapping, text) == {"diarrhea": "hypothetical", "ascites": "present"}
    assert _read(mapping, "The patient leaflet lists diarrhoea, fatigue, rash and ankle swelling.") == {
        "diarrhea": "hypothetical",
        "edema": "hypothetical",
    }
