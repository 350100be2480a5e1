"""A date that ends in a full stop in its locale (Russian "15 янв. 2024 г.", Kazakh "2024 ж. 15 қаң.") at the end of
a sentence gives one full stop, not two (probe108 D8: «… 15 янв. 2024 г..»); everything else formats as
``str.format``."""

from __future__ import annotations

import datetime as dt

import pytest

from poems_fhir.i18n import translator

DAY = dt.date(2024, 1, 15)


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_a_date_ending_in_a_stop_ends_the_sentence_once(language):
    t = translator(language)
    said = t._("No restaging since the first treatment on {date}.").format(date=t.date(DAY))
    assert t.date(DAY).endswith(".")  # the premise: this locale's date ends in a stop
    assert said.endswith(".") and not said.endswith("..")
    assert t.date(DAY) in said


def test_formatting_is_otherwise_that_of_str_format():
    t = translator("en")
    assert t._("No restaging since the first treatment on {date}.").format(date=t.date(DAY)) == (
        "No restaging since the first treatment on Jan 15, 2024."
    )
    message = t._("{} and {}: {x:>4}|{y!r}.")
    assert message.format("a", "b.", x=3, y="q") == "{} and {}: {x:>4}|{y!r}.".format("a", "b.", x=3, y="q")
    assert t._("{x}.").format(x="etc.") == "etc."  # one stop
    assert t._("{x}.").format(x="wait...") == "wait..." + "."  # an ellipsis is not a stop
    assert t._("{x}... more").format(x="Dr.") == "Dr.... more"  # the message's own ellipsis stays
