# SPDX-License-Identifier: Apache-2.0
"""The text section of a mapping file: languages, target phrases per condition rule, ConText rules.

Phrases are written in a small token syntax so a site can add words without knowing spaCy:

- words are separated by spaces; a hyphen between words matches "plasma-cell" and "plasma cell"
  (the engine reads a hyphen between letters as a space);
- ``word*`` matches any word starting with ``word`` (Russian/Kazakh endings: ``склеротическ*``);
- ``a|b*`` matches either alternative at that position;
- ``[word]`` makes the word optional; ``...`` stands for up to seven words, commas or measures in
  between, none of them a negation, a contrast, "normal" or "small" ("enlarged ... lymph nodes"
  matches "enlarged mediastinal, hilar and axillary lymph nodes", not "enlarged liver but normal
  lymph nodes");
- ``^`` as the first word anchors the phrase where a field starts: the sentence's start, a line's, or
  after a tab or a pipe ("^ oedema : none" reads "Oedema: none", never "Pulmonary oedema: none");
- ``е`` also matches ``ё``; matching ignores case.

Each phrase compiles to a spaCy token pattern (one dict per token), and every phrase contributes its
most distinctive word to one compiled prefilter regex: a text that contains none of them cannot
hold a target, so the NLP never runs on it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: CLAUSE_BREAK: ends only the rules that name it in ``terminated_by`` (a TERMINATE ends every scope)
Category = Literal[
    "NEGATED_EXISTENCE", "POSSIBLE_EXISTENCE", "HYPOTHETICAL", "HISTORICAL", "FAMILY", "TERMINATE", "PSEUDO",
    "CLAUSE_BREAK",
]  # fmt: skip
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
    #: only a negated mention counts: "no bone lesions" rules out sclerotic ones, while "bone lesions"
    #: alone does not say sclerotic (an affirmed, possible or historical mention yields nothing)
    only_absence: bool = False
    #: the words name another target inside them ("two new sclerotic lesions" is progression *and* sclerotic
    #: lesions): an inner target's mention is kept beside it when the mention is stated - a denied or doubted
    #: "no new sclerotic lesions" says nothing of the lesions already known (probe108 D13)
    carries_inner: bool = False
    #: another target a stated mention of this one also is when the text says it is new since an earlier study
    #: ("Sclerotic lesions in T6, not seen on the prior study", "Previously unseen sclerotic foci": a new lesion is
    #: radiologic progression - criteria.md §8.3; probe128 D4). TextSection.new_before / new_after say "new".
    new_means: str | None = None
    #: regexes naming something else the words may be said of ("sclerotic" of a joint in sacroiliitis or
    #: osteoarthritis): an affirmed, possible or historical mention with one of them within ``NEAR``
    #: characters either side yields nothing (a denial still counts)
    not_near: list[str] = Field(default_factory=list)
    #: ... unless one of these follows the mention closely ("sclerotic lesions in T10; degenerative disc
    #: disease at L4-L5" names a lesion: it stands)
    kept_by: list[str] = Field(default_factory=list)
    #: regexes naming a structure other than the target's own ("sclerotic" of a vessel's wall, a valve, a lung, the
    #: brain's white matter - no sclerotic *bone* lesion): a mention whose own phrase (its clause up to a comma, a
    #: bracket or an "and") names one, with no ``own_sites`` word nearer, yields nothing - a denial neither, since
    #: "no sclerotic changes of the aorta" is no test of the bones (probe123 D1, D2)
    other_sites: list[str] = Field(default_factory=list)
    #: ... regexes naming the target's own structure (a bone, a vertebra, the skeleton; also inside the mention,
    #: "osteosclerotic"): the nearer one decides ("sclerotic lesion in the T10 vertebra next to the aorta" stands)
    own_sites: list[str] = Field(default_factory=list)
    #: regexes naming another disease the words belong to, anywhere in the sentence ("consistent with multiple
    #: sclerosis", «рассеянный склероз»): a mention whose phrase names no ``own_sites`` word yields nothing
    other_causes: list[str] = Field(default_factory=list)
    #: regexes for words that place the mention beside another structure rather than in it ("subpleural",
    #: "pleural-based", "juxtacortical", "subcortical", "perivascular"): another site only while the phrase names
    #: no ``own_sites`` word - "Subpleural sclerotic lesion of the right 7th rib" is the rib's (probe125 R3, R4)
    other_positions: list[str] = Field(default_factory=list)

    @field_validator("not_near", "kept_by", "other_sites", "own_sites", "other_causes", "other_positions")
    @classmethod
    def _regexes(cls, words: list[str]) -> list[str]:
        for word in words:  # checked when the mapping loads, not when a patient's text meets it
            try:
                re.compile(word)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {word!r}: {exc}; escape special characters") from None
        return words


class ContextRuleSpec(_Strict):
    lang: str
    literal: str
    category: Category
    direction: Direction = "BIDIRECTIONAL"
    #: overrides the phrase syntax: a spaCy token pattern (list) or a regular expression (string)
    pattern: list[dict[str, Any]] | str | None = None
    max_scope: int | None = None
    #: the target ids (condition rule ids) this rule may modify; None: every target
    targets: list[str] | None = None
    #: categories of other rules that end this one's scope besides every TERMINATE (a CLAUSE_BREAK)
    terminated_by: list[Category] | None = None
    #: the rule introduces a list its words are said of ("can cause", "differential diagnosis includes",
    #: "warning signs"): every plainly stated target of the list, up to the clause's end (``list_ends``),
    #: takes its category, past the list's own terminators ("… and an anti-MAG neuropathy") and past
    #: ``max_scope`` (probe105 D1-D5: the list's last items were read as the patient's findings)
    over_list: bool = False
    #: the rule withdraws the entry as another patient's or made in error ("- entered in error", "- wrong
    #: patient"): its hypothetical is nothing of this patient, also in a problem's text, where a hypothetical
    #: is otherwise read as a suspicion ("Rule out polyneuropathy") - probe109 D18
    not_this_patient: bool = False
    note: str | None = None


class ListSpec(_Strict):
    """One word said of a list of targets: "enlarged liver, spleen and lymph nodes", "no enlargement
    of the liver or spleen", "the liver, spleen and lymph nodes are not enlarged". Each member named
    in the list gets the list's assertion."""

    #: target id -> phrases that name its member alone ("liver", "spleen", "[lymph] node|nodes")
    members: dict[str, list[str]]
    #: phrases said before the list ("enlarged", "enlargement of [the]")
    before: list[str] = Field(default_factory=list)
    #: phrases said after it ("[is|are] [not] enlarged")
    after: list[str] = Field(default_factory=list)
    #: what ends a ``before`` list at a member: that member's own predicate ("enlarged liver and spleen
    #: not palpable" lists the liver only), where a denial of the whole list ("увеличение печени и
    #: селезенки не выявлено") does not
    breaks: list[str] = Field(default_factory=list)


