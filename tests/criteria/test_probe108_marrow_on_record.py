"""probe108 D4: a bone-marrow examination on record - a manual plasma-cell count (LOINC 11118-7) or a trephine
report read in words - was listed "Not yet on record: bone-marrow plasma cells" in the staging step (criteria.md
§10 step 0; seed_case.md T0: a test on record is not proposed as missing), while the branch step of the same plan
had chosen systemic therapy from that marrow. Only the flow-cytometry count (93021-4) counted."""

from __future__ import annotations

from poems_fhir.criteria.model import Evidence, Finding, State
from tests.criteria.test_pathway_mutants2 import d, m
from tests.criteria.test_pathway_mutants4 import MANDATORY, by_id, steps

VEGF = m("vegf", 900, -20, "pg/mL", "plasma")  # a staging test on record: the step lists its parts


def _marrow_part(findings, ms) -> str:
    staging = by_id(steps(findings, ms))["staging"]
    [state] = [k for k, part in staging.params if part == "marrow"]
    return state


def test_a_manual_marrow_plasma_cell_count_is_the_marrow_on_record():
    assert _marrow_part(MANDATORY, [VEGF, m("bm_plasma_cells", 4, -20, "%")]) == "on_record"


def test_a_marrow_report_read_in_words_is_the_marrow_on_record():
    trephine = Finding(
        "monoclonal_plasma_cell_disorder",
        State.PRESENT,
        Evidence("DiagnosticReport/trephine", d(-20), "4% lambda-restricted plasma cells"),
        source_rule="marrow_clonal_plasma_cells",
    )
    got = by_id(steps([*MANDATORY, trephine], [VEGF]))
    assert got["branch"].key == "branch-systemic"  # the branch chose from it ...
    assert ("on_record", "marrow") in got["staging"].params  # ... and staging knows it
    assert "DiagnosticReport/trephine" in got["staging"].evidence
    # the marrow alone begins the staging (criteria.md §10 step 0 lists the marrow aspirate and biopsy)
    assert by_id(steps([*MANDATORY, trephine], []))["staging"].status == "in-progress"
    # with no marrow at all it is still missing
    assert _marrow_part(MANDATORY, [VEGF]) == "not_on_record"
