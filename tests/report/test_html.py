"""The readable page: content, determinism, no PHI in file names, and how a browser renders it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from poems_fhir.report.html_report import without_generation_stamp
from poems_fhir.cli import main
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.pipeline import evaluate_paths, html_for
from poems_fhir.report.chart import COLORS
from tests.conftest import SAMPLES, missing_prerequisite, relapse_case_with_asct_in_words

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
    assert (
        "ALERT:</b> <b>Rising VEGF.</b>" in relapse_page
        and "ALERT:</b> <b>Haematological progression.</b>" in relapse_page
    )
    assert "http://" not in relapse_page.replace("http://www.w3.org", "")  # nothing loaded from elsewhere
    assert "<script" not in relapse_page


def test_page_is_deterministic(mapping, relapse_page):
    r = evaluate_paths([SAMPLES / "relapse-case.json"], mapping, MAYO).results[0]
    assert html_for(r, mapping) == relapse_page


def test_report_command_writes_pages_without_phi_in_names(tmp_path):
    result = CliRunner().invoke(main, ["report", str(SAMPLES / "mimics"), "--html", str(tmp_path)])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in tmp_path.iterdir())
    # the Castleman mimic is out of scope: no page without --all
    assert len(names) == 3 and all(n.startswith("poems-") and "mimic" not in n for n in names)
    assert "no page for 1 out-of-scope patient(s)" in result.output
    audit = CliRunner().invoke(main, ["report", str(SAMPLES / "mimics"), "--html", str(tmp_path / "all"), "--all"])
    assert audit.exit_code == 0 and len(list((tmp_path / "all").iterdir())) == 4
    single = CliRunner().invoke(main, ["report", str(SAMPLES / "mimics"), "--html", str(tmp_path / "x.html")])
    assert single.exit_code == 2 and "--patient" in single.output


def test_the_page_is_attached_to_the_report_as_presented_form(tmp_path):
    result = CliRunner().invoke(
        main, ["evaluate", str(SAMPLES / "relapse-case.json"), "--out", str(tmp_path / "b.json")]
    )
    assert result.exit_code == 0, result.output
    import base64

    bundle = json.loads((tmp_path / "b.json").read_text())
    (report,) = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "DiagnosticReport"
        and e["resource"]["code"]["coding"][0]["code"] == "poems-criteria-assessment"
    ]
    form = report["presentedForm"][0]
    assert form["contentType"].startswith("text/html")
    assert '<figure id="timeline">' in base64.b64decode(form["data"]).decode()


def _chromium(args: list[str], tmp: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp / 'profile'}",
            "--hide-scrollbars",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_browser_shows_the_tables_and_the_chart(relapse_page, tmp_path):
    if CHROMIUM is None:
        missing_prerequisite(
            "headless Chromium not installed: `apt-get install chromium` "
            "(make test installs it when run as root with apt)"
        )
    page = tmp_path / "page.html"
    page.write_text(relapse_page, encoding="utf-8")
    dom = _chromium(["--dump-dom", page.as_uri()], tmp_path).stdout
    t = parse(dom)  # what the browser built, not the file we wrote
    assert t.rows["criteria"] == 12 and t.rows["risk"] > 5 and t.paths > 20

    shot = tmp_path / "shot.png"
    # tall enough for the chart below the alerts, classification and criteria
    _chromium(["--window-size=1000,5000", f"--screenshot={shot}", page.as_uri()], tmp_path)
    import matplotlib.image

    pixels = (matplotlib.image.imread(shot)[:, :, :3] * 255).round().astype(int)

    def seen(color: str, tolerance: int = 12) -> int:
        rgb = [int(color[i : i + 2], 16) for i in (1, 3, 5)]
        close = (
            (abs(pixels[:, :, 0] - rgb[0]) <= tolerance)
            & (abs(pixels[:, :, 1] - rgb[1]) <= tolerance)
            & (abs(pixels[:, :, 2] - rgb[2]) <= tolerance)
        )
        return int(close.sum())

    # the drawn series are on screen, in their colours: M-protein and plasma VEGF lines, serum VEGF point
    assert seen(COLORS["serum_m_protein"]) > 300
    assert seen(COLORS["vegf_plasma"]) > 300
    assert seen(COLORS["vegf_serum"]) > 20


def test_an_out_of_scope_patient_gets_a_quiet_page_and_the_audit_page_with_all(mapping, tmp_path):
    (r,) = evaluate_paths([SAMPLES / "mimics" / "castleman-without-neuropathy.json"], mapping, MAYO).results
    assert [f.code for f in r.assessment.flags] == ["differential_castleman_without_neuropathy"]
    quiet = html_for(r, mapping)
    assert "Out of scope" in quiet and 'data-scope="out-of-scope"' in quiet and "Polyneuropathy: Absent" in quiet
    assert parse(quiet).rows == {}  # no criteria, risk or pathway tables
    for noise in (
        "castleman_without_neuropathy",
        "Castleman disease without neuropathy",
        "To do",
        'class="notice notice-flag',
        "Risk factors",
    ):
        assert noise not in quiet
    audit = html_for(r, mapping, audit=True)
    assert parse(audit).rows["criteria"] == 12 and "Audit detail" in audit
    assert "Not raised (out of scope): <b>Castleman disease without neuropathy or clone</b>" in audit
    assert 'class="notice notice-flag' not in audit
    # one page asked for by name: the quiet page, written (not an error)
    result = CliRunner().invoke(
        main, ["report", str(SAMPLES / "mimics"), "--patient", "mimic-castleman", "--html", str(tmp_path / "c.html")]
    )
    assert result.exit_code == 0 and "(out of scope)" in result.output

    def undated(page: str) -> str:  # the command stamps the generation time; the test page has none
        return re.sub(
            r"<dt>Generated</dt><dd>[^<]*</dd>", "<dt>Generated</dt><dd></dd>", without_generation_stamp(page)
        )

    assert undated((tmp_path / "c.html").read_text()) == undated(quiet)


def test_an_in_scope_page_says_why_it_is_in_scope(relapse_page):
    assert 'data-scope="in-scope"' in relapse_page
    assert "In scope: Polyneuropathy, Monoclonal plasma-cell proliferative disorder present." in relapse_page


LANGUAGE_TITLES = {"en": "POEMS syndrome assessment", "ru": "Оценка POEMS-синдрома", "kk": "POEMS-синдромын бағалау"}


def _origin_page(mapping, language: str) -> str:
    import datetime as dt

    (r,) = evaluate_paths([SAMPLES / "origin-case"], mapping, MAYO, dt.date(2019, 8, 20)).results
    return html_for(r, mapping, language=language, generated=dt.datetime(2026, 11, 27, 9, 30, tzinfo=dt.timezone.utc))


def _pixels(shot: Path):
    import matplotlib.image

    return (matplotlib.image.imread(shot)[:, :, :3] * 255).round().astype(int)


def _count(pixels, color: str, tolerance: int = 10) -> int:
    rgb = [int(color[i : i + 2], 16) for i in (1, 3, 5)]
    close = (
        (abs(pixels[:, :, 0] - rgb[0]) <= tolerance)
        & (abs(pixels[:, :, 1] - rgb[1]) <= tolerance)
        & (abs(pixels[:, :, 2] - rgb[2]) <= tolerance)
    )
    return int(close.sum())


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed: `apt-get install chromium`")
@pytest.mark.parametrize("language", ["en", "ru", "kk"])
def test_a_browser_shows_the_page_in_each_language(mapping, tmp_path, language):
    page = tmp_path / f"origin-{language}.html"
    page.write_text(_origin_page(mapping, language), encoding="utf-8")
    dom = _chromium(["--dump-dom", page.as_uri()], tmp_path).stdout
    t = parse(dom)
    assert f'<html lang="{language}">' in dom and f"<h1>{LANGUAGE_TITLES[language]}</h1>" in dom
    assert t.rows["criteria"] == 12 and t.rows["pathway"] > 3 and t.paths > 20
    # alerts on top: the cytopenia flag is the first thing after the header
    assert dom.index("notice-flag") < dom.index('id="summary"') < dom.index('id="criteria"')
    shot = tmp_path / f"{language}.png"
    _chromium(["--window-size=1000,5000", f"--screenshot={shot}", page.as_uri()], tmp_path)
    pixels = _pixels(shot)
    assert _count(pixels[:700], "#8a5a00") > 100  # the flag's border, near the top of the page
    assert _count(pixels, COLORS["serum_m_protein"]) > 300  # the chart's M-protein line


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed: `apt-get install chromium`")
@pytest.mark.parametrize("width", [700, 760])  # A4 and Letter printable widths at 96 dpi, 12 mm margins
def test_no_column_is_lost_on_a_printed_page_width(mapping, tmp_path, width):
    html = _origin_page(mapping, "ru")  # the longest words
    probe = (
        "<script>window.onload=function(){var wide=[].slice.call(document.querySelectorAll('table'))"
        ".filter(function(t){return t.scrollWidth>t.clientWidth+1||t.getBoundingClientRect().right>"
        "window.innerWidth+1}).length;document.title='overflow:'+wide+':'+"
        "(document.documentElement.scrollWidth>window.innerWidth+1)}</script></head>"
    )
    page = tmp_path / "print.html"
    page.write_text(html.replace("</head>", probe, 1), encoding="utf-8")
    dom = _chromium(
        [f"--window-size={width},1200", "--virtual-time-budget=2000", "--dump-dom", page.as_uri()], tmp_path
    ).stdout
    assert "<title>overflow:0:false</title>" in dom


def _luminance(color: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def _contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_text_has_enough_contrast_on_every_background_and_meaning_is_never_colour_only(relapse_page):
    from poems_fhir.report.html_report import CSS

    backgrounds = set(re.findall(r"background: (#[0-9a-f]{6})", CSS)) | {"#ffffff"}
    for text in ("#1a1a1a", "#3d3d3d", "#0b4f9c"):  # body, notes, links
        for bg in backgrounds:
            assert _contrast(text, bg) >= 4.5, (text, bg)  # WCAG 2 AA for normal text
    # every coloured state cell and notice carries its meaning in words too
    for cell in re.findall(r'<td class="state state-[a-z-]+">([^<]*)</td>', relapse_page):
        assert re.search(r"\w{3}", cell)
    assert all(
        '<b class="kind">ALERT:</b>' in n
        for n in re.findall(r'<div class="notice notice-alert".*?</div>', relapse_page)
    )


def test_cytopenias_are_not_shown_as_supporting_features(mapping):
    # probe38: the origin case's page listed "Anaemia" among the supporting features beside the flag that
    # says anaemia is unusual in POEMS (criteria.md MIN-6 footnote); it is the flag's, not a support
    import datetime as dt

    (r,) = evaluate_paths([SAMPLES / "origin-case"], mapping, MAYO, dt.date(2019, 12, 31)).results
    assert r.assessment.signs["anemia"].state.value == "present"  # read, and flagged
    page = html_for(r, mapping)
    (signs,) = re.findall(r'<p id="signs">(.*?)</p>', page, re.S)
    assert "Anaemia" not in signs and "Clubbing" in signs


BEFORE_TREATMENT = SAMPLES.parent / "tests" / "fixtures" / "response" / "treatment-after-as-of.json"


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "No treatment started by Jan 12, 2022 (the first, lenalidomide, starts Jan 15, 2022)."),
        ("ru", "Лечение к 12 янв. 2022\u202fг. не начато (первое, леналидомид, начинается 15 янв. 2022\u202fг.)."),
    ],
)
def test_before_the_first_treatment_the_page_names_it(mapping, language, said):
    """probe83 D7: "No treatment recorded." with lenalidomide recorded from three days after --as-of."""
    import datetime as dt

    r = evaluate_paths([BEFORE_TREATMENT], mapping, MAYO, dt.date(2022, 1, 12)).results[0]
    page = html_for(r, mapping, language=language)
    assert said in page
    assert "No treatment recorded." not in page


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "A treatment is recorded without a readable date (Procedure/rv-asct)."),
        ("ru", "Лечение записано без читаемой даты (Procedure/rv-asct)."),
    ],
)
def test_a_treatment_on_no_readable_day_is_named_on_the_page(mapping, tmp_path, language, said):
    """probe79 D8 on the page: "No treatment recorded." beside a transplant whose date cannot be read."""

    relapse_case_with_asct_in_words(tmp_path / "b.json", "early 2024")  # no day, month or year to read
    r = evaluate_paths([tmp_path / "b.json"], mapping, MAYO).results[0]
    page = html_for(r, mapping, language=language)
    assert said in page
    assert "No treatment recorded." not in page and "Лечение не записано." not in page
