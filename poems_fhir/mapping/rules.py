# SPDX-License-Identifier: Apache-2.0
"""Mapping files: load, check, merge and compile into lookup tables.

A mapping file is YAML (format ``poems-fhir-mapping/1``, documented in the README). The default
file ships in ``mappings/default.yaml``; sites pass their own files with ``--mappings`` and they
are merged over it, rule by rule (same ``id`` = override; ``add_codes`` = extend).
Rules are compiled once into a dict keyed by (system, code): per resource, one lookup decides
which rules apply.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import functools
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..criteria.model import CONTEXT_TOPICS, Criterion, Differential, EndocrineAxis, Sign
from .ife import BUILT_IN_CUES, IfeCues
from .regex_safety import safe_compile
from .results import Qual, normalise_term
from .text.engine import TextEngine
from .text.lexicon import TextSection
from .text.sites import STUDY_REGIONS
from ..fhir.read import read_regular_file
from .units import UnitError, conversion_factor, validate_unit

FORMAT = "poems-fhir-mapping/1"
ICD10_WHO = "http://hl7.org/fhir/sid/icd-10"
ICD10_CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10_SYSTEMS = frozenset({ICD10_WHO, ICD10_CM})
#: terminologies whose codes name a concept on purpose: a code of theirs that no rule holds is another
#: concept, never read by its display (a local code is)
STANDARD_SYSTEMS = frozenset(
    {
        "http://loinc.org",
        "http://snomed.info/sct",
        "http://www.orpha.net",
        "http://id.who.int/icd/release/11/mms",
        "http://www.nlm.nih.gov/research/umls/rxnorm",
    }
)
_STANDARD_PREFIXES = ("http://hl7.org/fhir/sid/", "http://terminology.hl7.org/", "urn:oid:2.16.840.1.113883.6.")
#: the longest ICD-10 code with a national extension we look a parent up for ("G62.88", "C90.00", "E11.4190")
MAX_ICD10_LENGTH = 12
#: capital letters of other scripts drawn like a Latin capital (Cyrillic С Е М О Р Т Х Н К В А У, Kazakh
#: and Ukrainian І, Serbian Ј Ѕ; Greek Α Β Ε Ζ Η Ι Κ Μ Ν Ο Ρ Τ Υ Χ). An ICD-10 code is Latin letters and
#: digits only, so one of these in a code is a typing artefact of a Cyrillic keyboard («С90.0», «М85.8»,
#: probe123 D5), folded as the text engine folds lookalikes in words; Cyrillic З (like 3) is not folded:
#: it is drawn like a digit, not like a code letter.
_CODE_LOOKALIKES = str.maketrans(
    "АВСЕНІЈКМОРЅТХУΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
    "ABCEHIJKMOPSTXYABEZHIKMNOPTYX",
)
Verification = Literal["V", "V2", "S", "UNVERIFIED", "LOCAL"]
ObservationRole = Literal[
    "immunofixation",
    "m_protein",
    "flc",
    "flc_ratio",
    "clonal_plasma_cells",
    "bm_plasma_cells",
    "vegf",
    "threshold",
    "endocrine",
    "measurement",
]
#: clinical response domains (criteria.md §8.4)
CLINICAL_DOMAINS = ("neuropathy", "volume_overload", "organomegaly", "skin", "pulmonary_hypertension", "albumin")
TOPICS = frozenset(
    [c.value for c in Criterion]
    + [s.value for s in Sign]
    + [d.value for d in Differential]
    + ["clinician_poems_assertion", "radiologic_progression"]
    + sorted(CONTEXT_TOPICS)
)


def fold_code_lookalikes(code: str) -> str:
    """An upper-case ICD-10 code with its lookalike capitals of other scripts in Latin, and full-width
    characters as ASCII ("С90.0" with a Cyrillic С -> "C90.0"). Same text when there is none."""
    if code.isascii():
        return code
    return unicodedata.normalize("NFKC", code).upper().translate(_CODE_LOOKALIKES)


def has_code_lookalikes(code: str) -> bool:
    """Whether an ICD-10 code as sent holds a letter of another script (or a full-width one) that
    ``fold_code_lookalikes`` reads as Latin: the reading is noted, as a parent code is."""
    return not code.isascii() and fold_code_lookalikes(code.strip().upper()) != code.strip().upper()


def default_mapping_path() -> Path:
    """The shipped default mapping (``mappings/default.yaml`` of the checkout / sdist)."""
    here = Path(__file__).resolve()
    for candidate in (
        here.parents[2] / "mappings" / "default.yaml",
        here.parents[1] / "default_mappings" / "default.yaml",
    ):
        if candidate.exists():
            return candidate
    raise FileNotFoundError("default mapping file mappings/default.yaml not found")


# ---------------------------------------------------------------- file models (pydantic)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CodeRef(_Strict):
    system: str
    code: str
    display: str | None = None
    verification: Verification = "UNVERIFIED"
    note: str | None = None

    @field_validator("code", mode="before")
    @classmethod
    def _code_as_text(cls, v: Any) -> Any:
        # YAML reads 777-3 as text but 42345000 as a number: codes are always text.
        return str(v) if isinstance(v, int) else v


class Threshold(_Strict):
    # a NaN cut-off compares false with everything (a VEGF of 640 became "absent"), an infinite one is
    # never reached, and no cut-off of this model is below zero
    value: float = Field(allow_inf_nan=False, ge=0)
    unit: str
    #: how a value is compared with the cut-off: ">=" means "value >= cut-off is abnormal"
    operator: Literal[">", ">=", "<", "<="]
    verification: Verification
    source: str | None = None
    note: str | None = None


class ObservationRule(_Strict):
    id: str
    role: ObservationRole | None = None
    topic: str | None = None
    codes: list[CodeRef] = Field(default_factory=list)
    add_codes: list[CodeRef] = Field(default_factory=list)
    unit: str | None = None
    molar_mass: float | None = None
    specimen: Literal["serum", "urine", "plasma", "blood", "bone_marrow"] | None = None
    axis: EndocrineAxis | None = None
    component: str | None = None
    #: threshold ids; a mapping {male: id, female: id} where the cut-off is sex-specific
    high: str | dict[str, str] | None = None
    low: str | dict[str, str] | None = None
    low_topic: str | None = None
    high_topic: str | None = None
    prefer_reference_range: bool = True
    #: the side of the lab's range that counts as an endocrinopathy (criteria.md §5: "low cortisol",
    #: "low testosterone in men"); a result on the other side says the axis is not abnormal
    abnormal: Literal["either", "low", "high"] = "either"
    #: the sex whose results count for the criterion ("low testosterone in men"): another sex's result
    #: is not read (a reading note says why); an unknown sex counts
    sex: Literal["male", "female"] | None = None
    #: endocrine rules: the cut-off (threshold id per unit of the result, "%" / "mmol/mol") from which a
    #: result above the lab's range is the disease itself; between the two it is indeterminate (an HbA1c
    #: of 6.0 % flagged H is prediabetes, not the diabetes of the pancreatic axis - probe36)
    present_at: dict[str, str] = Field(default_factory=dict)
    #: regexes on code.text / coding displays of local codes that carry no known code
    #: ("VEGF-A, serum (send-out)"): display-text fallback, marked lower confidence
    synonyms: list[str] = Field(default_factory=list)
    #: regexes (case-insensitive) on the same names: one that matches makes the name another test's, whatever
    #: synonym it also matches - a soluble VEGF *receptor* «Растворимый рецептор VEGF 1 типа» names VEGF
    #: (probe123 D3); the receptor word may stand before or after it, so a lookahead in a synonym cannot say it
    not_synonyms: list[str] = Field(default_factory=list)
    #: regexes (case-insensitive) of the phrases in which a not_synonym word only qualifies the test: the span they
    #: match is set aside before not_synonyms are sought - «VEGF-A (лиганд рецептора VEGFR-2)», "receptor-binding
    #: isoform" name VEGF itself, the receptor as its context (probe125 R9)
    not_synonym_contexts: list[str] = Field(default_factory=list)
    note: str | None = None


class ConditionRule(_Strict):
    id: str
    topic: str | None = None
    #: which reports may establish it from their conclusion: histology only (Castleman) or imaging; "condition":
    #: none - only a Condition, by its code or its own words (an acute illness, a bleed: a report's passing
    #: "influenza" or "history of pneumonia" is no illness at the sample; probe100 D13)
    report_source: Literal["any", "imaging", "histology", "condition"] = "any"
    also: list[str] = Field(default_factory=list)
    #: the topics a refuted Condition (or a negated mention in text) denies; None: all of them. A
    #: specific diagnosis ruled out ("not CIDP", "not myeloma") does not rule out the broader
    #: criterion it also counts for
    refuted_denies: list[str] | None = None
    axis: EndocrineAxis | None = None
    component: str | None = None
    #: read only its own codes: a more specific code (a national extension, an ICD-10-CM code under the
    #: WHO category) is not broadened to it - the haemangioma of the skin (CM D18.01) is the POEMS
    #: sign; CM D18.03 "of intra-abdominal structures" must not reach WHO D18.0 through its category
    exact_codes: bool = False
    #: regular expressions (case-insensitive) on a coded Condition's own words: one that names any is
    #: another concept under the same code (WHO D18.0 "Гемангиома печени" is a liver haemangioma)
    not_if_text: list[str] = Field(default_factory=list)
    #: an acute condition (an acute illness, a bleed): held to last from its onset for this many days when
    #: no abatement is stated (criteria.md §6 "during acute illness"; the window is UNVERIFIED, a site's)
    lasts_days: int | None = Field(default=None, ge=0, le=3650)
    codes: list[CodeRef] = Field(default_factory=list)
    add_codes: list[CodeRef] = Field(default_factory=list)
    note: str | None = None

    @field_validator("not_if_text")
    @classmethod
    def _patterns_compile(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                safe_compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
        return patterns


class ModalityRule(_Strict):
    id: str
    strength: Literal["strong", "weak"] | None = None
    #: the criteria (topics) for which a weak modality's negative is low-grade; empty: all of them.
    #: A chest radiograph is a fine negative for an effusion, not for small sclerotic lesions.
    weak_for: list[str] = Field(default_factory=list)
    codes: list[CodeRef] = Field(default_factory=list)
    add_codes: list[CodeRef] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    note: str | None = None

    def weak_on(self, topic: str | None) -> bool:
        """Whether a negative from this modality is low-grade for this criterion (``weak_for``)."""
        return self.strength == "weak" and (not self.weak_for or topic in self.weak_for)


class RouteRule(_Strict):
    """A route of administration that does not reach the plasma-cell clone (criteria.md §10: "treat the
    plasma-cell clone"): a medication given only this way is no treatment event (dexamethasone eye drops
    are not the first line of therapy). ``codes``: route codes (dosage.route); ``keywords``: regexes on
    the route's words and on the medication's name and form ("ophthalmic solution", "крем")."""

    id: str
    codes: list[CodeRef] = Field(default_factory=list)
    add_codes: list[CodeRef] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    note: str | None = None


class NegativeTest(_Strict):
    """What a report must be for its negative to be a test of a criterion (criteria.md §3.3 "each with
    adequate test", §6). Patterns are regular expressions, matched case-insensitively.

    - ``limited``: the report's name (code text and displays, specimen type) names a part of the body
      only (a head CT for sclerotic lesions): its negative is low-grade, i.e. indeterminate, ...
    - ``whole``: ... unless its name also names the whole (whole-body CT, skeletal survey, PET-CT).
    - ``requires``: the report's name, specimen or text must name one of these (a lymph node for
      Castleman disease), else its negative is no test of the criterion: not read (not assessed).
    - ``not_from``: a report so named gives no such test (a fine-needle aspirate is cytology, not the
      histology the criterion needs): its negative is not read.
    - ``positives_too``: a report that is no test of the criterion (``requires`` / ``not_from``) is not
      read for it at all, positive or negative: a spine MRI's "disc oedema" is an intervertebral disc,
      not the optic disc. ``not_from``: only a ``not_from`` report is so ignored (a fine-needle aspirate's
      "consistent with Castleman disease" is cytology; a report that names no lymph node may still be one).
    """

    limited: list[str] = Field(default_factory=list)
    whole: list[str] = Field(default_factory=list)
    requires: list[str] = Field(default_factory=list)
    not_from: list[str] = Field(default_factory=list)
    positives_too: bool | Literal["not_from"] = False
    note: str | None = None
    verification: Verification | None = None


@dataclass(frozen=True)
class CompiledNegativeTest:
    limited: re.Pattern[str] | None
    whole: re.Pattern[str] | None
    requires: re.Pattern[str] | None
    not_from: re.Pattern[str] | None
    positives_too: bool | str = False

    def judge(self, name: str, text: str) -> tuple[str, str] | None:
        """("weak" | "ignore" | "ignore_all", why) when a negative of a report named ``name`` (with
        ``text``) is no full test ("ignore_all": nor is its positive read); None when it is one."""
        if self.not_from is not None and self.not_from.search(name):
            return ("ignore_all" if self.positives_too else "ignore"), "a report of this kind is no test of it"
        if self.requires is not None and not self.requires.search(f"{name}\n{text}"):
            return ("ignore_all" if self.positives_too is True else "ignore"), (
                "the report does not name the tissue the test needs"
            )
        if self.limited is not None and self.limited.search(name):
            if self.whole is None or not self.whole.search(name):
                return "weak", "a limited field: only part of the body was examined"
        return None


class CourseRule(_Strict):
    """A clinician's assessment of a domain's course (improved / stable / worse) over time."""

    id: str
    domain: str | None = None
    codes: list[CodeRef] = Field(default_factory=list)
    add_codes: list[CodeRef] = Field(default_factory=list)
    #: "system|code" or lower-case text of the value -> improved | stable | worse
    values: dict[str, Literal["improved", "stable", "worse"]] = Field(default_factory=dict)
    note: str | None = None


class MedicationRule(_Strict):
    id: str
    event: str | None = None  # "treatment"
    neurotoxic: bool = False
    companion: bool = Field(
        False,
        description="part of a regimen, no treatment of the clone alone (a corticosteroid): given before any "
        "other treatment of the clone has started it starts nothing (README 'Treatment response')",
    )
    codes: list[CodeRef] = Field(default_factory=list)
    add_codes: list[CodeRef] = Field(default_factory=list)
    text: list[str] = Field(default_factory=list, description="regexes on the medication's name")
    note: str | None = None


class ProcedureRule(_Strict):
    id: str
    event: str | None = None
    #: a procedure that is a fact for the criteria rather than an event of the pathway: a transfusion
    #: (topic ``bleeding_or_transfusion``, criteria.md §6 MIN-6), with the part of the criterion it weighs on
    topic: str | None = None
    component: str | None = None
    #: days after the procedure it still weighs on a result (the window is UNVERIFIED, a site's)
    lasts_days: int | None = Field(default=None, ge=0, le=3650)
    codes: list[CodeRef] = Field(default_factory=list)
    add_codes: list[CodeRef] = Field(default_factory=list)
    text: list[str] = Field(
        default_factory=list, description="regexes on the procedure's name, for procedures no code rule knows"
    )
    reports: bool = Field(
        False,
        description="a DiagnosticReport whose code names this procedure records it too (a nerve-conduction "
        "report is how most records say the study was done)",
    )
    other_sites: list[str] = Field(
        default_factory=list,
        description="regexes on the procedure's name and body sites: a treatment aimed at one of these "
        "organs, with no stated reason, is given for another disease (radiotherapy of the prostate)",
    )
    clone_sites: list[str] = Field(
        default_factory=list,
        description="regexes that keep it a treatment of the clone even when an other_sites organ is named "
        "(bone, a plasmacytoma, a vertebra)",
    )
    status_of: bool = Field(
        False,
        description="its codes are a Condition that the procedure was done (a transplant status, ICD-10-CM "
        "Z94.84): a Condition so coded is that treatment, dated by its onset, else its text's year",
    )
    note: str | None = None


class ResultCode(_Strict):
    """A coded qualitative result (valueCodeableConcept) and what it means."""

    system: str
    code: str
    means: Literal["high", "low", "normal", "abnormal", "positive", "negative"]
    display: str | None = None
    verification: Verification = "UNVERIFIED"
    note: str | None = None

    @field_validator("code", mode="before")
    @classmethod
    def _code_as_text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) else v


class SystemAlias(_Strict):
    """Another identifier of a code system (an OID, a national URI) used by some senders."""

    uri: str
    verification: Verification = "UNVERIFIED"
    note: str | None = None


class SystemPattern(_Strict):
    """A code system recognised by its name when its exact identifier is not known (a national URI
    that says "mkb10"): a regular expression searched in the coding's ``system``."""

    pattern: str
    verification: Verification = "UNVERIFIED"
    note: str | None = None


