"""A laboratory that switches specimen type after a response: the baseline's own series may show a complete
response while the later series of the other type rises past its cut-off. Rising VEGF is the second most common
progression event (criteria.md §8.2), so the later series is read from its own first value as a post-treatment
reference, as when there is no comparable baseline at all (probe113 D6: serum 3000 -> 900 "complete", then plasma
150 -> 600, no alert)."""

from __future__ import annotations

from tests.criteria.test_vegf_unpaired_specimen import response, vegf

BASE = (vegf(3000, -10, "serum"), vegf(900, 100, "serum"))


def test_a_later_plasma_series_rising_past_its_cut_off_is_a_progression_after_a_serum_response():
    r = response(*BASE, vegf(150, 200, "plasma"), vegf(600, 320, "plasma"))
    v = r.vegf
    assert v.category == "progression" and v.specimen == "plasma"
    assert v.nadir is not None and v.nadir.reference == "Observation/vegf200"
    assert v.latest is not None and v.latest.reference == "Observation/vegf320"
    assert "serum series" in v.reason and "900 pg/mL" in v.reason
    assert [a.code for a in r.alerts if a.code == "vegf_progression"] == ["vegf_progression"]


def test_a_later_plasma_series_that_stays_low_leaves_the_serum_response():
    v = response(*BASE, vegf(150, 200, "plasma"), vegf(180, 320, "plasma")).vegf
    assert v.category == "complete" and v.specimen == "serum"
    # a rise below the plasma cut-off (200 pg/mL) is no progression either
    v = response(*BASE, vegf(80, 200, "plasma"), vegf(190, 320, "plasma")).vegf
    assert v.category == "complete"


def test_the_baseline_type_measured_last_decides_again():
    # plasma rose, but a newer serum VEGF of the baseline's own type follows: the paired series is current
    v = response(*BASE, vegf(150, 200, "plasma"), vegf(600, 320, "plasma"), vegf(800, 400, "serum")).vegf
    assert v.category == "complete" and v.specimen == "serum"


def test_one_value_of_the_other_type_is_no_series():
    v = response(*BASE, vegf(600, 320, "plasma")).vegf
    assert v.category == "complete"


def test_a_newer_value_of_the_other_type_is_shown_beside_the_response():
    # probe117: "complete" from the serum pair while the newest VEGF, plasma 600 pg/mL, was said nowhere
    from poems_fhir.i18n import translator
    from poems_fhir.report.wording import vegf_change_text

    v = response(*BASE, vegf(600, 320, "plasma")).vegf
    assert v.category == "complete" and v.latest is not None and v.latest.reference == "Observation/vegf100"
    assert v.unpaired is not None and v.unpaired.reference == "Observation/vegf320" and v.unpaired_specimen == "plasma"
    text = vegf_change_text(translator("en"), v)
    assert text.startswith("3,000 pg/mL on ") and "→ 900 pg/mL" in text  # the compared pair, still
    assert "plasma 600 pg/mL on Nov 30, 2024: serum and plasma values are not comparable" in text
    # an older value of the other type is no newer restaging: nothing beside the pair
    v = response(vegf(3000, -10, "serum"), vegf(150, 50, "plasma"), vegf(900, 100, "serum")).vegf
    assert v.category == "complete" and v.unpaired is None
