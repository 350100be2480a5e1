# SPDX-License-Identifier: Apache-2.0
"""Timeline chart of M-protein, free light chains and VEGF (per specimen type) with treatments
marked, written directly as inline SVG: no external files, deterministic, a few hundred
microseconds per patient (matplotlib took ~0.23 s; see benchmarks/chart_cost.py).

One panel per measured quantity on a shared date axis; a legend per panel; treatment periods
shaded, autologous stem-cell transplants as dashed lines; a symmetric log axis when a value is
beyond 1e12 (a linear axis cannot place readable ticks up to 1e308). Every text is escaped; the
chart carries a <title> and <desc> for screen readers."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence

from ..criteria.timeline import Event, Measurement
from ..i18n import Translator, translator
from .markup import escaped

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

# geometry (px): the figure is as wide as the old 8-inch matplotlib one
WIDTH = 800
LEFT, RIGHT = 78, WIDTH - 14
TOP = 30  # room for the key line above the first panel
PANEL, GAP = 150, 22
BOTTOM = 58  # rotated date labels below the last panel
FONT = "font-family=\"system-ui, 'Segoe UI', 'Noto Sans', sans-serif\""
SYMLOG_ABOVE = 1e12

_Series = tuple[list[dt.date], list[float]]


def _series(measurements: Sequence[Measurement], analyte: str, specimen: str | None = "any") -> _Series:
    points = sorted(
        (
            m
            for m in measurements
            if m.analyte == analyte and m.effective and (specimen == "any" or m.specimen == specimen)
        ),
        key=lambda m: m.effective,  # type: ignore[arg-type,return-value]
    )
    return [m.effective for m in points], [m.value for m in points]  # type: ignore[misc]


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


def _e(text: object) -> str:
    return escaped(text)


def _n(x: float) -> str:
    """A coordinate, rounded to 0.1 px: short and identical on every run."""
    s = f"{x:.1f}"
    return s[:-2] if s.endswith(".0") else s


# ------------------------------------------------------------------ axes


def _date_ticks(lo: dt.date, hi: dt.date, most: int = 9) -> tuple[list[dt.date], Callable[[dt.date], str]]:
    """Round dates between lo and hi (days, weeks, months or years), at most ``most`` of them."""
    days = (hi - lo).days
    for step in (1, 2, 7, 14):
        if days // step < most:
            start = lo.toordinal() + (-lo.toordinal()) % step
            ticks = [dt.date.fromordinal(o) for o in range(start, hi.toordinal() + 1, step)]
            return ticks, dt.date.isoformat
    first = lo.year * 12 + lo.month - 1 + (lo.day > 1)
    last = hi.year * 12 + hi.month - 1
    for step in (1, 2, 3, 6):
        if (last - first) // step < most:
            months = [m for m in range(first, last + 1) if m % step == 0]
            return [dt.date(m // 12, m % 12 + 1, 1) for m in months], lambda d: d.isoformat()[:7]
    first_year = lo.year + (lo > dt.date(lo.year, 1, 1))
    step = 1
    while (hi.year - first_year) // step >= most:
        step = step * 5 // 2 if str(step).startswith("2") else step * 2  # 1, 2, 5, 10, 20, 50, ...
    years = [y for y in range(first_year, hi.year + 1) if y % step == 0]
    return [dt.date(y, 1, 1) for y in years], lambda d: d.isoformat()[:4]


def _nice_step(span: float, target: int = 5) -> float:
    raw = span / target
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if raw <= m * magnitude * (1 + 1e-9):
            return m * magnitude
    return 10 * magnitude


def _number(v: float, step: float) -> str:
    if v == 0 or abs(v) < step * 1e-9:
        return "0"
    if abs(v) >= 1e6 or step < 1e-4:
        return f"{v:.3g}"
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    return f"{v:.{decimals}f}"


class _YAxis:
    """Linear axis with round ticks, or symmetric log (sign * log10(1 + |v|)) for huge values."""

    def __init__(self, values: Sequence[float]) -> None:
        self.log = max(abs(v) for v in values) > SYMLOG_ABOVE
        scaled = [self._f(v) for v in values]
        lo, hi = min(scaled), max(scaled)
        if hi - lo <= max(abs(hi), abs(lo)) * 1e-9:
            pad = abs(hi) * 0.1 or 1.0
        else:
            pad = (hi - lo) * 0.05  # like matplotlib: no point sits on the frame
        lo, hi = lo - pad, hi + pad
        if self.log:
            step = float(max(1, math.ceil(_nice_step(hi - lo))))  # whole decades: 1, 2, 5, 10, 20, ...
            first = math.ceil(lo / step)
            decades = [(first + i) * step for i in range(math.floor(hi / step) - first + 1)]
            self.ticks = [(d, "0" if d == 0 else ("-" if d < 0 else "") + f"1e{abs(int(d))}") for d in decades]
        else:
            step = _nice_step(hi - lo)
            first = math.ceil(lo / step)
            marks = [(first + i) * step for i in range(math.floor(hi / step) - first + 1)]
            self.ticks = [(v, _number(v, step)) for v in marks]
        self.lo, self.hi = lo, hi

    def _f(self, v: float) -> float:
        return math.copysign(math.log10(1 + abs(v)), v) if self.log else v

    def y(self, v: float, top: float) -> float:
        """Pixel row of an axis position (a value already scaled) in a panel starting at ``top``."""
        return top + PANEL * (self.hi - v) / (self.hi - self.lo)

    def value(self, v: float, top: float) -> float:
        return self.y(self._f(v), top)


# ------------------------------------------------------------------ drawing


def _legend(entries: Sequence[tuple[str, str]], top: float) -> list[str]:
    """Top right inside the panel: a line sample and the label of each series."""
    width = max(len(label) for _, label in entries) * 6.8 + 38  # no text metrics: a generous estimate
    x0 = RIGHT - 6 - width
    out = [
        f'<rect x="{_n(x0)}" y="{_n(top + 6)}" width="{_n(width)}" height="{_n(8 + 16 * len(entries))}" '
        'fill="#ffffff" fill-opacity="0.85" stroke="#cccccc"/>'
    ]
    for i, (color, label) in enumerate(entries):
        y = top + 18 + 16 * i
        out.append(f'<path d="M{_n(x0 + 6)} {_n(y)}h22" stroke="{color}" stroke-width="3"/>')
        out.append(f'<text x="{_n(x0 + 32)}" y="{_n(y + 4)}" font-size="11">{_e(label)}</text>')
    return out


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
    panels: list[tuple[str, list[tuple[str, str, _Series]]]] = []
    m_protein = _series(measurements, "serum_m_protein")
    if m_protein[0]:
        panels.append((t._("M-protein (g/L)"), [(COLORS["serum_m_protein"], t._("serum M-protein"), m_protein)]))
    kappa, lam = _series(measurements, "flc_kappa"), _series(measurements, "flc_lambda")
    if kappa[0] or lam[0]:
        lines = [(COLORS["flc_kappa"], t._("kappa"), kappa), (COLORS["flc_lambda"], t._("lambda"), lam)]
        panels.append((t._("free light chains (mg/L)"), lines))
    vegf_labels = {"plasma": t._("VEGF, plasma"), "serum": t._("VEGF, serum"), None: t._("VEGF, specimen unknown")}
    vegf = [(s, label, _series(measurements, "vegf", s)) for s, label in vegf_labels.items()]
    if any(xs for _, _, (xs, _) in vegf):
        lines = [(COLORS[f"vegf_{s or 'unknown'}"], label, series) for s, label, series in vegf if series[0]]
        panels.append((t._("VEGF (pg/mL)"), lines))
    if not panels:
        return None

    days = [m.effective for m in measurements] + [d for e in events for d in (e.effective, e.end) if d]
    if as_of:  # a treatment running past the cut-off ends there
        days = [min(d, as_of) for d in days if d]
    lo, hi = _date_limits(min(days), max(days))  # type: ignore[type-var,arg-type]
    if as_of and as_of > lo:
        hi = as_of  # the axis ends at the cut-off (no tick, shade or point after it)
    span = max(1, hi.toordinal() - lo.toordinal())

    def x(day: dt.date) -> float:
        return LEFT + (RIGHT - LEFT) * (min(max(day, lo), hi).toordinal() - lo.toordinal()) / span

    key = t._("Shaded: treatment periods; dashed line: autologous stem-cell transplant")
    height = TOP + len(panels) * PANEL + (len(panels) - 1) * GAP + BOTTOM
    title = t._("Timeline")
    desc = "; ".join(f"{name}: {', '.join(label for _, label, _ in lines)}" for name, lines in panels) + ". " + key
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="timeline-title timeline-desc" {FONT}>',
        f'<title id="timeline-title">{_e(title)}</title><desc id="timeline-desc">{_e(desc)}</desc>',
        f'<text x="{_n((LEFT + RIGHT) / 2)}" y="18" font-size="12" text-anchor="middle">{_e(key)}</text>',
    ]
    ticks, fmt = _date_ticks(lo, hi)
    shading: set[tuple[float, float]] = set()
    dashed: set[float] = set()
    for e in events:
        if e.kind in ("treatment", "radiotherapy", "chemotherapy"):
            end = e.end or _next_day(e.effective)  # type: ignore[arg-type]
            x0, x1 = sorted((x(e.effective), x(min(end, as_of) if as_of else end)))  # type: ignore[arg-type]
            shading.add((x0, max(x1, x0 + 0.5)))
        elif e.kind == "autologous_hsct":
            dashed.add(x(e.effective))  # type: ignore[arg-type]
    shades, transplants = sorted(shading), sorted(dashed)
    for i, (name, lines) in enumerate(panels):
        top = TOP + i * (PANEL + GAP)
        bottom = top + PANEL
        out.append(f'<g class="panel" data-panel="{i}">')
        for x0, x1 in shades:  # shading and transplant lines under the series
            out.append(
                f'<rect x="{_n(x0)}" y="{_n(top)}" width="{_n(x1 - x0)}" '
                f'height="{PANEL}" fill="{TREATMENT_SHADE}" fill-opacity="0.35"/>'
            )
        for xe in transplants:
            out.append(
                f'<path d="M{_n(xe)} {_n(top)}V{_n(bottom)}" stroke="{TRANSPLANT_LINE}" '
                'stroke-width="1.5" stroke-dasharray="6 4"/>'
            )
        axis = _YAxis([v for _, _, (_, ys) in lines for v in ys])
        grid = [f"M{LEFT} {_n(axis.y(v, top))}H{RIGHT}" for v, _ in axis.ticks]
        grid += [f"M{_n(x(d))} {_n(top)}V{_n(bottom)}" for d in ticks]
        out += [f'<path class="grid" d="{d}" stroke="#000000" stroke-opacity="0.12"/>' for d in grid]
        out.append(
            f'<path d="M{LEFT} {_n(top)}H{RIGHT}V{_n(bottom)}H{LEFT}Z" fill="none" stroke="#333333" stroke-width="1"/>'
        )
        for v, text in axis.ticks:
            y = _n(axis.y(v, top))
            out.append(f'<path d="M{LEFT - 4} {y}H{LEFT}" stroke="#333333"/>')
            out.append(f'<text x="{LEFT - 7}" y="{y}" dy="4" font-size="11" text-anchor="end">{_e(text)}</text>')
        out.append(
            f'<text transform="translate(14 {_n(top + PANEL / 2)}) rotate(-90)" font-size="12" '
            f'text-anchor="middle">{_e(name)}</text>'
        )
        for color, label, (xs, ys) in lines:
            points = [(x(d), axis.value(v, top)) for d, v in zip(xs, ys, strict=True)]
            if not points:
                continue
            if len(points) > 1:
                path = "M" + "L".join(f"{_n(px)} {_n(py)}" for px, py in points)
                out.append(f'<path d="{path}" fill="none" stroke="{color}" stroke-width="3" stroke-linejoin="round">')
                out.append(f"<title>{_e(label)}</title></path>")
            for px, py in points:
                out.append(f'<path d="M{_n(px - 4)} {_n(py)}a4 4 0 1 0 8 0a4 4 0 1 0 -8 0" fill="{color}"/>')
        out += _legend([(color, label) for color, label, (xs, _) in lines if xs], top)
        out.append("</g>")
    bottom = TOP + len(panels) * PANEL + (len(panels) - 1) * GAP
    for d in ticks:
        xd = _n(x(d))
        out.append(f'<path d="M{xd} {_n(bottom)}v4" stroke="#333333"/>')
        out.append(
            f'<text transform="translate({xd} {_n(bottom + 14)}) rotate(-30)" font-size="11" '
            f'text-anchor="end">{_e(fmt(d))}</text>'
        )
    out.append("</svg>")
    return "".join(out)
