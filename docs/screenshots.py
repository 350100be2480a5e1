"""Regenerate the README's pictures of the readable page (headless Chromium, Debian's `chromium`).

    .venv/bin/python docs/screenshots.py

Writes docs/page-<lang>.png (the origin case at the 2019-08-20 restaging, in English, Russian and
Kazakh) and docs/report-relapse-case.png, plus docs/narrative-<lang>.html: the FHIR narrative of the
origin case's criteria report as an EHR shows it.
"""
from __future__ import annotations

import base64
import datetime as dt
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from poems_fhir.criteria.profiles import MAYO
from poems_fhir.fhir.write import WriteContext
from poems_fhir.mapping.rules import load_mapping
from poems_fhir.pipeline import evaluate_paths, html_for, transaction_for

ROOT = Path(__file__).resolve().parents[1]
GENERATED = dt.datetime(2026, 11, 27, 9, 30, tzinfo=dt.timezone.utc)


def shoot(html: str, png: Path, height: int) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("chromium not found: make browser")
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "page.html"
        page.write_text(html, encoding="utf-8")
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--user-data-dir={tmp}/profile", f"--window-size=1000,{height}", f"--screenshot={png}",
                        page.as_uri()], check=True, capture_output=True, timeout=120)


def main() -> None:
    mapping = load_mapping()
    (origin,) = evaluate_paths([ROOT / "sample_bundles" / "origin-case"], mapping, MAYO, dt.date(2019, 8, 20)).results
    for lang in ("en", "ru", "kk"):
        page = html_for(origin, mapping, language=lang, generated=GENERATED)
        shoot(page, ROOT / "docs" / f"page-{lang}.png", 1500)
        bundle = transaction_for(origin, WriteContext(GENERATED, mapping.identity, origin.extraction.used,
                                                      language=lang), page)
        report = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DiagnosticReport")
        (ROOT / "docs" / f"narrative-{lang}.html").write_text(report["text"]["div"] + "\n", encoding="utf-8")
        assert base64.b64decode(report["presentedForm"][0]["data"]).decode() == page
    (relapse,) = evaluate_paths([ROOT / "sample_bundles" / "relapse-case.json"], mapping, MAYO).results
    shoot(html_for(relapse, mapping, generated=GENERATED), ROOT / "docs" / "report-relapse-case.png", 1400)


if __name__ == "__main__":
    main()
