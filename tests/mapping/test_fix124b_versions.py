"""Versions across containers, precisions, feeds and report names (probe124 D2, D3, D4, D6, D7).

FHIR feeds send one result in several shapes: a preliminary inside its report and the final alone (D2), an
amendment stamped to the second of a result dated to the day (D3), a correction from a second feed with its own
Specimen resource of the same accession (D4), an immunofixation contained in an SPEP panel and listed in its
``hasMember`` (D6), and an amended imaging report whose name differs from its wet read's (D7). Each was read as
a second, independent result (or not read at all), and a clone-free patient came out `met` on a superseded
value. Each positive control beside them keeps a true finding that must not be lost."""

from __future__ import annotations

from typing import Any

from poems_fhir.criteria.engine import evaluate
from poems_fhir.criteria.model import Criterion, State
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.mapping.corrections import replaced_results
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record, observation

IFE = "25700-6"
VEGF = "75628-8"
LIS = "urn:oid:2.16.840.1.113883.3.999.1"
RIS = "urn:oid:2.16.840.1.113883.3.999.2"
SNOMED = "http://snomed.info/sct"
CLONE = Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value
VEGF_MAJOR = Criterion.VEGF_ELEVATION.value
BONE = Criterion.SCLEROTIC_BONE_LESIONS.value
AT = "2023-03-01T09:00:00Z"


def state(resources: list[dict[str, Any]], criterion: str, mapping) -> State:
    out = extract(make_record(*resources), mapping)
    return evaluate("Patient/p1", out.findings, MAYO, None).criteria[criterion].state


def pairs(*resources: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(f"{r['resourceType']}/{r['id']}", r) for r in resources]


def negative_ife(rid: str = "fin", **more: Any) -> dict[str, Any]:
    coded = {"coding": [{"system": SNOMED, "code": "260385009", "display": "Negative"}]}
    elements = {"effectiveDateTime": AT, "issued": "2023-03-05T09:00:00Z", "valueCodeableConcept": coded, **more}
    return observation(IFE, rid, **elements)


