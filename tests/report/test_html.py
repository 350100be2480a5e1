"""The readable page: content, determinism, no PHI in file names, and how a browser renders it."""
from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from poems_fhir.cli import main
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.pipeline import evaluate_paths, html_for
from poems_fhir.report.chart import COLORS
from tests.conftest import SAMPLES, missing_prerequisite

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def relapse_page(mapping) -> str:
    r = evaluate_paths([SAMPLES / "relapse-case.json"], mapping, MAYO).results[0]
    return html_for(r, mapping)


class Tables(HTMLParser):
    """Rows per table id, and the svg shapes inside the timeline figure."""

    def __init__(self) -> None:
        super().__init__()
        self.table: str | None = None
        self.rows: dict[str, int] = {}
        self.in_timeline = False
        self.paths = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.table = a.get("id")
            self.rows[self.table or "?"] = 0
        elif tag == "tr" and self.table:
            self.rows[self.table] += 1
        elif tag == "figure" and a.get("id") == "timeline":
            self.in_timeline = True
        elif tag in ("path", "use") and self.in_timeline:
            self.paths += 1

    def handle_endtag(self, tag):
        if tag == "table":
            self.table = None
        elif tag == "figure":
            self.in_timeline = False


def parse(html: str) -> Tables:
    t = Tables()
    t.feed(html)
    return t


def test_page_has_all_sections_and_is_self_contained(relapse_page):
    t = parse(relapse_page)
    assert t.rows["criteria"] == 12  # header + 11 criteria
    assert t.rows["response"] >= 4 and t.rows["risk"] > 5 and t.rows["pathway"] > 3
    assert t.paths > 20  # the chart's lines, markers and axes
    assert "vegf_progression" in relapse_page and "hematologic_progression" in relapse_page
    assert "http://" not in relapse_page.replace("http://www.w3.org", "")  # nothing loaded from elsewhere
    assert "<script" not in relapse_page


def test_page_is_deterministic(mapping, relapse_page):
    r = evaluate_paths([SAMPLES / "relapse-case.json"], mapping, MAYO).results[0]
    assert html_for(r, mapping) == relapse_page


def test_report_command_writes_pages_without_phi_in_names(tmp_path):
    result = CliRunner().invoke(main, ["report", str(SAMPLES / "mimics"), "--html", str(tmp_path)])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 4 and all(n.startswith("poems-") and "mimic" not in n for n in names)
    single = CliRunner().invoke(main, ["report", str(SAMPLES / "mimics"), "--html", str(tmp_path / "x.html")])
    assert single.exit_code == 2 and "--patient" in single.output


def test_the_page_is_attached_to_the_report_as_presented_form(tmp_path):
    result = CliRunner().invoke(main, ["evaluate", str(SAMPLES / "relapse-case.json"), "--out", str(tmp_path / "b.json")])
    assert result.exit_code == 0, result.output
    import base64

    bundle = json.loads((tmp_path / "b.json").read_text())
    (report,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DiagnosticReport"
                 and e["resource"]["code"]["coding"][0]["code"] == "poems-criteria-assessment"]
    form = report["presentedForm"][0]
    assert form["contentType"].startswith("text/html")
    assert "<figure id=\"timeline\">" in base64.b64decode(form["data"]).decode()


def _chromium(args: list[str], tmp: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp / 'profile'}", "--hide-scrollbars", *args],
        capture_output=True, text=True, timeout=120)


def test_a_browser_shows_the_tables_and_the_chart(relapse_page, tmp_path):
    if CHROMIUM is None:
        missing_prerequisite("headless Chromium not installed: `apt-get install chromium` "
                             "(make test installs it when run as root with apt)")
    page = tmp_path / "page.html"
    page.write_text(relapse_page, encoding="utf-8")
    dom = _chromium(["--dump-dom", page.as_uri()], tmp_path).stdout
    t = parse(dom)  # what the browser built, not the file we wrote
    assert t.rows["criteria"] == 12 and t.rows["risk"] > 5 and t.paths > 20

    shot = tmp_path / "shot.png"
    _chromium(["--window-size=1000,1400", f"--screenshot={shot}", page.as_uri()], tmp_path)
    import matplotlib.image

    pixels = (matplotlib.image.imread(shot)[:, :, :3] * 255).round().astype(int)

    def seen(color: str, tolerance: int = 12) -> int:
        rgb = [int(color[i:i + 2], 16) for i in (1, 3, 5)]
        close = (abs(pixels[:, :, 0] - rgb[0]) <= tolerance) & (abs(pixels[:, :, 1] - rgb[1]) <= tolerance) & \
                (abs(pixels[:, :, 2] - rgb[2]) <= tolerance)
        return int(close.sum())

    # the drawn series are on screen, in their colours: M-protein and plasma VEGF lines, serum VEGF point
    assert seen(COLORS["serum_m_protein"]) > 300
    assert seen(COLORS["vegf_plasma"]) > 300
    assert seen(COLORS["vegf_serum"]) > 20