class NominativeClauses(_Strict):
    """A finding named alone before a comma, in the case that states it, is a clause of its own when the
    denial after the comma governs another case: Russian "нет" takes the genitive, so "Гепатомегалия,
    спленомегалии нет" denies the spleen only. Only when a finding not in one of ``forms`` (the
    genitive "спленомегалии") stands between; "Асцит, отеки - нет" (both nominative) denies both."""

    #: phrases of findings in the form that states them alone (the nominative: "гепатомегалия", "асцит")
    forms: list[str] = Field(default_factory=list)
    #: denials that take another case (the genitive), never the nominative: "нет", "не выявлено"
    denials: list[str] = Field(default_factory=list)
    #: words that may stand before the finding at the clause's opening, such as adjectives
    #: ("Сенсомоторная полинейропатия, отека дисков нет": probe57 D1 denied the neuropathy)
    openers: list[str] = Field(default_factory=list)
    #: denials in the singular, agreeing with the one nominative finding before them ("асцит не выявлен"):
    #: the finding that opens the sentence before the comma is a clause of its own
    singular_denials: list[str] = Field(default_factory=list)


class ReferrerSections(_Strict):
    """Headings of the referrer's section ("Clinical details:", «Показания:»): ``headings`` in any text,
    ``study_headings`` only in a study's report (imaging, histology, a reported procedure such as a nerve
    conduction study) - a letter's "History:" or «Клинический диагноз:» is the patient's own."""

    headings: list[str] = Field(default_factory=list)
    study_headings: list[str] = Field(default_factory=list)


class QuotedReports(_Strict):
    """A report that quotes another or an earlier report's finding and answers it (a second opinion, an amended report,
    an addendum, a review of outside slides): the quoted finding is the other report's, not this one's (probe107 D4)."""

    #: words that give a finding to another or an earlier report: "outside report", "original report", "described in
    #: the original report", "was reported as", "favoured on frozen section", «из другого учреждения», «описан»
    sources: list[str] = Field(default_factory=list)
    #: words that say this report reviews, amends or answers one: "our review", "second opinion", "amended", "in
    #: fact", «при пересмотре», «наше заключение» - with them a quoted finding is revised even where it is not denied
    reviews: list[str] = Field(default_factory=list)
    #: words that say this report sees the quoted finding itself - confirms, measures or adds to it: "is confirmed",
    #: "confirmed on paraffin sections", "larger than described", "the original report omitted", «подтверждается» -
    #: such a sentence is this report's own reading, not a quote (probe109 D4, D5); a negation just before voids it
    confirms: list[str] = Field(default_factory=list)


class ImmunofixationContext(_Strict):
    """Words the immunofixation parser (``mapping/ife.py``) adds to its own cues for a band named in a result but not
    asserted of this patient today - a site's language or phrasing: each list in the text phrase syntax."""

    #: a relative's: "Bruder: IgA lambda", "IgA lambda (Bruder)" - before the band, or all a clause after it says
    relative: list[str] = Field(default_factory=list)
    #: a condition, a rule-out or a test to come, before the band: "Ausschluss IgA lambda"
    hypothetical: list[str] = Field(default_factory=list)
    #: a differential diagnosis: the band is possible, not found
    differential: list[str] = Field(default_factory=list)
    #: another's word for it, before the band or as an attribution after it: "laut Patient" - possible, not found
    hearsay: list[str] = Field(default_factory=list)
    #: another laboratory's or an earlier report's result quoted beside this one's: a band found at some time
    another_laboratory: list[str] = Field(default_factory=list)
    #: another patient's result: no band of this patient's
    another_patient: list[str] = Field(default_factory=list)
    #: a verb of telling a relative the result, before or after the relative in the label before the result's colon:
    #: "Schwester informiert: IgA lambda", "Besprochen mit der Schwester: …" - the patient's band, told to the sister
    telling: list[str] = Field(default_factory=list)


