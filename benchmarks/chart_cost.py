# SPDX-License-Identifier: Apache-2.0
"""Cost of the timeline chart per patient (issue #11, item 5): the three ways the issue allows.

  1. matplotlib, a new figure per patient (the chart as it was up to 0.3; its code is kept here),
  2. matplotlib, one figure per panel count reused (axes cleared, redrawn, saved as SVG),
  3. the SVG written directly (poems_fhir/report/chart.py, what the page uses now).

Inputs: the timelines (measurements + events, cut at the data cut-off) of every sample bundle that
has something to chart, each drawn --rounds times. Prints ms per chart and bytes per chart.

    python benchmarks/chart_cost.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from poems_fhir.criteria.profiles import MAYO
from poems_fhir.criteria.timeline import Event, Measurement
from poems_fhir.mapping.rules import load_mapping
from poems_fhir.pipeline import evaluate_paths
from poems_fhir.report import chart
from poems_fhir.report.chart import COLORS, TRANSPLANT_LINE, TREATMENT_SHADE, _date_limits, _next_day, _series

SAMPLES = Path(__file__).resolve().parent.parent / "sample_bundles"

Timeline = tuple[list[Measurement], list[Event], dt.date | None]


def timelines() -> list[Timeline]:
    mapping = load_mapping()
    out = []
    for r in evaluate_paths([SAMPLES], mapping, MAYO).results:
        x = r.extraction
        if chart.timeline_svg(x.measurements, x.events, r.assessment.as_of):
            out.append((list(x.measurements), list(x.events), r.assessment.as_of))
    return out


def _panels(measurements: Sequence[Measurement]) -> list[tuple[str, list[tuple[str, str, str | None]]]]:
    panels: list[tuple[str, list[tuple[str, str, str | None]]]] = []
    if _series(measurements, "serum_m_protein")[0]:
        panels.append(("M-protein (g/L)", [("serum_m_protein", "serum M-protein", "any")]))
    if _series(measurements, "flc_kappa")[0] or _series(measurements, "flc_lambda")[0]:
        panels.append(("free light chains (mg/L)", [("flc_kappa", "kappa", "any"), ("flc_lambda", "lambda", "any")]))
    names = {"plasma": "VEGF, plasma", "serum": "VEGF, serum", None: "VEGF, specimen unknown"}
    vegf = [(s, names[s]) for s in ("plasma", "serum", None) if _series(measurements, "vegf", s)[0]]
    if vegf:
        panels.append(("VEGF (pg/mL)", [("vegf", label, s) for s, label in vegf]))
    return panels


class Matplotlib:
    """The matplotlib chart of poems-fhir 0.3 (report/chart.py before issue #11), optionally reusing
    one figure per panel count instead of creating and closing one per patient."""

    def __init__(self, reuse: bool) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        self.plt, self.reuse = plt, reuse
        self.figures: dict[int, object] = {}
        self.rc = {"svg.hashsalt": "poems-fhir", "svg.fonttype": "none", "font.size": 9}

    def _figure(self, n: int):  # type: ignore[no-untyped-def]
        if self.reuse and n in self.figures:
            fig = self.figures[n]
            for ax in fig.axes:  # type: ignore[attr-defined]
                ax.cla()
            return fig, fig.axes  # type: ignore[attr-defined]
        fig, axes = self.plt.subplots(n, 1, sharex=True, figsize=(8, 2.2 * n), squeeze=False)
        if self.reuse:
            self.figures[n] = fig
        return fig, list(axes[:, 0])

    def __call__(self, measurements: list[Measurement], events: list[Event], as_of: dt.date | None) -> str:
        import matplotlib
        import numpy as np

        measurements = [m for m in measurements if m.effective and (as_of is None or m.effective <= as_of)]
        events = [e for e in events if e.effective and (as_of is None or e.effective <= as_of)]
        panels = _panels(measurements)
        with matplotlib.rc_context(self.rc), np.errstate(over="ignore"):
            fig, axes = self._figure(len(panels))
            for ax, (title, lines) in zip(axes, panels, strict=True):
                for analyte, label, specimen in lines:
                    xs, ys = _series(measurements, analyte, specimen)
                    key = analyte if analyte != "vegf" else f"vegf_{specimen or 'unknown'}"
                    ax.plot(xs, ys, marker="o", linewidth=2.5, markersize=6, color=COLORS[key], label=label)
                for e in events:
                    if e.kind in ("treatment", "radiotherapy", "chemotherapy"):
                        end = e.end or _next_day(e.effective)  # type: ignore[arg-type]
                        right = min(end, as_of) if as_of else end
                        ax.axvspan(e.effective, right, color=TREATMENT_SHADE, alpha=0.35, linewidth=0)
                    elif e.kind == "autologous_hsct":
                        ax.axvline(e.effective, color=TRANSPLANT_LINE, linestyle="--", linewidth=1.5)
                if max((abs(v) for a, _, sp in lines for v in _series(measurements, a, sp)[1]), default=0) > 1e12:
                    ax.set_yscale("symlog")
                ax.set_ylabel(title)
                ax.grid(True, alpha=0.3)
                ax.legend(loc="upper right", fontsize=8)
            days = [m.effective for m in measurements] + [d for e in events for d in (e.effective, e.end) if d]
            if as_of:
                days = [min(d, as_of) for d in days if d]
            lo, hi = _date_limits(min(days), max(days))  # type: ignore[type-var,arg-type]
            axes[0].set_xlim(lo, as_of if as_of and as_of > lo else hi)
            axes[0].set_title("Shaded: treatment periods; dashed line: autologous stem-cell transplant", fontsize=9)
            fig.autofmt_xdate()
            fig.tight_layout()
            buffer = io.StringIO()
            fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": "poems-fhir"})
            if not self.reuse:
                self.plt.close(fig)
        svg = buffer.getvalue()
        return re.sub(r"<metadata>.*?</metadata>\s*", "", svg[svg.index("<svg") :], flags=re.DOTALL)


def measure(name: str, draw: Callable[[list[Measurement], list[Event], dt.date | None], str | None], cases, rounds):
    draw(*cases[0])  # warm-up: imports, font cache
    sizes = []
    t = time.perf_counter()
    for _ in range(rounds):
        for case in cases:
            sizes.append(len(draw(*case) or ""))
    seconds = time.perf_counter() - t
    n = rounds * len(cases)
    print(f"{name:<42} {seconds / n * 1000:>9.2f} ms/chart {sum(sizes) / n / 1024:>8.1f} KiB/chart")
    return seconds / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--matplotlib-rounds", type=int, default=2, help="rounds for the (slow) matplotlib ways")
    args = parser.parse_args()
    cases = timelines()
    print(f"{len(cases)} sample timelines with something to chart")
    old = measure("1. matplotlib, new figure per patient", Matplotlib(reuse=False), cases, args.matplotlib_rounds)
    measure("2. matplotlib, reused figure", Matplotlib(reuse=True), cases, args.matplotlib_rounds)
    new = measure("3. SVG written directly (in use)", chart.timeline_svg, cases, args.rounds)
    print(f"direct SVG is {old / new:,.0f}x faster than a new matplotlib figure per patient")


if __name__ == "__main__":
    main()
