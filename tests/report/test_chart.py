"""The directly written SVG chart: well-formed, accessible, escaped, deterministic, and it shows
what the matplotlib chart showed (per-specimen VEGF, shading, transplant line, log axis)."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

from poems_fhir.criteria.timeline import Event, Measurement
from poems_fhir.i18n import translator
from poems_fhir.report.chart import COLORS, TRANSPLANT_LINE, TREATMENT_SHADE, timeline_svg

SVG = "{http://www.w3.org/2000/svg}"
D = dt.date


def _m(day: dt.date, value: float, analyte: str = "serum_m_protein", specimen: str | None = None) -> Measurement:
    return Measurement(analyte, value, "g/L", day, f"Observation/{analyte}-{day}", specimen=specimen)


MEASUREMENTS = [
    _m(D(2022, 1, 10), 6.0),
    _m(D(2022, 6, 1), 1.5),
    _m(D(2022, 1, 10), 1450, "vegf", "plasma"),
    _m(D(2022, 9, 1), 160, "vegf", "plasma"),
    _m(D(2022, 3, 1), 900, "vegf", "serum"),
    _m(D(2022, 4, 1), 300, "vegf", None),
    _m(D(2022, 2, 1), 40, "flc_lambda"),
]
EVENTS = [
    Event("treatment", D(2022, 2, 1), "MedicationStatement/a", "lenalidomide", end=D(2022, 4, 1)),
    Event("autologous_hsct", D(2022, 5, 1), "Procedure/b", "ASCT"),
]


def _tree(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output; well-formed XML, not only HTML-tolerable


def test_every_series_shading_and_transplant_are_drawn_in_their_colours():
    root = _tree(timeline_svg(MEASUREMENTS, EVENTS) or "")
    fills = [e.get("fill") for e in root.iter(f"{SVG}path")]
    strokes = [e.get("stroke") for e in root.iter(f"{SVG}path")]
    for key in ("serum_m_protein", "flc_lambda", "vegf_plasma", "vegf_serum", "vegf_unknown"):
        assert COLORS[key] in fills, key  # its markers
        assert COLORS[key] in strokes, key  # its legend sample
    assert COLORS["flc_kappa"] not in fills + strokes  # no kappa results: nothing drawn, no legend entry
    assert [r.get("fill") for r in root.iter(f"{SVG}rect")].count(TREATMENT_SHADE) == 3  # one per panel
    dashed = [e for e in root.iter(f"{SVG}path") if e.get("stroke") == TRANSPLANT_LINE]
    assert len(dashed) == 3 and all(e.get("stroke-dasharray") for e in dashed)
    texts = [e.text for e in root.iter(f"{SVG}text")]
    for label in ("M-protein (g/L)", "free light chains (mg/L)", "VEGF (pg/mL)", "VEGF, plasma", "VEGF, serum"):
        assert label in texts
    assert "VEGF, specimen unknown" in texts and "lambda" in texts and "kappa" not in texts


def test_the_chart_is_accessible_and_translated():
    root = _tree(timeline_svg(MEASUREMENTS, EVENTS, t=translator("ru")) or "")
    assert root.get("role") == "img" and root.get("aria-labelledby") == "timeline-title timeline-desc"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and title.text == translator("ru")._("Timeline") != "Timeline"
    assert desc is not None and translator("ru")._("VEGF (pg/mL)") in (desc.text or "")


class Hostile:
    """A translation that carries markup (a catalog is data, too)."""

    language = "en"

    def _(self, text: str) -> str:
        return text + ' <b>&"</b>'


def test_labels_are_escaped():
    svg = timeline_svg(MEASUREMENTS, EVENTS, t=Hostile()) or ""  # type: ignore[arg-type]
    assert "<b>" not in svg and "&lt;b&gt;&amp;&quot;&lt;/b&gt;" in svg
    _tree(svg)


def test_same_input_same_bytes_and_order_does_not_matter():
    assert timeline_svg(MEASUREMENTS, EVENTS) == timeline_svg(list(reversed(MEASUREMENTS)), list(reversed(EVENTS)))


def test_huge_values_get_a_log_axis_with_decade_ticks():
    linear = _tree(timeline_svg([_m(D(2020, 1, 1), 1.0), _m(D(2020, 2, 1), 9e11)], []) or "")
    huge = _tree(timeline_svg([_m(D(2020, 1, 1), 1.0), _m(D(2020, 2, 1), 1e308)], []) or "")

    def decades(root: ET.Element) -> list[str]:
        return [e.text or "" for e in root.iter(f"{SVG}text") if re.fullmatch(r"-?1e\d+", e.text or "")]

    assert decades(linear) == []
    assert decades(huge) == ["1e100", "1e200", "1e300"]


def test_date_ticks_follow_the_span():
    def ticks(lo: dt.date, hi: dt.date) -> list[str]:
        root = _tree(timeline_svg([_m(lo, 1.0), _m(hi, 2.0)], []) or "")
        return [e.text or "" for e in root.iter(f"{SVG}text") if e.get("transform", "").endswith("rotate(-30)")]

    days, months, years = (
        ticks(D(2022, 1, 1), D(2022, 1, 5)),
        ticks(D(2022, 1, 1), D(2022, 9, 1)),
        ticks(D(2000, 1, 1), D(2022, 1, 1)),
    )
    assert days and all(len(d) == 10 for d in days) and len(days) <= 9
    assert months and all(len(d) == 7 for d in months) and "2022-05" in months
    assert years and all(len(d) == 4 for d in years) and "2010" in years


def test_nothing_after_the_cut_off():
    cut = D(2022, 3, 31)
    svg = timeline_svg(MEASUREMENTS, EVENTS, cut) or ""
    root = _tree(svg)
    assert not [e for e in root.iter(f"{SVG}path") if e.get("stroke") == TRANSPLANT_LINE]  # after the cut-off
    assert COLORS["vegf_unknown"] not in svg  # its only result is after the cut-off
