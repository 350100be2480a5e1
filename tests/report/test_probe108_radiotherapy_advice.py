"""probe108 D12: the radiological-progression alert told every reader that "progression 3 to 6 months after
radiotherapy calls for systemic therapy" - also a patient who never had radiotherapy. The advice (criteria.md
§10 step 1a) is written only after a completed radiotherapy, with the progression's day, how many months after
it and the radiotherapy's end (README: "after a completed radiotherapy the alert says how many months later")."""

from __future__ import annotations

from poems_fhir.criteria.engine import evaluate
from poems_fhir.criteria.model import Evidence, Finding, State
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.criteria.response import assess_response
from poems_fhir.criteria.timeline import Event
from poems_fhir.i18n import translator
from poems_fhir.report.wording import notices, step_text
from tests.criteria.test_pathway_mutants2 import CFG, d
from tests.criteria.test_pathway_mutants4 import PATIENT, RT, plan

IMAGING = Finding(
    "radiologic_progression",
    State.PRESENT,
    Evidence("DiagnosticReport/pet150", d(150), "New FDG-avid lesions: progression"),
    source_rule="radiologic_progression",
)
LENALIDOMIDE = Event("treatment", d(0), "MedicationStatement/len", "lenalidomide", agent="lenalidomide", end=d(400))
RADIOTHERAPY_WORDS = ("radiotherapy", "лучев", "сәулелік")


def _alert(events: list[Event], lang: str = "en") -> str:
    findings = [*PATIENT, IMAGING]
    response = assess_response([], events, findings, [], CFG, d(160))
    a = evaluate("Patient/1", findings, MAYO, d(160))
    [notice] = [n for n in notices(translator(lang), a, response, None) if n.code == "radiologic_progression"]
    return notice.explanation


def test_no_radiotherapy_advice_without_radiotherapy():
    for lang in ("en", "ru", "kk"):
        text = _alert([LENALIDOMIDE], lang)
        assert text, lang
        assert not any(w in text.lower() for w in RADIOTHERAPY_WORDS), (lang, text)
    relapse = plan([*PATIENT, IMAGING], [], [LENALIDOMIDE], as_of=d(160))["relapse"]
    for lang in ("en", "ru", "kk"):
        written = step_text(translator(lang), relapse)
        after = ("after radiotherapy", "после лучевой", "сәулелік терапиядан кейін")
        assert written and not any(w in written for w in after), (lang, written)


def test_after_a_completed_radiotherapy_the_alert_says_when():
    # radiotherapy completed on day 30 (Mar 31), progression seen on day 150 (Jul 29): three whole calendar months
    # later, inside the 3-6-month window (§10 step 1a; days / 30 said four: probe113 D5)
    assert _alert([RT]).endswith(
        "Seen on Jul 29, 2021, 3 months after the radiotherapy completed on Mar 31, 2021: progression 3 to 6 "
        "months after radiotherapy calls for systemic therapy."
    )
    assert "через 3 месяца после завершения лучевой терапии 31 мар" in _alert([RT], "ru")
    assert "3 ай өткен соң" in _alert([RT], "kk")


def test_a_radiotherapy_known_to_its_month_completed_in_it():
    # probe113 D3: a course recorded as "March 2021" was "completed on Mar 2021" in the alert and the JSON
    from poems_fhir.mapping.values import PartialDate

    march = Event(
        "radiotherapy",
        PartialDate(2021, 3, 1, "month"),
        "Procedure/rt",
        "Radiotherapy",
        status="completed",
        end=PartialDate(2021, 3, 1, "month"),
    )
    assert _alert([march]).endswith(
        "Seen on Jul 29, 2021, 3 months after the radiotherapy completed in Mar 2021: progression 3 to 6 "
        "months after radiotherapy calls for systemic therapy."
    )
    assert "после завершения лучевой терапии (март 2021" in _alert([march], "ru")
    findings = [*PATIENT, IMAGING]
    [alert] = [
        a for a in assess_response([], [march], findings, [], CFG, d(160)).alerts if a.code == "radiologic_progression"
    ]
    assert "3 month(s) after radiotherapy completed in 2021-03: progression 3-6 months" in alert.message
    # a day-exact course keeps "on"
    [alert] = [
        a for a in assess_response([], [RT], findings, [], CFG, d(160)).alerts if a.code == "radiologic_progression"
    ]
    assert "after radiotherapy completed on 2021-03-31:" in alert.message


def test_fix120b_a_progression_in_the_year_or_month_a_partial_course_was_completed_names_it():
    # a course recorded as "2021" (or "July 2021"), progression seen on Jul 29, 2021: "0 months after the radiotherapy
    # completed in 2021" was said, but it may have ended after the progression
    from poems_fhir.mapping.values import PartialDate

    def course(day: PartialDate) -> list[Event]:
        return [Event("radiotherapy", day, "Procedure/rt", "Radiotherapy", status="completed", end=day)]

    year, month = course(PartialDate(2021, 1, 1, "year")), course(PartialDate(2021, 7, 1, "month"))
    assert _alert(year).endswith(
        "Seen on Jul 29, 2021, in 2021, the year the radiotherapy was completed: how many months after it is not "
        "known (progression 3 to 6 months after radiotherapy calls for systemic therapy); review the need for "
        "systemic therapy."
    )
    assert _alert(month).endswith(
        "Seen on Jul 29, 2021, in Jul 2021, the month the radiotherapy was completed, before the 3 to 6 months of "
        "the escalation rule: review the need for systemic therapy."
    )
    assert "в том же году, когда была завершена лучевая терапия (2021)" in _alert(year, "ru")
    assert "в том же месяце, когда была завершена лучевая терапия (июль 2021" in _alert(month, "ru")
    assert "сәулелік терапия аяқталған жылы (2021)" in _alert(year, "kk")
    assert "сәулелік терапия аяқталған айда (2021\u202fж. шіл.)" in _alert(month, "kk")
    for lang in ("en", "ru", "kk"):
        for events in (year, month):
            text = _alert(events, lang)
            assert not any(zero in text for zero in ("0 months", "0 месяцев", "0 ай")), (lang, text)
