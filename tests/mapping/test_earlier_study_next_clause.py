"""A finding "not seen on previous CT" is new unless the text denies it today; the clause after such a denial denies
it today only when it names nothing else - "…, still absent", «…, в настоящее время также не определяется» - not when
it denies another finding ("…; no ascites", "…; no other lesions": fix120a's fallback read the L3 lesion denied, a
true sclerotic lesion lost; probe119 zb01)."""

from __future__ import annotations

import pytest

from tests.mapping.test_text_probe105_history import _read


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sclerotic lesion in L3, not seen on previous CT; no other lesions.", "present"),
        ("Sclerotic lesion in L3, not seen on previous CT; no ascites.", "present"),
        ("Sclerotic lesion in L3 - not seen on previous CT; no further lesions.", "present"),
        ("Sclerotic lesion in L3 - not seen on previous CT, no pleural effusion.", "present"),
        ("Склеротический очаг в L3, на предыдущем КТ не определялся; асцита нет.", "present"),
        # ... and a clause that only denies it today still does
        ("Sclerotic lesion in L3 - not seen on previous CT, still absent.", "negated"),
        ("Sclerotic lesion in L3 - not seen on previous CT (still not seen on the current study).", "negated"),
        (
            "Склеротический очаг в L3 - на предыдущем КТ не определялся, в настоящее время также не определяется.",
            "negated",
        ),
    ],
)
def test_the_next_clause_denies_the_lesion_today_only_when_it_names_nothing_else(mapping, text, expected):
    assert _read(mapping, text).get("sclerotic_bone_lesion") == expected
