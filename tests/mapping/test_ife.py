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


@pytest.mark.parametrize(
    "text",
    [
        "negative",
        "Negative",
        "no monoclonal protein",
        "No M-protein detected",
        "не выявлен",
        "не выявлено",
        "not detected",
    ],
)
def test_negative(text):
    result = parse_ife(text)
    assert result.negative and not result.bands


@pytest.mark.parametrize("text", ["", "see comment", "normal"])
def test_unrecognised_is_not_parsed(text):
    assert not parse_ife(text).parsed


# issue #16 item 1: a negative immunofixation that names an isotype is negative, not a band
@pytest.mark.parametrize(
    "text",
    [
        "no monoclonal IgA lambda detected",
        "negative for IgG kappa",
        "IgG kappa: negative",
        "No evidence of a monoclonal IgM kappa band",
        "IgA lambda not detected",
        "M-protein IgG kappa no longer detectable",
        "Polyclonal increase in IgG; no monoclonal band",
        "не выявлен IgA лямбда",
        "Моноклональный IgG каппа не обнаружен",
        "Моноклональная секреция IgA-λ отсутствует",
        "Парапротеин IgA лямбда не определяется",
        "IgA лямбда жоқ",
        # the negation in the next clause, which names no band of its own
        "IgA lambda band previously seen, now not detected",
        "IgG kappa, now negative",
        "IgA lambda. Not detected on repeat testing",
        "IgA лямбда, в настоящее время не выявляется",
        # probe36: denials by exclusion, absence and lack were read as the band they deny (a "met")
        "IgG lambda excluded",
        "IgG lambda ruled out",
        "Exclusion of IgG lambda",
        "Absence of free lambda light chains",
        "Lack of IgA kappa",
        "Free of monoclonal IgG lambda",
        "IgG lambda undetectable",
        "IgG lambda: nil",
        "Restricted band not seen; IgG lambda excluded",
        "Исключен IgG-λ",
        "моноклональный IgG-λ исключен.",
    ],
)
def test_negative_that_names_an_isotype_is_negative(text):
    result = parse_ife(text)
    assert result.negative and not result.bands


@pytest.mark.parametrize(
    ("text", "bands"),
    [
        ("IgA lambda M-protein detected", [("IgA", "lambda")]),
        ("IgG-K", [("IgG", "kappa")]),
        ("IgA-L", [("IgA", "lambda")]),
        ("free lambda light chains", [(None, "lambda")]),
        ("IgG kappa; no free light chains", [("IgG", "kappa")]),
        ("IgG kappa detected. No lambda band.", [("IgG", "kappa")]),
        ("Not only IgG kappa but also IgA lambda", [("IgG", "kappa"), ("IgA", "lambda")]),
        ("IgA lambda (not quantifiable)", [("IgA", "lambda")]),
        ("Faint IgG kappa band, too small to quantify", [("IgG", "kappa")]),
        ("Выявлен моноклональный белок IgA лямбда", [("IgA", "lambda")]),
        ("Обнаружена моноклональная секреция IgG каппа, свободные лёгкие цепи не выявлены", [("IgG", "kappa")]),
        # a negated clause with a noun of its own does not speak of the band before it
        ("IgG kappa band, no Bence Jones protein", [("IgG", "kappa")]),
        ("IgG kappa band, IgA lambda now not detected", [("IgG", "kappa")]),
    ],
)
def test_positive_stays_positive(text, bands):
    result = parse_ife(text)
    assert not result.negative
    assert list(result.bands) == [Band(heavy, light) for heavy, light in bands]


