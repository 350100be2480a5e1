"""fix112a (probe112 D8): a "Clinical query:" heading whose question asks ("?" or a request) ends at its full stop
before a sentence that opens with a finding's name - the report's own finding after the query is no longer the
referrer's. A sentence that tells of an earlier study or a known finding stays the referrer's."""

from __future__ import annotations

import pytest


def _labels(mapping, text: str) -> list[tuple[str, str]]:
    [assertions] = mapping.text.assert_texts([text])
    return sorted((a.target, a.label) for a in assertions)


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("Clinical query: ?sclerotic lesions ?splenomegaly. Splenomegaly 15 cm.", "splenomegaly"),
        ("Clinical query: no sclerotic lesions on XR - CT please. Sclerotic lesion L3.", "sclerotic_bone_lesion"),
        ("Клинический вопрос: ?склеротические очаги. Спленомегалия 15 см.", "splenomegaly"),
    ],
)  # fmt: skip
def test_the_reports_finding_after_the_query_is_read(mapping, text, target):
    assert (target, "present") in _labels(mapping, text)


# controls: the referrer's history after the question stays the referrer's
@pytest.mark.parametrize(
    "text",
    [
        "Clinical query: ?POEMS. Splenomegaly on previous CT.",
        "Clinical query: ?POEMS. Known sclerotic lesions on PET 2022.",
        "Clinical query: POEMS syndrome. Splenomegaly on previous CT. Assess progression.",
        "Clinical query: ?POEMS. Castleman disease in 2019. Ascites.",
    ],
)
def test_the_referrers_history_stays_the_referrers(mapping, text):
    assert all(label != "present" for _, label in _labels(mapping, text))


def test_the_query_itself_stays_a_question(mapping):
    assert ("sclerotic_bone_lesion", "present") not in _labels(
        mapping, "Clinical query: ?sclerotic lesions ?splenomegaly. Splenomegaly 15 cm."
    )


# probe119 D13: a measured lesion's body site ("in T10", «в Th10») is no source of the measure - the study's own
@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("Clinical query: POEMS staging. Sclerotic lesion in T10, 12 mm.", "sclerotic_bone_lesion"),
        ("Clinical query: POEMS staging. Sclerotic lesion at L3, 9 mm.", "sclerotic_bone_lesion"),
        ("Клинический вопрос: стадирование POEMS. Склеротический очаг в Th10, 12 мм.", "sclerotic_bone_lesion"),
    ],
)  # fmt: skip
def test_a_measured_lesion_at_a_body_site_after_the_query_is_the_reports(mapping, text, target):
    assert (target, "present") in _labels(mapping, text)


# ... but a place of care is where the measure comes from: still the referrer's
@pytest.mark.parametrize(
    "text",
    [
        "Clinical query: POEMS staging. Splenomegaly 15 cm in clinic.",
        "Clinical query: POEMS staging. Splenomegaly 15 cm at the outside hospital.",
        "Clinical query: POEMS. Sclerotic lesion in T10, 12 mm on previous CT.",
        "Клинический вопрос: POEMS. Спленомегалия 15 см в поликлинике.",
    ],
)
def test_a_measure_from_a_place_of_care_stays_the_referrers(mapping, text):
    assert all(label != "present" for _, label in _labels(mapping, text))
