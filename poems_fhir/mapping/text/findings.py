# SPDX-License-Identifier: Apache-2.0
"""Text assertions -> findings, and the precedence of coded facts over text.

Handlers in extract.py queue one ``TextJob`` per text (a report conclusion, a note, a valueString,
an uncoded code.text); after all resources of a patient are read, the jobs run through the text
engine in one batch and become findings here.

What an assertion means (README "Clinical text"):

- present -> PRESENT; negated -> ABSENT (weak when the target says so or the modality is weak), but a
  denied history ("no history of monoclonal gammopathy") of a weak-negative target -> nothing;
- possible or historical -> INDETERMINATE (a clinician must look); hypothetical and family -> nothing.

A coded fact wins over text about the same fact: see ``coded_wins``.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field, replace

from ...criteria.model import (
    CONTEXT_TOPICS,
    MARROW_CLONE_RULES,
    Criterion,
    Differential,
    Evidence,
    Finding,
    Site,
    State,
    Strength,
)
from ...criteria.timeline import add_days
from ..rules import CompiledMapping, ConditionRule, ModalityRule
from ..ife import named_clone
from .engine import Assertion, Modifier
from .lexicon import TargetSpec
from .sites import site_of

_CLONE = Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value

#: criteria whose parts are separate facts (an enlarged liver and a normal spleen do not conflict)
PART_TOPICS = frozenset(
    {"organomegaly", "extravascular_volume_overload", "skin_changes", "endocrinopathy", "thrombocytosis_polycythemia"}
)


@dataclass
class TextJob:
    reference: str
    effective: dt.date | None
    text: str
    source: str  # "conclusion", "presentedForm", "note", "valueString", "code.text"
    kind: str  # "imaging" | "histology" | "report" | "condition" | "observation"
    #: a negative read from a weak modality (plain radiograph) is low-grade, for the criteria it is weak on
    weak_note: str | None = None
    weak_modality: ModalityRule | None = None
    #: per criterion: ("weak" | "ignore" | "ignore_all", note) when the report's negative is no full test
    #: of it ("ignore_all": nor its positive)
    #: (mapping negative_tests: a head CT for sclerotic lesions, a marrow biopsy for Castleman disease)
    inadequate: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: Condition.verificationStatus, or the coded value of an uncoded Observation (True/False/None)
    verification: str | None = None
    coded_value: bool | None = None
    supporting: tuple[str, ...] = field(default_factory=tuple)
    label: str = ""  # the resource's own name, e.g. "CT chest/abdomen/pelvis"
    #: a Condition's abatement (resolved, inactive or in remission): where a context named in its words ends
    resolved_on: dt.date | None = None
    #: a study's report (imaging, histology, a reported procedure): its "History:" is the referrer's section
    study: bool = False
    #: a study report's specimen references (two excised nodes: two specimens, see sites.told_apart)
    specimens: tuple[str, ...] = ()

    def allows(self, rule: ConditionRule) -> bool:
        if self.kind == "condition":
            return True  # a clinician's own Condition text
        return rule.report_source == "any" or rule.report_source == self.kind


#: how far from a target mention (characters, either side) a `not_near` word takes it, and how close
#: after it a `kept_by` word keeps it
NEAR, CLOSE = 60, 20


@functools.lru_cache(maxsize=256)
def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{w})" for w in words), re.IGNORECASE)


def _said_of_another(a: Assertion, spec: TargetSpec) -> bool:
    """Whether a ``not_near`` word stands within NEAR characters of the mention (the whole sentence
    when the mention cannot be found in it) and no ``kept_by`` word follows it within CLOSE."""
    at = a.sentence.lower().find(a.text.lower())
    end = at + len(a.text)
    if at >= 0 and spec.kept_by and _pattern(tuple(spec.kept_by)).search(a.sentence[end : end + CLOSE]):
        return False
    window = a.sentence if at < 0 else a.sentence[max(0, at - NEAR) : end + NEAR]
    return _pattern(tuple(spec.not_near)).search(window) is not None


#: where a mention's own phrase ends: a comma, a semicolon, a bracket, a sentence's end, or an "and" that joins
#: another finding ("lung nodules and multiple sclerotic lesions": the lesions are not the lung's)
_PHRASE_END = re.compile(r"[,;.!?()\[\]\n]|\b(?:and|or|as well as|и|или|а также|және|немесе)\b", re.IGNORECASE)


def _nearest(words: tuple[str, ...], phrase: str, start: int, end: int) -> int | None:
    """How far (characters) the nearest match of ``words`` in ``phrase`` stands from the span start..end (0: in it)."""
    if not words:
        return None
    found = [  # word by word: one alternation would let "аорт" hide "аорта қабырға" (the aortic wall) at the same place
        0 if m.start() < end and m.end() > start else (m.start() - end if m.start() >= end else start - m.end())
        for word in words
        for m in _pattern((word,)).finditer(phrase)
    ]
    return min(found, default=None)


def _said_of_another_site(a: Assertion, spec: TargetSpec) -> bool:
    """Whether the mention's own phrase names another structure (``other_sites``) nearer than its own (``own_sites``),
    or, naming neither, its clause names another disease it belongs to (``other_causes``) - probe123 D1, D2:
    "Sclerotic changes of the aortic wall", «склеротические изменения в S6 правого легкого», "sclerotic plaques in
    the periventricular white matter" were sclerotic bone lesions, and the patient `met`. A phrase naming neither
    reads as before, whatever the report ("Multiple sclerotic lesions." on a chest CT may be the ribs')."""
    low = a.sentence.lower()
    at = low.find(a.text.lower())
    if at < 0:
        at, end, phrase = 0, len(low), low
    else:
        end = at + len(a.text)
        starts = [m.end() for m in _PHRASE_END.finditer(low, 0, at)]
        stop = _PHRASE_END.search(low, end)
        begin = starts[-1] if starts else 0
        finish = _site_after_neighbour(low, end, stop, spec)
        phrase, at, end = low[begin:finish], at - begin, end - begin
    own = _nearest(tuple(spec.own_sites), phrase, at, end)
    if own is not None and spec.other_positions:
        # "subpleural", "juxtacortical": a position beside another structure, while a bone is named - the bone's;
        # a bone named only as the neighbour is no site either (probe127 G1: "Sclerotic focus near the 10th rib in
        # the spleen", «Склеротический очаг рядом с XII ребром в почке»): the site after the neighbour decides
        phrase = _pattern(tuple(spec.other_positions)).sub(lambda m: " " * len(m.group()), phrase)
        own = _nearest(tuple(spec.own_sites), phrase, at, end)
    other = _nearest(tuple(spec.other_sites), phrase, at, end)
    if other is not None:
        return own is None or other <= own
    return own is None and bool(spec.other_causes) and _pattern(tuple(spec.other_causes)).search(_clause(a)) is not None


#: a short site phrase after a comma: "..., in the 12th rib", "..., T10 vertebral body", «..., в XII ребре»
_SITE_AFTER_COMMA = re.compile(r",\s*(?:(?:in|at|within|of|в|во|на)\s+)?(?:[\w-]+\s+){0,3}[\w-]+(?=\s*(?:[.;!?]|$))")
#: a denial or another clause after the comma is no site of the lesion ("..., no bone lesion"), nor a level only
#: ("..., at the level of T10": the bone marks the height, the neighbour's lesion stays the neighbour's)
_NOT_A_SITE = re.compile(r"\b(?:no|not|without|nor|нет|не|без|жоқ)\b|level|уровн|деңгей")


def _site_after_neighbour(low: str, end: int, stop: re.Match[str] | None, spec: TargetSpec) -> int:
    """Where the mention's phrase ends: at ``stop``, or past a comma when the phrase after the mention names a
    neighbour ("near the left kidney") and no site of its own and a short bone phrase closes the sentence after the comma (probe127 G4:
    "Sclerotic lesion near the left kidney, in the 12th rib.", "... next to the aorta, T10 vertebral body." were
    read as the kidney's and the aorta's)."""
    if stop is None:
        return len(low)
    if stop.group() != "," or not spec.other_positions or not spec.own_sites:
        return stop.start()
    said = low[end : stop.start()]
    rest = _pattern(tuple(spec.other_positions)).sub(" ", said)
    site = _SITE_AFTER_COMMA.match(low, stop.start())
    if rest == said or site is None or _pattern(tuple(spec.own_sites + spec.other_sites)).search(rest):
        return stop.start()  # no neighbour, or the phrase names its own site already ("in the spleen")
    words = site.group()
    if _NOT_A_SITE.search(words) or not _pattern(tuple(spec.own_sites)).search(words):
        return stop.start()
    return site.end()


def _clause(a: Assertion) -> str:
    """The mention's clause: its sentence between semicolons ("Multiple sclerotic lesions; known multiple sclerosis,
    unrelated." - the sclerosis named in another clause is not said of these lesions, probe125 R5)."""
    low = a.sentence.lower()
    at = max(low.find(a.text.lower()), 0)
    stop = low.find(";", at)
    return low[low.rfind(";", 0, at) + 1 : stop if stop >= 0 else len(low)]


def _quote(sentence: str) -> str:
    sentence = " ".join(sentence.split())
    return sentence if len(sentence) <= 160 else sentence[:157] + "..."


def job_findings(job: TextJob, assertions: list[Assertion], mapping: CompiledMapping) -> list[Finding]:
    # one finding per criterion part and state: "no hepatomegaly, no splenomegaly" states two parts
    out: dict[tuple[tuple[str, str | None], State], Finding] = {}
    #: where in the text each finding's sentence stands (for a report that contradicts itself)
    at: dict[tuple[tuple[str, str | None], State], int] = {}
    placed: set[tuple[tuple[str, str | None], State]] = set()  # denials of one place ("in the skull")
    quoted: set[tuple[tuple[str, str | None], State]] = set()  # present only as another report's (probe107 D4)
    for a in assertions:
        rule = mapping.conditions.get(a.target)
        if rule is None or not job.allows(rule):
            continue
        label = a.label
        if label == "hypothetical" and job.kind == "condition" and job.source == "code.text" and not a.not_this_patient:
            # a problem named "Rule out polyneuropathy" is a suspicion (probe89 D10); one withdrawn as made in
            # error or another patient's ("Hypogonadism - entered in error") is nothing of this patient (D18)
            label = "possible"
        if label in ("family", "hypothetical"):
            continue
        if job.inadequate.get(rule.topic or "", ("",))[0] == "ignore_all":
            continue  # no test of this criterion either way: a spine MRI's "disc oedema" is no optic disc
        spec = mapping.text.section.targets.get(a.target)
        if spec is not None and spec.not_near and label != "negated" and _said_of_another(a, spec):
            continue  # "sclerotic changes of the sacroiliac joints": a joint, not a POEMS bone lesion
        if spec is not None and (spec.other_sites or spec.other_causes) and _said_of_another_site(a, spec):
            continue  # "sclerotic changes of the aortic wall", "sclerotic plaques in the white matter": no bone
        if spec is not None and spec.only_absence and (label != "negated" or _restricted(a)):
            continue
        if label == "negated" and _restricted(a, _QUANTIFIED):
            # "sclerotic lesion in L2; no other sclerotic lesions", "no new sclerotic lesions", "no FDG-avid
            # bone lesions": the denial leaves out what was named or known - no absence of the target (it
            # made the report conflict with itself, an indeterminate criterion)
            continue
        state, strength, note = State.PRESENT, Strength.STRONG, None
        why = f" ({', '.join(repr(t) for t in a.triggers)})" if a.triggers else ""
        if label == "negated" and Modifier.HISTORICAL in a.modifiers and spec is not None and spec.negative == "weak":
            # "no (personal) history of monoclonal gammopathy": no diagnosis was ever made, which is no
            # test that found none - for a criterion whose negatives need a test, it says nothing
            continue
        if label == "negated":
            state = State.ABSENT
            target = mapping.text.section.targets.get(a.target)
            effect, inadequate_note = job.inadequate.get(rule.topic or "", (None, None))
            if effect == "ignore":
                continue  # no test of this criterion at all: it stays not assessed
            if job.weak_note and job.weak_modality is not None and job.weak_modality.weak_on(rule.topic):
                strength, note = Strength.WEAK, job.weak_note
            elif effect == "weak":
                strength, note = Strength.WEAK, inadequate_note
            elif target is not None and target.negative == "weak":
                strength, note = (
                    Strength.WEAK,
                    f"{rule.id.replace('_', ' ')} negated in text only: a low-grade negative",
                )
        elif label in ("possible", "historical"):
            state = State.INDETERMINATE
            note = (
                f"{rule.id.replace('_', ' ')}: {'uncertain' if label == 'possible' else 'historical'} "
                f"mention in text{why}"
            )
        final = _with_source_status(state, job)
        if final is None:
            continue
        state = final
        if state is State.PRESENT and UNDECODED in a.sentence:
            state, note = State.INDETERMINATE, _undecoded_note(rule, a)
        origin = "report text" if job.kind in ("imaging", "histology", "report") else "text"
        how = "" if label == "present" else f"; {label}{why}"
        summary = f'{job.label + ": " if job.label else ""}"{_quote(a.sentence)}" (from {origin}, {job.source}{how})'
        evidence = Evidence(job.reference, job.effective, summary, supporting=job.supporting)
        for topic in ([rule.topic] if rule.topic else []) + list(rule.also):
            if state is State.ABSENT and rule.refuted_denies is not None and topic not in rule.refuted_denies:
                continue  # "CIDP ruled out" (or a refuted CIDP) does not rule out the polyneuropathy
            # a clone read from text keeps the chains it names: a kappa clone is flagged atypical
            clone = named_clone(a.sentence) if topic == _CLONE and state is State.PRESENT else None
            finding = Finding(
                topic,
                state,
                evidence,
                strength=strength,
                note=note,
                axis=rule.axis,
                component=rule.component,
                source_rule=rule.id,
                from_text=True,
                is_assertion=job.kind == "condition",
                retold=job.kind == "report" and not job.study,
                heavy_chain=clone.heavy_chain if clone else None,
                light_chain=clone.light_chain if clone else None,
                specimen=_sample(job) if rule.id in MARROW_CLONE_RULES else None,
                resolved_on=_context_end(rule, topic, state, job),
                site=_site(job, a, state),
            )
            key = (_part(finding), state)
            # another report's words - unless this report says it sees the finding itself (probe109 D4, D5)
            others = (
                state is State.PRESENT
                and (mapping.text.quotes_another(_own_clause(a)) or _in_quotes(a))
                and not mapping.text.confirms(a.sentence)
            )
            if key not in out or (key in quoted and not others):  # this report's own words before a quote's
                out[key] = finding
                at[key] = _position(job.text, a.sentence)
                if state is State.ABSENT and _located(a):
                    placed.add(key)
                (quoted.add if others else quoted.discard)(key)
    _quoted_revisions(job, out, at, quoted, placed, mapping.text.reviews(job.text))
    return _self_contradictions(job, out, at, placed)


#: a mention inside quotation marks ("the L3 'sclerotic lesion' is felt to be a haemangioma", «склеротические очаги»):
#: another report's words - the quote opens after a space, a bracket or a colon (not "Schmorl's")
_QUOTE_OPENS = re.compile(r"(?:^|(?<=[\s(:]))['\"«“‘„][^'\"«»“”‘’„\n]{0,120}$")
_QUOTE_CLOSES = re.compile(r"[^'\"«»“”‘’„\n]{0,120}['\"»”’]")


def _site(job: TextJob, a: Assertion, state: State) -> Site | None:
    """Where a study report's finding was seen (two same-day reports that disagree, disagreement.py)."""
    if not job.study or job.kind not in ("imaging", "histology"):
        return None
    return site_of(job.label, a.sentence, job.specimens, state is State.ABSENT and _located(a))


def _own_clause(a: Assertion) -> str:
    """The clause of its sentence that holds the mention, between semicolons: another report named in a clause before
    it does not make this report's own finding a quote ("Outside CT unverified; our CT today: splenomegaly 17 cm.":
    probe118 D14, the spleen read as the outside CT's, answered by "unverified")."""
    at = a.sentence.lower().find(a.text.lower())
    if at < 0:
        return a.sentence
    start = a.sentence.rfind(";", 0, at) + 1
    end = a.sentence.find(";", at + len(a.text))
    return a.sentence[start : end if end >= 0 else len(a.sentence)]


def _in_quotes(a: Assertion) -> bool:
    """Whether the mention stands inside quotation marks in its sentence."""
    at = a.sentence.lower().find(a.text.lower())
    if at < 0:
        return False
    return bool(_QUOTE_OPENS.search(a.sentence[:at]) and _QUOTE_CLOSES.match(a.sentence, at + len(a.text)))


def _quoted_revisions(
    job: TextJob,
    out: dict[tuple[tuple[str, str | None], State], Finding],
    at: dict[tuple[tuple[str, str | None], State], int],
    quoted: set[tuple[tuple[str, str | None], State]],
    placed: set[tuple[tuple[str, str | None], State]],
    reviewed: bool,
) -> None:
    """A finding present only as another (or an earlier) report's words - "Outside report described a sclerotic
    lesion", "Original report: 'sclerotic lesion in the right ilium'", «Из другого учреждения поступило заключение:
    болезнь Кастлемана» - that this report denies or doubts, or answers as a review, amendment or second opinion
    (``reviewed``), is indeterminate with both quoted: this report's own reading is not that finding, and the other
    report's stays for a clinician to weigh (probe107 D4: each read present, the refutation not even cited). A quote
    no word answers stays present (a letter's "Outside PET-CT showed sclerotic lesions")."""
    for key in sorted(quoted, key=str):
        part = key[0]
        answer = next(
            (k for k in ((part, State.ABSENT), (part, State.INDETERMINATE)) if k in out and k not in placed), None
        )
        if answer is None and not reviewed:
            continue
        said = out.pop(key)
        summary = said.evidence.summary
        if answer is not None:
            summary = f"{summary}; {out.pop(answer).evidence.summary}"
        at[(part, State.INDETERMINATE)] = at[key]
        out[(part, State.INDETERMINATE)] = replace(
            said,
            state=State.INDETERMINATE,
            evidence=Evidence(job.reference, job.effective, summary, supporting=job.supporting),
            note="another or an earlier report's finding, quoted and answered by this report: not its own reading",
        )


def _context_end(rule: ConditionRule, topic: str, state: State, job: TextJob) -> dt.date | None:
    """Where a low-grade context named in words ends (probe100 D13: "Community-acquired pneumonia", an
    uncoded problem): as a coded one's - the Condition's abatement, else an acute one's window (`lasts_days`)
    after its date. Only for the contexts (acute illness, bleeding, a VEGF confounder); other topics keep
    their reading."""
    if state is not State.PRESENT or topic not in _CONTEXTS:
        return None
    if job.resolved_on is not None:
        return job.resolved_on
    if rule.lasts_days is not None and job.effective is not None:
        return add_days(job.effective, rule.lasts_days)
    return None


_CONTEXTS = CONTEXT_TOPICS | {Differential.VEGF_CONFOUNDER.value}


#: a histology report of a lesion, not of the marrow (by its name): a clone there is no marrow involvement,
#: and "no clonal cells" there no clean marrow (criteria.md §10: radiotherapy for a dominant plasmacytoma when
#: the random marrow has no clonal cells; probe77 D1: a plasmacytoma biopsy opened the systemic branch)
_LESION_SAMPLE = re.compile(
    r"\b(?:lesions?|plasmacytomas?|mass|tumou?rs?|nodules?|soft[- ]tissue|lymph[- ]nodes?|очаг\w*|образовани\w*|"
    r"плазмоцитом\w*|опухол\w*|лимфоузл\w*|ошақ\w*|ісік\w*)",
    re.IGNORECASE,
)
_MARROW_SAMPLE = re.compile(
    r"\b(?:marrow|trephine|aspirates?|aspiration|костн\w*\s+мозг\w*|трепанобиопс\w*|миелограмм\w*|кемік\w*)",
    re.IGNORECASE,
)


def _sample(job: TextJob) -> str | None:
    """ "lesion" for a clone (or its absence) read from the histology of a lesion, not of the marrow."""
    if job.kind == "histology" and _LESION_SAMPLE.search(job.label) and not _MARROW_SAMPLE.search(job.label):
        return "lesion"
    return None


#: a section that revises what came before it: the impression after the findings, an addendum, a correction
_REVISING = re.compile(
    r"(?:^|\n|\.\s)\s*(?:impression|conclusions?|summary|opinion|addend(?:um|a)|correction|corrected report|"
    r"amended report|revised report|заключение|выводы|дополнение|исправление|уточнение|қорытынды)\b[^\n:]{0,30}:",
    re.IGNORECASE,
)


#: a denial restricted to a place: "no sclerotic lesions in the skull", "ribs free of", «в костях черепа»
_PLACE = re.compile(
    r"\b(?:in(?! error\b)|within|of|involving|at|along|throughout|elsewhere|other than|except|outside|"
    r"в|во|на|по|кроме|за исключением)\b|\bspared\b",
    re.IGNORECASE,
)
#: ... or before them: "the ribs are free of sclerotic lesions"
_PLACE_BEFORE = re.compile(r"\bfree of\b|\bwithout\b.*\bin the\b", re.IGNORECASE)


def _located(a: Assertion) -> bool:
    """Whether a denial names a place after the words it denies ("no sclerotic lesions in the skull")."""
    at = a.sentence.lower().find(a.text.lower())
    return at >= 0 and bool(_PLACE.search(a.sentence[at + len(a.text) :]) or _PLACE_BEFORE.search(a.sentence[:at]))


def _position(text: str, sentence: str) -> int:
    """Where ``sentence`` (a chunk of the rewritten text) starts in the job's text, or -1."""
    head = sentence.strip()[:40]
    found = _find_words(text, head)
    if found < 0 and ":" in head:  # a list item read under its heading ("IMPRESSION: <item>")
        item = sentence.split(":", 1)[1].strip()[:40]
        found = _find_words(text, item)
    return found


def _find_words(text: str, words: str) -> int:
    """Where ``words`` start in ``text``, any run of blanks between them matching any other (the engine reads a
    line break inside a sentence and a run of blanks as one space: fix140a A3, fix141c C1), or -1."""
    if not words:
        return -1
    found = text.find(words)
    if found >= 0 or not any(c.isspace() for c in words.strip()):
        return found
    m = re.search(r"\s+".join(map(re.escape, words.split())), text)
    return m.start() if m else -1


def _self_contradictions(
    job: TextJob,
    out: dict[tuple[tuple[str, str | None], State], Finding],
    at: dict[tuple[tuple[str, str | None], State], int],
    placed: set[tuple[tuple[str, str | None], State]],
) -> list[Finding]:
    """A report that states a finding and, in a later impression, addendum or correction, denies it (or
    the other way round) contradicts itself: one INDETERMINATE finding citing both sentences, never the
    first one alone (probe71 D5/D6: a lesion the addendum called a bone island, an impression saying "no
    sclerotic lesions" after findings naming one, a Castleman diagnosis an addendum withdrew - each stayed
    present, the revision not even cited). A denial and a finding in one section stay as they are (present
    at any time: "sclerotic lesion in L2; no lesions in the skull")."""
    for part in {p for p, _ in out}:
        yes, no = (part, State.PRESENT), (part, State.ABSENT)
        if (
            no not in out
            and (part, State.INDETERMINATE) in out
            and at[(part, State.INDETERMINATE)] > at.get(yes, 1 << 62)
        ):
            no = (part, State.INDETERMINATE)  # a later doubt revises it too ("most consistent with bone islands")
        if yes not in out or no not in out:
            continue
        if no in placed:
            continue  # "No sclerotic lesions in the skull": a denial of one place, no revision (probe74 D7)
        first, second = sorted((at[yes], at[no]))
        heading = _REVISING.search(job.text, first + 1, second + 60) if first >= 0 else None
        if heading is None or heading.start() > second:
            continue
        said, denied = out.pop(yes), out.pop(no)
        later = ("doubts" if no[1] is State.INDETERMINATE else "denies") if at[no] > at[yes] else "states"
        evidence = Evidence(
            job.reference,
            job.effective,
            f"{said.evidence.summary}; {denied.evidence.summary}",
            supporting=job.supporting,
        )
        out[(part, State.INDETERMINATE)] = replace(
            said,
            state=State.INDETERMINATE,
            evidence=evidence,
            note=f"the report contradicts itself: a later impression, addendum or correction {later} it",
        )
    return list(out.values())


_QUANTIFIERS = (
    r"other|new|further|additional|remaining|другие|других|иных|новых|новые|дополнительных|остальных|басқа|жаңа"
)

#: "no other / new / further X": the denial leaves out what was just named or is already known
_QUANTIFIED = re.compile(rf"\b(?:{_QUANTIFIERS})\s+(?:[\w-]+\s+){{0,2}}$", re.IGNORECASE)

#: ... and, for the "any bone lesion" target, a kind of lesion that a sclerotic one need not be
_RESTRICTING = re.compile(
    rf"\b(?:{_QUANTIFIERS}"
    # a kind of lesion that POEMS lesions need not be (probe34: "no FDG-avid bone lesions" on a PET, "no
    # lytic lesions in the skeleton" ruled sclerotic ones out): often neither FDG-avid nor lytic
    r"|fdg-avid|avid|hypermetabolic|metabolically\s+active|lytic|osteolytic|destructive|aggressive|myelomatous"
    r"|литическ\w*|остеолитическ\w*|деструктивн\w*|активн\w*)\s+"
    # ... unless the kind is one member of a pair and the mention the other: "Костно-деструктивных и очаговых
    # изменений костей не выявлено" denies focal changes of any kind too (probe71 D17: it was dropped as a
    # kind of lesion); "no lytic or expansile bone lesions" stays two kinds (the mention is "bone lesions")
    r"(?!(?:and|or|и|или)\s+$)(?:[\w-]+\s+){0,2}$",
    re.IGNORECASE,
)


def _restricted(a: Assertion, restriction: re.Pattern[str] = _RESTRICTING) -> bool:
    """Whether the mention is qualified as other/new/further (or, with _RESTRICTING, as a kind of lesion:
    FDG-avid, lytic): its absence is then no absence of the target."""
    at = a.sentence.find(a.text)
    return at >= 0 and bool(restriction.search(a.sentence[:at]))


#: the replacement character: what a decoder puts for bytes that are not text in the charset it read them in
#: (a cp1251 "нет" pasted into a UTF-8 template, a Latin-1 byte in "N\xffo"), or a sender's own for a character
#: its system could not convert - either way a word of the sentence is unknown
UNDECODED = "\ufffd"


def _undecoded_note(rule: ConditionRule, a: Assertion) -> str:
    """Why a finding whose sentence holds an undecoded character is no positive (probe136 D3: "Спленомегалия: ���."
    - a cp1251 «нет» in a UTF-8 text - and "N\xffo splenomegaly." read as present): the lost word may be the
    denial, so the sentence is quoted for a reader to judge, never counted as the finding."""
    return (
        f"{rule.id.replace('_', ' ')}: the text around it could not be decoded ({_quote(a.sentence)!r}: "
        "a word may be a lost negation); read the source"
    )


def _with_source_status(state: State, job: TextJob) -> State | None:
    """The resource's own status still applies: a refuted Condition, a 'negative' exam value."""
    if job.verification == "refuted" or job.coded_value is False:
        return State.ABSENT if state is State.PRESENT else None
    if job.verification in ("provisional", "differential", "unconfirmed") and state is State.PRESENT:
        return State.INDETERMINATE
    return state


def _part(f: Finding) -> tuple[str, str | None]:
    if f.topic in PART_TOPICS:
        return f.topic, f.component or (f.axis.value if f.axis else None) or f.source_rule
    # the clone's evidence from the marrow is a fact of its own (criteria.model.MARROW_CLONE_RULES)
    if f.topic == Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value and f.source_rule in MARROW_CLONE_RULES:
        return f.topic, "marrow"
    return f.topic, None


def coded_wins(findings: list[Finding], details: dict[str, set[str]]) -> list[Finding]:
    """Drop text findings that a coded finding of the same fact overrules.

    Same fact = same criterion (and the same part of a multi-part criterion). A coded finding (other
    than "not performed") wins when it comes from the same resource, is dated the same day, or is a Condition whose
    evidence.detail cites the text's resource (``details``: reference -> cited references) - a citing Condition
    only where the words do not deny what it states or state what it refutes (see _overrules, disagreement.py).
    """
    # "not performed" (a dataAbsentReason) states nothing about the fact: it overrules nothing
    coded = [f for f in findings if not f.from_text and f.state is not State.NOT_ASSESSED]
    index: dict[tuple[str, str | None], list[Finding]] = {}
    for f in coded:
        index.setdefault(_part(f), []).append(f)
    kept = []
    for f in findings:
        if f.from_text and any(_overrules(c, f, details) for c in index.get(_part(f), [])):
            continue
        kept.append(f)
    return kept


def _overrules(coded: Finding, text: Finding, details: dict[str, set[str]]) -> bool:
    """Whether one coded finding of the same criterion part overrules a text finding (see coded_wins)."""
    if coded.evidence.reference == text.evidence.reference:
        return not _contradicts(coded, text)
    if text.evidence.reference in details.get(coded.evidence.reference, set()):
        # a Condition citing this report wins over its words - unless one states what the other denies: both
        # stay, a conflict (probe114 D3: a refuted Castleman Condition hid the histology it cites; i10: a
        # confirmed splenomegaly hid its own CT's "No splenomegaly") - the citation decides, not the date
        return not _opposes(coded, text)
    return coded.effective is not None and coded.effective == text.effective


def self_conflicts(
    findings: list[Finding], affirmed: frozenset[tuple[str, tuple[str, str | None]]] = frozenset()
) -> list[Finding]:
    """Each coded finding that its own resource's text contradicts (same criterion part, kept by
    coded_wins) becomes one indeterminate finding naming both, and the text finding goes: a report or
    Condition that says both is no evidence either way (criteria.md §3.3: conflicting evidence) - a
    report's present finding would otherwise win over its denial as a finding present at any time."""
    texts: dict[tuple[str, tuple[str, str | None]], list[Finding]] = {}
    for f in findings:
        if f.from_text:
            texts.setdefault((f.evidence.reference, _part(f)), []).append(f)
    if not texts:
        return findings
    out: list[Finding] = []
    gone: set[int] = set()
    for f in findings:
        key = (f.evidence.reference, _part(f))
        against = [] if f.from_text else [t for t in texts.get(key, []) if _contradicts(f, t)]
        # the same words also state it ("Castleman disease, unicentric; no evidence of multicentric Castleman
        # disease", one node positive and another negative): they agree with the code (probe88 D9)
        if against and f.state is State.PRESENT and key in affirmed:
            gone.update(id(t) for t in against)
            against = []
        if not against:
            out.append(f)
            continue
        gone.update(id(t) for t in against)
        said = "states" if f.state is State.PRESENT else "denies"
        words = "only suggests" if _doubted(against[0]) else "denies" if f.state is State.PRESENT else "states"
        out.append(
            replace(
                f,
                state=State.INDETERMINATE,
                strength=Strength.STRONG,
                note=(
                    f"{f.evidence.summary}: its code {said} it and its own text {words} it "
                    f"({against[0].evidence.summary}): conflicting"
                ),
            )
        )
    return [f for f in out if id(f) not in gone]


def part_of(f: Finding) -> tuple[str, str | None]:
    """The criterion part a finding speaks for (see coded_wins)."""
    return _part(f)


def _doubted(f: Finding) -> bool:
    """A text finding that is a doubt ("possible", "?", "cannot be excluded"), not a history."""
    return f.state is State.INDETERMINATE and "uncertain mention" in (f.note or "")


def _opposes(coded: Finding, text: Finding) -> bool:
    """A coded refutation (absent) of what the text states (present), or a coded statement of what it denies."""
    return {coded.state, text.state} == {State.PRESENT, State.ABSENT}


def _contradicts(coded: Finding, text: Finding) -> bool:
    """A resource whose own words deny what its code states, or state what its code denies (probe86 D1: a
    node biopsy coded Castleman disease whose conclusion says "no evidence of Castleman disease"; D2: a
    Condition coded polyneuropathy named "Polyneuropathy ruled out"): both are kept, and the criterion
    combines them as the conflict they are (indeterminate) - the code no longer silences its own text."""
    # ... or whose own words only suggest what the code states (probe88 D10: a node biopsy coded Castleman
    # disease whose conclusion says "possible Castleman disease", a Condition named "?Polyneuropathy")
    return {coded.state, text.state} == {State.PRESENT, State.ABSENT} or (
        coded.state is State.PRESENT and _doubted(text)
    )