@pytest.mark.parametrize(
    ("text", "possible"),
    [
        ("Possible faint IgG kappa band", [("IgG", "kappa")]),
        ("Equivocal IgA lambda band", [("IgA", "lambda")]),
        ("IgG kappa band cannot be excluded", [("IgG", "kappa")]),
        ("IgG kappa can not be excluded", [("IgG", "kappa")]),  # a doubt, not the negation "not"
        ("? IgG kappa", [("IgG", "kappa")]),
        ("Faint band in the gamma region, possibly IgG kappa; repeat advised", [("IgG", "kappa")]),
        ("Сомнительная полоса IgG каппа", [("IgG", "kappa")]),
        ("Нельзя исключить IgG каппа", [("IgG", "kappa")]),
    ],
)
def test_a_band_named_with_doubt_is_possible_not_a_band(text, possible):
    result = parse_ife(text)
    assert result.parsed and not result.negative and result.bands == ()
    assert list(result.possible) == [Band(heavy, light) for heavy, light in possible]


@pytest.mark.parametrize("text", ["Equivocal", "Indeterminate", "inconclusive.", "Сомнительный"])
def test_an_equivocal_result_is_parsed_as_equivocal(text):
    result = parse_ife(text)
    assert result.parsed and result.equivocal and not result.negative and not result.bands


def test_a_confirmed_band_wins_over_a_doubtful_second_one():
    result = parse_ife("IgG kappa detected; possible additional IgA lambda")
    assert list(result.bands) == [Band("IgG", "kappa")]


def test_a_polyclonal_increase_alone_is_negative():
    # a polyclonal increase names isotypes and is no clone: negative, not an unrecognised result
    result = parse_ife("Polyclonal increase of IgG and IgA")
    assert result.parsed and result.negative and not result.bands and not result.possible


def test_every_doubtful_band_is_kept():
    result = parse_ife("Possible IgG kappa; possible IgA lambda")
    assert list(result.possible) == [Band("IgG", "kappa"), Band("IgA", "lambda")]


def test_a_confirmed_band_after_a_doubtful_one_counts():
    result = parse_ife("Possible IgA lambda; IgG kappa detected")
    assert list(result.bands) == [Band("IgG", "kappa")]


@pytest.mark.parametrize(
    "text",
    [
        "Faint IgA lambda band, clonality uncertain.",
        "Faint IgG lambda band, cannot be excluded. Repeat in 3 months.",
        "IgG kappa band - significance uncertain",
        "Следы моноклонального IgA лямбда, под вопросом.",
        "IgA лямбда, требует подтверждения",
    ],
)
def test_a_clause_that_only_doubts_makes_the_band_before_it_doubtful(text):
    result = parse_ife(text)
    assert result.bands == () and len(result.possible) == 1 and not result.negative


@pytest.mark.parametrize(
    "text",
    [
        "IgA lambda, confirmed on repeat.",
        "IgG kappa band, repeat in 3 months",
        "IgA lambda. Uncertain clinical history.",
    ],
)
def test_a_later_clause_that_is_not_only_a_doubt_leaves_the_band(text):
    result = parse_ife(text)
    assert len(result.bands) == 1 and result.possible == ()


@pytest.mark.parametrize(
    "text",
    [
        # immunoglobulins named to say they are polyclonal, oligoclonal or normal: no clone (probe17:
        # each of these made a mimic "met")
        "Polyclonal hypergammaglobulinaemia (IgG kappa and IgG lambda), no monoclonal protein detected",
        "No monoclonal protein detected. Normal IgG, IgA, IgM, kappa and lambda staining pattern.",
        "Oligoclonal pattern (multiple faint IgG kappa and IgG lambda bands), no dominant monoclonal protein.",
        "Поликлональная гипергаммаглобулинемия (IgG каппа и лямбда), моноклональный белок не выявлен.",
        "Polyclonal free light chains (kappa and lambda); no Bence Jones protein.",
        # a denied or polyclonal list goes on after its comma
        "Polyclonal IgG, IgA and IgM, no monoclonal band",
        "No IgG, IgA or IgM band",
        "Oligoclonal bands",
        "Kappa and lambda: polyclonal",
        "Negative (IgG kappa previously)",
        # a clause that only calls the bands before it polyclonal
        "IgG kappa (polyclonal)",
        "IgG kappa and lambda, polyclonal increase",
        "Иммуноглобулины G каппа и лямбда - поликлональные",
    ],
)
def test_polyclonal_or_normal_immunoglobulins_are_no_clone(text):
    result = parse_ife(text)
    assert result.negative and not result.bands and not result.possible


