"""The restaging table of the page shows the latest MAX_RESTAGING_ROWS restagings and says how many earlier
ones it leaves out (probe67 D1: each row re-read the whole series, and with the days a complete response was
reached re-read for every row, a daily feed of 400 results with immunofixations took minutes)."""

from __future__ import annotations

import datetime as dt
import re

from poems_fhir.criteria.response import ResponseConfig, assess_response
from poems_fhir.criteria.timeline import Event, Measurement
from poems_fhir.i18n import translator
from poems_fhir.report.html_report import MAX_RESTAGING_ROWS, _response

T0 = dt.date(2020, 1, 1)
CFG = ResponseConfig(vegf_cutoff={"plasma": 200, "serum": 1000})
EVENTS = [Event("treatment", T0, "MedicationStatement/t", "lenalidomide", agent="lenalidomide")]


def _table(days: int, lang: str = "en") -> str:
    ms = [Measurement("serum_m_protein", 20.0, "g/L", T0 - dt.timedelta(days=5), "Observation/base")]
    for n in range(1, days + 1):
        day = T0 + dt.timedelta(days=n)
        ms.append(Measurement("serum_m_protein", 5.0, "g/L", day, f"Observation/m{n}"))
        ms.append(Measurement("serum_ife", 0, None, day, f"Observation/s{n}"))
        ms.append(Measurement("urine_ife", 0, None, day, f"Observation/u{n}"))
    response = assess_response(ms, EVENTS, [], [], CFG)
    return "".join(_response(translator(lang), ms, EVENTS, [], [], CFG, response, None))


def test_the_latest_restagings_are_shown_and_the_earlier_ones_counted():
    page = _table(MAX_RESTAGING_ROWS + 15)
    rows = re.findall(r"<tr><td[^>]*>([^<]*)</td>", page.split('id="response"')[1])
    assert len(rows) == MAX_RESTAGING_ROWS
    assert rows[0] == "Jan 17, 2020" and rows[-1] == "Mar 16, 2020"  # days 16 to 75 after Jan 1
    assert "15 earlier restagings are not shown: the latest 60 are." in page
    assert "15 более ранних рестадирований не показаны: показаны последние 60." in _table(MAX_RESTAGING_ROWS + 15, "ru")


def test_up_to_the_bound_every_restaging_is_shown():
    page = _table(MAX_RESTAGING_ROWS)
    assert len(re.findall(r"<tr><td", page.split('id="response"')[1])) == MAX_RESTAGING_ROWS
    assert "not shown" not in page