class MappingFile(_Strict):
    format: Literal["poems-fhir-mapping/1"]
    name: str
    version: str
    description: str | None = None
    systems: dict[str, str] = Field(default_factory=dict)
    unit_aliases: dict[str, str] = Field(default_factory=dict)
    thresholds: dict[str, Threshold] = Field(default_factory=dict)
    observations: list[ObservationRule] = Field(default_factory=list)
    conditions: list[ConditionRule] = Field(default_factory=list)
    modalities: list[ModalityRule] = Field(default_factory=list)
    #: routes that do not reach the clone: a medication given only so is no treatment (RouteRule)
    local_routes: list[RouteRule] = Field(default_factory=list)
    #: per criterion (topic): what a report must be for its negative to count (NegativeTest)
    negative_tests: dict[str, NegativeTest] = Field(default_factory=dict)
    #: per criterion part (a condition rule's component): the study regions any study of which sees all of it
    #: (text/sites.py region names) - two same-day studies of such regions disagreeing on it are a conflict
    part_regions: dict[str, list[str]] = Field(default_factory=dict)
    procedures: list[ProcedureRule] = Field(default_factory=list)
    medications: list[MedicationRule] = Field(default_factory=list)
    course: list[CourseRule] = Field(default_factory=list)
    #: qualitative result strings, per meaning (matched whole, case-insensitive)
    result_terms: dict[Literal["high", "low", "normal", "abnormal", "positive", "negative"], list[str]] = Field(
        default_factory=dict
    )
    result_codes: list[ResultCode] = Field(default_factory=list)
    #: values that only point to the result's comment ("See comment", «см. примечание»): the Observation's
    #: notes are then read as its result (matched whole, as result_terms; probe132 D7)
    result_pointers: list[str] = Field(default_factory=list)
    #: canonical system (alias or URI) -> other identifiers senders use for it
    system_equivalents: dict[str, list[SystemAlias]] = Field(default_factory=dict)
    #: canonical system -> name patterns of identifiers not listed in system_equivalents
    system_name_patterns: dict[str, list[SystemPattern]] = Field(default_factory=dict)
    #: words that make an unmapped code or text look relevant to `mappings coverage`
    coverage_keywords: list[str] = Field(default_factory=list)
    #: clinical text: languages, target phrases per condition rule, ConText rules (README "Clinical text")
    text: TextSection | None = None
    #: modifierExtension urls a site knows are harmless to the criteria: a resource carrying one is read as
    #: if it were not there; any other modifier extension refuses the resource (probe99 D2, fhir/boundary.py)
    understood_modifier_extensions: list[str] = Field(default_factory=list)


