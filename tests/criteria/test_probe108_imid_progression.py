"""probe108 D6: "Progression while on lenalidomide: review that regimen rather than repeat it" depends on
whether the progression happened during the IMiD course, not on whether the evaluation day lies in it.

criteria.md §10 step 7: "IMiDs or radiation salvage are commonly effective" is no advice for a progression
seen while an IMiD was given. The probe: VEGF rising on 2025-02-28 during lenalidomide (2024-01-15 ->
2025-12-31); evaluated after the course's end (no --as-of, or a scheduled sync) the caution was gone.
"""

from __future__ import annotations

from poems_fhir.criteria.timeline import Event
from tests.criteria.test_pathway_mutants2 import d, m
from tests.criteria.test_pathway_mutants4 import PATIENT, _ascites_resolved_then_back, plan

CAUTION = "Progression while on lenalidomide: review that regimen rather than repeat it."


def _lenalidomide(start: int, end: int | None, status: str | None = None) -> Event:
    return Event(
        "treatment",
        d(start),
        "MedicationStatement/len",
        "lenalidomide",
        agent="lenalidomide",
        end=end and d(end),
        status=status,
    )


#: VEGF 1000 before treatment, 300 on day 90, 900 on day 200 (a rise, criteria.md §8.2)
VEGF = [
    m("vegf", 1000, -10, "pg/mL", "plasma"),
    m("vegf", 300, 90, "pg/mL", "plasma"),
    m("vegf", 900, 200, "pg/mL", "plasma"),
]


def test_a_vegf_rise_during_the_course_keeps_the_caution_after_the_course_ended():
    course = _lenalidomide(0, 300)
    during = plan(PATIENT, VEGF, [course], as_of=d(250))["relapse"]
    assert CAUTION in during.description
    # evaluated once the course is over (the run's date, no --as-of): the progression was still on it
    after = plan(PATIENT, VEGF, [course], as_of=d(400))["relapse"]
    assert CAUTION in after.description
    assert ("on_imid", "lenalidomide") in after.params
    assert CAUTION in plan(PATIENT, VEGF, [course])["relapse"].description


def test_a_feature_come_back_during_the_course_keeps_the_caution_after_it():
    gone, back = _ascites_resolved_then_back(150)
    got = plan(PATIENT + [gone, back], [], [_lenalidomide(0, 200)], as_of=d(320))["relapse"]
    assert got.description.endswith(CAUTION)


def test_a_progression_before_the_imid_was_started_is_not_one_on_it():
    # lenalidomide begun as salvage after the ascites came back: the progression was not on it
    gone, back = _ascites_resolved_then_back(150)
    melphalan = Event("treatment", d(0), "MedicationStatement/mel", "melphalan", agent="melphalan", end=d(100))
    got = plan(PATIENT + [gone, back], [], [melphalan, _lenalidomide(170, 400)], as_of=d(200))["relapse"]
    assert "Progression while on" not in got.description
