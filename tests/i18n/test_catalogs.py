"""The gettext catalogs: complete, compiled, shipped, every translation marked reviewed or not, and a
new language is a catalog, not code."""

from __future__ import annotations

import json

import datetime as dt
import gettext
import io
import re
import tomllib
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from click.testing import CliRunner

from poems_fhir import i18n
from poems_fhir.cli import main
from poems_fhir.criteria.engine import _DIFFERENTIAL_MESSAGES
from poems_fhir.criteria.model import Criterion, Sign
from poems_fhir.fhir.narrative import check_narrative
from poems_fhir.i18n import LOCALE_DIR, translator
from poems_fhir.i18n.bibliography import SOURCES
from poems_fhir.i18n.vocabulary import FLAGS, tables
from poems_fhir.sync.config import SyncSettings
from tests.conftest import SAMPLES

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "poems_fhir"
LANGS = ["ru", "kk"]
REVIEW_MARKER = re.compile(r"^(unreviewed|reviewed: .+)")


def catalog(lang: str):
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / "poems_fhir.po", "rb") as f:
        return read_po(f, locale=lang)


def source_literals() -> set[str]:
    """Every t._("...") literal in the package, including those inside f-strings."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        for m in re.finditer(r"""\bt\._\((["'])((?:(?!\1).)+)\1\)""", path.read_text(encoding="utf-8")):
            found.add(m.group(2))
    return found - {"..."}  # the comment that describes the convention


def vocabulary_msgids() -> set[str]:
    return {s for table in tables().values() for t in table.values() for s in (t.label, t.explanation) if s}


@pytest.mark.parametrize("lang", LANGS)
def test_every_clinician_string_is_translated_with_the_same_placeholders(lang):
    cat = catalog(lang)
    translated = {m.id if isinstance(m.id, str) else m.id[0]: m for m in cat if m.id}
    wanted = source_literals() | vocabulary_msgids()
    assert not wanted - set(translated), f"not in the {lang} catalog (run make catalogs): {wanted - set(translated)}"
    for msgid, m in translated.items():
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        assert all(strings), f"{lang}: untranslated {msgid!r}"
        names = set(re.findall(r"\{(\w+)\}", msgid))
        for s in strings:
            assert set(re.findall(r"\{(\w+)\}", s)) == names, f"{lang}: placeholders differ in {msgid!r}"


@pytest.mark.parametrize("lang", LANGS)
def test_every_translation_says_whether_a_clinician_reviewed_it(lang):
    for m in catalog(lang):
        if m.id:
            assert any(REVIEW_MARKER.match(c) for c in m.user_comments), f"{lang}: no review marker on {m.id!r}"


@pytest.mark.parametrize("lang", LANGS)
def test_the_compiled_catalog_is_up_to_date(lang):
    cat = catalog(lang)
    buf = io.BytesIO()
    write_mo(buf, cat)
    buf.seek(0)
    expected = gettext.GNUTranslations(buf)._catalog  # type: ignore[attr-defined]
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / "poems_fhir.mo", "rb") as f:
        shipped = gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]
    assert shipped == expected, "the .mo is older than the .po: run make catalogs"


def test_the_catalogs_ship_in_the_wheel():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["poems_fhir"]
    shipped = {p for pattern in patterns for p in PACKAGE.glob(pattern)}
    for lang in LANGS:
        assert PACKAGE / "locale" / lang / "LC_MESSAGES" / "poems_fhir.mo" in shipped
    assert "poems_fhir.i18n" in config["tool"]["setuptools"]["packages"]
    assert any(d.lower().startswith("babel") for d in config["project"]["dependencies"])


def test_the_vocabulary_covers_every_id_people_could_see():
    t = tables()
    assert {c.value for c in Criterion} <= set(t["criterion"]) and {c.value for c in Criterion} <= set(t["workup"])
    assert {s.value for s in Sign} <= set(t["sign"])
    engine_flags = {
        "atypical_isotype",
        "igm_paraprotein",
        "cytopenia_without_castleman",
        "differential_castleman_without_neuropathy",
    } | {f"differential_{d.value}" for d in _DIFFERENTIAL_MESSAGES}
    assert engine_flags <= set(FLAGS)
    for kind in ("criterion", "flag", "risk", "step", "alert", "hematologic", "vegf"):
        for key, term in t[kind].items():
            assert term.sources, f"{kind} {key} cites no published source"
    cited = {k for table in t.values() for term in table.values() for k in term.sources}
    assert cited <= set(SOURCES)


def test_every_source_comes_from_the_clinical_reference():
    reference = ROOT.parent / "shared" / "clinical" / "criteria.md"
    if not reference.exists():
        pytest.skip("the shared clinical reference is not next to this checkout")
    text = reference.read_text(encoding="utf-8")
    for key in SOURCES:
        assert f"| {key} |" in text, f"{key} is not in the project's clinical reference list"


