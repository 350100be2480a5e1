"""CarePlan step wording in the reader's language: drug names, the regimen under way, the renal dose and
the signs around engraftment (probe48 D5, D12, D13)."""

from __future__ import annotations

import datetime as dt

from poems_fhir.criteria.pathway import Step
from poems_fhir.i18n import translator
from poems_fhir.report.wording import step_text

ELIGIBILITY = Step(
    "transplant-eligibility",
    "Assess transplant eligibility",
    "",
    "unknown",
    params=(("agent", "bortezomib"), ("agent", "melphalan"), ("since", "2023-02-01"), ("renal", "egfr_below_30")),
)
ENGRAFTMENT = Step("engraftment-syndrome", "", "", "completed", params=(("engraftment_sign", "diarrhea 2023-03-12"),))


def test_english_names_the_regimen_its_start_and_the_renal_dose_with_its_sources():
    text = step_text(translator("en"), ELIGIBILITY)
    assert "Given: bortezomib, melphalan." in text
    assert "Systemic therapy since Feb 1, 2023 and no transplant on record" in text
    assert "180 mg/m² melphalan" in text and "Blood 2008 (Chiba); Blood 2011 (MD Anderson)" in text


def test_russian_names_the_drugs_in_russian():
    text = step_text(translator("ru"), ELIGIBILITY)
    assert "бортезомиб, мелфалан" in text and "bortezomib" not in text and "melphalan" not in text
    assert "трансплантация не зарегистрирована" in text and "мелфалан 180 мг/м²" in text


def test_a_site_drug_without_a_translation_is_shown_as_written():
    step = Step("neurotoxic-caution", "", "", "completed", params=(("agent", "ixazomib-site"),))
    assert "ixazomib-site" in step_text(translator("ru"), step)


def test_the_signs_around_engraftment_are_named_with_their_day_as_a_complication():
    en = step_text(translator("en"), ENGRAFTMENT)
    assert (
        "Recorded around engraftment (a transplant complication, not POEMS progression): diarrhoea on Mar 12, 2023."
        in en
    )
    kk = step_text(translator("kk"), ENGRAFTMENT)
    assert "POEMS" in kk and "diarrhoea" not in kk and str(dt.date(2023, 3, 12).year) in kk


def test_a_haematological_progression_shows_its_latest_result_not_a_fall_from_the_baseline():
    """probe51 D11: a relapse after CR read "6 g/L on Nov 5, 2021 → 1.5 g/L on Oct 2, 2023" - a fall, for
    a progression measured from the CR; other categories keep baseline → latest."""
    from poems_fhir.criteria.response import HematologicResponse, Point
    from poems_fhir.report.wording import hematologic_change_text

    base = Point(6.0, "g/L", dt.date(2021, 11, 5), "Observation/m0")
    latest = Point(1.5, "g/L", dt.date(2023, 10, 2), "Observation/m9")
    pd = HematologicResponse("amyloid", "PD", "M-protein detectable again after a complete response", base, latest)
    en = hematologic_change_text(translator("en"), pd)
    assert en == "latest: 1.5 g/L on Oct 2, 2023" and "6 g/L" not in en
    assert "6 g/L" not in hematologic_change_text(translator("ru"), pd)
    pr = HematologicResponse("amyloid", "PR", "fell", base, latest)
    assert hematologic_change_text(translator("en"), pr) == "6 g/L on Nov 5, 2021 → 1.5 g/L on Oct 2, 2023"


def test_a_frequency_given_as_a_range_is_worded_as_the_range_in_every_language():
    surveillance = Step("surveillance", "", "", "in-progress", repeat_months=3, repeat_months_max=6)
    assert "Every 3 to 6 months." in step_text(translator("en"), surveillance)
    assert "Каждые 3–6 месяцев." in step_text(translator("ru"), surveillance)
    assert "Әр 3–6 ай сайын." in step_text(translator("kk"), surveillance)
    single = Step("vegf-surveillance", "", "", "not-started", repeat_months=6)
    assert "Every 6 months." in step_text(translator("en"), single)
