"""Immunofixation readings a one-token bug would get wrong (codes.md §B parsing rule): clauses after a
band-less or a negated clause still count, whitespace runs in lab text are one space, a heavy and a light
chain reported apart are one band unless that is ambiguous, and a band's label says what was found."""

from __future__ import annotations

import pytest

from poems_fhir.mapping.ife import Band, IfeResult, parse_ife


@pytest.mark.parametrize(
    ("text", "bands"),
    [
        # a heading clause without a band comes first: the band after it is still read
        ("Serum immunofixation (12 March 2019): IgA lambda", [("IgA", "lambda")]),
        ("Comment. Monoclonal IgG kappa band.", [("IgG", "kappa")]),
        # a negated clause first: the positive clause after it is still a band, and the result is positive
        ("No IgG kappa. IgA lambda detected.", [("IgA", "lambda")]),
        ("IgG каппа не выявлен; выявлен IgA лямбда", [("IgA", "lambda")]),
        ("Polyclonal increase in IgG; monoclonal IgA lambda band", [("IgA", "lambda")]),
    ],
)
def test_every_clause_is_read(text, bands):
    assert parse_ife(text) == IfeResult(False, tuple(Band(h, lc) for h, lc in bands))


@pytest.mark.parametrize(
    "text", ["Immunofixation:  not   detected", "IFE:\tno  monoclonal\nprotein", "Negative\u00a0\u00a0pattern"]
)
def test_whitespace_runs_do_not_hide_a_negative(text):
    assert parse_ife(text) == IfeResult(True)


@pytest.mark.parametrize("text", ["", "   ", "see comment"])
def test_nothing_recognised_is_the_documented_unparsed_result(text):
    result = parse_ife(text)
    assert result == IfeResult(negative=False, bands=())
    assert result.negative is False and not result.parsed


def test_a_band_is_not_negative():
    result = parse_ife("IgA lambda")
    assert result == IfeResult(negative=False, bands=(Band("IgA", "lambda"),))
    assert result.negative is False


@pytest.mark.parametrize(
    "text",
    [
        "Heavy chain: IgA. Light chain: lambda.",
        "IgA; lambda",
        "Тяжёлая цепь IgA; лёгкая цепь лямбда",
    ],
)
def test_one_heavy_and_one_light_chain_reported_apart_are_one_band(text):
    assert parse_ife(text) == IfeResult(False, (Band("IgA", "lambda"),))


@pytest.mark.parametrize(
    ("text", "bands"),
    [
        # a complete band is there: the lone chains are other findings, not its parts
        ("IgG kappa; IgA; free lambda light chains", [("IgG", "kappa"), ("IgA", None), (None, "lambda")]),
        # two heavy chains and one light chain: which pairs is unknown, nothing is merged
        ("IgG; IgA; lambda", [("IgG", None), ("IgA", None), (None, "lambda")]),
        # one heavy chain and two light chains: same
        ("IgA; lambda; kappa", [("IgA", None), (None, "lambda"), (None, "kappa")]),
    ],
)
def test_lone_chains_are_not_merged_when_the_pairing_is_not_unique(text, bands):
    assert parse_ife(text) == IfeResult(False, tuple(Band(h, lc) for h, lc in bands))


@pytest.mark.parametrize(
    ("band", "label"),
    [
        (Band("IgA", "lambda"), "IgA lambda"),
        (Band(None, "lambda", free=True), "free lambda light chain"),
        (Band(None, "kappa", free=True), "free kappa light chain"),
        # a light chain alone its words do not call free: its heavy chain is not stated (fix140b B2)
        (Band(None, "lambda"), "lambda (heavy chain not stated)"),
        (Band("IgG", None), "IgG (light chain not stated)"),
    ],
)
def test_band_labels(band, label):
    assert band.label() == label