def test_the_unreviewed_terms_are_listed_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for kind in ("criterion", "state", "classification"):
        for term in tables()[kind].values():
            row = [term.label] + [translator(lang)._(term.label) for lang in LANGS]
            assert "| " + " | ".join(row) + " |" in readme, f"README lacks the row for {term.label}"
    counts = {sum(1 for m in catalog(lang) if m.id and "unreviewed" in " ".join(m.user_comments)) for lang in LANGS}
    assert (
        len(counts) == 1
        and f"All\n{counts.pop()} entries of the Russian and the Kazakh catalog are unreviewed" in readme
    )


def test_a_new_language_is_a_catalog_not_code(tmp_path, monkeypatch, mapping):
    from babel.messages.catalog import Catalog

    from poems_fhir.criteria.profiles import MAYO
    from poems_fhir.pipeline import evaluate_paths, html_for

    locale = tmp_path / "locale"
    for lang in LANGS:
        (locale / lang / "LC_MESSAGES").mkdir(parents=True)
        (locale / lang / "LC_MESSAGES" / "poems_fhir.mo").write_bytes(
            (LOCALE_DIR / lang / "LC_MESSAGES" / "poems_fhir.mo").read_bytes()
        )
    german = Catalog(locale="de")
    german.add("Polyneuropathy", "Polyneuropathie", user_comments=["unreviewed"])
    (locale / "de" / "LC_MESSAGES").mkdir(parents=True)
    with open(locale / "de" / "LC_MESSAGES" / "poems_fhir.mo", "wb") as f:
        write_mo(f, german)
    monkeypatch.setattr(i18n, "LOCALE_DIR", locale)
    i18n.translator.cache_clear()
    try:
        assert "de" in i18n.available_languages()
        (r,) = evaluate_paths([SAMPLES / "classic-poems.json"], mapping, MAYO).results
        page = html_for(r, mapping, language="de")
        assert '<html lang="de">' in page and "Polyneuropathie" in page
        assert translator("de").date(dt.date(2019, 12, 31)) == "31.12.2019"  # German dates from Babel
    finally:
        i18n.translator.cache_clear()


def test_the_language_is_chosen_by_flag_or_config(tmp_path):
    out = tmp_path / "ru.html"
    result = CliRunner().invoke(
        main, ["report", str(SAMPLES / "classic-poems.json"), "--html", str(out), "--language", "ru"]
    )
    assert result.exit_code == 0, result.output
    assert '<html lang="ru">' in out.read_text(encoding="utf-8") and "Полинейропатия" in out.read_text(encoding="utf-8")
    result = CliRunner().invoke(
        main, ["evaluate", str(SAMPLES / "classic-poems.json"), "--out", str(tmp_path / "kk.json"), "--language", "kk"]
    )
    assert result.exit_code == 0, result.output
    assert '"language": "kk"' in (tmp_path / "kk.json").read_text(encoding="utf-8")
    bad = CliRunner().invoke(
        main, ["report", str(SAMPLES / "classic-poems.json"), "--html", str(out), "--language", "xx"]
    )
    assert bad.exit_code == 2 and "no catalog for language" in bad.output
    config = tmp_path / "sync.toml"
    config.write_text('language = "ru"\n', encoding="utf-8")
    synced = CliRunner().invoke(
        main,
        [
            "sync",
            "--config",
            str(config),
            "--source",
            str(SAMPLES / "classic-poems.json"),
            "--out",
            str(tmp_path / "sync"),
            "--state",
            str(tmp_path / "state.sqlite"),
        ],
    )
    assert synced.exit_code == 0, synced.output
    (written,) = (tmp_path / "sync").glob("*.json")
    bundle = json.loads(written.read_text(encoding="utf-8"))
    assert {e["resource"].get("language") for e in bundle["entry"]} >= {"ru"}
    assert "Полинейропатия" in written.read_text(encoding="utf-8")
    assert SyncSettings(language="kk").language == "kk"
    with pytest.raises(ValueError, match="no catalog"):
        SyncSettings(language="xx")


@pytest.mark.parametrize(
    "div, problem",
    [
        ('<div xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script>x</div>', "<script> is not allowed"),
        ('<div xmlns="http://www.w3.org/1999/xhtml"><p onclick="x()">x</p></div>', "'onclick'"),
        ('<div xmlns="http://www.w3.org/1999/xhtml"><form><input/></form>x</div>', "<form> is not allowed"),
        ('<div xmlns="http://www.w3.org/1999/xhtml"><a href="javascript:x()">x</a></div>', "must not run script"),
        ('<div xmlns="http://www.w3.org/1999/xhtml"> </div>', "must not be empty"),
        ("<div>x</div>", "xhtml <div>"),
        ('<div xmlns="http://www.w3.org/1999/xhtml"><p>x</div>', "not well-formed"),
        ('<!DOCTYPE d [<!ENTITY e "x">]><div xmlns="http://www.w3.org/1999/xhtml">&e;</div>', "DTD or entities"),
    ],
)
def test_the_narrative_checker_applies_the_fhir_rules(div, problem):
    assert any(problem in p for p in check_narrative(div)), check_narrative(div)


def test_a_valid_narrative_passes():
    assert (
        check_narrative(
            '<div xmlns="http://www.w3.org/1999/xhtml" lang="ru" xml:lang="ru"><p class="a">'
            '<a href="Observation/1">x</a></p><table><tr><td>y</td></tr></table></div>'
        )
        == []
    )
