"""README "Out of scope means quiet": the flags that presuppose a suspicion of POEMS —
cytopenia_without_castleman, atypical_isotype, igm_paraprotein and every differential_* — are raised
only in scope; a note about a clinician's recorded diagnosis is raised whatever the scope."""

from __future__ import annotations

import pytest

from poems_fhir.criteria.scope import raised_only_in_scope

DIFFERENTIALS = [
    "differential_al_amyloidosis",
    "differential_castleman_without_neuropathy",
    "differential_cidp",
    "differential_diabetic_polyneuropathy",
    "differential_mgus",
    "differential_multiple_myeloma",
    "differential_vegf_confounder",
]


@pytest.mark.parametrize("code", [*DIFFERENTIALS, "cytopenia_without_castleman", "atypical_isotype", "igm_paraprotein"])
def test_flags_that_presuppose_suspicion_are_raised_only_in_scope(code):
    assert raised_only_in_scope(code)


@pytest.mark.parametrize("code", ["diagnosis", "Differential_cidp", "no_differential_cidp"])
def test_other_flags_are_raised_out_of_scope_too(code):
    assert not raised_only_in_scope(code)
