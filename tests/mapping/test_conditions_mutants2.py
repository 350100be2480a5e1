"""Conditions (clinician assertions) as findings: organomegaly, neuropathy, skin, endocrine axes,
sclerotic lesions — state by verification status, dates, resolution, evidence, broader codes.

criteria.md §6 "FHIR encoding": an absent finding is a Condition with verificationStatus refuted;
a refutation resting on plain radiographs only is low-grade evidence of absence for MAJ-4 (§2, §6).
§3.3: a finding not confirmed is not PRESENT. §3.3 "Time": a criterion counts once present at any
time, so a resolved Condition keeps its onset and says when it resolved. A clinician's "POEMS
syndrome" entry is not evidence for any criterion: it is recorded as the clinician's assertion only.
§5: diabetes is the pancreatic axis."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from poems_fhir.criteria.model import EndocrineAxis, State, Strength
from poems_fhir.mapping.extract import extract
from tests.conftest import diagnostic_report as report
from tests.conftest import make_record

SCT = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
VS = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CS = "http://terminology.hl7.org/CodeSystem/condition-clinical"
HEPATOMEGALY = {"system": SCT, "code": "80515008"}


def cond(
    *codings: dict[str, Any],
    text: str | None = None,
    verification: str | None = None,
    clinical: str | None = None,
    **kw: Any,
) -> dict[str, Any]:
    code: dict[str, Any] = {"coding": list(codings)}
    if text:
        code["text"] = text
    c: dict[str, Any] = {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"}, "code": code}
    if verification:
        c["verificationStatus"] = {"coding": [{"system": VS, "code": verification}]}
    if clinical:
        c["clinicalStatus"] = {"coding": [{"system": CS, "code": clinical}]}
    c.update(kw)
    return c


def run(mapping, *resources: dict[str, Any]):
    ex = extract(make_record(*resources), mapping)
    assert ex.errors == []
    return ex, [f for f in ex.findings if f.evidence.reference == "Condition/c1"]


def test_a_confirmed_condition_is_a_present_assertion_with_its_evidence(mapping):
    _, [f] = run(
        mapping, cond(dict(HEPATOMEGALY, display="Hepatomegaly"), onsetDateTime="2023-05-01", recordedDate="2023-06-01")
    )
    assert (f.topic, f.state, f.strength, f.note) == ("organomegaly", State.PRESENT, Strength.STRONG, None)
    assert (f.component, f.axis, f.is_assertion, f.source_rule) == ("liver", None, True, "hepatomegaly")
    assert f.resolved_on is None and f.from_text is False
    assert f.evidence.summary == "Hepatomegaly (confirmed)"
    assert f.evidence.effective == dt.date(2023, 5, 1)  # the onset, not the day it was recorded
    assert f.evidence.code == f"{SCT}|80515008"
    assert f.evidence.supporting == ()


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        ({"recordedDate": "2023-06-01"}, dt.date(2023, 6, 1)),
        ({"onsetPeriod": {"start": "2023-04-01"}, "recordedDate": "2023-06-01"}, dt.date(2023, 4, 1)),
        ({}, None),
    ],
)
def test_the_date_is_the_onset_else_the_recorded_date(mapping, dates, expected):
    _, [f] = run(mapping, cond(HEPATOMEGALY, **dates))
    assert f.evidence.effective == expected


def test_without_a_label_the_rule_id_names_it(mapping):
    _, [f] = run(mapping, cond(HEPATOMEGALY))
    assert f.evidence.summary == "hepatomegaly (confirmed)"


def test_the_text_labels_it_before_the_display(mapping):
    _, [f] = run(mapping, cond(dict(HEPATOMEGALY, display="Hepatomegaly"), text="Enlarged liver on exam"))
    assert f.evidence.summary == "Enlarged liver on exam (confirmed)"


@pytest.mark.parametrize(
    ("onset", "recorded", "expected"),
    [("2023-05-01", "2023-06-01", dt.date(2023, 6, 1)), ("2023-05-01", None, dt.date(2023, 5, 1))],
)
def test_a_refuted_condition_is_absent_as_of_the_day_it_was_refuted(mapping, onset, recorded, expected):
    extra = {"onsetDateTime": onset} | ({"recordedDate": recorded} if recorded else {})
    _, [f] = run(mapping, cond(HEPATOMEGALY, verification="refuted", **extra))
    assert (f.state, f.strength, f.note, f.is_assertion) == (State.ABSENT, Strength.STRONG, None, True)
    assert f.evidence.summary == "hepatomegaly (refuted)" and f.evidence.effective == expected


@pytest.mark.parametrize("verification", ["provisional", "differential", "unconfirmed"])
def test_a_diagnosis_not_confirmed_is_indeterminate_with_why(mapping, verification):
    _, [f] = run(mapping, cond(HEPATOMEGALY, verification=verification, onsetDateTime="2023-05-01"))
    assert (f.state, f.component) == (State.INDETERMINATE, "liver")
    assert f.note == f"hepatomegaly: {verification} diagnosis, not confirmed"
    assert f.evidence.summary == f"hepatomegaly ({verification})"
    assert f.evidence.effective == dt.date(2023, 5, 1)


def test_entered_in_error_is_ignored(mapping):
    ex, found = run(mapping, cond(HEPATOMEGALY, verification="entered-in-error"))
    assert found == [] and ex.notes == []


def test_a_verification_code_that_is_no_fhir_code_is_a_reported_skip(mapping):
    # probe32: reading an unknown code as confirmed turned "REFUTED" and friends into a present criterion
    c = cond(HEPATOMEGALY, verificationStatus={"coding": [{"system": VS, "code": "maybe"}]})
    ex = extract(make_record(c), mapping)
    assert ex.findings == []
    [err] = ex.errors
    assert err.message.startswith("verificationStatus 'maybe' is no FHIR code (confirmed, differential,")


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ({"coding": [{"system": VS, "code": "REFUTED"}]}, State.ABSENT),
        ({"coding": [{"system": VS, "code": "refuted "}]}, State.ABSENT),
        ({"text": "refuted"}, State.ABSENT),
        (
            {"coding": [{"system": "http://snomed.info/sct", "code": "410605003", "display": "Confirmed"}]},
            State.PRESENT,
        ),
        ({"coding": [{"system": VS, "code": "Entered_in_error"}]}, None),
    ],
)
def test_a_garbled_verification_code_is_read_as_the_code_it_spells(mapping, status, state):
    ex = extract(make_record(cond(HEPATOMEGALY, verificationStatus=status)), mapping)
    assert ex.errors == []
    assert [f.state for f in ex.findings] == ([state] if state else [])


def test_contradicting_verification_codes_are_a_reported_skip(mapping):
    status = {"coding": [{"system": VS, "code": "confirmed"}, {"system": VS, "code": "refuted"}]}
    ex = extract(make_record(cond(HEPATOMEGALY, verificationStatus=status)), mapping)
    assert ex.findings == [] and "says confirmed and refuted at once" in ex.errors[0].message


@pytest.mark.parametrize(
    ("clinical", "abatement", "resolved_on"),
    [
        ("resolved", {"abatementDateTime": "2024-01-01"}, dt.date(2024, 1, 1)),
        ("inactive", {"abatementPeriod": {"start": "2024-02-01"}}, dt.date(2024, 2, 1)),
        ("remission", {"abatementDateTime": "2024-03-01"}, dt.date(2024, 3, 1)),
        ("resolved", {}, None),  # resolved on a day not given
        ("recurrence", {"abatementDateTime": "2024-01-01"}, None),  # not resolved
    ],
)
def test_a_resolved_condition_stays_present_and_says_when_it_resolved(mapping, clinical, abatement, resolved_on):
    _, [f] = run(mapping, cond(HEPATOMEGALY, clinical=clinical, onsetDateTime="2023-05-01", **abatement))
    assert f.state is State.PRESENT and f.resolved_on == resolved_on
    assert f.evidence.summary == f"hepatomegaly (confirmed, {clinical})"
    assert f.evidence.effective == dt.date(2023, 5, 1)


def test_an_active_condition_shows_no_clinical_status(mapping):
    _, [f] = run(mapping, cond(HEPATOMEGALY, clinical="active", abatementDateTime="2024-01-01"))
    assert f.evidence.summary == "hepatomegaly (confirmed)" and f.resolved_on is None


def test_one_finding_per_topic_and_part_however_many_codings_map_to_it(mapping):
    # two codings of the liver are one finding; a spleen coded beside them is another part of the
    # same criterion (organomegaly combines liver, spleen and nodes as parts, README "How the criteria
    # are evaluated"): it is kept, not dropped as a second organomegaly
    _, found = run(mapping, cond(HEPATOMEGALY, {"system": ICD10CM, "code": "R16.0"}))
    assert [(f.topic, f.source_rule, f.component) for f in found] == [("organomegaly", "hepatomegaly", "liver")]
    _, found = run(
        mapping, cond(HEPATOMEGALY, {"system": ICD10CM, "code": "R16.0"}, {"system": SCT, "code": "16294009"})
    )
    assert [(f.topic, f.source_rule, f.component) for f in found] == [
        ("organomegaly", "hepatomegaly", "liver"),
        ("organomegaly", "splenomegaly", "spleen"),
    ]


def test_a_diabetic_polyneuropathy_is_neuropathy_a_differential_and_the_pancreatic_axis(mapping):
    _, found = run(mapping, cond({"system": ICD10CM, "code": "E11.42"}))
    assert {f.topic: f.axis for f in found} == {
        "polyneuropathy": EndocrineAxis.PANCREATIC,
        "diabetic_polyneuropathy": EndocrineAxis.PANCREATIC,
        "endocrinopathy": EndocrineAxis.PANCREATIC,
    }
    assert all(f.state is State.PRESENT and f.source_rule == "diabetic_polyneuropathy" for f in found)


@pytest.mark.parametrize(("code", "axis"), [("E03.9", "thyroid"), ("E29.1", "gonadal"), ("E27.1", "adrenal")])
def test_an_endocrine_condition_names_its_axis(mapping, code, axis):
    _, [f] = run(mapping, cond({"system": ICD10CM, "code": code}))
    assert (f.topic, f.state, f.axis) == ("endocrinopathy", State.PRESENT, EndocrineAxis(axis))


def test_a_more_specific_icd10_code_is_read_as_its_parent_with_a_note(mapping):
    ex, [f] = run(mapping, cond({"system": ICD10CM, "code": "G62.88"}))
    assert (f.topic, f.state, f.source_rule) == ("polyneuropathy", State.PRESENT, "polyneuropathy")
    assert [(n.kind, n.reference, n.rule, n.detail) for n in ex.notes] == [
        ("broader_code", "Condition/c1", "polyneuropathy", f"{ICD10CM}|G62.88 read as its parent code")
    ]


def test_a_refuted_unknown_code_is_not_read_as_its_parent(mapping):
    # "not G62.88" does not refute every polyneuropathy
    ex, found = run(mapping, cond({"system": ICD10CM, "code": "G62.88"}, verification="refuted"))
    assert found == [] and [n for n in ex.notes if n.kind == "broader_code"] == []


@pytest.mark.parametrize("verification", [None, "provisional", "refuted"])
def test_a_clinicians_poems_diagnosis_is_only_the_clinicians_assertion(mapping, verification):
    _, [f] = run(
        mapping,
        cond({"system": "http://hospital.local/dx", "code": "P1"}, text="POEMS syndrome", verification=verification),
    )
    assert (f.topic, f.state, f.is_assertion) == ("clinician_poems_assertion", State.PRESENT, True)
    assert f.source_rule == "poems_clinician_diagnosis"
    assert f.evidence.summary == f"POEMS syndrome ({verification or 'confirmed'})"
    assert f.evidence.code == "http://hospital.local/dx|P1"


def test_a_word_containing_poems_is_not_a_poems_diagnosis(mapping):
    _, found = run(mapping, cond({"system": "http://hospital.local/dx", "code": "P2"}, text="Poemsville clinic visit"))
    assert found == []


def test_the_evidence_cites_the_condition_evidence_details(mapping):
    c = cond(
        HEPATOMEGALY,
        evidence=[
            {"detail": [{"reference": "DiagnosticReport/d1"}, {"display": "no ref"}]},
            {"detail": [{"reference": "Observation/o9"}]},
            {},
        ],
    )
    _, [f] = run(mapping, c)
    assert f.evidence.supporting == ("DiagnosticReport/d1", "Observation/o9")


# --------------------------------------------------------------- refutation on plain radiographs (MAJ-4)


SCLEROTIC = {"system": ICD10CM, "code": "M85.89"}
XRAY_ONLY = (
    "refuted on DiagnosticReport/x1 (radiograph) only: a plain radiograph is low-grade evidence of absence "
    "(small sclerotic lesions are missed); CT-based imaging needed"
)


@pytest.mark.parametrize(
    ("reports", "strength", "note"),
    [
        ([report("x1", "Skeletal survey")], Strength.WEAK, XRAY_ONLY),
        ([report("x1", "Skeletal survey"), report("c2", "CT whole body")], Strength.STRONG, None),
        ([report("c2", "PET-CT")], Strength.STRONG, None),
        ([report("u3", "Ultrasound abdomen")], Strength.STRONG, None),  # not imaging of bone: no modality
        ([], Strength.STRONG, None),  # no report cited (a missing one is weighed: probe81 D3, below)
    ],
)
def test_a_refutation_resting_on_plain_radiographs_only_is_weak(mapping, reports, strength, note):
    refs = [{"reference": f"DiagnosticReport/{r['id']}"} for r in reports] + [{"reference": "Observation/o1"}]
    c = cond(SCLEROTIC, verification="refuted", evidence=[{"detail": refs}], recordedDate="2024-02-01")
    _, [f] = run(
        mapping, *reports, {"resourceType": "Observation", "id": "o1", "status": "final", "code": {"text": "x-ray"}}, c
    )
    assert (f.topic, f.state, f.strength, f.note) == ("sclerotic_bone_lesions", State.ABSENT, strength, note)


RAD = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD"}]}]
UNKNOWN_ONLY = "only: which test it was is not known (a low-grade negative); CT-based whole-body imaging decides"


@pytest.mark.parametrize(
    ("cited", "note"),
    [
        # the UK name of a skeletal survey: a plain radiograph
        (report("b1", "Bone survey"), XRAY_ONLY.replace("x1", "b1")),
        (
            {**report("b1", "Radiology report"), "category": RAD},
            f"refuted on DiagnosticReport/b1 (imaging of an unrecognised modality) {UNKNOWN_ONLY}",
        ),
        (
            {**report("b1", "Imaging study"), "category": RAD},
            f"refuted on DiagnosticReport/b1 (imaging of an unrecognised modality) {UNKNOWN_ONLY}",
        ),
        (None, f"refuted on DiagnosticReport/b1 (not in the input) {UNKNOWN_ONLY}"),
    ],
    ids=["bone-survey", "radiology-report", "imaging-study", "missing"],
)
def test_a_refutation_resting_on_a_report_of_unknown_modality_is_weak(mapping, cited, note):
    # probe81 D3: the report read alone is a low-grade negative; the refutation citing it was a full absent
    c = cond(SCLEROTIC, verification="refuted", evidence=[{"detail": [{"reference": "DiagnosticReport/b1"}]}])
    _, [f] = run(mapping, *([cited] if cited else []), c)
    assert (f.state, f.strength, f.note) == (State.ABSENT, Strength.WEAK, note)


@pytest.mark.parametrize("status", ["Ｐatient/x", "entered-in-error", "cancelled", "registered"])
def test_a_refutation_resting_on_a_report_not_read_is_weak(mapping, status):
    # probe81 L5: a whole-body CT listed "not read" (its status no FHIR code, or withdrawn) still made the
    # refutation citing it a full absent; one CT of status final beside it keeps it strong
    ct = {**report("c2", "CT whole body"), "status": status}
    c = cond(SCLEROTIC, verification="refuted", evidence=[{"detail": [{"reference": "DiagnosticReport/c2"}]}])
    ex = extract(make_record(ct, c), mapping)
    assert [e.resource for e in ex.errors] == (["DiagnosticReport/c2"] if "/" in status else [])  # listed
    [f] = [f for f in ex.findings if f.evidence.reference == "Condition/c1"]
    assert (f.state, f.strength) == (State.ABSENT, Strength.WEAK)
    assert f.note == (
        f"refuted on DiagnosticReport/c2 (status {status!r}) only: a report not read (withdrawn, without a "
        "result, its status cannot be told, or it carries a modifier extension not understood) - a low-grade "
        "negative"
    )
    both = cond(
        SCLEROTIC,
        verification="refuted",
        evidence=[{"detail": [{"reference": "DiagnosticReport/c2"}, {"reference": "DiagnosticReport/c3"}]}],
    )
    ex = extract(make_record(ct, report("c3", "PET-CT"), both), mapping)
    [g] = [f for f in ex.findings if f.evidence.reference == "Condition/c1"]
    assert (g.strength, g.note) == (Strength.STRONG, None)


def test_a_confirmed_finding_on_a_radiograph_is_strong(mapping):
    c = cond(SCLEROTIC, evidence=[{"detail": [{"reference": "DiagnosticReport/x1"}]}])
    _, [f] = run(mapping, report("x1", "Skeletal survey"), c)
    assert (f.state, f.strength, f.note) == (State.PRESENT, Strength.STRONG, None)


# --------------------------------------------------------------- more than the table: words, notes, dates


def test_a_condition_with_words_only_is_read_as_the_clinicians_text(mapping):
    c = cond(
        text="Hepatomegaly",
        onsetDateTime="2023-01-01",
        recordedDate="2023-02-01",
        evidence=[{"detail": [{"reference": "DiagnosticReport/d9"}]}],
    )
    c["code"].pop("coding")
    _, [f] = run(mapping, c)
    assert (f.topic, f.component, f.state, f.from_text, f.is_assertion) == (
        "organomegaly",
        "liver",
        State.PRESENT,
        True,
        True,
    )
    assert f.evidence.summary == 'Hepatomegaly: "Hepatomegaly" (from text, code.text)'
    assert f.evidence.effective == dt.date(2023, 1, 1) and f.evidence.supporting == ("DiagnosticReport/d9",)


@pytest.mark.parametrize(("verification", "state"), [("refuted", State.ABSENT), ("provisional", State.INDETERMINATE)])
def test_the_words_keep_the_verification_status(mapping, verification, state):
    c = cond(text="Hepatomegaly", verification=verification, recordedDate="2023-02-01")
    c["code"].pop("coding")
    _, [f] = run(mapping, c)
    assert (f.state, f.evidence.effective) == (state, dt.date(2023, 2, 1))


def test_the_words_of_a_standard_code_no_rule_knows_are_not_read(mapping):
    # a SNOMED or ICD-10 code the tables do not hold is another concept on purpose
    for system in ("http://snomed.info/sct", "http://hl7.org/fhir/sid/icd-10-cm", "urn:oid:2.16.840.1.113883.6.3"):
        _, found = run(mapping, cond({"system": system, "code": "X"}, text="Hepatomegaly"))
        assert found == []


def test_the_words_of_a_local_code_are_read_as_the_clinicians(mapping):
    # a problem list in the site's own codes: its name is read by the text engine, said to be so
    _, [f] = run(mapping, cond({"system": "http://hospital.local/dx", "code": "X"}, text="Hepatomegaly"))
    assert (f.component, f.state, f.from_text) == ("liver", State.PRESENT, True)
    assert "the name of local code http://hospital.local/dx|X" in f.evidence.summary
    # a local coding beside a standard one is not read: the standard code speaks for the concept
    both = cond({"system": "http://hospital.local/dx", "code": "X"}, text="Hepatomegaly")
    both["code"]["coding"].append({"system": "http://snomed.info/sct", "code": "1"})
    assert run(mapping, both)[1] == []


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        ({"onsetDateTime": "2023-01-01", "recordedDate": "2023-02-01"}, dt.date(2023, 1, 1)),
        ({"recordedDate": "2023-02-01"}, dt.date(2023, 2, 1)),
    ],
)
def test_the_notes_of_a_condition_are_read_on_its_date(mapping, dates, expected):
    ex = extract(make_record(cond(HEPATOMEGALY, note=[{"text": "Also splenomegaly."}], **dates)), mapping)
    assert ex.errors == []
    [note] = [f for f in ex.findings if f.from_text]
    assert (note.component, note.state, note.evidence.effective) == ("spleen", State.PRESENT, expected)
    assert note.evidence.summary == '"Also splenomegaly." (from text, note[0])'


def test_a_refuted_condition_without_dates_has_no_date(mapping):
    _, [f] = run(mapping, cond(HEPATOMEGALY, verification="refuted"))
    assert f.state is State.ABSENT and f.evidence.effective is None


def test_a_second_rule_adds_its_other_topics(mapping):
    # polyneuropathy (G62.9) and CIDP (polyneuropathy + the cidp differential): polyneuropathy once, cidp too
    _, found = run(mapping, cond({"system": ICD10CM, "code": "G62.9"}, {"system": SCT, "code": "128209004"}))
    assert [(f.topic, f.source_rule) for f in found] == [("polyneuropathy", "polyneuropathy"), ("cidp", "cidp")]


def test_the_rule_name_in_a_note_is_in_words(mapping):
    _, [f] = run(mapping, cond({"system": SCT, "code": "60046008"}, verification="provisional"))
    assert f.note == "pleural effusion: provisional diagnosis, not confirmed"


@pytest.mark.parametrize(
    ("dates", "message"),
    [
        ({"onsetDateTime": "yesterday"}, "onsetDateTime is not a FHIR date: 'yesterday'"),
        ({"onsetPeriod": {"start": "2023-13-01"}}, "onsetPeriod.start is not a valid date: '2023-13-01'"),
        ({"recordedDate": 20230101}, "recordedDate is not a date string: 20230101"),
        (
            {"clinicalStatus": {"coding": [{"system": CS, "code": "resolved"}]}, "abatementDateTime": "soon"},
            "abatementDateTime is not a FHIR date: 'soon'",
        ),
        (
            {"clinicalStatus": {"coding": [{"system": CS, "code": "resolved"}]}, "abatementPeriod": {"start": "x"}},
            "abatementPeriod.start is not a FHIR date: 'x'",
        ),
    ],
)
def test_a_bad_date_is_an_error_that_names_the_element(mapping, dates, message):
    ex = extract(make_record(cond(HEPATOMEGALY, **dates)), mapping)
    assert ex.findings == []
    [err] = ex.errors
    assert err.message == message


def test_a_refutation_citing_a_contained_radiograph_is_weak(mapping):
    c = cond(
        SCLEROTIC,
        verification="refuted",
        evidence=[{"detail": [{"reference": "#x1"}]}],
        contained=[report("x1", "Skeletal survey")],
    )
    _, [f] = run(mapping, c)
    assert (f.state, f.strength) == (State.ABSENT, Strength.WEAK)
    assert f.note is not None and f.note.startswith("refuted on #x1 (radiograph) only")


@pytest.mark.parametrize(
    ("refs", "note"),
    [
        (
            ["DiagnosticReport/gone", "DiagnosticReport/x1"],
            "refuted on DiagnosticReport/x1 (radiograph), DiagnosticReport/gone (not in the input) only",
        ),
        (
            ["Observation/o1", "DiagnosticReport/u3", "DiagnosticReport/x1"],
            "refuted on DiagnosticReport/x1 (radiograph) only",
        ),
        (
            ["DiagnosticReport/x1", "DiagnosticReport/x2"],
            "refuted on DiagnosticReport/x1 (radiograph), DiagnosticReport/x2 (radiograph) only",
        ),
    ],
)
def test_every_cited_report_is_weighed_whatever_comes_first(mapping, refs, note):
    c = cond(SCLEROTIC, verification="refuted", evidence=[{"detail": [{"reference": r} for r in refs]}])
    resources = [
        report("x1", "Skeletal survey"),
        report("x2", "X-ray skull"),
        report("u3", "Ultrasound abdomen"),
        {"resourceType": "Observation", "id": "o1", "status": "final", "code": {"text": "note"}},
    ]
    _, [f] = run(mapping, *resources, c)
    assert (f.state, f.strength) == (State.ABSENT, Strength.WEAK)
    assert (
        f.note
        == f"{note}: a plain radiograph is low-grade evidence of absence (small sclerotic lesions are missed); CT-based imaging needed"
    )


def test_the_evidence_code_is_the_first_coding_with_a_system_and_a_code(mapping):
    _, [f] = run(mapping, cond({"code": "local-only"}, {"system": SCT}, HEPATOMEGALY))
    assert f.evidence.code == f"{SCT}|80515008"


def test_a_condition_citing_a_report_overrules_that_reports_words(mapping):
    # text/findings.coded_wins: the clinician's coded Condition cites the CT it rests on - words that state it
    # only repeat it
    c = cond(HEPATOMEGALY, onsetDateTime="2023-01-01", evidence=[{"detail": [{"reference": "DiagnosticReport/d1"}]}])
    ct = report("d1", "CT abdomen") | {
        "conclusion": "Hepatomegaly, liver span 19 cm.",
        "effectiveDateTime": "2024-01-05",
    }
    ex = extract(make_record(ct, c), mapping)
    assert ex.errors == []
    assert [(f.evidence.reference, f.state, f.from_text) for f in ex.findings] == [
        ("Condition/c1", State.PRESENT, False)
    ]
    # ... words that deny it do not go: the Condition's own evidence denies it, a conflict (fix116a, probe114 i10)
    ct["conclusion"] = "No hepatomegaly."
    ex = extract(make_record(ct, c), mapping)
    assert [(f.evidence.reference, f.state, f.from_text) for f in ex.findings] == [
        ("Condition/c1", State.INDETERMINATE, False),
        ("DiagnosticReport/d1", State.ABSENT, True),
    ]


def test_a_report_not_cited_keeps_its_words(mapping):
    c = cond(HEPATOMEGALY, onsetDateTime="2023-01-01")
    ct = report("d1", "CT abdomen") | {"conclusion": "No hepatomegaly.", "effectiveDateTime": "2024-01-05"}
    ex = extract(make_record(ct, c), mapping)
    assert sorted((f.evidence.reference, f.state) for f in ex.findings) == [
        ("Condition/c1", State.PRESENT),
        ("DiagnosticReport/d1", State.ABSENT),
    ]


@pytest.mark.parametrize(
    "name",
    [
        "Crow-Fukase syndrome",
        "Takatsuki syndrome",
        "Синдром Кроу-Фукасе",
        # the acronym spelt out is the diagnosis' name, not five findings
        "Polyneuropathy, organomegaly, endocrinopathy, M-protein, skin changes (POEMS)",
        "Polyneuropathy, organomegaly, endocrinopathy, monoclonal gammopathy and skin changes",
        # probe36: POEMS' old name made sclerotic lesions present without imaging (a "met")
        "Osteosclerotic myeloma",
        "Остеосклеротическая миелома",
    ],
)
def test_poems_by_its_other_names_is_the_clinicians_assertion(mapping, name):
    _, found = run(mapping, cond({"system": "http://hospital.local/dx", "code": "P1"}, text=name))
    assert [(f.topic, f.source_rule) for f in found] == [("clinician_poems_assertion", "poems_clinician_diagnosis")]
