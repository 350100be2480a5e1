"""What people read of a progression before a later treatment names its day, the treatment's start and
the treatment (probe69 D7: the report, its narrative and the page carried a generic sentence only)."""

from __future__ import annotations

from poems_fhir.criteria.engine import evaluate
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.i18n import translator
from poems_fhir.report.wording import notices
from tests.criteria.test_response_progression_before_treatment import SERIES, assess
from tests.criteria.test_response import d


def _notice(lang: str) -> str:
    response = assess(*SERIES, as_of=d(700))
    a = evaluate("Patient/1", [], MAYO)
    [notice] = [n for n in notices(translator(lang), a, response, None) if n.code == "progression_before_treatment"]
    return notice.explanation


def test_the_notice_names_the_days_and_the_treatment_in_each_language():
    assert _notice("en").endswith("Recorded on Apr 15, 2021; treatment begun on May 15, 2021. Given: lenalidomide.")
    assert "still measured from its baseline" in _notice("en")
    assert (
        "Зарегистрировано 15 апр. 2021\u202fг.; лечение начато 15 мая 2021\u202fг. Получал(а): леналидомид."
        in _notice("ru")
    )
    assert "тіркелген; ем" in _notice("kk")
