from __future__ import annotations

import pytest

from poems_fhir.mapping.ife import Band, parse_ife


@pytest.mark.parametrize(
    ("text", "bands"),
    [
        ("IgA lambda", [("IgA", "lambda")]),
        ("IgG-λ", [("IgG", "lambda")]),
        ("IgA/λ", [("IgA", "lambda")]),
        ("IgAλ", [("IgA", "lambda")]),
        ("IgA λ (12.1%)", [("IgA", "lambda")]),
        ("Monoclonal IgM kappa band", [("IgM", "kappa")]),
        ("free lambda light chains", [(None, "lambda")]),
        ("biclonal IgG kappa and IgA lambda", [("IgG", "kappa"), ("IgA", "lambda")]),
        ("Моноклональный белок IgA лямбда", [("IgA", "lambda")]),
        ("свободные каппа цепи", [(None, "kappa")]),
        ("IgG", [("IgG", None)]),
    ],
)
def test_bands(text, bands):
    result = parse_ife(text)
    assert not result.negative
    assert list(result.bands) == [Band(heavy, light) for heavy, light in bands]


@pytest.mark.parametrize("text", ["negative", "Negative", "no monoclonal protein", "No M-protein detected",
                                  "не выявлен", "не выявлено", "not detected"])
def test_negative(text):
    result = parse_ife(text)
    assert result.negative and not result.bands


@pytest.mark.parametrize("text", ["", "see comment", "normal"])
def test_unrecognised_is_not_parsed(text):
    assert not parse_ife(text).parsed