class TextSection(_Strict):
    languages: dict[str, LanguageSpec] = Field(default_factory=dict)
    #: condition rule id -> phrases that name it
    targets: dict[str, TargetSpec] = Field(default_factory=dict)
    context: list[ContextRuleSpec] = Field(default_factory=list)
    #: literals of medspaCy default rules to drop (replaced by rules of our own)
    disable_defaults: list[str] = Field(default_factory=list)
    #: words inside a matched target that negate it ("liver is not enlarged")
    inner_negations: list[str] = Field(default_factory=list)
    #: words that join coordinated modifiers of one noun ("pleural or pericardial effusion"): a target
    #: phrase that ends a longer one right after such a word shares the longer one's assertion
    coordinators: list[str] = Field(default_factory=list)
    #: words said once of a list of targets (each member shares the assertion)
    lists: list[ListSpec] = Field(default_factory=list)
    #: words that make an exception to a denial: "no lymphadenopathy except for an enlarged axillary
    #: node" - the target affirmed after one of them overrides its denial before it
    exceptions: list[str] = Field(default_factory=list)
    #: denials that end a clause and deny what it names, past the words between: "увеличенных лимфоузлов
    #: в средостении и брюшной полости нет", "hyperpigmentation of the trunk and limbs is absent"
    closing_negations: list[str] = Field(default_factory=list)
    #: doubts that end a clause after a relative clause or a bracket: "Sclerotic lesions, which are typical
    #: of POEMS, cannot be ruled out" (ConText's backward scope stopped at the aside's commas; probe88 D7)
    closing_doubts: list[str] = Field(default_factory=list)
    #: words that may follow a closing denial inside its clause, a side or a time: "Папиллоэдемы нет
    #: справа", "Асцита нет и не было" (the word after «нет» ended the denial's reach back)
    closing_tails: list[str] = Field(default_factory=list)
    #: words that state what precedes them, so a closing denial does not reach back past them
    #: ("splenomegaly is seen and portal flow is absent")
    assertive_words: list[str] = Field(default_factory=list)
    #: phrases that state a finding when they follow it in its own clause - a grade ("Ascites moderate", «асцит
    #: умеренный»): a denial on the other side of a comma is another finding's and does not reach it (probe125 R6, G5:
    #: «Плеврального выпота по-прежнему не видно, асцит умеренный.» denied the ascites)
    clause_verdicts: list[str] = Field(default_factory=list)
    #: phrases that open a list item after a comma and state its finding - a verdict word ("No ascites, enlarged
    #: spleen."): a denial before the comma does not reach it, unless a coordinator closes the list after it ("No
    #: ascites, enlarged spleen or liver" is one denied list) or the denial heads the list with a colon ("Not seen:
    #: ascites, enlarged spleen") - fix140a A2
    item_verdicts: list[str] = Field(default_factory=list)
    #: words that end the list an ``over_list`` rule introduces (besides ";" and the sentence's end): a
    #: contrast or a clause about the patient ("but", "the patient has", «у пациента»)
    list_ends: list[str] = Field(default_factory=list)
    #: a nominative finding before a comma is not denied by the next clause's genitive denial
    nominative_clauses: NominativeClauses = Field(default_factory=NominativeClauses)
    #: headings of a report's section for the referrer's question and history, matched at a line's start before
    #: a colon: what the section says is asked or told by the referrer, never the study's own finding
    referrer_sections: ReferrerSections = Field(default_factory=ReferrerSections)
    #: another or an earlier report's finding quoted and answered by this report (a second opinion, an amendment)
    quoted_reports: QuotedReports = Field(default_factory=QuotedReports)
    #: words the immunofixation parser adds to its cues for a band not asserted of this patient
    immunofixation_context: ImmunofixationContext = Field(default_factory=ImmunofixationContext)
    #: second halves of one-word compounds that say "like" («Кастлеман-о-подобные»): the compound is read as two
    #: words, so the target before them meets the mapping's "like" rule (probe123 D4: read as the disease itself)
    likeness_compounds: list[str] = Field(default_factory=list)
    #: regexes for words right before a finding (up to two describing words between) that say it was not there on
    #: an earlier study: "previously unseen", "de novo", «вновь выявленные», «ранее не определявшиеся» - the finding
    #: is stated and new (TargetSpec.new_means), the words' own "not" or "previously" no denial or history of it
    new_before: list[str] = Field(default_factory=list)
    #: ... regexes for words after the finding and its site that say so: "have developed since the previous
    #: examination", "has appeared in the interval" (probe128 D4)
    new_after: list[str] = Field(default_factory=list)
    #: words in the clause of a Condition's POEMS name that make it a question, a suspicion or a work-up of POEMS
    #: ("Suspected POEMS", «исключить POEMS-синдром»): no diagnosis, so the codes beside it stay findings
    poems_label_doubts: list[str] = Field(default_factory=list)
    #: ... that deny POEMS ("POEMS excluded", "not POEMS"): no diagnosis and no clinician's POEMS assertion
    poems_label_denials: list[str] = Field(default_factory=list)
    #: the names of POEMS syndrome in a text ("POEMS", "Crow-Fukase", «ПОЭМС»): a list right after one, in brackets
    #: or after a colon or spaced dash, whose every item is one of ``poems_name_features`` spells out the acronym -
    #: part of the name, never the patient's findings ("Differential diagnosis includes POEMS syndrome
    #: (polyneuropathy, organomegaly, endocrinopathy, M-protein, skin changes)", probe132 D5)
    poems_names: list[str] = Field(default_factory=list)
    #: ... the acronym's features as a list after the name spells them out (generic names, no patient's detail)
    poems_name_features: list[str] = Field(default_factory=list)
    #: regexes for a target's own word that is a likeness of it ("Castlemanoid", «Кастлемановидные»): the mention is
    #: possible, never the finding itself (probe125 G2: a one-word likeness was read as the disease)
    likeness_words: list[str] = Field(default_factory=list)
    #: regexes matched from a target's start over the words right after it that name a look-alike of it ("a Castleman
    #: mimic", "Castleman disease look-alike"): the thing itself is denied, as after "mimicking" (probe127's rest: "a
    #: Castleman mimic" was the disease)
    likeness_after: list[str] = Field(default_factory=list)
    #: regexes for the words of a sentence that tell a diagnosis was weighed in the past ("X was considered", «с
    #: болезнью Кастлемана проводился дифференциальный диагноз»): where the same text denies X, that sentence is
    #: the reasoning that led to the denial, not a doubt of the patient's state (probe132 D6). A present-tense
    #: "X is considered" is no such word: the doubt stays.
    weighed_words: list[str] = Field(default_factory=list)

    @field_validator("likeness_words", "likeness_after", "new_before", "new_after", "weighed_words")
    @classmethod
    def _likeness_regexes(cls, words: list[str]) -> list[str]:
        for word in words:  # checked when the mapping loads
            try:
                re.compile(word)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {word!r}: {exc}; escape special characters") from None
        return words


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
#: words a ``...`` gap never spans: a negation, a contrast, "normal" or "small" between "enlarged" and
#: "lymph nodes" says the nodes are not enlarged ("enlarged liver but normal lymph nodes", "enlarged
#: spleen, no lymph nodes", "увеличена селезенка, мелкие лимфоузлы"); Russian and Kazakh by stem
_GAP_BREAKERS = (
    "no|not|nor|neither|without|but|however|although|though|except|normal|unremarkable|negative|non|small|tiny"
    "|few|не|нет|ни|без|но|однако|а|кроме|жоқ|емес|enlarged"
)
#: ... and stems; "увеличен" too: "печень увеличена, увеличенных лимфоузлов нет" is two statements
_GAP_BREAKER_STEMS = "нормальн|обычн|мелк|единичн|небольш|қалыпты|увеличен"
#: a gap: up to seven words, commas, measures ("2.5") or "%" - "enlarged mediastinal, hilar and axillary
#: lymph nodes" - none of them a breaker
_GAP = {
    # also a bracketed aside of markers: "plasma cells 4% (CD138+), lambda-restricted"
    "NORM": {
        "REGEX": rf"^(?:[,%()+—–]|cd\d+\+?|[+]?\d+(?:[.,]\d+)?(?:[x×х*]\d+(?:[.,]\d+)?)*"
        rf"|(?!(?:{_GAP_BREAKERS})$)(?!(?:{_GAP_BREAKER_STEMS}))[^\W\d_]+)$"
    },
    "OP": "{0,7}",
}
#: the same gap in the plain regexes that find targets: whole words (a breaker cannot hide inside one);
#: it never opens with a comma - "селезенка увеличена, лимфоузлы не увеличены": the comma after the
#: predicate ends its clause, so "увеличен* ... лимфоузл*" must not join the two (it read the nodes enlarged)
#: sizes as reports write them: "16×7", "152 x 58", "+3" (a liver edge below the costal margin), "13,5"
#: (bounded: two dimensions more at most, each a few digits - an unbounded chain backtracked for minutes
#: over "16×7×16×7…")
_MEASURE = r"[+]?\d{1,6}(?:[.,]\d{1,3})?(?:[ \t]?[x×х*][ \t]?\d{1,6}(?:[.,]\d{1,3})?){1,2}|[+]\d{1,6}(?:[.,]\d{1,3})?|\d+[.,]\d+"
_GAP_WORD = rf"(?:{_MEASURE}|(?!(?:{_GAP_BREAKERS})\b)(?!(?:{_GAP_BREAKER_STEMS}))\w+\b)"
#: (a dash may open it: "Селезенка — 13,5 см, увеличена"; probe61 D4-D6)
_GAP_REGEX = rf"(?:(?:[—–]\s*)?{_GAP_WORD}[\s\-]*(?:(?:{_GAP_WORD}|[,%()+—–])[\s\-]*){{0,6}})?"


