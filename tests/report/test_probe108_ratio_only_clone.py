"""probe108 D5: a clone shown only by an abnormal free-light-chain ratio, serum and urine immunofixation negative,
is indeterminate and "a bone-marrow examination decides" (criteria.md §2 MAJ-2, §4). What people read proposed the
tests already done ("Serum and urine immunofixation, serum free light chains; bone-marrow biopsy"), hid the ratio
("urine immunofixation negative; serum immunofixation negative; and 1 more"), said only "Conflicting or low-grade
evidence", and led with "Atypical isotype (kappa)" for a clone the same report does not establish."""

from __future__ import annotations

import dataclasses

from poems_fhir.criteria.engine import evaluate
from poems_fhir.criteria.model import Evidence, Finding, State
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.criteria.response import assess_response
from poems_fhir.criteria.risk import assess_risk
from poems_fhir.criteria.pathway import pathway
from poems_fhir.i18n import translator
from poems_fhir.report.wording import conclusion, deciding_evidence, rule, step_title
from tests.criteria.test_pathway_mutants2 import CFG, RISK
from tests.criteria.test_ratio_only_clone import CLONE, OTHERS, SERUM_NEG, URINE_NEG, D

RATIO = Finding(
    CLONE,
    State.PRESENT,
    Evidence("Observation/ratio", D, "abnormal FLC ratio 5 {ratio} (kappa excess)", value=5.0, unit="{ratio}"),
    source_rule="flc_ratio",
    light_chain="kappa",
)
FINDINGS = [*OTHERS, RATIO, SERUM_NEG, URINE_NEG]


def test_the_marrow_is_proposed_not_the_tests_on_record():
    a = evaluate("Patient/1", FINDINGS, MAYO, None)
    [missing] = a.missing
    assert missing.suggestion.startswith("bone-marrow aspirate and biopsy")
    assert "immunofixation, serum free light chains" not in missing.suggestion
    text = conclusion(translator("en"), a)
    assert "Missing, and deciding: Monoclonal plasma-cell proliferative disorder (Bone-marrow aspirate" in text
    assert "Serum and urine immunofixation" not in text
    # no isotype to review for a clone not established
    assert "atypical_isotype" not in {f.code for f in a.flags}
    assert "Atypical isotype" not in text
    # ... while an established kappa clone keeps it
    band = dataclasses.replace(SERUM_NEG, state=State.PRESENT, light_chain="kappa")
    assert "atypical_isotype" in {f.code for f in evaluate("Patient/1", [*OTHERS, RATIO, band, URINE_NEG], MAYO).flags}
    r = assess_response([], [], FINDINGS, [], CFG, None)
    plan = pathway(a, None, r, assess_risk(FINDINGS, [], [], r, D, None, RISK), FINDINGS, [], [], None)
    [step] = [s for s in plan if s.id == "workup-monoclonal_plasma_cell_disorder"]
    assert step.coding is None  # not the serum immunofixation's LOINC
    for lang, words in (("en", "Bone-marrow"), ("ru", "костного мозга"), ("kk", "сүйек кемігінің")):
        assert words.lower() in step_title(translator(lang), step).lower(), lang


def test_the_written_row_shows_the_ratio():
    r = evaluate("Patient/1", FINDINGS, MAYO, None).criteria[CLONE]
    assert deciding_evidence(r)[0].reference == "Observation/ratio"
    assert "FLC ratio 5" in rule(translator("en"), r)
    assert "bone-marrow examination decides" in rule(translator("en"), r)
    assert "соотношение СЛЦ 5" in rule(translator("ru"), r)
