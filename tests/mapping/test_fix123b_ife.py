"""fix123b: an immunofixation result's clone stated with no band named beside another test's, specimen's or time's
negative is a positive result, its isotype not stated ("Monoclonal protein present. Bence Jones protein: negative.":
the Bence Jones negative is the urine's free light chains, no conflict about the clone); a site's mapping file adds
verbs of telling a relative the result, and its relative words count after the band too."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from poems_fhir.cli import main
from poems_fhir.criteria.model import State
from poems_fhir.mapping.ife import BUILT_IN_CUES, Band, parse_ife
from poems_fhir.mapping.rules import MappingError, load_mapping
from tests.mapping.test_extract import obs, run, states
from tests.mapping.test_probe121 import _ife_report

CLONE = "monoclonal_plasma_cell_disorder"
IGA_L = Band("IgA", "lambda")

# --- 1. a negative of another test beside this result's untyped clone ------------------------------------------------

OTHERS_NEGATIVE = [
    "Monoclonal protein present. Bence Jones protein: negative.",
    "Моноклональный белок выявлен. Белок Бенс-Джонса не обнаружен.",
    "Monoclonal band present. Bence Jones: negative.",
    "Моноклональная полоса выявлена. Белок Бенс-Джонса не обнаружен.",
    "M-protein detected. Urine immunofixation: negative.",
    "Positive. Bence Jones protein: negative.",
    "Paraprotein detected. Previous sample (2021): negative.",
]


@pytest.mark.parametrize("text", OTHERS_NEGATIVE)
def test_the_parser_reads_an_untyped_clone_beside_anothers_negative(text):
    result = parse_ife(text)
    assert result.untyped and not result.negative and result.parsed


@pytest.mark.parametrize("form", ["conclusion", "presentedForm"])
@pytest.mark.parametrize("text", OTHERS_NEGATIVE)
def test_a_report_of_an_untyped_clone_beside_anothers_negative_is_present(mapping, text, form):
    # the text engine read the Bence Jones negative as the clone's (an absent finding beside the present one)
    assert states(run(mapping, _ife_report(text, form)), CLONE) == [State.PRESENT]


@pytest.mark.parametrize("text", OTHERS_NEGATIVE)
def test_an_observation_of_an_untyped_clone_beside_anothers_negative_is_present(mapping, text):
    # as an Observation's value it was unread, or the serum's negative ("Monoclonal band present. Bence Jones:
    # negative." was an absent clone)
    found = run(mapping, obs("25700-6", valueString=text))
    assert states(found, CLONE) == [State.PRESENT]
    assert "isotype not stated" in next(f for f in found.findings if f.topic == CLONE).evidence.summary


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # controls: a clone denied, a clone typed, the same test's negative
        ("Monoclonal protein not detected. Bence Jones protein: negative.", [State.ABSENT]),
        ("Моноклональный белок не выявлен. Белок Бенс-Джонса не обнаружен.", [State.ABSENT]),
        ("Bence Jones protein: positive (lambda).", [State.PRESENT]),
        ("IgA lambda detected. Bence Jones protein: negative.", [State.PRESENT]),
        # a doubted clone beside another test's negative: possible, not this result's negative (it was absent)
        ("Possible monoclonal protein. Bence Jones protein: negative.", [State.INDETERMINATE]),
        ("Monoclonal protein cannot be excluded. Urine: negative.", [State.INDETERMINATE]),
    ],
)
@pytest.mark.parametrize("form", ["conclusion", "presentedForm"])
def test_controls_beside_anothers_negative(mapping, text, expected, form):
    assert states(run(mapping, _ife_report(text, form)), CLONE) == expected


@pytest.mark.parametrize(
    "text",
    [
        # a negative that may be this result's own: no untyped clone (left to the text engine, as before)
        "Monoclonal protein present. Negative.",
        "Monoclonal protein present. Serum immunofixation: negative.",
        "Monoclonal protein present. Repeat: negative.",
        # another specimen's clone beside this result's negative
        "Bence Jones protein detected. Serum immunofixation: negative.",
    ],
)
def test_a_negative_that_may_be_this_results_own_makes_no_untyped_clone(text):
    result = parse_ife(text)
    assert not result.untyped and not result.negative


def test_the_specimen_tested_decides_which_negative_is_anothers():
    # on a urine result the Bence Jones protein is its own test: no untyped clone beside its negative
    assert not parse_ife("Monoclonal protein present. Bence Jones protein: negative.", "urine").untyped
    assert parse_ife("Bence Jones protein detected. Serum immunofixation: negative.", "urine").untyped


# --- 2. a site's verbs of telling, and its relative words after the band ----------------------------------------------

SITE = """format: poems-fhir-mapping/1
name: site
version: "1"
text:
  immunofixation_context:
    relative: ["bruder", "schwester", "mutter"]
    telling: ["informiert", "besprochen", "mitgeteilt"]