def _token(word: str) -> dict[str, Any]:
    """One position of a phrase -> a spaCy token pattern on NORM (lower case, ё as е).

    Whole words are set lookups; only ``stem*`` / ``*suffix`` need a regular expression.
    """
    alts = [normalise(a) for a in word.split("|")]
    if any(not a.strip("*") for a in alts):
        raise ValueError(f"empty word in {word!r}")
    if any("*" in a.strip("*") for a in alts):
        raise ValueError(f"'*' only at the start or end of a word: {word!r}")
    if not any("*" in a for a in alts):
        return {"NORM": alts[0]} if len(alts) == 1 else {"NORM": {"IN": alts}}
    return {"NORM": {"REGEX": _token_regex("|".join(alts))}}


def compile_phrase(phrase: str) -> list[dict[str, Any]]:
    """One phrase in the token syntax -> a spaCy Matcher pattern (over NORM, see ``normalise``)."""
    words = _WORD.findall(phrase.strip().lower())
    if not words:
        raise ValueError(f"empty phrase {phrase!r}")
    if not _BALANCED.fullmatch(phrase):
        # "[enlarged liver" compiled to the words "[enlarged" and "liver": it could never match
        raise ValueError(f"unbalanced brackets in {phrase!r}: '[word]' makes a word optional, '[a|b]' either one")
    for chunk in phrase.split():
        if "|" in chunk and _WORD_HYPHEN.search(chunk):
            # "normal-sized|normal sized" is normal, sized|normal, sized: it matches neither form
            raise ValueError(
                f"{chunk!r}: a hyphen joins two words and '|' chooses between single words; "
                "write one phrase per form ('normal sized' also matches 'normal-sized')"
            )
    pattern: list[dict[str, Any]] = []
    if words[0] == "..." or words[-1] == "...":
        raise ValueError(f"'...' only between words: {phrase!r}")
    if "^" in words[1:] or words == ["^"] or (words[0] == "^" and words[1].startswith("[")):
        raise ValueError(f"'^' only as the first word, before a word that must be there: {phrase!r}")
    anchored = words[0] == "^"
    words = words[1:] if anchored else words
    _check_cost(words)
    for word in words:
        if word == "...":
            pattern.append(dict(_GAP))
            continue
        optional = word.startswith("[")
        word = word.strip("[]").strip()
        token = _token(word)
        if optional:
            token["OP"] = "?"
        pattern.append(token)
    if anchored:
        pattern[0]["IS_SENT_START"] = True
    return pattern


