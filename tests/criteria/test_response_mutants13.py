"""Survivors of the mutation run over criteria.response left unanalysed in the thirty-second session (#16),
each killed by a behaviour criteria.md §8 or the README's response section states:

- the baseline is the last measurement on or before the first treatment's day ("a sample drawn on the day
  treatment starts is taken before the first dose has had any effect"): a marrow examined that day is the
  diagnostic one, not the response's, and does not keep a later complete response from being complete;
- ``--as-of`` evaluates as of that day: a result drawn after it is not read, also when a ``--baseline``
  date after ``as_of`` would place it before the baseline."""

from __future__ import annotations

import pytest

from tests.criteria.test_response import d, m, run
from tests.criteria.test_response_mutants12 import ife


def test_a_marrow_on_the_first_treatment_day_is_the_baseline_marrow_not_the_responses():
    # kills _clone mutmut_200 (a marrow on the cut day read as the latest after treatment)
    r = run(
        m("serum_m_protein", 15, -10),
        ife("serum_ife", 1, -10),
        m("bm_plasma_cells", 20, 0, unit="%"),  # the diagnostic marrow, taken the day lenalidomide starts
        m("serum_m_protein", 0, 90),
        ife("serum_ife", 0, 90),
        ife("urine_ife", 0, 92),
    )
    assert r.hematologic_imwg.category == "CR"
    assert r.hematologic_imwg.caveats == ("bone-marrow plasma cells (< 5 %) not assessed",)
    assert "bone-marrow plasma cells not assessed (one version of CR requires < 5 %)" in r.hematologic.caveats


@pytest.mark.parametrize(
    ("analyte", "imwg_reason"),
    [
        ("serum_ife", "no serum M-protein before the first treatment"),
        ("urine_ife", "no serum M-protein before the first treatment"),
    ],
)
def test_an_immunofixation_after_as_of_is_not_read_even_before_a_later_baseline_date(analyte, imwg_reason):
    # kills _clone mutmut_217 (urine) and mutmut_257 (serum): the immunofixation baselines not cut at as_of
    r = run(ife(analyte, 1, 300), as_of=d(200), baseline=d(400))
    assert r.hematologic.reason.startswith("no M-protein before the first treatment")
    assert "immunofixation" not in r.hematologic.reason
    assert r.hematologic_imwg.reason == imwg_reason


# --- the clone's chain without an immunofixation (_chain_high_at_baseline) -------------------------------------


def _chains(kappa: float, lam: float):
    from poems_fhir.criteria.response import _chain_high_at_baseline

    flc = [m("flc_kappa", kappa, -5, unit="mg/L"), m("flc_lambda", lam, -5, unit="mg/L")]
    return _chain_high_at_baseline(flc, d(0), None)


@pytest.mark.parametrize(
    ("kappa", "lam", "chain"),
    [
        (10.0, 20.0, "lambda"),  # exactly twice the other: clearly higher (kills mutmut_45, "<=")
        (1.0, 1.5, None),  # low values are compared alike (kills mutmut_44, "low > 1")
        (0.0, 0.0, None),  # equal, both unmeasurably low: no chain is higher (it was "kappa")
        (0.0, 5.0, "lambda"),
        (40.0, 25.0, None),
    ],
)
def test_the_clones_chain_is_the_one_clearly_higher_at_the_baseline(kappa, lam, chain):
    assert _chains(kappa, lam) == chain
