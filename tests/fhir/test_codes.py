"""A FHIR code of the reading layer as a sender spells it (fhir/codes.py, fix141a)."""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.fhir.codes import GENDERS, HTTP_VERBS, LINK_TYPES, fhir_code


@pytest.mark.parametrize(
    ("sent", "code"),
    [("Delete", "delete"), (" DELETE ", "delete"), ("Replaced_By", "replaced-by"), ("seeAlso", "seealso"),
     ("ERROR", "error"), ("Too_Costly", "too-costly"), ("Female", "female"), ("", ""), ("  ", "")],
)  # fmt: skip
def test_case_spaces_and_underscores_are_forgiven(sent: str, code: str) -> None:
    assert fhir_code(sent) == code


@pytest.mark.parametrize("sent", [None, 3, ["DELETE"], {"code": "delete"}])
def test_what_is_no_text_is_no_code(sent: Any) -> None:
    assert fhir_code(sent) is None


def test_the_value_sets_are_r4s() -> None:
    assert HTTP_VERBS == {"get", "head", "post", "put", "delete", "patch"}
    assert LINK_TYPES == {"replaced-by", "replaces", "refer", "seealso"}
    assert GENDERS == {"male", "female", "other", "unknown"}
    # no code differs from another only in what is forgiven, so forgiving changes no code into another
    for codes in (HTTP_VERBS, LINK_TYPES, GENDERS):
        assert {fhir_code(c) for c in codes} == codes