@pytest.mark.parametrize(
    ("text", "bands"),
    [
        # the background is polyclonal, the band is a clone
        ("Monoclonal IgG kappa band on a polyclonal background", [("IgG", "kappa")]),
        ("Faint IgG kappa band on a polyclonal background", [("IgG", "kappa")]),
        ("Small IgA lambda band against a normal background", [("IgA", "lambda")]),
        ("IgG lambda paraprotein on a background of polyclonal hypergammaglobulinaemia", [("IgG", "lambda")]),
        ("IgG каппа на поликлональном фоне", [("IgG", "kappa")]),
        ("Выявлен моноклональный IgA лямбда на фоне поликлональной гипергаммаглобулинемии", [("IgA", "lambda")]),
        # a polyclonal or normal clause beside a band's own clause
        ("Monoclonal IgA lambda, polyclonal IgG", [("IgA", "lambda")]),
        ("Normal IgG, IgA and IgM; IgG lambda paraprotein", [("IgG", "lambda")]),
        ("IgG lambda band, normal IgA and IgM", [("IgG", "lambda")]),
        ("Monoclonal protein detected (IgG kappa)", [("IgG", "kappa")]),
        ("IgA lambda (12.1%)", [("IgA", "lambda")]),
        ("No free light chains, IgG kappa band present", [("IgG", "kappa")]),
        ("IgG kappa band, polyclonal background", [("IgG", "kappa")]),
        ("IgG lambda; polyclonal IgA", [("IgG", "lambda")]),
    ],
)
def test_a_clone_beside_polyclonal_words_stays_a_clone(text, bands):
    result = parse_ife(text)
    assert not result.negative
    assert list(result.bands) == [Band(heavy, light) for heavy, light in bands]


@pytest.mark.parametrize(
    "text",
    [
        # probe18: the antisera a laboratory lists, or free-light-chain values it quotes, made a clone
        # (and a kappa flag) of a negative immunofixation
        "IgG, IgA, IgM, kappa, lambda: no monoclonal band",
        "Antisera IgG, IgA, IgM, kappa, lambda: negative",
        "IgG, IgA, IgM, каппа, лямбда: моноклональных полос не выявлено",
        "Tested with anti-IgG, anti-IgA, anti-IgM, anti-kappa and anti-lambda; no monoclonal protein",
        "IgG, IgA, IgM, kappa and lambda antisera: no monoclonal band. Polyclonal pattern.",
        "No monoclonal band. Serum free light chains: kappa 18 mg/L, lambda 24 mg/L, ratio 0.75",
        "No monoclonal band (free light chains kappa 18, lambda 24 mg/L)",
        # negatives in other words (they were refused as unrecognised)
        "Oligoclonal pattern, no dominant monoclonal band",
        "Normal immunofixation pattern",
        "Поликлональная гипергаммаглобулинемия, моноклональных полос нет",
        "Моноклоналды ақуыз анықталмады",
        "No evidence of a monoclonal gammopathy",
        "No trace of M-protein",
    ],
)
def test_a_panel_or_values_named_beside_a_negative_are_no_clone(text):
    result = parse_ife(text)
    assert result.negative and not result.bands and not result.possible


@pytest.mark.parametrize(
    ("text", "bands"),
    [
        ("IgA lambda 3.1 g/L", [("IgA", "lambda")]),  # a heavy chain with a value is the band's size
        ("Free lambda light chain band; kappa/lambda ratio 0.05", [(None, "lambda")]),
        ("IgG lambda band, kappa:lambda 1:4", [("IgG", "lambda")]),
        ("IgG kappa, no Bence Jones protein", [("IgG", "kappa")]),  # a list that is its own statement
        ("IgG kappa, IgA lambda", [("IgG", "kappa"), ("IgA", "lambda")]),
        # misspellings and Cyrillic one-letter abbreviations (probe18: "IgA kapa" lost its kappa)
        ("IgA kapa", [("IgA", "kappa")]),
        ("IgA lamda", [("IgA", "lambda")]),
        ("IgG-к", [("IgG", "kappa")]),
        ("IgA/л", [("IgA", "lambda")]),
    ],
)
def test_bands_beside_values_and_lists_stay_bands(text, bands):
    result = parse_ife(text)
    assert not result.negative
    assert list(result.bands) == [Band(heavy, light) for heavy, light in bands]


