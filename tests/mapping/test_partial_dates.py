"""A FHIR partial date ("2023-05", "2015", or a month read from words) keeps its precision where a person
reads it; a day computed from it (a restaging 90 days after a transplant "in April 2022") is a plain day."""

from __future__ import annotations

import datetime as dt

from click.testing import CliRunner

from poems_fhir.cli import main
from poems_fhir.criteria.timeline import add_days, add_months, day_text
from poems_fhir.mapping.values import PartialDate, parse_date
from tests.conftest import relapse_case_with_asct_in_words


def test_arithmetic_on_a_partial_date_gives_a_plain_day():
    april = parse_date("2022-04", "x")
    assert isinstance(april, PartialDate) and day_text(april) == "2022-04"
    for computed in (
        april + dt.timedelta(days=90),
        dt.timedelta(days=90) + april,
        april - dt.timedelta(days=1),
        april.replace(day=5),
        add_days(april, 90),
        add_months(april, 6),
    ):
        assert type(computed) is dt.date, repr(computed)
    assert april + dt.timedelta(days=90) == dt.date(2022, 6, 30)
    assert day_text(add_days(april, 90)) == "2022-06-30"  # was "2022": the subclass's default precision
    assert april - dt.date(2022, 3, 1) == dt.timedelta(days=31)
    assert parse_date("2015", "x") - april == dt.timedelta(days=-(365 * 7 + 2 + 90))


def test_the_restaging_after_a_transplant_in_a_month_is_due_on_days(tmp_path):
    # the relapse case with its transplant known only to its month ("в апреле 2022 г.") and no drugs: its
    # day +90/+100 restaging is due on days, not "Due 2022 to 2022"
    path = relapse_case_with_asct_in_words(tmp_path / "b.json", "в апреле 2022 г.")
    out = CliRunner().invoke(main, ["report", str(path), "--html", str(tmp_path / "pages")])
    pages = list((tmp_path / "pages").glob("*.html"))
    assert pages, out.output
    page = pages[0].read_text(encoding="utf-8")
    assert "Due 2022 to 2022" not in page
    # from the month's last day: day +90 is sure only from then (probe84 D5)
    assert "Due Jul 29, 2022 to Aug 8, 2022." in page
