"""A look-alike named as a noun right after the disease (text `likeness_after`): "a Castleman mimic" was read as
Castleman disease (probe127's rest, README "Known limitations") - a major criterion from a pathologist's word for what
the node is not."""

from __future__ import annotations

import pytest

from tests.mapping.test_text_probe105_history import _read


@pytest.mark.parametrize(
    "text",
    [
        "Lymph node: reactive follicular hyperplasia, a Castleman mimic.",
        "Castleman look-alike (IgG4-related lymphadenopathy).",
        "Findings are those of a Castleman-disease mimicker.",
        "Castleman mimics include IgG4-related disease; this node is one.",
        "Гиперплазия лимфоузла: Кастлеман-имитатор.",
    ],
)
def test_a_lookalike_noun_after_castleman_denies_the_disease(mapping, text):
    assert _read(mapping, text)["castleman_disease"] == "negated"


@pytest.mark.parametrize(
    "text",
    [
        "Castleman disease mimics lymphoma clinically.",  # a verb: the disease itself
        "Castleman disease, a mimic of lymphoma, hyaline-vascular type.",
        "Hyaline-vascular Castleman disease.",
    ],
)
def test_the_disease_itself_stays_present(mapping, text):
    assert _read(mapping, text) == {"castleman_disease": "present"}


SITE = """format: poems-fhir-mapping/1
name: site
version: "1"
text:
  likeness_after: ["castleman\\\\w*[\\\\s-]+nachahmer\\\\b"]
"""


def test_a_site_adds_its_lookalike_nouns(tmp_path):
    from poems_fhir.mapping.rules import load_mapping

    site = tmp_path / "site.yaml"
    site.write_text(SITE, encoding="utf-8")
    mapping = load_mapping([site])
    assert _read(mapping, "Castleman-Nachahmer.")["castleman_disease"] == "negated"
    assert _read(mapping, "Castleman mimic.")["castleman_disease"] == "negated"  # the defaults stay
