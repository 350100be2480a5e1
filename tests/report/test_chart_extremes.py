"""The chart and the page survive extreme but valid input (issue #9): year 1, year 9999, 1e308."""

from __future__ import annotations

import datetime as dt

import pytest

from poems_fhir.criteria.timeline import Event, Measurement
from poems_fhir.report.chart import timeline_svg


def _m(day: dt.date, value: float, analyte: str = "serum_m_protein") -> Measurement:
    return Measurement(analyte=analyte, value=value, unit="g/L", effective=day, reference=f"Observation/{day}")


@pytest.mark.parametrize(
    "points",
    [
        [(dt.date(1, 1, 1), 5.0), (dt.date(2020, 1, 1), 3.0)],
        [(dt.date(2020, 1, 1), 3.0), (dt.date(9999, 12, 31), 4.0)],
        [(dt.date(1, 1, 1), 1.0), (dt.date(9999, 12, 31), 1e308)],
        [(dt.date(2020, 1, 1), 1e308), (dt.date(2020, 2, 1), 2.0)],
        [(dt.date(9999, 12, 31), 1.0)],
    ],
)
def test_extreme_dates_and_values_are_drawn(points: list[tuple[dt.date, float]]) -> None:
    events = [Event("treatment", dt.date(9999, 12, 31), "MedicationStatement/m", "lenalidomide")]
    svg = timeline_svg([_m(d, v) for d, v in points], events)
    assert svg is not None and svg.startswith("<svg")


def test_an_undrawable_chart_keeps_the_page(monkeypatch: pytest.MonkeyPatch, mapping) -> None:
    from poems_fhir.criteria.profiles import MAYO
    from poems_fhir.pipeline import evaluate_paths, html_for
    from poems_fhir.report import html_report
    from tests.conftest import SAMPLES

    def broken(*_args: object, **_kw: object) -> str:
        raise ValueError("cannot draw")

    monkeypatch.setattr(html_report, "timeline_svg", broken)
    result = evaluate_paths([SAMPLES / "relapse-case.json"], mapping, MAYO).results[0]
    page = html_for(result, mapping)
    assert "The timeline chart could not be drawn; the tables below are complete. (ValueError: cannot draw)" in page
    assert 'id="criteria"' in page and 'id="response"' in page