def report_holding(rid: str, status: str, *contained: dict[str, Any], **more: Any) -> dict[str, Any]:
    """A lab DiagnosticReport that carries its results inside it (``contained``, listed in ``result``)."""
    return {
        "resourceType": "DiagnosticReport",
        "id": rid,
        "status": status,
        "code": {"coding": [{"system": "http://loinc.org", "code": IFE}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": AT,
        "issued": "2023-03-02T09:00:00Z",
        "contained": list(contained),
        "result": [{"reference": f"#{c['id']}"} for c in contained if c["resourceType"] == "Observation"],
        **more,
    }


def contained_ife(text: str, status: str = "preliminary", **more: Any) -> dict[str, Any]:
    return {**observation(IFE, "ife", status=status, effectiveDateTime=AT, valueString=text), **more}


# --- D2: a preliminary contained in its report, the final sent alone -------------------------------------------


def test_a_preliminary_contained_in_its_report_is_replaced_by_the_final_sent_alone(mapping):
    """probe124 D2 (m61): no identifiers; the final standalone Observation, same instant, issued later."""
    resources = [report_holding("dr", "preliminary", contained_ife("Faint IgA lambda band")), negative_ife()]
    out = extract(make_record(*resources), mapping)
    clone = [f for f in out.findings if f.topic == CLONE]
    assert clone and {(f.state, f.evidence.reference) for f in clone} == {(State.ABSENT, "Observation/fin")}
    (note,) = [n for n in out.notes if n.kind == "replaced"]
    assert note.reference == "DiagnosticReport/dr#ife" and "Observation/fin" in note.detail
    assert state(resources, CLONE, mapping) is State.ABSENT


def test_the_report_s_identifier_matches_the_final_and_tells_nothing_apart(mapping):
    """m36: the filler identifier on the report and on the final; and a report accession that is not the
    final's own identifier does not make the two other results (a report's identifier is not its result's)."""
    same = [{"system": LIS, "value": "F-1"}]
    resources = [
        report_holding("dr", "preliminary", contained_ife("Faint IgA lambda band"), identifier=same),
        negative_ife(identifier=same),
    ]
    assert state(resources, CLONE, mapping) is State.ABSENT
    other = [{"system": LIS, "value": "REPORT-9"}]
    resources = [
        report_holding("dr", "preliminary", contained_ife("Faint IgA lambda band"), identifier=other),
        negative_ife(identifier=[{"system": LIS, "value": "OBX-1"}]),
    ]
    assert state(resources, CLONE, mapping) is State.ABSENT


def test_a_result_in_a_preliminary_report_is_unverified_whatever_it_says_itself(mapping):
    """A send-out lab writes "final" on each row of a report that is itself preliminary."""
    resources = [report_holding("dr", "preliminary", contained_ife("IgA lambda", status="final")), negative_ife()]
    assert state(resources, CLONE, mapping) is State.ABSENT


def test_a_contained_preliminary_vegf_on_the_lab_s_own_specimen_copy_is_replaced(mapping):
    """m62: the preliminary plasma VEGF 950 on the report's contained plasma Specimen, the final 95 on the EHR's
    plasma Specimen, same instant: a contained Specimen is a copy, not another draw."""
    plasma = {"coding": [{"system": SNOMED, "code": "119361006"}]}
    contained = [
        {"resourceType": "Specimen", "id": "sp", "type": plasma},
        observation(
            VEGF,
            "v",
            status="preliminary",
            effectiveDateTime=AT,
            specimen={"reference": "#sp"},
            valueQuantity={"value": 950, "unit": "pg/mL"},
        ),
    ]
    dr = {**report_holding("dr", "preliminary", *contained), "code": {"text": "VEGF send-out"}}
    ehr_specimen = {"resourceType": "Specimen", "id": "s1", "type": plasma}
    final = observation(
        VEGF,
        "fin",
        effectiveDateTime=AT,
        issued="2023-03-06T09:00:00Z",
        specimen={"reference": "Specimen/s1"},
        valueQuantity={"value": 95, "unit": "pg/mL"},
    )
    assert state([dr, ehr_specimen, final], VEGF_MAJOR, mapping) is State.ABSENT


def test_positive_controls_a_contained_result_is_no_version_of_another_draw(mapping):
    """A true finding must not be lost: a contained preliminary stands beside a final of another time of the day,
    of another specimen type, or issued before it; a positive final sent alone replaces a negative preliminary."""
    pre = report_holding("dr", "preliminary", contained_ife("IgA lambda"))
    other_time = negative_ife(effectiveDateTime="2023-03-01T15:00:00Z")
    assert state([pre, other_time], CLONE, mapping) is State.PRESENT
    earlier = negative_ife(issued="2023-03-01T10:00:00Z")
    assert state([pre, earlier], CLONE, mapping) is State.PRESENT
    # the final is the positive one: the preliminary negative goes, the clone is read
    pre_negative = report_holding("dr", "preliminary", contained_ife("No monoclonal band seen"))
    final_positive = observation(
        IFE, "fin", effectiveDateTime=AT, issued="2023-03-05T09:00:00Z", valueString="IgG lambda"
    )
    assert state([pre_negative, final_positive], CLONE, mapping) is State.PRESENT
    # plasma and serum Specimens of one hour are two tests (serum VEGF 2400 preliminary, plasma final 95)
    serum = {"coding": [{"system": SNOMED, "code": "119364003"}]}
    plasma = {"coding": [{"system": SNOMED, "code": "119361006"}]}
    contained = [
        {"resourceType": "Specimen", "id": "sp", "type": serum},
        observation(
            VEGF,
            "v",
            status="preliminary",
            effectiveDateTime=AT,
            specimen={"reference": "#sp"},
            valueQuantity={"value": 2400, "unit": "pg/mL"},
        ),
    ]
    found = replaced_results(
        pairs(
            observation(
                VEGF, "fin", effectiveDateTime=AT, issued="2023-03-06T09:00:00Z", specimen={"reference": "Specimen/s1"}
            ),
        ),
        [("DiagnosticReport/dr#v", contained[1], report_holding("dr", "preliminary", *contained))],
        lambda ref, holder: (
            {"resourceType": "Specimen", "id": "s1", "type": plasma} if ref == "Specimen/s1" else contained[0]
        ),
    )
    assert found == {}


# --- D3: one identifier, a date and an instant of that day ------------------------------------------------------


def vegf(rid: str, value: float, status: str, when: str, issued: str, ident: str = "V-5005") -> dict[str, Any]:
    return observation(
        VEGF,
        rid,
        status=status,
        effectiveDateTime=when,
        issued=issued,
        identifier=[{"system": LIS, "value": ident}],
        valueQuantity={"value": value, "unit": "pg/mL"},
    )


def test_an_amendment_stamped_to_the_second_is_a_version_of_the_result_dated_to_the_day(mapping):
    """probe124 D3 (m65): 2400 on "2023-03-01", amended to 420 on "2023-03-01T08:00:00Z", one identifier."""
    first = vegf("a", 2400, "final", "2023-03-01", "2023-03-02T08:00:00Z")
    fixed = vegf("b", 420, "amended", "2023-03-01T08:00:00Z", "2023-03-04T08:00:00Z")
    found = replaced_results(pairs(first, fixed))
    assert (found["Observation/a"].by, found["Observation/a"].why) == ("Observation/b", "same identifier")
    # and the other way round: the amendment dated to the day, the original to the second
    first = vegf("a", 2400, "final", "2023-03-01T08:00:00Z", "2023-03-02T08:00:00Z")
    fixed = vegf("b", 420, "amended", "2023-03-01", "2023-03-04T08:00:00Z")
    assert replaced_results(pairs(first, fixed))["Observation/a"].by == "Observation/b"
    # one instant written in two zones, across midnight
    first = vegf("a", 2400, "final", "2023-03-01T23:30:00-05:00", "2023-03-02T08:00:00Z")
    fixed = vegf("b", 420, "amended", "2023-03-02T04:30:00Z", "2023-03-04T08:00:00Z")
    assert replaced_results(pairs(first, fixed))["Observation/a"].by == "Observation/b"
    assert (
        state(
            [
                vegf("a", 2400, "final", "2023-03-01", "2023-03-02T08:00:00Z"),
                vegf("b", 420, "amended", "2023-03-01T08:00:00Z", "2023-03-04T08:00:00Z"),
            ],
            VEGF_MAJOR,
            mapping,
        )
        is not State.PRESENT
    )
    standing_order_series_stand()


def standing_order_series_stand() -> None:
    """Another day, or two instants of one day, under one identifier: two draws, both stand."""
    day1 = vegf("a", 2400, "final", "2023-03-01", "2023-03-02T08:00:00Z")
    day2 = vegf("b", 420, "final", "2023-03-02T08:00:00Z", "2023-03-04T08:00:00Z")
    assert replaced_results(pairs(day1, day2)) == {}
    morning = vegf("a", 2400, "final", "2023-03-01T08:00:00Z", "2023-03-02T08:00:00Z")
    evening = vegf("b", 420, "final", "2023-03-01T20:00:00Z", "2023-03-04T08:00:00Z")
    assert replaced_results(pairs(morning, evening)) == {}
    # a written day is the day as written: "2023-03-02" does not hold 23:30 of 1 March at UTC-5
    late = vegf("a", 2400, "final", "2023-03-01T23:30:00-05:00", "2023-03-02T08:00:00Z")
    next_day = vegf("b", 420, "final", "2023-03-02", "2023-03-04T08:00:00Z")
    assert replaced_results(pairs(late, next_day)) == {}


def test_many_versions_dated_to_the_day_and_to_the_second_stay_linear():
    """20,000 versions under one identifier, half dated to the day: every earlier one goes to the latest."""
    versions = [
        vegf(
            f"v{i}",
            100 + i,
            "corrected" if i else "final",
            "2024-01-02" if i % 2 else "2024-01-02T08:00:00Z",
            f"2024-01-03T{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z",
        )
        for i in range(20_000)
    ]
    found = replaced_results(pairs(*versions))
    assert len(found) == 19_999 and {r.by for r in found.values()} == {"Observation/v19999"}


# --- D4: two feeds, two Specimen resources of one accession -----------------------------------------------------


def specimen(sid: str, accession: str | None, collected: str = "2023-03-01T08:00:00Z") -> dict[str, Any]:
    return {
        "resourceType": "Specimen",
        "id": sid,
        "type": {"coding": [{"system": SNOMED, "code": "119364003"}]},
        **({"identifier": [{"system": LIS, "value": accession}]} if accession else {}),
        "collection": {"collectedDateTime": collected},
    }


def drawn(rid: str, value: float, status: str, issued: str, sid: str) -> dict[str, Any]:
    return observation(
        VEGF,
        rid,
        status=status,
        effectiveDateTime="2023-03-01T08:00:00Z",
        issued=issued,
        specimen={"reference": f"Specimen/{sid}"},
        valueQuantity={"value": value, "unit": "pg/mL"},
    )


def test_a_correction_on_another_feed_s_specimen_of_the_same_accession_replaces_the_original(mapping):
    """probe124 D4 (m64): the v2 feed's 2400 on Specimen s7, the facade's corrected 420 on Specimen s8, both
    accession ACC-9001 collected at 08:00."""
    resources = [
        specimen("s7", "ACC-9001"),
        specimen("s8", "ACC-9001"),
        drawn("o9", 2400, "final", "2023-03-02T08:00:00Z", "s7"),
        drawn("o10", 420, "corrected", "2023-03-04T08:00:00Z", "s8"),
    ]
    out = extract(make_record(*resources), mapping)
    assert [n.reference for n in out.notes if n.kind == "replaced"] == ["Observation/o9"]
    assert state(resources, VEGF_MAJOR, mapping) is not State.PRESENT
    # the lab's own accessionIdentifier says the same
    s7 = {**specimen("s7", None), "accessionIdentifier": {"system": LIS, "value": "ACC-9001"}}
    s8 = {**specimen("s8", None), "accessionIdentifier": {"system": LIS, "value": "ACC-9001"}}
    assert state([s7, s8, *resources[2:]], VEGF_MAJOR, mapping) is not State.PRESENT
    other_draws_stand(mapping)


def other_draws_stand(mapping) -> None:
    """Another accession, an accession without a system, or one accession with two collection times: the
    original 2400 stands."""
    for s8 in (
        specimen("s8", "ACC-9002"),
        {**specimen("s8", None), "identifier": [{"value": "ACC-9001"}]},
        specimen("s8", "ACC-9001", collected="2023-03-01T14:00:00Z"),
    ):
        resources = [
            specimen("s7", "ACC-9001")
            if s8.get("identifier") != [{"value": "ACC-9001"}]
            else {**specimen("s7", None), "identifier": [{"value": "ACC-9001"}]},
            s8,
            drawn("o9", 2400, "final", "2023-03-02T08:00:00Z", "s7"),
            drawn("o10", 420, "corrected", "2023-03-04T08:00:00Z", "s8"),
        ]
        assert state(resources, VEGF_MAJOR, mapping) is State.PRESENT, s8


# --- D6: a panel's contained members ----------------------------------------------------------------------------


def spep_panel(*contained: dict[str, Any], members: list[str] | None = None, **more: Any) -> dict[str, Any]:
    return observation(
        "24351-9",
        "panel",
        effectiveDateTime="2023-03-01",
        contained=list(contained),
        hasMember=[{"reference": m} for m in (members if members is not None else [f"#{c['id']}" for c in contained])],
        **more,
    )


def test_an_immunofixation_contained_in_an_spep_panel_is_read(mapping):
    """probe124 D6 (t05): the IFE "IgG lambda" reached through the panel's hasMember "#ife" was not read."""
    panel = spep_panel(observation(IFE, "ife", effectiveDateTime="2023-03-01", valueString="IgG lambda"))
    out = extract(make_record(panel), mapping)
    clone = [f for f in out.findings if f.topic == CLONE]
    assert clone and {(f.state, f.evidence.reference) for f in clone} == {(State.PRESENT, "Observation/panel")}
    assert state([panel], CLONE, mapping) is State.PRESENT
    # a contained panel inside a report, its members in turn
    inner_panel = {**spep_panel(), "id": "spep", "hasMember": [{"reference": "#ife"}]}
    inner_panel.pop("contained")
    dr = report_holding(
        "dr", "final", inner_panel, observation(IFE, "ife", effectiveDateTime=AT, valueString="IgG lambda")
    )
    dr["result"] = [{"reference": "#spep"}]
    assert state([dr], CLONE, mapping) is State.PRESENT
    unlisted_or_withdrawn_members_unread(mapping)


def test_a_member_that_names_nothing_contained_is_listed(mapping):
    panel = spep_panel(
        observation(IFE, "ife", effectiveDateTime="2023-03-01", valueString="IgG lambda"),
        {"resourceType": "Specimen", "id": "sp"},
        members=["#ife", "#gone", "#sp"],
    )
    out = extract(make_record(panel), mapping)
    errors = [e for e in out.errors if e.resource == "Observation/panel"]
    assert any("#gone names no contained resource" in e.message for e in errors), errors
    assert any("#sp names a contained Specimen" in e.message for e in errors), errors
    assert state([panel], CLONE, mapping) is State.PRESENT


def unlisted_or_withdrawn_members_unread(mapping) -> None:
    """Controls: what the panel does not list, and what a withdrawn panel holds, is not read."""
    ife = observation(IFE, "ife", effectiveDateTime="2023-03-01", valueString="IgG lambda")
    assert state([spep_panel(ife, status="entered-in-error")], CLONE, mapping) is State.NOT_ASSESSED
    assert state([spep_panel(ife, members=[])], CLONE, mapping) is State.NOT_ASSESSED


# --- D7: one study under one accession, named two ways ----------------------------------------------------------


def ct(rid: str, status: str, name: str, conclusion: str, issued: str, accession: str = "ACC-777") -> dict[str, Any]:
    return {
        "resourceType": "DiagnosticReport",
        "id": rid,
        "status": status,
        "identifier": [{"system": RIS, "value": accession}],
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD"}]}],
        "code": {"coding": [{"system": SNOMED, "code": "77477000"}], "text": name},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2023-03-05T14:00:00Z",
        "issued": issued,
        "conclusion": conclusion,
    }


def test_an_amended_report_of_one_accession_replaces_its_wet_read_whatever_its_name(mapping):
    """probe124 D7 (t21, m44): the wet read "CT CAP w contrast (wet read)" and the amended "CT chest, abdomen and
    pelvis with contrast" under one RIS accession were two studies of one day that disagreed."""
    wet = ct("pre", "preliminary", "CT CAP w contrast (wet read)", "No sclerotic bone lesions.", "2023-03-05T18:00:00Z")
    amended = ct(
        "amd",
        "amended",
        "CT chest, abdomen and pelvis with contrast",
        "Sclerotic lesions in T11 and the left ilium.",
        "2023-03-07T10:00:00Z",
    )
    assert state([wet, amended], BONE, mapping) is State.PRESENT
    wet_positive = {**wet, "conclusion": "Sclerotic focus in T11."}
    amended_negative = {**amended, "conclusion": "No sclerotic bone lesions."}
    assert state([wet_positive, amended_negative], BONE, mapping) is State.ABSENT
    # the final (not amended) report of a preliminary under one accession too
    assert state([wet, {**amended, "status": "final"}], BONE, mapping) is State.PRESENT
    two_final_reports_stay_two(mapping)


def two_final_reports_stay_two(mapping) -> None:
    """probe65 D3 stays: a visit identifier on a final CT head and a final CT abdomen - the later is no version."""
    head = ct("h", "final", "CT head", "Normal.", "2023-03-05T18:00:00Z", accession="VISIT-1")
    abdomen = ct("a", "final", "CT abdomen and pelvis", "Sclerotic lesion in L2.", "2023-03-05T19:00:00Z", "VISIT-1")
    assert replaced_results(pairs(abdomen, head)) == {}
    assert state([abdomen, head], BONE, mapping) is State.PRESENT
    # another accession: the wet read of another study stands
    wet = ct("pre", "preliminary", "CT CAP w contrast (wet read)", "Sclerotic focus in T11.", "2023-03-05T18:00:00Z")
    other = ct("amd", "amended", "CT head", "Normal.", "2023-03-07T10:00:00Z", accession="ACC-778")
    assert "DiagnosticReport/pre" not in replaced_results(pairs(wet, other))