class SiteThreshold(_Strict):
    value: float | None = None
    unit: str | None = None
    operator: Literal[">", ">=", "<", "<="] | None = None
    verification: Verification | None = None
    source: str | None = None
    note: str | None = None


class SiteMappingFile(MappingFile):
    """A site file may override single fields of a default threshold."""

    thresholds: dict[str, SiteThreshold] = Field(default_factory=dict)  # type: ignore[assignment]


# ---------------------------------------------------------------- problems with locations


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    key: str
    message: str
    hint: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {_printable(self.key)}: {_printable(self.message)} (fix: {self.hint})"


#: a problem's key or message quotes the file's own text: at most this many characters of it are shown
MAX_PROBLEM_TEXT = 300


def _printable(text: str) -> str:
    """One line per problem: control characters (a pattern's CR/LF, an ESC) escaped, long quotes cut."""
    if len(text) > MAX_PROBLEM_TEXT:
        text = f"{text[:MAX_PROBLEM_TEXT]}… ({len(text):,} characters)"
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


class MappingError(Exception):
    """A mapping file has problems; ``problems`` lists each with file, line and a fix hint.
    ``partial``: the file without its invalid entries, when that much of it is valid (so the checks
    across files can still run and report their problems in the same round); ``pruned``: the ids
    of the entries taken out."""

    def __init__(
        self, problems: list[Problem], partial: LoadedFile | None = None, pruned: frozenset[str] = frozenset()
    ) -> None:
        self.problems = problems
        self.partial = partial
        self.pruned = pruned
        super().__init__(f"{len(problems)} problem(s) in mapping files:\n" + "\n".join(map(str, problems)))


def _line_index(root: yaml.Node | None) -> dict[tuple[Any, ...], int]:
    """Map YAML key paths (('observations', 3, 'unit')) to 1-based line numbers."""
    lines: dict[tuple[Any, ...], int] = {}

    def walk(node: yaml.Node, path: tuple[Any, ...]) -> None:
        # a key's own line, not its value's: "observation:" on line 10 with its list from line 11
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = key_node.value
                lines[path + (key,)] = key_node.start_mark.line + 1
                walk(value_node, path + (key,))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, path + (i,))

    if root is not None:
        walk(root, ())
    return lines


def _nearest_line(lines: dict[tuple[Any, ...], int], path: tuple[Any, ...]) -> int | None:
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())


