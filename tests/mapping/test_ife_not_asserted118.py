"""probe118: the probe116 cues (a relative, a condition or a test to come, a differential, hearsay) must GOVERN the band
to take it from the patient - before it in its clause, as its owner, or as an attribution right after it - not merely
stand somewhere in its sentence or in a note beside it. Each sentence below is a true POEMS patient's immunofixation
result (the clone read, D1-D4), a relative's band named in brackets (D5) or a Russian note disowning the value (D6);
and a clinic letter's "Outside CT unverified; our CT today: splenomegaly 17 cm." is this study's spleen (D14)."""

from __future__ import annotations

from pathlib import Path

import pytest

from poems_fhir.mapping.ife import Band, parse_ife

FIXTURES = Path(__file__).parent.parent / "fixtures" / "probe118"

IGA_L = Band("IgA", "lambda")
IGG_L = Band("IgG", "lambda")

# the patient's clone, with innocent cue words beside it (each read indeterminate or not at all before the fix);
# an Observation.note is read as "\nNote: …"
THE_PATIENTS = [
    # D1: a sentence with no band and a hearsay word, or a note of mere clinical detail
    ("IgA lambda. Referral letter mentions neuropathy.", IGA_L),
    ("IgA lambda paraprotein detected. Patient states numbness for 2 years.", IGA_L),
    ("IgA lambda band detected. Clinical details per referral letter: ?POEMS.", IGA_L),
    ("IgA lambda band. Requested by Dr Smith (private clinic).", IGA_L),
    ("Result: IgA lambda. Transcribed by J. Smith, laboratory secretary.", IGA_L),
    ("IgA lambda paraprotein (0.8 g/L). No records available for comparison.", IGA_L),
    ("IgG lambda band detected. Dr Jones was told by phone.", IGG_L),
    ("IgA lambda detected. According to the patient, no previous testing.", IGA_L),
    ("IgG lambda M-protein 4 g/L. Reportedly on steroids previously.", IGG_L),
    (
        "Test | Result\nIFE serum | IgG lambda\nComment | Reportedly symptomatic since 2022; correlate clinically.",
        IGG_L,
    ),
    ("Result: IgG lambda detected.\nComment: referral letter states progressive neuropathy.", IGG_L),
    ("IgA lambda monoclonal band detected.\nNote: Clinical details from referral letter: neuropathy.", IGA_L),
    ("IgA lambda detected.\nNote: Referral diagnosis (unconfirmed): CIDP.", IGA_L),
    ("IgG лямбда.\nNote: В направлении: полинейропатия.", IGG_L),
    ("IgG лямбда. В направлении: полинейропатия.", IGG_L),
    ("Выявлен моноклональный IgA лямбда. Со слов пациента, онемение 2 года.", IGA_L),
    ("Парапротеин IgG лямбда. Исследование выполнено по направлению; в направлении указан диагноз ХВДП.", IGG_L),
    ("IgA лямбда анықталды. Жолдамада: полинейропатия.", IGA_L),
    ("IgA лямбда анықталды. Науқастың айтуынша, аяқтары 2 жыл бойы ұйиды.", IGA_L),
    # D2: a differential or hearsay clause of its own after the band
    ("IgA lambda; referral letter mentions neuropathy.", IGA_L),
    ("IgA lambda paraprotein detected; patient reports worsening numbness.", IGA_L),
    ("IgG lambda paraprotein; differential diagnosis includes POEMS syndrome and CIDP.", IGG_L),
    ("IgA lambda band; DDx CIDP vs POEMS.", IGA_L),
    ("Выявлена моноклональная секреция IgA лямбда; дифференциальный диагноз с ХВДП.", IGA_L),
    # D3: a kinship word (or a nurse's title) for someone told, not the band's owner
    ("IgA lambda monoclonal band detected and discussed with the patient and his son.", IGA_L),
    ("IgA lambda band detected and phoned to the ward sister.", IGA_L),
    ("IgA лямбда анықталды және анасына хабарланды.", IGA_L),
    ("IgA lambda paraprotein with relative immunoparesis.", IGA_L),
    # D4: another test awaited, or a condition that does not govern the band
    ("IgA lambda band; bone marrow result awaited.", IGA_L),
    ("Pending FLC results, IgG lambda band is present.", IGG_L),
    ("In case of queries contact the laboratory: IgA lambda band detected.", IGA_L),
    ("Immunofixation requested for neuropathy: IgG lambda band detected.", IGG_L),
    ("IgA lambda paraprotein; urine result to follow.", IGA_L),
]

