"""The text section of a mapping file: languages, target phrases per condition rule, ConText rules.

Phrases are written in a small token syntax so a site can add words without knowing spaCy:

- words are separated by spaces; a hyphen between words matches "plasma-cell" and "plasma cell";
- ``word*`` matches any word starting with ``word`` (Russian/Kazakh endings: ``склеротическ*``);
- ``a|b*`` matches either alternative at that position;
- ``[word]`` makes the word optional; ``...`` stands for up to three words in between
  ("enlarged ... lymph nodes" matches "enlarged mesenteric and retroperitoneal lymph nodes");
- ``е`` also matches ``ё``; matching ignores case.

Each phrase compiles to a spaCy token pattern (one dict per token), and every phrase contributes the
first word of its pattern to one compiled prefilter regex: a text that contains none of them cannot
hold a target, so the NLP never runs on it.
"""
from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Category = Literal["NEGATED_EXISTENCE", "POSSIBLE_EXISTENCE", "HYPOTHETICAL", "HISTORICAL", "FAMILY",
                   "TERMINATE", "PSEUDO"]
Direction = Literal["FORWARD", "BACKWARD", "BIDIRECTIONAL", "TERMINATE", "PSEUDO"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LanguageSpec(_Strict):
    #: which texts go to this language's pipeline: by the letters they are written in
    script: Literal["latin", "cyrillic"]
    #: spaCy blank tokenizer (no model download): en, ru, de, fr, ...
    tokenizer: str = "xx"
    #: load medspaCy's own ConText rules for this language (shipped for en, de, es, fr, it, nl, pl, pt)
    medspacy_defaults: bool = False


class TargetSpec(_Strict):
    phrases: list[str] = Field(default_factory=list)
    #: a negated mention is a strong or a low-grade (weak) negative
    negative: Literal["strong", "weak"] = "strong"


class ContextRuleSpec(_Strict):
    lang: str
    literal: str
    category: Category
    direction: Direction = "BIDIRECTIONAL"
    #: overrides the phrase syntax: a spaCy token pattern (list) or a regular expression (string)
    pattern: list[dict[str, Any]] | str | None = None
    max_scope: int | None = None
    note: str | None = None


class TextSection(_Strict):
    languages: dict[str, LanguageSpec] = Field(default_factory=dict)
    #: condition rule id -> phrases that name it
    targets: dict[str, TargetSpec] = Field(default_factory=dict)
    context: list[ContextRuleSpec] = Field(default_factory=list)
    #: literals of medspaCy default rules to drop (replaced by rules of our own)
    disable_defaults: list[str] = Field(default_factory=list)
    #: words inside a matched target that negate it ("liver is not enlarged")
    inner_negations: list[str] = Field(default_factory=list)


_YO = str.maketrans({"е": "[её]", "ё": "[её]"})


def _token_regex(word: str) -> str:
    alternatives = []
    for alt in word.split("|"):
        prefix, suffix = alt.endswith("*"), alt.startswith("*") and len(alt) > 1
        stem = alt.strip("*")
        if "*" in stem:
            raise ValueError(f"'*' only at the start or end of a word: {word!r}")
        if not stem:
            raise ValueError(f"empty word in {word!r}")
        body = re.escape(stem).translate(_YO)
        alternatives.append(("" if suffix else "^") + body + ("" if prefix else "$"))
    return "(?:" + "|".join(alternatives) + ")"


_WORD = re.compile(r"\.\.\.|\[[^\]]+\]|[^\s\-\[\]]+")
_GAP = {"IS_ALPHA": True, "OP": "{0,3}"}


def compile_phrase(phrase: str) -> list[dict[str, Any]]:
    """One phrase in the token syntax -> a spaCy Matcher pattern."""
    words = _WORD.findall(phrase.strip().lower())
    if not words:
        raise ValueError(f"empty phrase {phrase!r}")
    pattern: list[dict[str, Any]] = []
    if words[0] == "..." or words[-1] == "...":
        raise ValueError(f"'...' only between words: {phrase!r}")
    for i, word in enumerate(words):
        if word == "...":
            pattern.append(dict(_GAP))
            continue
        optional = word.startswith("[")
        word = word.strip("[]").strip()
        if i:
            pattern.append({"ORTH": "-", "OP": "?"})
        token: dict[str, Any] = {"LOWER": {"REGEX": _token_regex(word)}}
        if optional:
            token["OP"] = "?"
        pattern.append(token)
    return pattern


def first_words(phrase: str) -> list[str]:
    """Regexes (without anchors) that every match of the phrase must contain: its first word."""
    words = _WORD.findall(phrase.strip().lower())
    out: list[str] = []
    for word in words:
        optional = word.startswith("[")
        out.extend(
            re.escape(alt.rstrip("*")).translate(_YO) for alt in word.strip("[]").split("|")
        )
        if not optional:
            break
    return out


def prefilter(phrases: list[str]) -> re.Pattern[str]:
    """One regex that finds any text that could hold one of the phrases (case-insensitive)."""
    stems = sorted({w for p in phrases for w in first_words(p)}, key=len, reverse=True)
    if not stems:
        return re.compile(r"(?!x)x")
    return re.compile(r"(?<!\w)(?:" + "|".join(stems) + ")", re.IGNORECASE)