def _path_text(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(file)"


_HINTS = {
    "extra_forbidden": "remove the key or check its spelling against the README's mapping format",
    "missing": "add the key",
    "literal_error": "use one of the allowed values",
    "enum": "use one of the allowed values",
}


@dataclass
class LoadedFile:
    path: str
    model: MappingFile
    lines: dict[tuple[Any, ...], int]
    sha256: str


#: YAML aliases (*name) may repeat a value; beyond these bounds a file is refused before it is
#: built (a 400-byte "billion laughs" file would otherwise expand to gigabytes)
MAX_YAML_ALIASES = 100
MAX_YAML_NODES = 200_000


class YAMLTooLarge(ValueError):
    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def safe_load_bounded(text: str) -> tuple[Any, yaml.Node | None]:
    """yaml.safe_load, refusing documents whose aliases expand past MAX_YAML_NODES nodes.

    Returns the data and the composed node graph: the graph gives the line numbers of problems,
    so the text is composed once, not once more for the lines.
    """
    # libyaml's loader where PyYAML has it (same safe constructors, ~3x faster), else PyYAML's own
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        _check_expansion(node)
        _leading_zeros_as_text(node)
        return loader.construct_document(node), node
    finally:
        loader.dispose()


_INT_TAG = "tag:yaml.org,2002:int"


def _leading_zeros_as_text(root: yaml.Node) -> None:
    """YAML 1.1 reads an unquoted ``0101`` as the octal number 65: a lab code "0101" written without quotes
    then matched nothing, silently (probe39). A number written with a leading zero is kept as its text."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            text = str(node.value)
            if node.tag == _INT_TAG and len(text) > 1 and text.lstrip("+-").startswith("0") and text.isdigit():
                node.tag = "tag:yaml.org,2002:str"
        else:
            stack.extend(_children(node))


def _check_expansion(root: yaml.Node) -> None:
    """Compute the expanded size of the node graph once per distinct node (aliases share nodes);
    iterative, so a deep document cannot exhaust the stack here."""
    size: dict[int, int] = {}
    entered: set[int] = set()
    reused = 0
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            total = 1 + sum(size.get(id(c), 1) for c in _children(node))
            if total > MAX_YAML_NODES:
                raise YAMLTooLarge(
                    f"the YAML expands to more than {MAX_YAML_NODES} values (alias bomb?)", node.start_mark.line + 1
                )
            size[id(node)] = total
            continue
        if id(node) in entered:
            reused += 1
            if reused > MAX_YAML_ALIASES:
                raise YAMLTooLarge(f"more than {MAX_YAML_ALIASES} YAML alias uses", node.start_mark.line + 1)
            if id(node) not in size:
                raise YAMLTooLarge("a YAML alias refers to a node that contains it", node.start_mark.line + 1)
            continue
        entered.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def load_file(path: str | Path, *, site: bool) -> LoadedFile:
    """Parse and validate one YAML mapping file; raise MappingError with located problems."""
    path = Path(path)
    name = str(path)
    try:
        text = read_regular_file(path).decode("utf-8-sig")
    except OSError as exc:
        raise MappingError(
            [Problem(name, None, "(file)", f"cannot read: {exc.strerror or exc}", "check the path")]
        ) from None
    except UnicodeDecodeError as exc:
        raise MappingError(
            [Problem(name, None, "(file)", f"not UTF-8 (byte at offset {exc.start})", "save the file as UTF-8")]
        ) from None
    try:
        data, root = safe_load_bounded(text)
    except YAMLTooLarge as exc:
        raise MappingError(
            [Problem(name, exc.line, "(file)", str(exc), "write the values out instead of using YAML aliases (*name)")]
        ) from None
    except RecursionError:
        raise MappingError(
            [Problem(name, None, "(file)", "YAML nested too deeply", "a mapping file needs only a few levels")]
        ) from None
    except ValueError as exc:  # Python's int() refuses integers of more than 4,300 digits
        raise MappingError(
            [Problem(name, None, "(file)", f"a value YAML cannot read: {exc}", "write a number of a few digits")]
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if "maximum nesting depth" in what:  # libyaml's own depth limit (PyYAML's is the recursion limit)
            raise MappingError(
                [Problem(name, line, "(file)", "YAML nested too deeply", "a mapping file needs only a few levels")]
            ) from None
        raise MappingError(
            [
                Problem(
                    name,
                    line,
                    "(syntax)",
                    f"invalid YAML: {what}",
                    "fix the YAML syntax; quote values that contain ':', '{' or '#'",
                )
            ]
        ) from None
    lines = _line_index(root)
    if not isinstance(data, dict):
        raise MappingError([Problem(name, 1, "(file)", "not a mapping document", f"start with 'format: {FORMAT}'")])
    model_cls = SiteMappingFile if site else MappingFile
    try:
        model = model_cls.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            key = _path_text(loc)
            hint = _HINTS.get(err["type"], "see the mapping format in the README")
            if err["type"] == "literal_error" and loc == ("format",):
                hint = f"set 'format: {FORMAT}'"
            problems.append(Problem(name, _nearest_line(lines, loc), key, err["msg"], hint))
        rest = _without_invalid_entries(model_cls, data, exc.errors())
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if rest is None:
            raise MappingError(problems) from None
        model, removed, kept = rest
        raise MappingError(problems, LoadedFile(name, model, _renumbered(lines, kept), digest), removed) from None
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return LoadedFile(name, model, lines, digest)


def _renumbered(lines: dict[tuple[Any, ...], int], kept: dict[str, list[int]]) -> dict[tuple[Any, ...], int]:
    """The line index of a file whose list entries were taken out, by the positions left: the entry now
    at i of a section is the one written at kept[section][i] (probe59 D4: a problem of the rule written at
    line 10 was reported at line 5, where the entry taken out before it stood)."""
    out: dict[tuple[Any, ...], int] = {}
    for path, line in lines.items():
        old = kept.get(path[0]) if path and isinstance(path[0], str) else None
        if old is None or len(path) < 2 or not isinstance(path[1], int):
            out[path] = line
        elif path[1] in old:
            out[(path[0], old.index(path[1]), *path[2:])] = line
    return out


def _without_invalid_entries(
    model_cls: type[MappingFile], data: dict[str, Any], errors: list[Any]
) -> tuple[MappingFile, frozenset[str], dict[str, list[int]]] | None:
    """The file with every section entry that failed validation taken out (a rule, a threshold),
    those entries' ids, and per list section the original positions of the entries kept; None when a
    problem is not inside one entry (the format line, an unknown section). Pruning may reveal more
    problems in the same entries' neighbours: a few rounds."""
    pruned = copy.deepcopy(data)
    removed: set[str] = set()
    kept = {k: list(range(len(v))) for k, v in pruned.items() if isinstance(v, list)}
    for _ in range(3):
        entries = {tuple(e["loc"][:2]) for e in errors}
        if any(len(loc) < 2 for loc in entries):
            return None
        for section, key in sorted(entries, key=lambda loc: (loc[0], str(loc[1]).zfill(12)), reverse=True):
            container = pruned.get(section)
            if isinstance(container, list) and isinstance(key, int) and key < len(container):
                entry = container.pop(key)
                kept[section].pop(key)
                removed.add(str(entry.get("id")) if isinstance(entry, dict) else str(key))
            elif isinstance(container, dict) and key in container:
                del container[key]
                removed.add(str(key))
            else:
                return None
        try:
            return model_cls.model_validate(pruned), frozenset(removed), kept
        except ValidationError as exc:
            errors = exc.errors()
    return None


# ---------------------------------------------------------------- merged, compiled mapping


@dataclass(frozen=True)
class Rule:
    """A compiled rule: kind + the model it came from + where it was defined."""

    kind: Literal["observation", "condition", "modality", "procedure", "medication", "course", "route"]
    spec: Any
    origin: str


def _broadened(rules: list[Rule]) -> list[Rule]:
    """The rules a more specific code may be read as: not those that read only their own codes."""
    return [r for r in rules if not getattr(r.spec, "exact_codes", False)]


_RULES_CACHE_SIZE = 65536

#: characters of a code's name (text and displays) the name patterns read: a name is a few words, and
#: a mapping's name regexes may backtrack - a 21 kB Procedure.code.text took one patient four minutes
#: (probe32); past this, the rest is not part of any name worth matching
MAX_NAME_CHARS = 500


@dataclass(frozen=True)
class NamePattern:
    """A compiled name regex that reads at most MAX_NAME_CHARS of a name."""

    pattern: re.Pattern[str]

    def search(self, name: str) -> re.Match[str] | None:
        return self.pattern.search(name[:MAX_NAME_CHARS])


@dataclass
class CompiledMapping:
    """Lookup tables built once from the merged mapping files (and ConceptMaps)."""

    identity: list[dict[str, str]]
    thresholds: dict[str, Threshold]
    unit_aliases: dict[str, str]
    by_code: dict[tuple[str, str], list[Rule]]
    modalities: list[ModalityRule]
    #: the text engine of this run: target phrases + ConText rules; pipelines built on first use
    text: TextEngine = field(default_factory=lambda: TextEngine(TextSection()))
    #: the immunofixation parser's cue words, with those of ``text.immunofixation_context`` added
    ife_cues: IfeCues = BUILT_IN_CUES
    conditions: dict[str, ConditionRule] = field(default_factory=dict)
    translations: dict[tuple[str, str], list[tuple[str, str]]] = field(default_factory=dict)
    medication_text: list[tuple[NamePattern, MedicationRule]] = field(default_factory=list)
    #: procedures named only in words (no code was confirmed for a transplant, codes.md §D), in file order
    procedure_text: list[tuple[NamePattern, ProcedureRule]] = field(default_factory=list)
    #: procedure rule id -> (other_sites, clone_sites) patterns (a course aimed at another disease's organ)
    procedure_sites: dict[str, tuple[NamePattern, NamePattern | None]] = field(default_factory=dict)
    result_terms: dict[str, Qual] = field(default_factory=dict)
    result_codes: dict[tuple[str, str], Qual] = field(default_factory=dict)
    #: normalised (normalise_term) values that point to the notes for the result
    result_pointers: frozenset[str] = frozenset()
    #: other identifiers of a code system (OIDs, national URIs) -> the canonical URI
    system_equivalents: dict[str, str] = field(default_factory=dict)
    #: (name pattern, canonical URI) for identifiers not in system_equivalents, first match wins
    system_patterns: list[tuple[re.Pattern[str], str]] = field(default_factory=list)
    #: display-text fallback for local observation codes: (synonym pattern, rule)
    observation_text: list[tuple[re.Pattern[str], Rule]] = field(default_factory=list)
    #: per observation rule id: the names that are another test's though a synonym matches (not_synonyms)
    observation_not_text: dict[str, re.Pattern[str]] = field(default_factory=dict)
    #: per observation rule id: the phrases in which a not_synonym word is context (not_synonym_contexts)
    observation_not_text_contexts: dict[str, re.Pattern[str]] = field(default_factory=dict)
    coverage_keywords: re.Pattern[str] | None = None
    #: per criterion (topic): what a report must be for its negative to count
    negative_tests: dict[str, CompiledNegativeTest] = field(default_factory=dict)
    #: per criterion part: the study regions that see all of it (``part_regions``; text/sites.told_apart)
    part_regions: dict[str, frozenset[str]] = field(default_factory=dict)
    #: the words of routes that do not reach the clone (RouteRule keywords), one pattern
    local_route_words: re.Pattern[str] | None = None
    #: modifierExtension urls the mapping files declare harmless (``understood_modifier_extensions``)
    understood_modifiers: frozenset[str] = frozenset()
    #: rules_for per (system, code) as written: the same few codes recur in every patient, and the
    #: lookup (canonical form, translations) is a pure function of this mapping. Bounded, see rules_for.
    _rules_cache: dict[tuple[Any, Any], list[Rule]] = field(default_factory=dict, init=False, repr=False, compare=False)
    #: per code text: the modality its keywords name, and the rules whose synonyms match it. Report
    #: and test names recur across patients ("CT chest abdomen pelvis"); each search is a pure
    #: function of the text and this mapping. Bounded like _rules_cache.
    _modality_cache: dict[str, ModalityRule | None] = field(default_factory=dict, init=False, repr=False, compare=False)
    _text_rules_cache: dict[str, list[Rule]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def canonical(self, system: str | None, code: str | None) -> tuple[str | None, str | None]:
        """The canonical system URI and code: national ICD-10 URIs/OIDs fold onto the WHO or CM
        URI, and ICD-10 codes are upper-cased with their dot restored ("g629" -> "G62.9")."""
        if not isinstance(system, str) or not isinstance(code, str) or not system or not code:
            return system, code
        system = self._canonical_system(system.strip())
        code = code.strip()
        if system in ICD10_SYSTEMS:
            code = fold_code_lookalikes(code.upper().replace(" ", ""))
            if "." not in code and len(code) > 3:
                code = code[:3] + "." + code[3:]
        return system, code

    def _canonical_system(self, system: str) -> str:
        found = self.system_equivalents.get(system)
        if found is not None:
            return found
        if self.system_patterns and system not in self._known_systems:
            for pattern, canonical in self.system_patterns:
                if pattern.search(system):
                    return canonical
        return system

    def recognised_by_name(self, system: str) -> str | None:
        """The canonical URI a name pattern gives ``system`` (not an exact identifier), else None."""
        system = system.strip()
        if system in self.system_equivalents:
            return None
        found = self._canonical_system(system)
        return found if found != system else None

    def is_local_system(self, system: str | None) -> bool:
        """Whether ``system`` is a site's own code system: not one the rules are written in (or an
        equivalent of one) and no standard terminology."""
        if not isinstance(system, str) or not system.strip():
            return False
        canonical = self._canonical_system(system.strip())
        return (
            canonical not in self._known_systems
            and canonical not in STANDARD_SYSTEMS
            and not canonical.startswith(_STANDARD_PREFIXES)
        )

    @functools.cached_property
    def companion_agents(self) -> frozenset[str]:
        """Medication rule ids that are part of a regimen only (``companion``: a corticosteroid)."""
        coded = {
            r.spec.id for rules in self.by_code.values() for r in rules if r.kind == "medication" and r.spec.companion
        }
        return frozenset(coded | {spec.id for _, spec in self.medication_text if spec.companion})

    @functools.cached_property
    def _known_systems(self) -> frozenset[str]:
        """The systems the rules are written in: never renamed by a pattern."""
        return frozenset(s for s, _ in self.by_code) | frozenset(self.system_equivalents.values())

    def broader_rules_for(self, system: str | None, code: str | None) -> list[Rule]:
        """Rules of the nearest mapped ICD-10 parent ("G62.88" -> "G62.8"): a national extension
        or a more specific code is a kind of its parent. Only for asserted (not refuted) facts:
        refuting a subtype does not refute its parent."""
        system, code = self.canonical(system, code)
        # an ICD-10 code with a national extension has at most ~8 characters: a long string is no code
        # (and trimming it one character at a time was quadratic: minutes for a 2 MB "code")
        if system not in ICD10_SYSTEMS or not code or len(code) > MAX_ICD10_LENGTH:
            return []
        # ICD-10-CM refines WHO ICD-10's categories: a CM code the CM table lacks (H47.11, or the
        # category H47.1 itself) is a kind of the WHO category it extends, when CM's own table has no
        # nearer parent; CM's table holds billable leaves (H47.10), rarely the categories between
        systems = [system] if system != ICD10_CM else [ICD10_CM, ICD10_WHO]
        if system == ICD10_CM and (rules := self.by_code.get((ICD10_WHO, code))):
            return _broadened(rules)
        while len(code.replace(".", "")) > 3:
            code = code[:-1].rstrip(".")
            for table in systems:
                rules = self.by_code.get((table, code))
                if rules:
                    return _broadened(rules)
        return []

    def rules_for(self, system: str | None, code: str | None) -> list[Rule]:
        """The rules of a coding (the returned list is shared: callers must not change it)."""
        if not isinstance(system, str) or not isinstance(code, str) or not system or not code:
            return []
        key = (system, code)
        cached = self._rules_cache.get(key)
        if cached is not None:
            return cached
        rules = self._rules_for(system, code)
        if len(self._rules_cache) < _RULES_CACHE_SIZE:  # hostile input cannot grow it without bound
            self._rules_cache[key] = rules
        return rules

    def _rules_for(self, system: str, code: str) -> list[Rule]:
        system, code = self.canonical(system, code)  # type: ignore[assignment]
        key = (system, code)
        rules = self.by_code.get(key)  # type: ignore[arg-type]
        if key in self.translations:
            extra = [r for t in self.translations[key] for r in self.by_code.get(t, [])]  # type: ignore[index]
            return (rules or []) + extra
        return rules or []

    def modality_by_text(self, text: str) -> ModalityRule | None:
        """The first modality (in the mapping's order) one of whose keywords occurs in ``text``."""
        if text in self._modality_cache:
            return self._modality_cache[text]
        name = text[:MAX_NAME_CHARS]
        found = next((m for m in self.modalities if any(re.search(k, name) for k in m.keywords)), None)
        if len(self._modality_cache) < _RULES_CACHE_SIZE:
            self._modality_cache[text] = found
        return found

    def observation_rules_by_text(self, text: str) -> list[Rule]:
        """The rules (each once, in the mapping's order) whose display-text synonyms match ``text``."""
        cached = self._text_rules_cache.get(text)
        if cached is not None:
            return cached
        name = text[:MAX_NAME_CHARS]
        hits = list(
            {
                id(rule): rule
                for pattern, rule in self.observation_text
                if pattern.search(name) and not self.names_another_test(rule, name)
            }.values()
        )
        if len(self._text_rules_cache) < _RULES_CACHE_SIZE:
            self._text_rules_cache[text] = hits
        return hits

    def names_another_test(self, rule: Rule, name: str) -> bool:
        """Whether ``name`` matches one of ``rule``'s not_synonyms: another test's name (a VEGF receptor's for
        the VEGF rule). Only an observation rule has them."""
        exclusion = self.observation_not_text.get(rule.spec.id)
        if exclusion is None:
            return False
        context = self.observation_not_text_contexts.get(rule.spec.id)
        if context is not None:
            # the receptor named as the test's context ("ligand of VEGFR-2") is not the test: set it aside
            name = context.sub(" ", name)
        return exclusion.search(name) is not None

    def threshold(self, name: str) -> Threshold:
        return self.thresholds[name]

    def ucum(self, unit: str) -> str:
        return self.unit_aliases.get(unit, unit)

    @property
    def fingerprint(self) -> str:
        """Identity of the mapping in force: changes whenever any file's content changes."""
        blob = json.dumps(self.identity, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


_LIST_SECTIONS = ("observations", "conditions", "modalities", "local_routes", "procedures", "medications", "course")


def _merge(files: list[LoadedFile]) -> tuple[dict[str, Any], dict[tuple[str, str], str]]:
    """Merge files in order; later files override by rule id. Returns merged data + origins."""
    merged: dict[str, Any] = {
        "systems": {},
        "unit_aliases": {},
        "thresholds": {},
        "result_terms": {},
        "result_codes": {},
        "result_pointers": [],
        "system_equivalents": {},
        "system_name_patterns": {},
        "coverage_keywords": [],
        "understood_modifier_extensions": [],
        "negative_tests": {},
        "part_regions": {},
        **{s: {} for s in _LIST_SECTIONS},
    }
    origins: dict[tuple[str, str], str] = {}
    text: dict[str, Any] = {
        "languages": {},
        "targets": {},
        "context": [],
        "disable_defaults": [],
        "inner_negations": [],
        "coordinators": [],
        "lists": [],
        "exceptions": [],
        "closing_negations": [],
        "closing_doubts": [],
        "closing_tails": [],
        "assertive_words": [],
        "clause_verdicts": [],
        "item_verdicts": [],
        "list_ends": [],
        "likeness_compounds": [],
        "poems_label_doubts": [],
        "poems_label_denials": [],
        "poems_names": [],
        "poems_name_features": [],
        "likeness_words": [],
        "likeness_after": [],
        "weighed_words": [],
        "new_before": [],
        "new_after": [],
        "nominative_clauses": {"forms": [], "denials": [], "openers": [], "singular_denials": []},
        "referrer_sections": {"headings": [], "study_headings": []},
        "quoted_reports": {"sources": [], "reviews": [], "confirms": []},
        "immunofixation_context": {
            "relative": [],
            "hypothetical": [],
            "differential": [],
            "hearsay": [],
            "another_laboratory": [],
            "another_patient": [],
            "telling": [],
        },
    }
    merged["text"] = text
    for f in files:
        data = f.model.model_dump(exclude_unset=True)
        new_text = data.get("text") or {}
        for tid in new_text.get("targets", {}):
            origins[("text.targets", tid)] = _origin(f, ("text", "targets", tid))
        for i, _ in enumerate(new_text.get("context", [])):
            origins[("text.context", str(len(text["context"]) + i))] = _origin(f, ("text", "context", i))
        for i, _ in enumerate(new_text.get("lists", [])):
            origins[("text.lists", str(len(text["lists"]) + i))] = _origin(f, ("text", "lists", i))
        _merge_text(text, new_text)
        merged["systems"].update(data.get("systems", {}))
        for alias in data.get("systems", {}):
            origins[("systems", alias)] = _origin(f, ("systems", alias))
        merged["unit_aliases"].update(data.get("unit_aliases", {}))
        for alias in data.get("unit_aliases", {}):
            origins[("unit_aliases", alias)] = _origin(f, ("unit_aliases", alias))
        for meaning, terms in data.get("result_terms", {}).items():
            merged["result_terms"].setdefault(meaning, []).extend(terms)
        merged["result_pointers"].extend(data.get("result_pointers", []))
        for rc in data.get("result_codes", []):
            merged["result_codes"][(rc["system"], str(rc["code"]))] = rc
        for canonical, others in data.get("system_equivalents", {}).items():
            origins.setdefault(("system_equivalents", canonical), _origin(f, ("system_equivalents", canonical)))
            for alias in others:  # each where it was written (a site's alias is the site file's problem)
                origins[("system_equivalents.alias", alias["uri"])] = _origin(f, ("system_equivalents", canonical))
            merged["system_equivalents"].setdefault(canonical, []).extend(others)
        for canonical, patterns in data.get("system_name_patterns", {}).items():
            for i, pattern in enumerate(patterns):
                origins[("system_name_patterns", pattern["pattern"])] = _origin(
                    f, ("system_name_patterns", canonical, i)
                )
            merged["system_name_patterns"].setdefault(canonical, []).extend(patterns)
        for i, keyword in enumerate(data.get("coverage_keywords", [])):
            origins.setdefault(("coverage_keywords", keyword), _origin(f, ("coverage_keywords", i)))
        merged["coverage_keywords"].extend(data.get("coverage_keywords", []))
        merged["understood_modifier_extensions"].extend(data.get("understood_modifier_extensions", []))
        for topic, test in data.get("negative_tests", {}).items():
            merged["negative_tests"][topic] = test  # a site's entry replaces the default's whole
            origins[("negative_tests", topic)] = _origin(f, ("negative_tests", topic))
        for part, regions in data.get("part_regions", {}).items():
            merged["part_regions"][part] = regions  # a site's entry replaces the default's whole
            origins[("part_regions", part)] = _origin(f, ("part_regions", part))
        for key, thr in data.get("thresholds", {}).items():
            merged["thresholds"].setdefault(key, {}).update(thr)
            origins[("thresholds", key)] = _origin(f, ("thresholds", key))
        for section in _LIST_SECTIONS:
            for i, rule in enumerate(data.get(section, [])):
                current = merged[section].setdefault(rule["id"], {"codes": [], "add_codes": []})
                added = rule.pop("add_codes", [])
                current.update(rule)
                current["add_codes"] = current.get("add_codes", []) + added
                origins[(section, rule["id"])] = _origin(f, (section, i))
    return merged, origins


def _merge_text(text: dict[str, Any], new: dict[str, Any]) -> None:
    """Site text sections ADD phrases and rules to the defaults (a site rarely wants fewer words)."""
    text["languages"].update(new.get("languages", {}))
    for tid, target in new.get("targets", {}).items():
        current = text["targets"].setdefault(tid, {"phrases": []})
        phrases = current["phrases"] + [p for p in target.get("phrases", []) if p not in current["phrases"]]
        current.update(target)
        current["phrases"] = phrases
    text["context"] += new.get("context", [])
    text["lists"] += new.get("lists", [])
    for group in ("nominative_clauses", "referrer_sections", "quoted_reports", "immunofixation_context"):
        for key, values in new.get(group, {}).items():
            current = text[group][key]
            current += [v for v in values if v not in current]
    for key in (
        "disable_defaults",
        "inner_negations",
        "coordinators",
        "exceptions",
        "closing_negations",
        "closing_doubts",
        "closing_tails",
        "assertive_words",
        "clause_verdicts",
        "item_verdicts",
        "list_ends",
        "likeness_compounds",
        "poems_label_doubts",
        "poems_label_denials",
        "poems_names",
        "poems_name_features",
        "likeness_words",
        "likeness_after",
        "weighed_words",
        "new_before",
        "new_after",
    ):
        text[key] += [v for v in new.get(key, []) if v not in text[key]]


def _origin(f: LoadedFile, path: tuple[Any, ...]) -> str:
    line = _nearest_line(f.lines, path)
    return f"{f.path}:{line}" if line else f.path


def _report_codes_in_two_rules(
    by_code: dict[tuple[str, str], list[Rule]], systems: dict[str, str], problem: Callable[..., None]
) -> None:
    """A code in two observation rules is a mistake (a site's add_codes on one rule while another holds
    the code): a result has one meaning and unit, and was read under whichever came first - a local VEGF
    code also listed under platelets gave a VEGF refused as a platelet count. (A condition code may
    name two findings on purpose - a local "lymph node findings" code as Castleman and lymphadenopathy:
    each rule is judged on its own.)"""
    alias = {url: name for name, url in systems.items()}
    for (system, code), rules in by_code.items():
        ids = [r.spec.id for r in rules if r.kind == "observation"]
        for rid in ids[1:]:
            if rid != ids[0]:
                problem(
                    "observations",
                    rid,
                    "codes",
                    f"code {alias.get(system, system)}|{code} is also in observation rule {ids[0]!r}",
                    "keep each code in one rule of a kind (remove it from one of them)",
                )


def _part_regions(
    raw: dict[str, list[str]],
    conditions: dict[str, ConditionRule],
    located: Callable[[tuple[str, str], str, str, str], None],
) -> dict[str, frozenset[str]]:
    """``part_regions`` checked: each key a part some condition rule names, each region one text/sites.py knows
    (a misspelt region would silently tell every study apart)."""
    parts = {p for r in conditions.values() for p in (r.component or "").split("+") if p}
    out: dict[str, frozenset[str]] = {}
    for part, regions in raw.items():
        if part not in parts:
            located(
                ("part_regions", part),
                "part_regions",
                f"{part!r} is no part (component) of a condition rule",
                "use a component such as spleen, ascites",
            )
            continue
        unknown = [r for r in regions if r not in STUDY_REGIONS]
        if unknown or not regions:
            located(
                ("part_regions", part),
                "part_regions",
                f"unknown or no study regions: {unknown}",
                f"use some of {sorted(STUDY_REGIONS)}",
            )
            continue
        out[part] = frozenset(regions)
    return out


def compile_mapping(files: list[LoadedFile], concept_maps: list[Any] | None = None) -> CompiledMapping:
    """Merge and cross-check the files, then build the lookup tables."""
    merged, origins = _merge(files)
    problems: list[Problem] = []

    def located(origin_key: tuple[str, str], key: str, message: str, hint: str) -> None:
        origin = origins.get(origin_key, "")
        file, _, line = origin.rpartition(":")
        if not line.isdigit():  # no line known (or a ':' in the path)
            file, line = origin, ""
        problems.append(Problem(file or "(merged)", int(line) if line else None, key, message, hint))

    def problem(section: str, rid: str, key: str, message: str, hint: str) -> None:
        located((section, rid), f"{section}.{rid}.{key}", message, hint)

    systems: dict[str, str] = merged["systems"]

    def is_uri(value: str) -> bool:
        return "://" in value or value.startswith("urn:")

    for alias, uri in systems.items():  # the declaration itself, where it was written (probe39 M6)
        if not is_uri(str(uri)):
            located(
                ("systems", alias),
                f"systems.{alias}",
                f"{uri!r} is not a URI",
                "give the code system's URI (https://…/CodeSystem/… or urn:oid:…)",
            )

    def resolve(section: str, rid: str, codes: list[dict[str, Any]]) -> list[CodeRef]:
        out = []
        for c in codes:
            system = systems.get(c["system"], c["system"])
            if not is_uri(system) and c["system"] not in systems:
                problem(
                    section,
                    rid,
                    "codes",
                    f"unknown code system alias {c['system']!r}",
                    "declare it under 'systems:' or give the full URI",
                )
            out.append(CodeRef(**{**c, "system": system}))
        return out

    thresholds: dict[str, Threshold] = {}
    refused: set[str] = set()  # reported once, here: not again as "unknown threshold" by each rule using it
    for key, raw in merged["thresholds"].items():
        try:
            thr = Threshold.model_validate(raw)
            validate_unit(thr.unit)
            thresholds[key] = thr
        except ValidationError as exc:
            refused.add(key)
            problem("thresholds", key, "(threshold)", exc.errors()[0]["msg"], "give value, unit and verification")
        except UnitError as exc:
            refused.add(key)
            problem("thresholds", key, "unit", str(exc), "use a UCUM unit such as pg/mL or 10*9/L")

    for alias, target in merged["unit_aliases"].items():
        try:
            validate_unit(target)
        except UnitError as exc:
            located(("unit_aliases", alias), f"unit_aliases.{alias}", str(exc), "map the alias to a valid UCUM unit")

    by_code: dict[tuple[str, str], list[Rule]] = defaultdict(list)
    modalities: list[ModalityRule] = []
    conditions: dict[str, ConditionRule] = {}

    observation_text: list[tuple[re.Pattern[str], Rule]] = []
    observation_not_text: dict[str, re.Pattern[str]] = {}
    observation_not_text_contexts: dict[str, re.Pattern[str]] = {}

    def threshold_ids(value: str | dict[str, str] | None) -> list[str]:
        if value is None:
            return []
        return [value] if isinstance(value, str) else list(value.values())

    for rid, raw in merged["observations"].items():
        rule = ObservationRule.model_validate(
            {**raw, "codes": resolve("observations", rid, raw["codes"] + raw["add_codes"]), "add_codes": []}
        )
        if rule.role is None:
            # most often a typo'd id meant to extend a default rule: say which (probe39 M6)
            near = difflib.get_close_matches(rid, [o for o in merged["observations"] if o != rid], n=1, cutoff=0.8)
            if near:
                problem(
                    "observations",
                    rid,
                    "id",
                    f"no rule {rid!r} to extend, and a new rule needs a role",
                    f"did you mean {near[0]!r}? (add_codes and other keys extend the rule of that id)",
                )
            else:
                problem("observations", rid, "role", "no role", "set role (see README)")
            continue
        if rule.topic and rule.topic not in TOPICS:
            problem(
                "observations",
                rid,
                "topic",
                f"unknown topic {rule.topic!r}",
                "use a criterion, sign or differential id from the README",
            )
        for attr in ("low_topic", "high_topic"):
            topic = getattr(rule, attr)
            if topic and topic not in TOPICS:
                problem(
                    "observations",
                    rid,
                    attr,
                    f"unknown topic {topic!r}",
                    "use a criterion, sign or differential id from the README",
                )
        if rule.role == "threshold" and not rule.topic and not rule.high_topic and not rule.low_topic:
            problem(
                "observations", rid, "topic", "threshold rule without a topic", "set topic (or high_topic / low_topic)"
            )
        if rule.role == "endocrine" and not rule.axis:
            problem(
                "observations",
                rid,
                "axis",
                "endocrine rule without an axis",
                f"set axis to one of {', '.join(a.value for a in EndocrineAxis)}",
            )
        if rule.unit:
            try:
                validate_unit(rule.unit)
            except UnitError as exc:
                problem("observations", rid, "unit", str(exc), "use a UCUM unit")
        for tid in rule.present_at.values():
            if tid in refused:
                continue
            if tid not in thresholds:
                problem(
                    "observations", rid, "present_at", f"unknown threshold {tid!r}", "define it under 'thresholds:'"
                )
            elif thresholds[tid].unit not in rule.present_at:
                problem(
                    "observations",
                    rid,
                    "present_at",
                    f"threshold {tid!r} is in {thresholds[tid].unit!r}, not a unit it is listed for",
                    "key each threshold by its own unit",
                )
        for tid in threshold_ids(rule.high) + threshold_ids(rule.low):
            if tid in refused:
                continue
            if tid not in thresholds:
                problem("observations", rid, "high/low", f"unknown threshold {tid!r}", "define it under 'thresholds:'")
            elif rule.unit:
                try:
                    conversion_factor(thresholds[tid].unit, rule.unit, rule.molar_mass)
                except UnitError as exc:
                    # where the threshold was written: a site's threshold is the site file's problem (probe39 M6)
                    located(
                        ("thresholds", tid),
                        f"thresholds.{tid}.unit",
                        f"{exc} (the rule {rid!r} that uses it is in {rule.unit})",
                        "the threshold and the rule must use commensurable units",
                    )
        if not rule.codes:
            problem("observations", rid, "codes", "rule has no codes", "add at least one code")
        compiled_rule = Rule("observation", rule, origins[("observations", rid)])
        for c in rule.codes:
            by_code[(c.system, c.code)].append(compiled_rule)
        empty = [t for t in rule.synonyms if _matches_nothing_in_particular(t)]
        if empty:
            problem(
                "observations",
                rid,
                "synonyms",
                f"{empty[0]!r} matches an empty name, so it matches every name: every unmapped result would be read as "
                "this rule",
                "write the words the test's name must contain",
            )
        elif rule.synonyms:
            try:
                observation_text.append(
                    (safe_compile("|".join(f"(?:{t})" for t in rule.synonyms), re.IGNORECASE), compiled_rule)
                )
            except re.error as exc:
                problem(
                    "observations", rid, "synonyms", f"invalid regular expression: {exc}", "escape special characters"
                )
        if rule.not_synonyms:
            try:
                observation_not_text[rid] = safe_compile("|".join(f"(?:{t})" for t in rule.not_synonyms), re.IGNORECASE)
            except re.error as exc:
                problem(
                    "observations",
                    rid,
                    "not_synonyms",
                    f"invalid regular expression: {exc}",
                    "escape special characters",
                )
        if rule.not_synonym_contexts:
            try:
                observation_not_text_contexts[rid] = safe_compile(
                    "|".join(f"(?:{t})" for t in rule.not_synonym_contexts), re.IGNORECASE
                )
            except re.error as exc:
                problem(
                    "observations",
                    rid,
                    "not_synonym_contexts",
                    f"invalid regular expression: {exc}",
                    "escape special characters",
                )

    for rid, raw in merged["conditions"].items():
        cond_rule = ConditionRule.model_validate(
            {**raw, "codes": resolve("conditions", rid, raw["codes"] + raw["add_codes"]), "add_codes": []}
        )
        for topic in ([cond_rule.topic] if cond_rule.topic else []) + cond_rule.also:
            if topic not in TOPICS:
                problem(
                    "conditions",
                    rid,
                    "topic",
                    f"unknown topic {topic!r}",
                    "use a criterion, sign or differential id from the README",
                )
        if not cond_rule.topic:
            problem("conditions", rid, "topic", "no topic", "set topic")
        for c in cond_rule.codes:
            by_code[(c.system, c.code)].append(Rule("condition", cond_rule, origins[("conditions", rid)]))
        conditions[rid] = cond_rule

    text_engine = TextEngine(TextSection.model_validate(merged["text"]))

    def text_problem(key: str, message: str, hint: str) -> None:
        if key.startswith("text.targets."):
            located(("text.targets", key.removeprefix("text.targets.")), key, message, hint)
        elif key.startswith("text.lists["):
            located(("text.lists", key.removeprefix("text.lists[").rstrip("]")), key, message, hint)
        else:
            located(("text.context", key.removeprefix("text.context[").rstrip("]")), key, message, hint)

    for key, message in text_engine.check():
        text_problem(key, message, "see the phrase syntax in README 'Clinical text'")
    for tid in text_engine.section.targets:
        if tid not in conditions:
            text_problem(
                f"text.targets.{tid}",
                f"no condition rule {tid!r}",
                "targets are keyed by the id of a rule under 'conditions:'",
            )

    for rid, raw in merged["modalities"].items():
        mod_rule = ModalityRule.model_validate(
            {**raw, "codes": resolve("modalities", rid, raw["codes"] + raw["add_codes"]), "add_codes": []}
        )
        if mod_rule.strength is None:
            problem("modalities", rid, "strength", "no strength", "set strength: strong or weak")
        for topic in mod_rule.weak_for:
            if topic not in TOPICS:
                problem(
                    "modalities",
                    rid,
                    "weak_for",
                    f"unknown topic {topic!r}",
                    "use a criterion, sign or differential id from the README",
                )
        modalities.append(mod_rule)
        for c in mod_rule.codes:
            by_code[(c.system, c.code)].append(Rule("modality", mod_rule, origins[("modalities", rid)]))

    route_words: list[str] = []
    for rid, raw in merged["local_routes"].items():
        route = RouteRule.model_validate(
            {**raw, "codes": resolve("local_routes", rid, raw["codes"] + raw["add_codes"]), "add_codes": []}
        )
        for c in route.codes:
            by_code[(c.system, c.code)].append(Rule("route", route, origins[("local_routes", rid)]))
        for word in route.keywords:
            try:
                safe_compile(word)
            except re.error as exc:
                problem(
                    "local_routes",
                    rid,
                    "keywords",
                    f"invalid regular expression {word!r}: {exc}",
                    "escape special characters",
                )
                continue
            route_words.append(word)
    local_route_words = safe_compile("|".join(f"(?:{w})" for w in route_words), re.IGNORECASE) if route_words else None

    def name_pattern(section: str, rid: str, texts: list[str]) -> NamePattern | None:
        """A rule's `text` regexes as one pattern (procedures and medications named in words)."""
        try:
            return NamePattern(safe_compile("|".join(f"(?:{t})" for t in texts), re.IGNORECASE)) if texts else None
        except re.error as exc:
            problem(section, rid, "text", f"invalid regular expression: {exc}", "escape special characters")
            return None

    procedure_text: list[tuple[NamePattern, ProcedureRule]] = []
    procedure_sites: dict[str, tuple[NamePattern, NamePattern | None]] = {}
    for rid, raw in merged["procedures"].items():
        proc_rule = ProcedureRule.model_validate(
            {**raw, "codes": resolve("procedures", rid, raw["codes"] + raw["add_codes"]), "add_codes": []}
        )
        if proc_rule.topic and proc_rule.topic not in TOPICS:
            problem("procedures", rid, "topic", f"unknown topic {proc_rule.topic!r}", "use a topic the engine knows")
        for c in proc_rule.codes:
            by_code[(c.system, c.code)].append(Rule("procedure", proc_rule, origins[("procedures", rid)]))
        if (pattern := name_pattern("procedures", rid, proc_rule.text)) is not None:
            procedure_text.append((pattern, proc_rule))
        if (other := name_pattern("procedures", rid, proc_rule.other_sites)) is not None:
            procedure_sites[rid] = (other, name_pattern("procedures", rid, proc_rule.clone_sites))

    medication_text: list[tuple[NamePattern, MedicationRule]] = []
    for rid, raw in merged["medications"].items():
        med_rule = MedicationRule.model_validate(
            {**raw, "codes": resolve("medications", rid, raw["codes"] + raw["add_codes"]), "add_codes": []}
        )
        for c in med_rule.codes:
            by_code[(c.system, c.code)].append(Rule("medication", med_rule, origins[("medications", rid)]))
        if (pattern := name_pattern("medications", rid, med_rule.text)) is not None:
            medication_text.append((pattern, med_rule))

    for rid, raw in merged["course"].items():
        course_rule = CourseRule.model_validate(
            {**raw, "codes": resolve("course", rid, raw["codes"] + raw["add_codes"]), "add_codes": []}
        )
        if course_rule.domain not in CLINICAL_DOMAINS:
            problem(
                "course",
                rid,
                "domain",
                f"unknown domain {course_rule.domain!r}",
                f"use one of {', '.join(CLINICAL_DOMAINS)}",
            )
        for c in course_rule.codes:
            by_code[(c.system, c.code)].append(Rule("course", course_rule, origins[("course", rid)]))

    _report_codes_in_two_rules(by_code, systems, problem)

    translations: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    identity = [
        {"file": Path(f.path).name, "name": f.model.name, "version": f.model.version, "sha256": f.sha256} for f in files
    ]
    for cm in concept_maps or []:
        for key, targets in cm.translations.items():
            translations[key].extend(targets)
        identity.append({"file": Path(cm.path).name, "name": cm.name, "version": cm.version, "sha256": cm.sha256})

    result_terms = {
        normalise_term(t): Qual(meaning) for meaning, terms in merged["result_terms"].items() for t in terms
    }
    result_codes = {
        (systems.get(rc["system"], rc["system"]), str(rc["code"])): Qual(rc["means"])
        for rc in merged["result_codes"].values()
    }
    system_equivalents = {
        alias["uri"]: systems.get(canonical, canonical)
        for canonical, aliases in merged["system_equivalents"].items()
        for alias in aliases
    }
    # probe39: a mistyped canonical system ("…/icd-10-typo") or a standard system declared as another
    # ("http://loinc.org" as icd10) passed the check, and the site's data was then silently dropped
    rule_systems = {sy for sy, _ in by_code}
    for canonical, aliases in merged["system_equivalents"].items():
        target = systems.get(canonical, canonical)
        where = ("system_equivalents", canonical)
        if target not in rule_systems:
            located(
                where,
                f"system_equivalents.{canonical}",
                f"{canonical!r} is no system any rule is written in: its equivalents would map to nothing",
                f"use a short name from `systems` ({', '.join(sorted(systems))}) or its exact URI",
            )
        for alias in aliases:
            if alias["uri"] in rule_systems and alias["uri"] != target:
                known = next((k for k, v in systems.items() if v == alias["uri"]), alias["uri"])
                located(
                    ("system_equivalents.alias", alias["uri"]),
                    f"system_equivalents.{canonical}",
                    f"{alias['uri']!r} is itself the system of rules ({known}): declared {canonical}, every one of "
                    "its codes would be read as that system's",
                    "list only your local or national system URIs here",
                )
    system_patterns = []
    for canonical, patterns in merged["system_name_patterns"].items():
        for pattern in patterns:
            try:
                system_patterns.append((safe_compile(pattern["pattern"]), systems.get(canonical, canonical)))
            except re.error as exc:
                located(
                    ("system_name_patterns", pattern["pattern"]),
                    "system_name_patterns",
                    f"invalid regular expression {pattern['pattern']!r}: {exc}",
                    "escape special characters",
                )
    keywords = None
    if merged["coverage_keywords"]:
        try:
            keywords = safe_compile("|".join(f"(?:{k})" for k in merged["coverage_keywords"]), re.IGNORECASE)
        except re.error:
            for keyword in dict.fromkeys(merged["coverage_keywords"]):  # which ones, and where
                try:
                    safe_compile(keyword)
                except re.error as exc:
                    located(
                        ("coverage_keywords", keyword),
                        "coverage_keywords",
                        f"invalid regular expression {keyword!r}: {exc}",
                        "escape special characters",
                    )

    topics = {r.topic for r in conditions.values()} | {t for r in conditions.values() for t in r.also}
    negative_tests: dict[str, CompiledNegativeTest] = {}
    for topic, test in merged["negative_tests"].items():
        if topic not in topics:
            located(
                ("negative_tests", topic),
                "negative_tests",
                f"{topic!r} is no criterion a condition rule feeds",
                "use the topic of a condition rule (e.g. castleman_disease)",
            )
            continue
        compiled: dict[str, re.Pattern[str] | None] = {}
        for part in ("limited", "whole", "requires", "not_from"):
            words = test.get(part) or []
            try:
                compiled[part] = safe_compile("|".join(f"(?:{w})" for w in words), re.IGNORECASE) if words else None
            except re.error as exc:
                compiled[part] = None
                located(
                    ("negative_tests", topic),
                    "negative_tests",
                    f"{part}: invalid regular expression: {exc}",
                    "escape special characters",
                )
        negative_tests[topic] = CompiledNegativeTest(**compiled, positives_too=test.get("positives_too") or False)

    part_regions = _part_regions(merged["part_regions"], conditions, located)
    if problems:
        raise MappingError(problems)
    return CompiledMapping(
        identity=identity,
        thresholds=thresholds,
        unit_aliases=dict(merged["unit_aliases"]),
        by_code=dict(by_code),
        modalities=modalities,
        text=text_engine,
        ife_cues=BUILT_IN_CUES.with_phrases(**text_engine.section.immunofixation_context.model_dump()),
        conditions=conditions,
        translations=dict(translations),
        medication_text=medication_text,
        procedure_text=procedure_text,
        procedure_sites=procedure_sites,
        result_terms=result_terms,
        result_codes=result_codes,
        result_pointers=frozenset(normalise_term(t) for t in merged["result_pointers"]),
        system_equivalents=system_equivalents,
        system_patterns=system_patterns,
        observation_text=observation_text,
        observation_not_text=observation_not_text,
        observation_not_text_contexts=observation_not_text_contexts,
        coverage_keywords=keywords,
        negative_tests=negative_tests,
        part_regions=part_regions,
        local_route_words=local_route_words,
        understood_modifiers=frozenset(merged["understood_modifier_extensions"]),
    )


def load_mapping(site_files: list[str | Path] | str | Path | None = None) -> CompiledMapping:
    """Default mapping + site overrides (YAML) + site ConceptMaps (JSON), compiled. One path may be given
    alone (a string is not read as a list of one-letter paths)."""
    from .conceptmap import load_concept_map

    if isinstance(site_files, (str, Path)):
        site_files = [site_files]
    files = [load_file(default_mapping_path(), site=False)]
    concept_maps = []
    problems: list[Problem] = []
    complete = True  # every file (or what of it is valid) can take part in the checks across files
    pruned: set[str] = set()
    for path in site_files or []:
        try:
            if str(path).endswith(".json"):
                concept_maps.append(load_concept_map(path))
            else:
                files.append(load_file(path, site=True))
        except MappingError as exc:
            problems.extend(exc.problems)
            if exc.partial is None:
                complete = False
            else:
                files.append(exc.partial)
                pruned |= exc.pruned
    if problems and not complete:
        raise MappingError(problems)
    try:
        compiled = compile_mapping(files, concept_maps)
    except MappingError as exc:
        # one round of fixes, not several: the checks across files report with the file problems,
        # except those only caused by an entry that was taken out ("unknown threshold 'x'")
        problems.extend(p for p in exc.problems if not any(f"'{rid}'" in p.message for rid in pruned))
    if problems:
        raise MappingError(problems)
    return compiled


def _matches_nothing_in_particular(pattern: str) -> bool:
    """A display-text synonym that matches the empty string (``""``, ``.*``, ``a?``) matches any name."""
    try:
        return re.search(pattern, "") is not None
    except re.error:
        return False  # reported as an invalid regular expression
