# SPDX-License-Identifier: Apache-2.0
"""The criteria model: ids, states, evidence, findings and the assessment.

Pure data. Nothing here knows FHIR JSON, HTTP, files or the clock.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from enum import Enum


class State(str, Enum):
    """Four-valued state of a criterion or finding (criteria.md §3.3)."""

    PRESENT = "present"
    ABSENT = "absent"
    NOT_ASSESSED = "not_assessed"
    INDETERMINATE = "indeterminate"


class Strength(str, Enum):
    """How much a finding can carry: a negative plain radiograph is WEAK, a negative CT STRONG."""

    STRONG = "strong"
    WEAK = "weak"


class Classification(str, Enum):
    MET = "met"
    NOT_MET = "not_met"
    INDETERMINATE = "indeterminate"


#: the mapping rules whose findings speak of the clone in the bone marrow (a clonal plasma-cell count,
#: marrow histology): the marrow decides the treatment branch (criteria.md §10 steps 1/2), and a serum
#: test of the same day does not overrule it (mapping/text/findings.coded_wins)
MARROW_CLONE_RULES = frozenset({"bm_clonal_plasma_cells", "marrow_clonal_plasma_cells"})


class Criterion(str, Enum):
    """Stable criterion ids: they appear in output, mapping files and written resources."""

    POLYNEUROPATHY = "polyneuropathy"
    MONOCLONAL_PLASMA_CELL_DISORDER = "monoclonal_plasma_cell_disorder"
    CASTLEMAN_DISEASE = "castleman_disease"
    SCLEROTIC_BONE_LESIONS = "sclerotic_bone_lesions"
    VEGF_ELEVATION = "vegf_elevation"
    ORGANOMEGALY = "organomegaly"
    EXTRAVASCULAR_VOLUME_OVERLOAD = "extravascular_volume_overload"
    ENDOCRINOPATHY = "endocrinopathy"
    SKIN_CHANGES = "skin_changes"
    PAPILLEDEMA = "papilledema"
    THROMBOCYTOSIS_POLYCYTHEMIA = "thrombocytosis_polycythemia"


class Sign(str, Enum):
    """Supporting signs: reported, never counted by a rule (criteria.md §2 'OTH')."""

    CLUBBING = "clubbing"
    WEIGHT_LOSS = "weight_loss"
    PULMONARY_HYPERTENSION = "pulmonary_hypertension"
    PERICARDIAL_EFFUSION = "pericardial_effusion"
    THROMBOSIS = "thrombosis"
    DIARRHEA = "diarrhea"
    LOW_VITAMIN_B12 = "low_vitamin_b12"
    HYPERHIDROSIS = "hyperhidrosis"
    ANEMIA = "anemia"
    THROMBOCYTOPENIA = "thrombocytopenia"


#: signs that speak against POEMS rather than for it: read and flagged, never "supporting"
CYTOPENIAS = frozenset({Sign.ANEMIA.value, Sign.THROMBOCYTOPENIA.value})


class Differential(str, Enum):
    """Mimics the clinician must see (criteria.md §7)."""

    CIDP = "cidp"
    MULTIPLE_MYELOMA = "multiple_myeloma"
    AL_AMYLOIDOSIS = "al_amyloidosis"
    MGUS = "mgus"
    CASTLEMAN_WITHOUT_NEUROPATHY = "castleman_without_neuropathy"
    VEGF_CONFOUNDER = "vegf_confounder"  # other high-VEGF states (criteria.md §4, §7)
    DIABETIC_POLYNEUROPATHY = "diabetic_polyneuropathy"  # a neuropathy with a recorded other cause
    #: a polyneuropathy recorded as drug-induced, alcoholic or due to another toxic agent (ICD-10 G62.0-G62.2)
    TOXIC_POLYNEUROPATHY = "toxic_polyneuropathy"
    #: an IgM neuropathy recorded: anti-MAG antibodies or neuropathy, Waldenström macroglobulinaemia (§7
    #: "MGUS-associated neuropathy (esp. IgM, anti-MAG)")
    IGM_NEUROPATHY = "igm_neuropathy"
    #: a myeloproliferative neoplasm recorded (essential thrombocythaemia, polycythaemia vera, myelofibrosis; §7
    #: "Myeloproliferative neoplasm ... JAK2/CALR/MPL work-up"): its own thrombocytosis and platelet-released
    #: serum VEGF (§4) can make a monoclonal gammopathy with a neuropathy look like POEMS (probe128 D8)
    MYELOPROLIFERATIVE_NEOPLASM = "myeloproliferative_neoplasm"


#: facts that are no criterion but make a normal result of one low-grade (criteria.md §6, "Low-grade
#: negative"): an acute illness at a VEGF sample, a bleed or a transfusion at a blood count. Their
#: findings are PRESENT, dated from ``effective`` to ``resolved_on`` (the mapping bounds an acute one)
ACUTE_ILLNESS = "acute_illness"
BLEEDING_OR_TRANSFUSION = "bleeding_or_transfusion"
CONTEXT_TOPICS = frozenset({ACUTE_ILLNESS, BLEEDING_OR_TRANSFUSION})


class EndocrineAxis(str, Enum):
    ADRENAL = "adrenal"
    THYROID = "thyroid"
    PITUITARY = "pituitary"
    GONADAL = "gonadal"
    PARATHYROID = "parathyroid"
    PANCREATIC = "pancreatic"


#: Axes that alone do not satisfy the endocrinopathy minor criterion (criteria.md §2 MIN-3).
CAVEAT_AXES = frozenset({EndocrineAxis.THYROID, EndocrineAxis.PANCREATIC})


#: a reference a FHIR server can resolve: Type/id (with a version) or an absolute URL
_RESOLVABLE = re.compile(r"[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}(?:/_history/[A-Za-z0-9\-.]{1,64})?|https?://\S+")


def resolvable_reference(reference: str) -> bool:
    """Whether an evidence reference names a resource (Type/id or a URL). Evidence read from a file
    resource without an id is cited as FILE:LINE instead: shown, never linked or written as a Reference."""
    return _RESOLVABLE.fullmatch(reference) is not None


@dataclass(frozen=True)
class Evidence:
    """One source fact: which resource, when, and what it showed."""

    reference: str  # e.g. "Observation/123"
    effective: dt.date | None
    summary: str  # human text: "IgA lambda", "VEGF 412 pg/mL (plasma)"
    value: float | None = None
    unit: str | None = None
    code: str | None = None  # "system|code" that matched
    supporting: tuple[str, ...] = ()  # e.g. Condition.evidence.detail references
    # "<", ">" ... of a censored value: "<250" is not 250 (probe98 D6: the JSON said 250.0, a number at the cut-off)
    comparator: str | None = None

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"reference": self.reference, "summary": self.summary}
        out["effective"] = self.effective.isoformat() if self.effective else None
        if self.value is not None:
            if self.comparator:
                out["comparator"] = self.comparator
            out["value"] = self.value
            out["unit"] = self.unit
        if self.code:
            out["code"] = self.code
        if self.supporting:
            out["supporting"] = list(self.supporting)
        return out


@dataclass(frozen=True)
class Site:
    """Where a study report saw (or did not see) a finding: what tells two reports of one day apart
    (probe115 D3, D4: a chest CT's "No lymphadenopathy." is no denial of an abdominal CT's nodes)."""

    #: the body regions the study's name covers ("chest", "abdomen", "whole"); empty: not known
    field: frozenset[str] = frozenset()
    #: the places its sentence names ("axillary", "l3", "left"): a denial naming one denies that place only
    places: frozenset[str] = frozenset()
    #: a denial limited to a place by its words ("no sclerotic lesions in the skull"), known or not
    located: bool = False
    #: the report's specimen references: two excised nodes are two specimens
    specimens: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Finding:
    """One fact about one criterion, sign or differential, produced by the mapping layer.

    ``topic`` is a Criterion, Sign or Differential id. ``state`` is what this single fact says.
    Assertions (Condition) and measurements (Observation) combine differently over time.
    """

    topic: str
    state: State
    evidence: Evidence
    strength: Strength = Strength.STRONG
    note: str | None = None
    axis: EndocrineAxis | None = None  # endocrinopathy only
    heavy_chain: str | None = None  # monoclonal protein isotype, e.g. "IgA"
    light_chain: str | None = None  # "lambda" | "kappa"
    specimen: str | None = None  # "serum" | "plasma" for VEGF
    #: part of an "any of" criterion, e.g. "thrombocytosis" or "polycythemia" for MIN-6, "liver"
    #: for organomegaly; "liver+spleen" names two parts; None speaks for every part
    component: str | None = None
    is_assertion: bool = False  # True for clinician statements (Condition)
    source_rule: str | None = None  # the mapping rule that produced it, e.g. "pleural_effusion"
    resolved_on: dt.date | None = None  # Condition abatement, when it is resolved/inactive
    from_text: bool = False  # read from clinical text (mapping/text), not from a code or value
    #: read from the text of a report that is no study of its own (a clinic letter, a note, a lab panel's
    #: comment): what it says of a test is retold, and a laboratory result of the test outranks it (probe114 D4)
    retold: bool = False
    #: the facts that make this negative low-grade (a VEGF confounder, an acute illness, a transfusion):
    #: cited with it as evidence of the criterion's state (probe98 D1)
    context: tuple[Evidence, ...] = ()
    #: why a low-grade negative should be repeated, and so how (the CarePlan's proposal, probe98 D8):
    #: "corticosteroid", "confounder", "acute_illness", "bleeding_or_transfusion"; None: the usual work-up
    retest: str | None = None
    #: a study report's finding: where it was seen (Site); None for every other source
    site: Site | None = None

    @property
    def effective(self) -> dt.date | None:
        return self.evidence.effective


@dataclass(frozen=True)
class CriterionResult:
    criterion: str
    state: State
    reason: str
    evidence: tuple[Evidence, ...] = ()
    #: True while new data could still make this criterion present (not assessed, indeterminate,
    #: or absent only by the thyroid/diabetes caveat with other endocrine axes untested).
    open: bool = False
    caveat: str | None = None
    #: a low-grade negative's reason to repeat the test (Finding.retest): the work-up proposed says how
    retest: str | None = None
    #: an "any of" criterion whose other parts were all found absent: the parts not assessed, which alone
    #: could still make it present (the work-up asks for them only: probe98 D9, probe100 D9)
    unassessed_parts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Flag:
    """Something a clinician must see beside the classification."""

    code: str
    message: str
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class MissingItem:
    criterion: str
    reason: str
    suggestion: str


@dataclass(frozen=True)
class Assessment:
    patient: str
    as_of: dt.date | None
    profile: str
    classification: Classification
    criteria: dict[str, CriterionResult]
    missing: tuple[MissingItem, ...]
    flags: tuple[Flag, ...]
    signs: dict[str, CriterionResult] = field(default_factory=dict)
    clinician_assertions: tuple[Evidence, ...] = ()
    summary: str = ""

    def supporting_present(self) -> list[tuple[str, CriterionResult]]:
        """The supporting signs present, to show as such: not the cytopenias - anaemia and
        thrombocytopenia are unusual in POEMS (criteria.md MIN-6 footnote), shown by their flag instead."""
        return [(s, r) for s, r in self.signs.items() if r.state is State.PRESENT and s not in CYTOPENIAS]
