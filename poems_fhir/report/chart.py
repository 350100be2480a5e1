# SPDX-License-Identifier: Apache-2.0
"""Timeline chart of M-protein, free light chains and VEGF (per specimen type) with treatments
marked, drawn by matplotlib as inline SVG (no external files; deterministic output)."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence

from ..criteria.timeline import Event, Measurement
from ..i18n import Translator, translator

#: distinctive colours: the browser test looks for them in a screenshot of the page
COLORS = {
    "serum_m_protein": "#c0392b",
    "flc_kappa": "#8e44ad",
    "flc_lambda": "#16a085",
    "vegf_plasma": "#1f4e9c",
    "vegf_serum": "#d35400",
    "vegf_unknown": "#7f8c8d",
}
TREATMENT_SHADE = "#f4d03f"
TRANSPLANT_LINE = "#2c3e50"


def _series(measurements: Sequence[Measurement], analyte: str, specimen: str | None = "any"):
    points = sorted(
        (
            m
            for m in measurements
            if m.analyte == analyte and m.effective and (specimen == "any" or m.specimen == specimen)
        ),
        key=lambda m: m.effective,  # type: ignore[arg-type,return-value]
    )
    return [m.effective for m in points], [m.value for m in points]


def _next_day(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=1) if day < dt.date.max else day


def _date_limits(lo: dt.date, hi: dt.date) -> tuple[dt.date, dt.date]:
    """The x range: the data padded by 5%, at least a few days wide, inside year 1 to 9999."""
    first, last = dt.date(1, 1, 2), dt.date(9999, 12, 30)
    pad = dt.timedelta(days=max(2, (hi - lo).days // 20))
    lo = lo - pad if lo - first > pad else first
    hi = hi + pad if last - hi > pad else last
    if hi - lo < pad:
        lo, hi = (lo, lo + pad) if last - lo > pad else (hi - pad, hi)
    return lo, hi


def timeline_svg(
    measurements: Sequence[Measurement],
    events: Sequence[Event],
    as_of: dt.date | None = None,
    t: Translator | None = None,
) -> str | None:
    """The chart as an <svg> element, or None when there is nothing to draw; labels in ``t``'s language.
    Nothing after ``as_of`` is drawn: treatment periods still running then are cut at it."""
    t = t or translator()
    measurements = [m for m in measurements if m.effective and (as_of is None or m.effective <= as_of)]
    events = [e for e in events if e.effective and (as_of is None or e.effective <= as_of)]
    panels: list[tuple[str, list[tuple[str, str, str | None]]]] = []
    if _series(measurements, "serum_m_protein")[0]:
        panels.append((t._("M-protein (g/L)"), [("serum_m_protein", t._("serum M-protein"), "any")]))
    if _series(measurements, "flc_kappa")[0] or _series(measurements, "flc_lambda")[0]:
        panels.append(
            (
                t._("free light chains (mg/L)"),
                [("flc_kappa", t._("kappa"), "any"), ("flc_lambda", t._("lambda"), "any")],
            )
        )
    vegf_labels = {"plasma": t._("VEGF, plasma"), "serum": t._("VEGF, serum"), None: t._("VEGF, specimen unknown")}
    vegf = [(s, vegf_labels[s]) for s in ("plasma", "serum", None) if _series(measurements, "vegf", s)[0]]
    if vegf:
        panels.append((t._("VEGF (pg/mL)"), [("vegf", label, s) for s, label in vegf]))
    if not panels:
        return None

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import numpy as np

    # np.errstate: a symlog axis up to 1e308 overflows harmlessly in its inverse transform
    with (
        matplotlib.rc_context({"svg.hashsalt": "poems-fhir", "svg.fonttype": "none", "font.size": 9}),
        np.errstate(over="ignore"),
    ):
        fig, axes = plt.subplots(len(panels), 1, sharex=True, figsize=(8, 2.2 * len(panels)), squeeze=False)
        for ax, (title, lines) in zip(axes[:, 0], panels, strict=True):
            for analyte, label, specimen in lines:
                xs, ys = _series(measurements, analyte, specimen)
                key = analyte if analyte != "vegf" else f"vegf_{specimen or 'unknown'}"
                ax.plot(xs, ys, marker="o", linewidth=2.5, markersize=6, color=COLORS[key], label=label)
            for e in events:
                if e.kind in ("treatment", "radiotherapy", "chemotherapy"):
                    end = e.end or _next_day(e.effective)  # type: ignore[arg-type]
                    ax.axvspan(
                        e.effective, min(end, as_of) if as_of else end, color=TREATMENT_SHADE, alpha=0.35, linewidth=0
                    )
                elif e.kind == "autologous_hsct":
                    ax.axvline(e.effective, color=TRANSPLANT_LINE, linestyle="--", linewidth=1.5)
            if max((abs(v) for a, _, sp in lines for v in _series(measurements, a, sp)[1]), default=0) > 1e12:
                ax.set_yscale("symlog")  # a linear axis cannot place ticks up to 1e308
            ax.set_ylabel(title)
            ax.grid(True, alpha=0.3)
            ax.legend(loc="upper right", fontsize=8)
        # autoscale pads the axis by 5%, which for dates near year 1 or 9999 leaves matplotlib's
        # calendar: pad within it; the axis ends at the cut-off (no tick, shade or point after it)
        days = [m.effective for m in measurements] + [d for e in events for d in (e.effective, e.end) if d]
        if as_of:  # a treatment running past the cut-off ends there
            days = [min(d, as_of) for d in days if d]
        lo, hi = _date_limits(min(days), max(days))  # type: ignore[type-var,arg-type]
        axes[0, 0].set_xlim(lo, as_of if as_of and as_of > lo else hi)
        axes[0, 0].set_title(t._("Shaded: treatment periods; dashed line: autologous stem-cell transplant"), fontsize=9)
        fig.autofmt_xdate()
        fig.tight_layout()
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": "poems-fhir"})
        plt.close(fig)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    # drop the RDF metadata block: it only names matplotlib and Dublin Core namespaces
    return re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.DOTALL)