"""


@pytest.fixture(scope="module")
def site_cues(tmp_path_factory: pytest.TempPathFactory):
    site = tmp_path_factory.mktemp("site") / "site.yaml"
    site.write_text(SITE, encoding="utf-8")
    return load_mapping([site]).ife_cues


@pytest.mark.parametrize(
    "text",
    [
        # (a) a relative told the result in the label before its colon: the patient's band
        "Schwester informiert: IgA lambda nachgewiesen.",
        "Schwester wurde informiert: IgA lambda nachgewiesen.",
        "Besprochen mit der Schwester: IgA lambda nachgewiesen.",
        "Mit dem Patienten und seiner Schwester besprochen: IgA lambda nachgewiesen.",
        # ... or after the band, the verb just before or after the relative
        "IgA lambda nachgewiesen und der Schwester mitgeteilt.",
        "IgA lambda nachgewiesen und besprochen mit der Schwester.",
        # (b) the patient named as the owner too, before the relative
        "IgA lambda nachgewiesen beim Patienten und bei der Schwester.",
    ],
)
def test_a_site_relative_told_or_beside_the_patient_leaves_the_patients_band(site_cues, text):
    assert parse_ife(text, cues=site_cues).bands == (IGA_L,)


@pytest.mark.parametrize(
    "text",
    [
        # (b) a site's relative word after the band, in its own phrasing: the relative's band
        "IgA lambda nachgewiesen bei der Schwester.",
        "IgA lambda bei der Schwester nachgewiesen.",
        "IgA lambda nachgewiesen beim Bruder.",
        "IgA lambda nachgewiesen bei der Schwester des Patienten.",
        # ... a verb of telling later in the clause is not of the relative's band
        "IgA lambda bei der Schwester nachgewiesen und ihr mitgeteilt.",
        # (a) a verb of telling is no label's where no colon ends the label: the relative's band
        "Informiert: bei der Schwester IgA lambda nachgewiesen.",
        "Schwester: IgA lambda nachgewiesen.",
    ],
)
def test_a_site_relatives_band_after_or_before_it_is_theirs(site_cues, text):
    assert parse_ife(text, cues=site_cues).bands == ()


@pytest.mark.parametrize("form", ["conclusion", "presentedForm"])
def test_a_report_is_read_with_the_sites_telling_and_relative_words(tmp_path: Path, form):
    site = tmp_path / "site.yaml"
    site.write_text(SITE, encoding="utf-8")
    mapping = load_mapping([site])
    told = _ife_report("Schwester informiert: IgA lambda nachgewiesen.", form)
    assert states(run(mapping, told), CLONE) == [State.PRESENT]
    relatives = _ife_report("IgA lambda nachgewiesen bei der Schwester.", form)
    assert State.PRESENT not in states(run(mapping, relatives), CLONE)


def test_the_built_in_told_relatives_still_hold_beside_the_sites_words(site_cues):
    assert parse_ife("Discussed with his son: IgA lambda band detected.", cues=site_cues).bands == (IGA_L,)
    assert parse_ife("IgA lambda band detected in his son.", cues=site_cues).bands == ()
    assert BUILT_IN_CUES.with_phrases(telling=["informiert"]).told_before is not BUILT_IN_CUES.told_before


def test_mappings_check_validates_the_telling_list(tmp_path: Path):
    site = tmp_path / "site.yaml"
    site.write_text(SITE.replace('["informiert", "besprochen", "mitgeteilt"]', "{informiert: 1}"), encoding="utf-8")
    with pytest.raises(MappingError, match="telling"):
        load_mapping([site])
    site.write_text(SITE, encoding="utf-8")
    result = CliRunner().invoke(main, ["mappings", "check", str(site)])
    assert result.exit_code == 0, result.output
