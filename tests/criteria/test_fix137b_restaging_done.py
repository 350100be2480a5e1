"""probe137 D2: the day +90/+100 restaging done on day +96 with only the blood count missing read "Not yet done at this
restaging: blood count ... Overdue since <day +100>", as if the whole restaging were overdue. It now names what was
done and when, and what is still missing by when; the status stays in-progress (criteria.md §10 step 5 counts the
CBC in it). Controls: not begun, complete, still inside the window."""

from __future__ import annotations

import datetime as dt

import pytest

from poems_fhir.i18n import translator
from poems_fhir.report.wording import step_text
from tests.criteria.test_pathway_mutants4 import DAY_90, restaging, seed_m

DAY_96 = DAY_90 + dt.timedelta(days=6)  # 2019-12-04
AFTER = dt.date(2019, 12, 31)  # the window (to 2019-12-08) has closed
NO_CBC = [
    seed_m("serum_ife", 0, DAY_96),
    seed_m("urine_ife", 0, DAY_96),
    seed_m("flc_kappa", 12.0, DAY_96, "mg/L"),
    seed_m("vegf", 80.0, DAY_96, "pg/mL"),
]


def test_a_restaging_done_but_the_blood_count_says_what_was_done_and_what_is_missing():
    got = restaging(NO_CBC, as_of=AFTER)
    assert got.status == "in-progress"
    text = step_text(translator("en"), got)
    assert (
        "Done on Dec 4, 2019: serum immunofixation, urine immunofixation, serum free light chains, VEGF. "
        "Still missing: blood count (due by Dec 8, 2019, overdue)." in text
    )
    assert "Overdue since" not in text and "Not yet done" not in text


@pytest.mark.parametrize(
    ("lang", "done", "missing", "overdue_whole"),
    [
        ("ru", "г.: иммунофиксация сыворотки", "Ещё не выполнено: общий анализ крови", "Просрочено с"),
        ("kk", "орындалған: сарысу иммунофиксациясы", "Әлі орындалмаған:", "бастап өткен"),
    ],
)
def test_the_same_in_russian_and_kazakh(lang, done, missing, overdue_whole):
    text = step_text(translator(lang), restaging(NO_CBC, as_of=AFTER))
    assert done in text and missing in text and overdue_whole not in text
    assert text.count("4 дек. 2019" if lang == "ru" else "04 жел. орындалған") == 1  # the day it was done


def test_parts_on_other_days_are_dated_each_and_the_serum_study_is_named_as_done():
    ms = [seed_m("serum_m_protein", 0.4, DAY_96, "g/L"), seed_m("urine_m_protein", 0.0, DAY_96, "mg/(24.h)")]
    ms += [seed_m("vegf", 80.0, dt.date(2019, 12, 10), "pg/mL")]
    text = step_text(translator("en"), restaging(ms, as_of=AFTER))
    assert "Done on Dec 4, 2019: serum M-protein, 24-hour urine protein. Done on Dec 10, 2019: VEGF." in text
    assert "Still missing: serum free light chains, blood count (due by Dec 8, 2019, overdue)." in text


def test_inside_the_window_the_missing_part_is_due_not_overdue():
    got = restaging(NO_CBC, as_of=DAY_96)
    text = step_text(translator("en"), got)
    assert got.status == "in-progress" and "Still missing: blood count (due by Dec 8, 2019)." in text
    assert "overdue" not in text.lower()


def test_controls_not_begun_stays_overdue_as_a_whole_and_complete_says_nothing_more():
    begun = restaging(NO_CBC, as_of=AFTER)  # what the controls are told apart from
    assert ("done", f"vegf {DAY_96.isoformat()}") in begun.params
    never = restaging([], as_of=AFTER)
    text = step_text(translator("en"), never)
    assert never.status == "not-started" and "Overdue since Dec 8, 2019." in text and "Done on" not in text
    full = restaging([*NO_CBC, seed_m("platelets", 250.0, DAY_96, "10*9/L")], as_of=AFTER)
    assert full.status == "completed" and not any(k == "done" for k, _ in full.params)
    assert "Done on" not in step_text(translator("en"), full)
