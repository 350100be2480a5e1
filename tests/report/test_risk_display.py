# SPDX-License-Identifier: Apache-2.0
"""POEMS cohorts' risk factors are shown only where POEMS is in question (criteria.md §7: a paraprotein with
a neuropathy alone is MGUS-associated neuropathy); the JSON output keeps them all."""

from __future__ import annotations

import json

from click.testing import CliRunner

from poems_fhir.cli import main
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.mapping.rules import load_mapping
from poems_fhir.pipeline import evaluate_paths, html_for
from tests.conftest import SAMPLES

MGUS = SAMPLES / "mimics" / "cidp-igg-kappa-mgus.json"


def test_an_mgus_neuropathy_page_lists_no_poems_risk_factor_as_present():
    mapping = load_mapping()
    (r,) = evaluate_paths([MGUS], mapping, MAYO).results
    assert any(f.state.value == "present" for f in r.risk)  # age over 50: in the data
    page = html_for(r, mapping)
    risk = page.split('id="risk"', 1)[1].split("</p>", 1)[0]
    assert "not shown" in risk and "<table" not in risk
    (origin,) = evaluate_paths([SAMPLES / "origin-case"], mapping, MAYO).results
    assert '<table id="risk">' in html_for(origin, mapping)


def test_the_console_hides_them_and_the_json_keeps_them():
    text = CliRunner().invoke(main, ["evaluate", str(MGUS)], catch_exceptions=False).output
    assert "Risk factors: not shown" in text and "Risk factors present" not in text
    out = CliRunner().invoke(main, ["evaluate", str(MGUS), "--format", "json"], catch_exceptions=False).output
    data = json.loads(out)
    assert data["patients"][0]["risk_factors"]["age_over_50"]["state"] == "present"