#: probe87 D4: a phrase compiles to a backtracking regex (``phrase_regex``, the prefilter run on every
#: sentence) and a phrase with many ``...`` gaps or many optional words that can stand for the same word
#: ("x ... x ... x ... x ... x ... x ... y ... spleen", "[x] [x] … [x] spleen") made it try every way of
#: spreading a sentence's words over them: 18 s on a 620-character report for 7 gaps, 23 s on 200 words for
#: 20 such optional words, while ``mappings check`` said "ok". Bounded, not rewritten: Python's ``re`` has no
#: linear-time mode, and an atomic (possessive) gap would change what a phrase matches - a gap that swallowed
#: the next word of the phrase could never give it back ("enlarged ... lymph nodes"). Each gap is up to
#: 8 ways (0-7 words) and each interchangeable optional word 2 (taken or not), so the ways one sentence start
#: can be tried are at most 8^gaps x 2^optional: MAX_PHRASE_COST bounds the exponent (3 per gap, 1 per
#: such word), i.e. 512 ways - 3 gaps on a 99 kB report ~2 s, like the default mapping's worst phrases. The
#: default mapping has at most 2 gaps per phrase, and its long phrases' optional words are all different
#: ("[in] [the] [craniocaudal|longitudinal] ..."), which never stand for the same word: they cost nothing.
MAX_PHRASE_GAPS = 3
MAX_PHRASE_COST = 9


def _check_cost(words: list[str]) -> None:
    """Raise ValueError when a phrase's words could make its regex backtrack exponentially (see above)."""
    gaps = words.count("...")
    loose = 0
    # runs of optional words and gaps between two mandatory words; an optional word is interchangeable when a
    # gap is in its run (the gap can take its word) or it can match the same word as another word of its run
    # or as the mandatory word on either side of the run
    start = 0
    while start < len(words):
        end = start
        while end < len(words) and (words[end] == "..." or words[end].startswith("[")):
            end += 1
        run = words[start:end]
        if run:
            around = [w for w in (words[start - 1] if start else None, words[end] if end < len(words) else None) if w]
            optional = [w for w in run if w != "..."]
            for n, word in enumerate(optional):
                others = optional[:n] + optional[n + 1 :] + around
                if "..." in run or any(_same_word(word, other) for other in others):
                    loose += 1
        start = end + 1
    cost = 3 * gaps + loose
    if gaps > MAX_PHRASE_GAPS or cost > MAX_PHRASE_COST:
        raise ValueError(
            f"too many ways to match: at most {MAX_PHRASE_GAPS} gaps, {MAX_PHRASE_COST} in all (a '...' gap 3, an "
            f"optional word that can stand for a neighbour's word 1); it has {gaps} gap(s), {loose} such word(s) - "
            "split it into several phrases"
        )


def _same_word(a: str, b: str) -> bool:
    """Whether two phrase words (``[a|b*]``) can match one and the same word of a text."""
    for x in a.strip("[]").split("|"):
        for y in b.strip("[]").split("|"):
            xs, ys = normalise(x.strip("*")), normalise(y.strip("*"))
            if x.startswith("*") or y.startswith("*"):
                if (x.startswith("*") and y.startswith("*")) or x.endswith("*") or y.endswith("*"):
                    return True  # a suffix with any other wildcard: could be one word
                if xs.endswith(ys) if y.startswith("*") else ys.endswith(xs):
                    return True
            elif x.endswith("*") or y.endswith("*"):
                if (x.endswith("*") and ys.startswith(xs)) or (y.endswith("*") and xs.startswith(ys)):
                    return True
            elif xs == ys:
                return True
    return False


def expand_literals(phrase: str, limit: int = 2000) -> list[str] | None:
    """Every plain word sequence the phrase stands for, or None when it needs the token Matcher
    (``*`` or ``...``). Plain sequences go to spaCy's PhraseMatcher: a hash lookup per token."""
    words = _WORD.findall(phrase.strip().lower())
    out = [""]
    for word in words:
        if word in ("...", "^") or "*" in word:
            return None
        choices = word.strip("[]").split("|") + ([""] if word.startswith("[") else [])
        out = [f"{o} {c}".strip() for o in out for c in choices]
        if len(out) > limit:
            return None
    return sorted({o for o in out if o})


def key_words(phrase: str) -> list[str]:
    """The alternatives of the phrase's most distinctive mandatory word (``stem*`` = any ending).

    Every match of the phrase contains one of them. The word whose shortest alternative is
    longest is the rarest in practice ("oedema" rather than "bilateral").
    """
    candidates = [w for w in _WORD.findall(phrase.strip().lower()) if w not in ("...", "^") and not w.startswith("[")]
    if not candidates:
        return []
    # ties go to the later word: the noun ("white nails" -> "nails")
    best = max(reversed(candidates), key=lambda w: min(len(a.strip("*")) for a in w.split("|")))
    return best.split("|")


_WORD_HYPHEN = re.compile(r"(?<=\w)-(?=\w)")
#: brackets only in pairs, never nested
_BALANCED = re.compile(r"[^\[\]]*(?:\[[^\[\]]+\][^\[\]]*)*")


def dehyphen(text: str) -> str:
    """A hyphen between letters becomes a space (plasma-cell, plasma cell); the length stays, so
    evidence quotes can slice the original text."""
    return _WORD_HYPHEN.sub(" ", text)


def compound_split(halves: Sequence[str]) -> re.Pattern[str] | None:
    """Where a one-word compound joins a word of three letters or more to one of ``halves`` by its linking vowel
    («Кастлеман|о|подобные»): that vowel, which ``split_compounds`` makes a space (the length stays)."""
    if not halves:
        return None
    alternatives = "|".join(re.escape(normalise(h)) for h in halves)
    # the Latin "e" too: "Castleman|e|sque" (probe127 G2)
    return re.compile(rf"(?<=[^\W\d_]{{3}})[оеёe](?={alternatives})", re.IGNORECASE)


