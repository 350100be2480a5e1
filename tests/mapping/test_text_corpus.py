"""The clinical-text corpus (tests/mapping/text_corpus): every sentence, every target, its assertion.

Entries with ``limitation:`` are known misses and must fail (strict xfail), so fixing one is seen.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from poems_fhir.mapping.text.engine import Assertion

CORPUS = Path(__file__).parent / "text_corpus"
LABELS = {"present", "negated", "possible", "hypothetical", "historical", "family"}


def load_corpus() -> list[dict]:
    entries = []
    for path in sorted(CORPUS.glob("*.yaml")):
        for i, entry in enumerate(yaml.safe_load(path.read_text(encoding="utf-8"))):
            entries.append({**entry, "id": f"{path.stem}-{i:03d}"})
    return entries


ENTRIES = load_corpus()


def labels(assertions: list[Assertion]) -> dict[str, str]:
    """One label per target: the first mention's (a sentence rarely names one target twice)."""
    out: dict[str, str] = {}
    for a in assertions:
        out.setdefault(a.target, a.label)
    return out


def test_corpus_is_large_and_well_formed(mapping):
    assert len(ENTRIES) >= 200
    langs = {e["id"].split("-")[0] for e in ENTRIES}
    assert {"en", "ru", "kk"} <= langs
    for e in ENTRIES:
        assert set(e["expect"].values()) <= LABELS, e
        assert set(e["expect"]) <= set(mapping.text.section.targets), e


def test_the_readme_states_the_corpus_counts():
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    per = {lang: sum(e["id"].startswith(f"{lang}-") for e in ENTRIES) for lang in ("en", "ru", "kk")}
    said = (
        f"holds {len(ENTRIES)} report and letter sentences ({per['en']} English, {per['ru']} Russian,\n"
        f"{per['kk']} Kazakh)"
    )
    assert said in readme


@pytest.fixture(scope="module")
def results(mapping):
    texts = [e["text"] for e in ENTRIES]
    return dict(zip((e["id"] for e in ENTRIES), mapping.text.assert_texts(texts), strict=True))


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param(
            e, id=e["id"], marks=[pytest.mark.xfail(strict=True, reason=e["limitation"])] if e.get("limitation") else []
        )
        for e in ENTRIES
    ],
)
def test_sentence(entry, results):
    assert labels(results[entry["id"]]) == entry["expect"], entry["text"]
