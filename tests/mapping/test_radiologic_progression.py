"""Radiological progression read from imaging reports (probe48 D1: new sclerotic lesions four months after
radiotherapy raised no alert, no escalation and no relapse work-up; criteria.md §8.3 "radiologic events
are the most common form of progression", §10 step 1a "progression 3-6 months after completing radiation")."""

from __future__ import annotations

import datetime as dt

import pytest

from poems_fhir.criteria.model import Evidence, Finding, State
from poems_fhir.criteria.response import ResponseConfig, assess_response
from poems_fhir.criteria.timeline import Event
from poems_fhir.mapping.extract import extract
from tests.conftest import diagnostic_report, make_record

CFG = ResponseConfig(vegf_cutoff={"plasma": 200, "serum": 1000})


def states(mapping, name: str, conclusion: str) -> dict[str, State]:
    ex = extract(make_record(diagnostic_report("r1", name, conclusion)), mapping)
    return {f.topic: f.state for f in ex.findings}


def test_new_lesions_and_progression_on_imaging_are_read_beside_the_lesions_themselves(mapping):
    found = states(
        mapping,
        "CT whole body (low dose)",
        "New sclerotic lesions in T10 and left 6th rib; disease progression compared with January 2023.",
    )
    assert found["radiologic_progression"] is State.PRESENT
    assert found["sclerotic_bone_lesions"] is State.PRESENT  # the lesions still count for the criterion
    pet = states(mapping, "PET-CT", "Progression: new FDG-avid lesions in the pelvis.")
    assert pet["radiologic_progression"] is State.PRESENT


@pytest.mark.parametrize(
    ("name", "conclusion"),
    [
        ("CT whole body", "No new lesions. Known sclerotic lesion of the left ilium, stable."),
        ("CT whole body", "No evidence of disease progression."),
        ("MRI lumbar spine", "Progression of degenerative disc disease at L4-L5."),
        ("Haematology clinic letter", "Disease progression on lenalidomide."),  # no imaging report
    ],
)
def test_no_progression_said_denied_or_outside_imaging_is_none(mapping, name, conclusion):
    assert states(mapping, name, conclusion).get("radiologic_progression") is not State.PRESENT


@pytest.mark.parametrize(
    "conclusion",
    [
        # probe108 D13: a new lesion described between "new" and the lesion raised no alert
        "Two new sclerotic lesions in the pelvis.",
        "A new sclerotic lesion in L3.",
        "New FDG-avid foci in the sacrum.",
        "Two new lytic-sclerotic lesions in the iliac wings.",
        "New hypermetabolic foci in the right femur.",
        "Interval development of new sclerotic lesions in T8 and T9.",
        "Новые ФДГ-активные очаги в костях таза.",
        "Появление новых склеротических очагов в L2.",
        # probe109 D20: the other words of a new lesion
        "Interval appearance of a sclerotic lesion in T9.",
        "A further sclerotic lesion has appeared in T9 since the previous study.",
        "Increase in the number of sclerotic lesions (now 5, previously 3).",
        "New FDG-avid lymph nodes in the left axilla and para-aortic region.",
        "Появился склеротический очаг в Th9.",
        "Увеличение количества склеротических очагов.",
    ],
)
def test_a_described_new_lesion_is_progression(mapping, conclusion):
    assert states(mapping, "PET-CT whole body", conclusion)["radiologic_progression"] is State.PRESENT


@pytest.mark.parametrize(
    "conclusion",
    [
        "No new sclerotic lesions.",
        "No new FDG-avid foci.",
        "New CT shows stable sclerotic lesions in T10.",  # "new" of the study, not of a lesion
        "Новых склеротических очагов не выявлено.",
        "Без новых очагов.",
        "No interval appearance of new sclerotic lesions.",
        "No further lesions have appeared.",
        "Interval development of degenerative change at L4-L5.",
        "No increase in the number of sclerotic lesions.",
        # the pseudo-negation "no progression of", "no increase in" denies the progression it names (probe109 D20)
        "No progression of disease.",
        "No significant increase in the number of lesions.",
        "Without progression of the known lesions.",
    ],
)
def test_a_denied_new_lesion_or_a_new_study_is_no_progression(mapping, conclusion):
    assert states(mapping, "PET-CT whole body", conclusion).get("radiologic_progression") is not State.PRESENT


T0 = dt.date(2023, 2, 1)


def progression(day: dt.date, ref: str = "DiagnosticReport/ct") -> Finding:
    return Finding("radiologic_progression", State.PRESENT, Evidence(ref, day, "new sclerotic lesions"))


def alerts(findings, events, as_of=None):
    return assess_response([], events, findings, [], CFG, as_of).alerts


RT = Event("radiotherapy", T0, "Procedure/rt", "radiotherapy", end=dt.date(2023, 3, 10))


def test_after_radiotherapy_it_is_an_alert_that_asks_for_systemic_therapy():
    [alert] = alerts([progression(dt.date(2023, 7, 20))], [RT])
    assert alert.code == "radiologic_progression"
    assert alert.message.startswith("radiological progression reported on 2023-07-20: new sclerotic lesions")
    assert (
        "after radiotherapy completed on 2023-03-10: progression 3-6 months after radiation calls for systemic therapy"
        in (alert.message)
    )
    assert alert.evidence == ("DiagnosticReport/ct",)


def test_before_treatment_or_after_as_of_it_is_no_alert():
    assert alerts([progression(dt.date(2023, 1, 10))], [RT]) == ()  # the diagnostic work-up
    assert alerts([progression(dt.date(2023, 7, 20))], [RT], as_of=dt.date(2023, 7, 1)) == ()
    lenalidomide = Event("treatment", T0, "MedicationStatement/len", "lenalidomide", agent="lenalidomide")
    [alert] = alerts([progression(dt.date(2023, 7, 20))], [lenalidomide])
    assert "radiotherapy" not in alert.message