def split_compounds(text: str, split: re.Pattern[str] | None) -> str:
    """The compounds ``split`` finds, as two words at the same length ("Кастлеман подобные")."""
    return text if split is None else split.sub(" ", text)


#: Latin and Cyrillic letters that look alike (lower and upper case), typed one for the other on mixed
#: keyboard layouts: "нe" with a Latin e, "Nо" with a Cyrillic o, Kazakh words with a Latin i for і
_LATIN_LOOKALIKES = "acopxyiABCEHKMOPTXYkIe"
_CYRILLIC_LOOKALIKES = "асорхуіАВСЕНКМОРТХУкІе"
_TO_CYRILLIC = str.maketrans(_LATIN_LOOKALIKES, _CYRILLIC_LOOKALIKES)
_TO_LATIN = str.maketrans(_CYRILLIC_LOOKALIKES, _LATIN_LOOKALIKES)
_LATIN_LETTER = re.compile(r"[A-Za-z]")
_CYRILLIC_LETTER = re.compile(r"[\u0400-\u04FF]")
#: a word holding letters of both scripts
_MIXED_WORD = re.compile(r"\b(?=\w{0,60}[A-Za-z])(?=\w{0,60}[\u0400-\u04FF])\w{1,60}")
_DISTINCT_LATIN = re.compile(rf"[A-Za-z](?<![{_LATIN_LOOKALIKES}])")
_DISTINCT_CYRILLIC = re.compile(rf"[\u0400-\u04FF](?<![{_CYRILLIC_LOOKALIKES}])")
#: one character for another, so the length stays: ё as е, full-width ASCII as ASCII, control and
#: invisible characters (NUL, ESC, DEL, C1, zero-width, soft hyphen, BOM) as a space
_FOLD = str.maketrans(
    {
        "ё": "е",
        "Ё": "Е",
        # the minus sign word processors write for "(-)" (probe71 D4: "Ascites (−)" read as present)
        "\u2212": "-",
        # the typographic hyphen and the non-breaking one word processors put in "oedema‑free", "IgG‑lambda"
        # (probe112 D10: "Oedema‑free, ascites‐free." read the ascites present)
        "\u2010": "-",
        "\u2011": "-",
        # the typographic apostrophe word processors write in "doesn’t", "wasn’t", "can’t" (and the modifier letter
        # apostrophe): the denials are written with "'" (probe136's leftover: "CT doesn’t show splenomegaly" was
        # read present, "Splenomegaly can’t be excluded" absent)
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        **{chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)},
        "\u3000": " ",
        **{chr(c): " " for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0))},
        **{c: " " for c in "\u00ad\u200b\u200c\u200d\u2060\ufeff"},
        # line and paragraph separators and NEL end a line, as a line feed does (probe70 D10)
        "\u2028": "\n",
        "\u2029": "\n",
        "\x85": "\n",
    }
)


#: invisible and control characters (not tab, line feed or carriage return) that may sit inside a word
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff" + "".join(
    chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0))
)
_ANY_INVISIBLE = re.compile(f"[{re.escape(_INVISIBLE)}]")
_SPLIT_WORD = re.compile(rf"(?<!\w)\w+(?:[{re.escape(_INVISIBLE)}]+\w+)+")


def joined_words(text: str) -> str | None:
    """The text with the words an invisible character splits joined up, at the same length (the
    characters dropped come back as spaces after the word), or None when no word is split.

    The invisible character may stand for a space ("No\u00adlesions", which fold_lookalikes reads) or
    sit inside a word (probe70 D4/D5: a soft hyphen in "Sple\u00adnomegaly" hid the finding): the text
    is read both ways."""
    if _ANY_INVISIBLE.search(text) is None or _SPLIT_WORD.search(text) is None:
        return None

    def join(m: re.Match[str]) -> str:
        word = m.group(0)
        kept = "".join(c for c in word if c not in _INVISIBLE)
        return kept + " " * (len(word) - len(kept))

    return _SPLIT_WORD.sub(join, text)


def fold_lookalikes(text: str) -> str:
    """Characters that read as others, folded at the same length (probe67 D4: a Latin "e" in «не», a
    Cyrillic "о" in "No", "Ｎｏ", a zero-width space or ESC between "No" and its finding turned a denial
    into a present finding; probe69 D2: "исключён" with ё was no denial). A word mixing the scripts takes
    the script of its letters that have no lookalike; a word with such letters of both is left as it is."""
    text = text.translate(_FOLD)
    if "Ø" in text or "∅" in text:
        text = _EMPTY_SET.sub("-", text)
    greek = _GREEK_LETTER.search(text) is not None
    if greek:
        # a Greek capital or omicron inside a Latin or Cyrillic word (probe70 D12: "Νo lesions" with a
        # Greek Nu); Greek words and symbols of their own (κ, λ, β2-microglobulin) stay as they are
        text = _GREEK_IN_WORD.sub(lambda m: m.group(0).translate(_GREEK_TO_LATIN), text)
    cyrillic = _CYRILLIC_LETTER.search(text) is not None
    mixed = cyrillic and _LATIN_LETTER.search(text) is not None
    if mixed:
        text = _MIXED_WORD.sub(_one_script, text)
    if mixed or (greek and cyrillic):
        # «НЕ», «НЕТ» typed in Latin (or Greek) capitals beside Russian words (probe70 D7, D12): only these
        # denials - a Latin word of lookalike letters alone may be meant (CT, MRT)
        text = _LATIN_DENIAL.sub(lambda m: m.group(0).translate(_DENIAL_TO_CYRILLIC), text)
    return text


