"""probe87 D4: a site phrase whose gaps or interchangeable optional words backtrack exponentially is refused."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from poems_fhir.cli import main
from poems_fhir.mapping.rules import MappingError, load_mapping
from poems_fhir.mapping.text.lexicon import MAX_PHRASE_COST, MAX_PHRASE_GAPS, compile_phrase, phrase_regex

HEADER = "format: poems-fhir-mapping/1\nname: probe-d4\nversion: '1'\ntext:\n  targets:\n"
SEVEN_GAPS = "x ... x ... x ... x ... x ... x ... y ... spleen"
TWENTY_OPTIONAL = " ".join(["[x]"] * 20) + " spleen"


def _site(tmp_path, phrase: str):
    site = tmp_path / "site.yaml"
    site.write_text(HEADER + f"    splenomegaly: {{phrases: [{phrase!r}]}}\n", encoding="utf-8")
    return site


@pytest.mark.parametrize(
    "phrase",
    [
        SEVEN_GAPS,
        TWENTY_OPTIONAL,
        "a ... b ... c ... d ... e",
        " ".join(["[x]"] * 10) + " spleen",
        "a ... b ... c ... [x] d",
    ],
)
def test_a_phrase_past_the_bound_is_refused_by_mappings_check_and_at_load(tmp_path, phrase):
    site = _site(tmp_path, phrase)
    with pytest.raises(MappingError, match="too many ways to match"):
        load_mapping([site])
    result = CliRunner().invoke(main, ["mappings", "check", str(site)], catch_exceptions=False)
    assert result.exit_code == 2 and "too many ways to match" in result.output
    assert f"at most {MAX_PHRASE_GAPS} gaps" in result.output and "split it into several phrases" in result.output


def test_evaluate_with_such_a_site_mapping_stops_before_reading_a_patient(tmp_path):
    report = (
        '{"resourceType": "Bundle", "type": "collection", "entry": ['
        '{"resource": {"resourceType": "Patient", "id": "p1", "gender": "male", "birthDate": "1970-01-01"}},'
        '{"resource": {"resourceType": "DiagnosticReport", "id": "r1", "status": "final", "code": {"text": "CT"},'
        '"subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2024-01-15",'
        f'"conclusion": "{" ".join(["x"] * 60)} spleen."}}}}]}}'
    )
    bundle = tmp_path / "d4.json"
    bundle.write_text(report, encoding="utf-8")
    result = CliRunner().invoke(
        main, ["evaluate", str(bundle), "--workers", "1", "--mappings", str(_site(tmp_path, SEVEN_GAPS))]
    )
    assert result.exit_code == 2 and "too many ways to match" in result.output


@pytest.mark.parametrize(
    "phrase",
    [
        "x ... x ... x ... spleen",  # 3 gaps: the most
        " ".join(["[x]"] * 9) + " spleen",
        "enlarged ... cm|mm ... lymph node|nodes",
        # optional words that are all different cost nothing (the default mapping's longest phrase)
        "spleen [:] ... cm|mm [in] [the] [craniocaudal|longitudinal|midclavicular] [dimension|diameter|length|span] "
        "[,] [(] [is|was|appears|remains] [not] [mildly|moderately|markedly|slightly] enlarged",
    ],
)
def test_a_phrase_within_the_bound_loads(tmp_path, phrase):
    load_mapping([_site(tmp_path, phrase)])


def test_the_bound_counts_interchangeable_optional_words_only():
    for ok in ("[a] [b] [c] [d] [e] [f] [g] [h] [i] [j] [k] spleen", "[lesion] [node] [mass] spleen"):
        compile_phrase(ok)
    for words in (["[lesion*]"] * 2, ["[lesion*]", "[lesions]"], ["[*itis]", "[arthritis]"]):
        cost = " ".join(words * 5) + " spleen"  # 10 optional words that can stand for one word
        with pytest.raises(ValueError, match="10 such word"):
            compile_phrase(cost)


def test_the_bound_is_the_number_of_ways_a_regex_can_try():
    """Structure, not time: the ways a phrase's regex can spread a sentence's words over it are at most
    8 per gap (0-7 words) and 2 per interchangeable optional word; the bound keeps them at 2^MAX_PHRASE_COST."""
    assert 8**MAX_PHRASE_GAPS <= 2**MAX_PHRASE_COST <= 512
    gap = re.compile(phrase_regex("a ... b"))
    assert gap.fullmatch("a " + "w " * 7 + "b") and not gap.fullmatch("a " + "w " * 8 + "b")