@pytest.mark.parametrize(
    "text",
    [
        "Possible faint band in the gamma region, unable to type",
        "Equivocal result, repeat advised",
        "Сомнительный результат, рекомендовано повторное исследование",
        # probe49 D6: "weakly positive" with no band named was refused as unrecognised
        "weakly positive",
        "Weak positive, repeat advised.",
        "слабоположительный",
        "слабо положительная",
    ],
)
def test_a_doubtful_result_without_a_typed_band_is_equivocal(text):
    result = parse_ife(text)
    assert result.parsed and result.equivocal and not result.negative and not result.bands


def test_a_weakly_positive_result_that_names_its_band_is_that_band():
    # POEMS' M-proteins are often small: a faint band named by the laboratory is a band
    assert parse_ife("weakly positive IgG lambda").bands == (Band("IgG", "lambda"),)
    assert parse_ife("faint IgA lambda band").bands == (Band("IgA", "lambda"),)


@pytest.mark.parametrize(
    ("text", "clone"),
    [
        ("Kappa-restricted plasma cells, 8% of cellularity.", (None, "kappa")),
        ("Immunofixation: IgG kappa paraprotein.", ("IgG", "kappa")),
        ("Плазматические клетки 6%, каппа-рестрикция.", (None, "kappa")),
        ("Lambda-restricted plasma cells; kappa:lambda ratio 1:12.", (None, "lambda")),
        ("Monoclonal plasma cells.", None),
        ("Biclonal IgG kappa and IgA lambda.", None),
    ],
)
def test_the_clone_a_sentence_names(text, clone):
    from poems_fhir.mapping.ife import named_clone

    assert named_clone(text) == (Band(*clone) if clone else None)


def test_a_doubt_by_exclusion_stays_a_doubt_and_a_band_beside_a_denied_one_stays():
    assert [b.label() for b in parse_ife("IgG lambda cannot be excluded").possible] == ["IgG lambda"]
    result = parse_ife("IgA lambda detected, IgG kappa excluded")
    assert [b.label() for b in result.bands] == ["IgA lambda"] and not result.negative


@pytest.mark.parametrize(
    ("text", "bands", "negative"),
    [
        ("\u0399gA lambda", [("IgA", "lambda")], False),  # Greek capital Iota
        ("\u0399g\u0391 \u03bb", [("IgA", "lambda")], False),  # Greek Iota and Alpha, the λ symbol kept
        ("\u039degative", [], True),  # Greek capital Nu
    ],
)
def test_greek_lookalike_letters_are_folded_as_in_the_text_engine(text, bands, negative):
    # probe74 D15: "ΙgA lambda" lost its heavy chain and "Νegative" was unrecognised
    result = parse_ife(text)
    assert result.parsed and result.negative is negative
    assert list(result.bands) == [Band(heavy, light) for heavy, light in bands]


@pytest.mark.parametrize(
    ("text", "state", "heavy"),
    [("\u0399gA lambda", "present", "IgA"), ("\u039degative", "absent", None)],
)
def test_a_serum_immunofixation_written_with_greek_lookalikes_is_read(text, state, heavy):
    from poems_fhir.mapping.rules import load_mapping
    from tests.mapping.test_extract import obs, run

    ex = run(load_mapping(), obs("25700-6", valueString=text))
    assert not ex.errors
    [finding] = [f for f in ex.findings if f.topic == "monoclonal_plasma_cell_disorder"]
    assert (finding.state.value, finding.heavy_chain) == (state, heavy)