#: "Ascites: Ø", "(∅)": the empty-set sign as an answer (not "Ø 12 mm", a diameter, nor a letter in a word)
_EMPTY_SET = re.compile(r"(?<!\w)[Ø∅](?=[ \t]*(?:$|[.;,)\]\r\n]))", re.MULTILINE)
_GREEK_LOOKALIKES = "ΑΒΕΖΗΙΚΜΝΟΡΤΥΧοα"
_GREEK_TO_LATIN = str.maketrans(_GREEK_LOOKALIKES, "ABEZHIKMNOPTYXoa")
_GREEK_LETTER = re.compile(f"[{_GREEK_LOOKALIKES}]")
_GREEK_IN_WORD = re.compile(rf"\b(?=\w{{0,60}}[{_GREEK_LOOKALIKES}])(?=\w{{0,60}}[A-Za-z\u0400-\u04FF])\w{{1,60}}")
_LATIN_DENIAL = re.compile(
    r"(?<=[\u0400-\u04FF] )\b(?:HE|HET|He|Het|ΗΕ|ΗΕΤ)\b|\b(?:HE|HET|He|Het|ΗΕ|ΗΕΤ)\b(?= [\u0400-\u04FF])"
)
#: «НЕ», «НЕТ» in Latin or Greek capitals
_DENIAL_TO_CYRILLIC = str.maketrans("HETeΗΕΤ", "НЕТеНЕТ")


def _one_script(word: re.Match[str]) -> str:
    w = word.group(0)
    latin, cyrillic = _DISTINCT_LATIN.search(w), _DISTINCT_CYRILLIC.search(w)
    if cyrillic and not latin:
        return w.translate(_TO_CYRILLIC)
    if latin and not cyrillic:
        return w.translate(_TO_LATIN)
    return w


def normalise(text: str) -> str:
    """Lower case, ё as е, same length as ``text`` (match offsets are offsets in the original)."""
    low = text.lower()
    if len(low) != len(text):  # a rare letter whose lower case is longer (İ): keep it as it is
        low = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    return low.replace("ё", "е")


class KeyIndex:
    """The prefilter: one regex over the key words, run on the lower-cased text.

    Case-folding the text once and matching plain lower-case alternatives behind a word boundary
    is several times faster than a case-insensitive alternation (measured on the Synthea notes).
    """

    def __init__(self, phrases: list[str]) -> None:
        alts = set()
        for phrase in phrases:
            for key in key_words(phrase):
                body = re.escape(normalise(key.strip("*")))
                alts.add((r"\w*" if key.startswith("*") else "") + body + ("" if key.endswith("*") else r"\b"))
        ordered = sorted(alts, key=len, reverse=True)
        self.regex = re.compile(r"\b(?:" + "|".join(ordered) + ")") if ordered else None

    def hits(self, text: str) -> bool:
        return self.regex is not None and self.regex.search(normalise(text)) is not None


#: ``^``: the start of the text searched (a sentence), of a line, or of a cell after a tab or a pipe, or after a
#: sentence's end on the line; then white space and a bullet - a fixed-width look-behind each (linear)
_FIELD_START = r"(?:^|(?<=[\n|\t])|(?<=[.;!?] ))[ \t]*(?:[-–•*·][ \t]*)?"


def phrase_regex(phrase: str) -> str:
    """A plain regex close to the phrase's token pattern, to find the sentences worth parsing."""
    parts = []
    for word in _WORD.findall(phrase.strip().lower()):
        if word == "...":
            parts.append(_GAP_REGEX)
            continue
        if word == "^":  # where a field starts: the sentence's or a line's start, after a tab, a pipe or a bullet
            parts.append(_FIELD_START)
            continue
        optional = word.startswith("[")
        alts = []
        for alt in word.strip("[]").split("|"):
            body = re.escape(normalise(alt.strip("*")))
            # a word ends at a word boundary; a punctuation mark ("[,]") has none after it
            end = "\\w*\\b" if alt.endswith("*") else ("\\b" if alt[-1:].isalnum() else "")
            alts.append(("\\w*" if alt.startswith("*") else "") + body + end)
        group = "(?:" + "|".join(alts) + r")[\s\-]*"
        parts.append(f"(?:{group})?" if optional else group)
    if parts and parts[0] == _FIELD_START:
        return _FIELD_START + r"\b" + "".join(parts[1:])
    return r"\b" + "".join(parts)


def _any_of(phrases: list[str]) -> str:
    return "(?:" + "|".join(phrase_regex(p) for p in phrases) + ")"


def list_regex(spec: ListSpec, coordinators: list[str]) -> str | None:
    """A plain regex for a ListSpec: the members joined by commas and a coordinator word ("liver,
    spleen and lymph nodes", "бауыр мен көкбауыр"), with a ``before`` phrase in front or an ``after``
    phrase behind. A list is one member, or members whose last one follows a coordinator word: "enlarged
    liver, spleen of normal size" lists the liver only. A ``before`` list followed by one of its
    ``breaks`` ("enlarged liver and spleen not palpable") ends before its last member."""
    members = [p for phrases in spec.members.values() for p in phrases]
    words = [re.escape(normalise(w)) for w in coordinators if w.strip(",")]
    if not members or not (spec.before or spec.after):
        return None
    member = _any_of(members)
    comma = r",[\s\-]*"
    joined = member
    if words:
        conj = r"(?:,[\s\-]*)?(?:" + "|".join(words) + r")\b[\s\-]*"
        joined = f"{member}(?:(?:(?:{comma}|{conj}){member})*{conj}{member})?"
    not_after = rf"(?![\s,]*{_any_of(spec.breaks)})" if spec.breaks else ""
    forms = []
    if spec.before:
        forms.append(f"{_any_of(spec.before)}{joined}{not_after}")
    if spec.after:
        forms.append(f"{joined}{_any_of(spec.after)}")
    return "|".join(f"(?:{f})" for f in forms)


