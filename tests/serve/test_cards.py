"""Card wording (serve/cards.py): what decides the summary, its length, its languages."""

from __future__ import annotations

import pytest

from poems_fhir.criteria.profiles import get_profile
from poems_fhir.pipeline import evaluate_paths
from poems_fhir.serve.cards import SUMMARY_MAX, card_uuid, cards_for
from tests.conftest import SAMPLES

CASTLEMAN = SAMPLES / "mimics" / "castleman-without-neuropathy.json"
CIDP = SAMPLES / "mimics" / "cidp-igg-kappa-mgus.json"


def _result(path, trigger=("polyneuropathy", "monoclonal_plasma_cell_disorder"), profile="mayo", mapping=None):  # type: ignore[no-untyped-def]
    return evaluate_paths([path], mapping, get_profile(profile), trigger=trigger).results[0]


def test_not_met_names_the_absent_criteria_that_decide_it(mapping):
    result = _result(CASTLEMAN, trigger=("castleman_disease",), mapping=mapping)
    assert result.scope.in_scope and result.assessment.classification.value == "not_met"
    (card,) = cards_for(result, "en")
    assert (
        card["summary"]
        == "POEMS criteria not met (2 present); absent: Polyneuropathy, Monoclonal plasma-cell proliferative disorder"
    )
    assert "suggestions" not in card and card["indicator"] in ("info", "warning")


def test_long_missing_lists_are_shortened_to_140_characters_in_every_language(mapping):
    result = _result(CIDP, mapping=mapping)
    assert len(result.assessment.missing) > 4
    for language in ("en", "ru", "kk"):
        summary = cards_for(result, language)[0]["summary"]
        assert len(summary) <= SUMMARY_MAX
        assert any(more in summary for more in ("more", "ещё", "тағы"))


def test_out_of_scope_gives_no_card_and_the_uuid_depends_on_the_conclusion(mapping):
    assert cards_for(_result(CASTLEMAN, mapping=mapping), "en") == []
    mayo = _result(SAMPLES / "origin-case" / "01-diagnosis-2019-02.json", mapping=mapping)
    old = _result(SAMPLES / "origin-case" / "01-diagnosis-2019-02.json", profile="dispenzieri-2003", mapping=mapping)
    assert mayo.assessment.classification != old.assessment.classification  # met under 2003 (criteria.md)
    assert card_uuid(mayo) != card_uuid(old)
    assert cards_for(old, "en")[0]["source"]["label"] == get_profile("dispenzieri-2003").citation
    assert "url" not in cards_for(old, "en")[0]["source"]  # no link we could not confirm


@pytest.mark.parametrize("language", ["en", "ru", "kk"])
def test_detail_is_markdown_with_record_text_escaped(mapping, language):
    result = _result(SAMPLES / "origin-case" / "01-diagnosis-2019-02.json", mapping=mapping)
    detail = cards_for(result, language)[0]["detail"]
    assert detail.count("**") >= 6 and "<" not in detail.replace("\\<", "")
