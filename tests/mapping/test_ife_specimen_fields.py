"""Immunofixation (thirty-fourth session): a denial written as another specimen's sub-field, and long runs of
spaces.

1. "IgG lambda M-protein: urine negative", "… - urine: not detected" on a serum result denied the serum band
   (absent; README "Known limitations", probe96): the urine's answer is no answer for the serum. A denial of
   both specimens, of the tested one, or of an isotype named without a noun ("IgG lambda: urine negative", an
   antiserum's answer) keeps its reading.
2. A run of 25,000 spaces after a band took five seconds (each space was tried again by a pattern that opened
   with the run before a line break or a tab); a run is now read once, and reads as before.
"""

from __future__ import annotations

import pytest

from poems_fhir.mapping import ife
from tests.mapping.test_ife_fix95b import _reads

# --- 1: another specimen's sub-field -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "specimen"),
    [
        ("IgG lambda M-protein: urine negative", "serum"),
        ("IgG lambda M-protein - urine: not detected", "serum"),
        ("IgG lambda M-protein; urine: negative", "serum"),
        ("IgG lambda paraprotein: urine IFE negative", "serum"),
        ("IgG lambda paraprotein - plasma: not detected", "urine"),
        ("IgG lambda paraprotein: serum negative", "urine"),
    ],
)
def test_another_specimens_sub_field_denial_leaves_the_band(text, specimen):
    assert _reads(text, specimen) == "present: IgG lambda"


@pytest.mark.parametrize(
    ("text", "specimen"),
    [
        # both specimens, or the tested one, denied
        ("IgG lambda M-protein: serum and urine negative", "serum"),
        ("IgG lambda M-protein: urine and serum negative", "serum"),
        ("IgG lambda M-protein: urine or serum negative", "serum"),
        ("IgG lambda M-protein: serum/urine negative", "serum"),
        ("IgG lambda M-protein: urine negative, serum negative", "serum"),
        ("IgG lambda M-protein: urine negative; serum: not detected", "serum"),
        ("IgG lambda paraprotein: urine negative", "urine"),
        ("IgG lambda paraprotein: serum negative, urine negative", "urine"),
        ("IgG lambda M-protein: negative", "serum"),
        # an antiserum answered (no noun of a band): the label's denial
        ("IgG lambda: urine negative", "serum"),
    ],
)
def test_a_denial_of_the_tested_specimen_still_denies(text, specimen):
    assert _reads(text, specimen) == "absent"


# --- 2: long runs of spaces ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("IgG \t  lambda", "igg | lambda"),
        ("IgG  \t\t  lambda", "igg | lambda"),
        ("IgG \t \n \t lambda band", "igg\nlambda band"),
        ("IgG\r\nlambda\u2028band", "igg\nlambda\nband"),
        ("IgG \u2029 \t lambda", "igg\nlambda"),
        ("  IgG\u00a0\u00a0lambda  ", "igg lambda"),
    ],
)
def test_a_run_of_spaces_reads_as_one_space_pipe_or_line_break(text, normalised):
    assert ife._normalise(text) == normalised


@pytest.mark.parametrize("run", [" " * 25_000, " \t " * 8_000, "\u00a0" * 25_000])
def test_a_long_run_of_spaces_after_a_band_is_one_space(run):
    assert ife._normalise("IgG lambda band" + run + "detected") in {
        "igg lambda band detected",
        "igg lambda band | detected",
    }
    assert _reads("IgG lambda band" + run + "detected") == "present: IgG lambda"


# --- 3: "neither … nor" (probe100 D3) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        # a band, then denied in both specimens without a verb: the contradiction "not detected in serum or
        # urine" already is (the band stood, `met`)
        ("IgG lambda paraprotein; neither in serum nor in urine", "conflict"),
        ("IgG lambda paraprotein; detected neither in serum nor in urine", "conflict"),
        ("IgG lambda paraprotein; neither in serum nor urine", "conflict"),
        # a denial of both bands named
        ("Neither IgG kappa nor IgA lambda band detected.", "absent"),
        # free chains denied in the urine: no lone chain beside the serum band
        ("IgG lambda band in serum; neither kappa nor lambda free chains in urine", "present: IgG lambda"),
        # a withdrawal denied: the band stands
        ("IgG kappa band. Neither artefact nor interference.", "present: IgG kappa"),
    ],
)
def test_neither_nor_denies(text, reading):
    assert _reads(text, "serum") == reading