def closing_regex(
    closing: list[str],
    assertive: list[str],
    coordinators: list[str] | None = None,
    *,
    aside_only: bool = False,
    tails: list[str] | None = None,
) -> str | None:
    """The words after a target up to a closing denial that ends the clause: at most eight, none a
    negation, contrast or "normal" (the gap's breakers), none ``assertive``; a comma only inside a list
    that a coordinator closes ("в средостении, корнях легких и подмышечных областях не выявлено", not
    "в костях таза, литических очагов нет"). ``aside_only``: only past a relative clause or a bracket (a
    doubt: ConText's own scope reaches it otherwise)."""
    if not closing:
        return None
    stops = _any_of(assertive) if assertive else "(?!)"
    # a whole word (its end a word boundary: without it "паратрабекулярные" could be split any number
    # of ways, and the search backtracked for seconds)
    word = rf"(?!(?:{_GAP_BREAKERS})\b)(?!(?:{_GAP_BREAKER_STEMS}))(?!{stops})[^\W_]+\b[\s\-]*"
    words = [re.escape(normalise(w)) for w in coordinators or [] if w.strip(",")]
    comma = rf",[\s\-]*(?=(?:{word}){{1,6}}?(?:{'|'.join(words)})\b)" if words else "(?!)"
    # a contrast set off by commas right after the finding stays inside its clause: "Асцит, однако, не
    # выявлен" (probe60 D1: read as present)
    aside = r"(?:,[\s\-]*(?:однако|however|впрочем|тем не менее|алайда|бірақ)[\s\-]*,)?"
    # probe86 D9: a relative clause or a bracket between the finding and its denial: "Sclerotic lesions,
    # which are typical of POEMS syndrome, are not seen", «Спленомегалия, которая предполагалась, не
    # подтверждена», "Ascites (small on the 2019 CT) is not seen" - an aside says something of the finding,
    # not the finding itself. At most 12 words; no other target in it (_closing_denial checks)
    relative = (
        r"(?:(?:in|of|at|on|by|for|with|в|о|об|при|на|с|у|за|по|из|для)\s+)?"
        r"(?:which|that|who|whom|whose|котор[а-яё]*|чей|чья|чье|чьи)"
    )
    # probe92 D11: a participle opens such an aside as well: «Склеротические очаги, описанные на рентгенограмме,
    # не выявлены на данной КТ», "Ascites, reported on the ultrasound, is not seen"
    relative = (
        rf"(?:{relative}|(?:previously\s+|earlier\s+)?(?:described|reported|noted|seen|mentioned|suspected|"
        r"identified|detected|shown|demonstrated|visuali[sz]ed|found)|"
        r"(?:ранее\s+)?[а-я]{2,}(?:нн|вш|ущ|ющ|ащ|ящ)(?:ый|ая|ое|ые|ого|ых|ой|ую|ым|ыми|ий|ее|ие|его|их|ей|ими))"
    )
    inside = r"(?:[^();.]|\.(?=\d))"  # "(2.5 cm)"
    # probe95 D17: a Kazakh participle closes its aside (the verb comes last): «Склероздық ошақтар, рентгенде
    # сипатталған, осы КТ-да анықталмады» ("…, described on the X-ray, are not seen on this CT")
    # (not a denying one: «көкбауыр ұлғайған, бауыр ұлғаймаған, асцит жоқ» is a list of findings)
    kazakh_participle = r"[^\W\d_]{2,}(?<!ма)(?<!ме)(?<!ба)(?<!бе)(?<!па)(?<!пе)(?:ған|ген|қан|кен)"
    relative_aside = (
        rf"(?P<aside>,[\s\-]*{relative}\b[^,;.()]{{0,100}},|\({inside}{{0,100}}\)"
        rf"|,[^,;.()]{{0,100}}?\b{kazakh_participle}\b[\s\-]*,)[\s\-]*(?:{word}){{0,6}}?"
    )
    # where it was looked for may follow the denial or doubt: "…, cannot be excluded on this CT", «не
    # выявлены на данной КТ» (probe89 D6 variant: nothing may follow it, so the finding stayed present) -
    # at most five words after a preposition, no breaker among them; a target there stops it (engine) - or since when
    # it is not seen, up to today: "hasn't been seen since 2021", "… since the last visit", "… since 03/2021" (fix139c:
    # the time word after a contracted denial left the finding present)
    tail = rf"(?:[\s\-]+{_WHERE}\b[\s\-]*(?:{word}|{_DATE}){{1,5}}?)?"
    # ... after a side or a time that stays in the clause ("нет справа", "absent bilaterally")
    if tails:
        tail = rf"(?:[\s\-]+{_any_of(tails)}(?![^\W_]))?{tail}"
    return (
        rf"{aside}[\s\-]*(?:{word}|{comma}){{0,10}}?(?:{relative_aside}){'' if aside_only else '?'}"
        rf"(?P<closing>{_any_of(closing)}){tail}(?=\s*(?:[.;!,]|$))"
    )


#: prepositions of where or how a finding was looked for ("on this CT", "in the spine", «на КТ»), and "since" (a time
#: the denial covers up to today; not "until", "before": "not seen until 2021" was seen from then on)
_WHERE = r"(?:on|in|at|by|from|within|since|на|в|во|по|при)"
#: a date of digits ("03/2021", "12.03.2021") among those words
_DATE = r"\d{1,4}(?:[./]\d{1,4}){1,2}\b[\s\-]*"


class PhraseFilter:
    """Does a sentence hold a whole target phrase? Plain regexes over the normalised sentence."""

    def __init__(self, phrases: list[str], extra: list[str] | None = None) -> None:
        alternatives = [phrase_regex(p) for p in phrases] + list(extra or [])
        self.regex = re.compile("|".join(alternatives)) if alternatives else None

    def search(self, text: str) -> bool:
        return self.regex is not None and self.regex.search(normalise(text)) is not None