# not the patient's clone: a relative named in brackets after the band (D5); the cues that govern the band still do
NOT_THE_PATIENTS = [
    "IgG lambda paraprotein (patient's brother, cascade screening).",
    "IgG lambda paraprotein (brother, cascade screening).",
    "IgG лямбда (брат пациента, каскадный скрининг).",
    "IgG лямбда (науқастың ағасы).",
    "IgA lambda myeloma in the patient's mother; patient's sample pending.",
    "Relative | Result\nBrother | IgG lambda",
    "IgA lambda - result pending",
    "IgA лямбда: результат ожидается.",
    "Pending: IgG lambda immunofixation",
    "IgG lambda - mother",
]

# a doubt: hearsay or a differential that governs the band
DOUBTED = [
    ("IgA lambda band, reportedly.", IGA_L),
    ("IgA lambda (per referral letter).", IGA_L),
    ("IgA lambda paraprotein according to the patient.", IGA_L),
    ("IgA лямбда (по данным выписки из другой больницы).", IGA_L),
    ("Со слов пациента, ранее выявлялся IgA лямбда.", IGA_L),
    ("Науқастың айтуынша, IgA лямбда анықталған.", IGA_L),
    ("IgA lambda band, as stated in the referral letter.", IGA_L),
    ("IgA lambda band (from referral letter).", IGA_L),
    ("IgA lambda band (see referral letter).", IGA_L),
    ("IgA lambda MGUS is in the differential.", IGA_L),
]

# a note that disowns the value (D6, and the English form probe116 D8 read): a doubt, with the disagreement named
DISOWNING_NOTES = [
    ("IgG лямбда\nNote: Переписано из направления, в нашей лаборатории не подтверждено.", IGG_L),
    ("IgA lambda\nNote: Transcribed from the referral letter; not verified by our laboratory.", IGA_L),
    ("IgA lambda\nNote: Not verified by our laboratory.", IGA_L),
    ("IgA лямбда\nNote: Біздің зертханада расталмаған.", IGA_L),
]


@pytest.mark.parametrize(("text", "band"), THE_PATIENTS)
def test_a_cue_that_does_not_govern_the_band_leaves_it_the_patients(text, band):
    result = parse_ife(text)
    assert band in result.bands and not result.conflict


@pytest.mark.parametrize(("text", "band"), THE_PATIENTS)
def test_the_same_on_a_urine_result(text, band):
    assert band in parse_ife(text, "urine").bands


@pytest.mark.parametrize("text", NOT_THE_PATIENTS)
def test_a_band_the_cue_governs_is_no_band(text):
    result = parse_ife(text)
    assert result.bands == ()


@pytest.mark.parametrize(("text", "band"), DOUBTED)
def test_an_attribution_after_or_before_the_band_is_a_doubt(text, band):
    result = parse_ife(text)
    assert result.bands == () and band in result.possible


@pytest.mark.parametrize(("text", "band"), DISOWNING_NOTES)
def test_a_note_that_disowns_the_value_makes_it_a_doubt(text, band):
    result = parse_ife(text)
    assert result.bands == () and band in result.possible and result.conflict


@pytest.mark.parametrize(
    ("fixture", "criterion", "state", "classification"),
    [
        ("d1-referral-sentence.json", "monoclonal_plasma_cell_disorder", "present", "met"),
        ("d2-differential-after-band.json", "monoclonal_plasma_cell_disorder", "present", "met"),
        ("d3-discussed-with-son.json", "monoclonal_plasma_cell_disorder", "present", "met"),
        ("d4-marrow-result-awaited.json", "monoclonal_plasma_cell_disorder", "present", "met"),
        ("d5-brother-in-brackets.json", "monoclonal_plasma_cell_disorder", "not_assessed", "indeterminate"),
        ("d6-ru-note-transcribed.json", "monoclonal_plasma_cell_disorder", "indeterminate", "indeterminate"),
        ("d14-letter-outside-ct-unverified.json", "organomegaly", "present", "met"),
    ],
)
def test_probe118_patients(mapping, fixture, criterion, state, classification):
    from poems_fhir.criteria.profiles import get_profile
    from poems_fhir.pipeline import evaluate_paths

    run = evaluate_paths([FIXTURES / fixture], mapping, get_profile("mayo"))
    [result] = run.results
    assert result.assessment.criteria[criterion].state.value == state
    assert result.assessment.classification.value == classification
