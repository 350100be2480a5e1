# SPDX-License-Identifier: Apache-2.0
"""A site's regular expression that can backtrack catastrophically is refused where the mapping loads
(probe39 M3: `synonyms: ["^(a+)+$"]` held one 35-character display for minutes)."""

from __future__ import annotations

import re
import time

import pytest

from poems_fhir.mapping.regex_safety import BacktrackingPattern, backtracking_risk, safe_compile
from poems_fhir.mapping.rules import MappingError, load_mapping


@pytest.mark.parametrize(
    "pattern",
    [r"^(a+)+$", r"(a*)*b", r"(\w+\s?)*$", r"(?:x(?:ab)+)*y", r"(a|aa)+c", r"(?:a|a)+b", r"(?:aa?)+b", r"(a+){5,}"],
)
def test_exponential_patterns_are_refused(pattern):
    assert backtracking_risk(pattern)
    with pytest.raises(BacktrackingPattern):
        safe_compile(pattern)
    assert issubclass(BacktrackingPattern, re.error)  # reported where the mapping reports a bad regex


@pytest.mark.parametrize(
    "pattern",
    [
        r"free kappa(?!\s*/)(?![^,;]*ratio)",
        r"^(?:platelets?|plt)(?: count)?(?:[ ,(]++(?:blood|auto\w*+|b)\)?)*$",  # possessive inner repeat
        r"(?>a+)+$",  # atomic
        r"(?:\s|,)+",  # one character per step
        r"(?:ab){1,3}c",  # bounded
        r"\bvegf(?:[- ]?a)?\b",
        r"(foo|bar)+",  # alternatives that start differently
        r"(a|ab)+c",  # one way to cut any text
    ],
)
def test_ordinary_patterns_are_accepted(pattern):
    assert backtracking_risk(pattern) is None
    assert safe_compile(pattern).pattern == pattern


def test_the_accepted_forms_are_fast_where_the_refused_one_is_not():
    text = "a" * 26 + "!"
    started = time.perf_counter()
    assert safe_compile(r"^(?>a+)+$").search(text) is None
    assert safe_compile(r"^(?:a++)+$").search(text) is None
    assert time.perf_counter() - started < 1.0  # the nested greedy form takes seconds at this length


def test_a_site_synonym_that_backtracks_fails_the_mapping_load_at_its_line(tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text(
        'format: poems-fhir-mapping/1\nname: s\nversion: "1"\nobservations:\n  - id: vegf\n    synonyms: ["^(a+)+$"]\n',
        encoding="utf-8",
    )
    with pytest.raises(MappingError) as caught:
        load_mapping([site])
    text = str(caught.value)
    assert "site.yaml:5" in text and "observations.vegf.synonyms" in text and "exponential time" in text
