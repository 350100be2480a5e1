"""fix128b (probe128 D1, D7): a transplant known only as a transplant status (ICD-10-CM Z94.84, "s/p ASCT 2019")
or only to its year (performedString "2019") was no dated treatment: "no treatment recorded" or "without a
readable date", and no relapse or VEGF-progression alert when IgA lambda came back after a negative immunofixation
and VEGF rose 140 -> 450. The year is used where every result read is before or after it; a result within the
year leaves the response not evaluable (the order is unknown)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from poems_fhir.cli import main

FIXTURES = Path(__file__).parent.parent / "fixtures" / "fix128b"


def _evaluate(name: str) -> dict[str, Any]:
    result = CliRunner().invoke(
        main, ["evaluate", str(FIXTURES / name), "--format", "json", "--all", "--as-of", "2022-10-01"]
    )
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)["patients"][0]  # type: ignore[no-any-return]


def _alerts(patient: dict[str, Any]) -> set[str]:
    return {a["code"] for a in patient["response"].get("alerts") or []}


def test_fix128b_status_condition_is_the_transplant_dated_by_its_text_year():
    patient = _evaluate("status-z94-84.json")
    response = patient["response"]
    assert response["first_treatment"] == "2019"
    assert response["hematologic"]["category"] == "PD"
    assert response["vegf"]["category"] == "progression"
    assert {"hematologic_progression", "vegf_progression"} <= _alerts(patient)
    assert "known only to its year" in response["vegf"]["reason"]


def test_fix128b_status_without_a_year_is_a_treatment_before_its_recorded_date():
    response = _evaluate("status-no-year.json")["response"]
    assert "no treatment recorded" not in response["hematologic"]["reason"]
    assert "without a readable date" in response["hematologic"]["reason"]


def test_fix128b_an_allogeneic_status_is_no_autologous_transplant():
    response = _evaluate("status-allogeneic.json")["response"]
    assert response["first_treatment"] is None


def test_fix128b_a_transplant_known_to_its_year_orders_the_results_around_it():
    patient = _evaluate("transplant-year-string.json")
    assert patient["response"]["first_treatment"] == "2019"
    assert {"hematologic_progression", "vegf_progression"} <= _alerts(patient)


def test_fix128b_a_result_within_the_year_leaves_the_order_unknown():
    patient = _evaluate("transplant-year-result-within.json")
    response = patient["response"]
    assert response["hematologic"]["category"] == "not_evaluable"
    assert "which came first cannot be told" in response["hematologic"]["reason"]
    assert not _alerts(patient)
