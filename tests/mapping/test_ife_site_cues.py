"""#8: the immunofixation parser's cue words (a relative's band, a rule-out, a differential, hearsay, another
laboratory's or another patient's result) are extended through the mapping files, as the text engine's rules are:
a site teaches its own language without code (``text.immunofixation_context``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.ife import BUILT_IN_CUES, Band, parse_ife
from poems_fhir.mapping.rules import MappingError, load_mapping
from tests.mapping.test_extract import obs, run, states

CLONE = "monoclonal_plasma_cell_disorder"
IGA_L = Band("IgA", "lambda")

SITE = """format: poems-fhir-mapping/1
name: site
version: "1"
text:
  immunofixation_context:
    relative: ["bruder", "schwester", "mutter"]
    hypothetical: ["ausschluss [von]"]
    differential: ["differenzialdiagnose*"]
    hearsay: ["laut patient*", "fremdbefund*"]
    another_laboratory: ["auswärtig* labor*"]
    another_patient: ["patientenverwechslung"]
"""


@pytest.fixture(scope="module")
def site_mapping(tmp_path_factory: pytest.TempPathFactory):
    site = tmp_path_factory.mktemp("site") / "site.yaml"
    site.write_text(SITE, encoding="utf-8")
    return load_mapping([site])


# what each German sentence is without the site's words and with them (without: mostly today's IgA lambda band; the
# quote of another patient's result beside this laboratory's negative: a contradiction, the band possible)
TAUGHT = [
    ("Bruder: IgA lambda.", "band", "none"),
    ("IgA lambda (Bruder).", "band", "none"),
    ("Ausschluss von IgA lambda.", "band", "none"),
    ("Differenzialdiagnose: IgA lambda MGUS.", "band", "possible"),
    ("Laut Patient IgA lambda.", "band", "possible"),
    ("IgA lambda, laut Patientin.", "band", "possible"),
    ("IgA lambda (Fremdbefund).", "band", "possible"),
    ("Auswärtiges Labor: IgA lambda. Unser Ergebnis: negativ.", "band", "earlier"),
    ("IgA lambda, Patientenverwechslung. Repeat: negative.", "possible", "negative"),
]


def _kind(text: str, cues=BUILT_IN_CUES) -> str:
    r = parse_ife(text, cues=cues)
    if r.bands:
        return "band"
    if r.possible:
        return "possible"
    if r.earlier:
        return "earlier"
    return "negative" if r.negative else "none"


@pytest.mark.parametrize(("text", "without", "kind"), TAUGHT)
def test_a_site_phrase_takes_the_band_from_today(site_mapping, text, without, kind):
    assert _kind(text) == without  # the built-in cues know no German
    assert _kind(text, site_mapping.ife_cues) == kind


@pytest.mark.parametrize(
    "text",
    [
        "IgA lambda.",
        "IgA lambda nachgewiesen.",
        # a site word that does not govern the band leaves it the patient's, as the built-in cues do
        "IgA lambda nachgewiesen; Befund mit dem Bruder besprochen.",
        "IgA lambda nachgewiesen. Ausschluss einer Amyloidose empfohlen.",
        # the built-in cues still hold beside the site's
        "Family history: mother had IgA lambda myeloma.",
    ],
)
def test_the_site_words_keep_the_patients_band(site_mapping, text):
    expected = "none" if text.startswith("Family") else "band"
    assert _kind(text, site_mapping.ife_cues) == expected


def test_a_relatives_band_in_an_observation_is_no_clone_with_the_site_words(mapping, site_mapping):
    relative = obs("25700-6", valueString="Bruder: IgA lambda.")
    assert states(run(mapping, relative), CLONE) == [State.PRESENT]
    assert State.PRESENT not in states(run(site_mapping, relative), CLONE)
    hearsay = obs("25700-6", valueString="IgA lambda (Fremdbefund).")
    assert states(run(site_mapping, hearsay), CLONE) == [State.INDETERMINATE]


def test_a_report_conclusion_is_read_with_the_site_words(mapping, site_mapping):
    report = {
        "resourceType": "DiagnosticReport",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "25700-6"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-02",
        "conclusion": "Ausschluss von IgA lambda.",
    }
    assert states(run(mapping, report), CLONE) == [State.PRESENT]
    assert State.PRESENT not in states(run(site_mapping, report), CLONE)


def test_two_site_files_add_their_words(tmp_path: Path):
    first = tmp_path / "a.yaml"
    first.write_text(SITE, encoding="utf-8")
    second = tmp_path / "b.yaml"
    second.write_text(
        'format: poems-fhir-mapping/1\nname: b\nversion: "1"\n'
        "text:\n  immunofixation_context:\n    relative: ['onkel']\n",
        encoding="utf-8",
    )
    cues = load_mapping([first, second]).ife_cues
    assert _kind("Onkel: IgA lambda.", cues) == "none"
    assert _kind("Bruder: IgA lambda.", cues) == "none"


def test_an_unknown_cue_kind_is_a_mapping_error(tmp_path: Path):
    site = tmp_path / "site.yaml"
    site.write_text(
        'format: poems-fhir-mapping/1\nname: site\nversion: "1"\n'
        "text:\n  immunofixation_context:\n    cousin_words: ['vetter']\n",
        encoding="utf-8",
    )
    with pytest.raises(MappingError, match="cousin_words"):
        load_mapping([site])


def test_no_site_words_leave_the_built_in_cues():
    assert BUILT_IN_CUES.with_phrases() is BUILT_IN_CUES
    assert load_mapping().ife_cues == BUILT_IN_CUES
