"""The reference range that applies to the patient (probe62 D6-D9): sex (`appliesTo`) and age (`age`)."""

from __future__ import annotations

import datetime as dt

import pytest

from poems_fhir.criteria.model import Criterion, State
from poems_fhir.mapping.extract import extract
from poems_fhir.mapping.range_choice import Subject, applicable_ranges
from tests.conftest import make_record, observation

ADMIN = "http://hl7.org/fhir/administrative-gender"
SCT = "http://snomed.info/sct"
MAN_59 = Subject("male", dt.date(1965, 1, 2), dt.date(2024, 1, 2))


def rng(low, high, unit="pmol/L", sex=None, age=None, text=None):
    rr = {"low": {"value": low, "unit": unit}, "high": {"value": high, "unit": unit}}
    if sex is not None:
        rr["appliesTo"] = [{"coding": [{"system": ADMIN, "code": sex}]} if sex in ("male", "female") else {"text": sex}]
    if age is not None:
        rr["age"] = {"low": {"value": age[0], "code": "a"}, "high": {"value": age[1], "code": "a"}}
    return rr


def lows(obs, who):
    return [r["low"]["value"] for r in applicable_ranges(obs, who)]


def test_the_patients_sex_picks_its_range_and_the_other_sexs_range_never_applies():
    obs = {"referenceRange": [rng(70, 1300, sex="female"), rng(40, 160, sex="male")]}
    assert lows(obs, MAN_59) == [40]
    assert lows(obs, Subject("female")) == [70]
    assert lows(obs, Subject(None)) == []  # sex not recorded: neither can be chosen
    sct = {"referenceRange": [{**rng(40, 160), "appliesTo": [{"coding": [{"system": SCT, "code": "248153007"}]}]}]}
    assert lows(sct, MAN_59) == [40] and lows(sct, Subject("female")) == []
    words = {"referenceRange": [rng(70, 1300, sex="Female"), rng(40, 160, sex="Male"), rng(1, 2, sex="Мужчины")]}
    assert lows(words, MAN_59) == [40, 1]


def test_the_patients_age_on_the_results_day_picks_its_range_bounds_inclusive():
    obs = {"referenceRange": [rng(8.6, 29, "nmol/L", age=(18, 49)), rng(6.7, 25.7, "nmol/L", age=(50, 100))]}
    assert lows(obs, MAN_59) == [6.7]
    on_50th_birthday = Subject("male", dt.date(1974, 1, 2), dt.date(2024, 1, 2))
    assert lows(obs, on_50th_birthday) == [6.7]
    day_before = Subject("male", dt.date(1974, 1, 3), dt.date(2024, 1, 2))
    assert lows(obs, day_before) == [8.6]
    assert lows(obs, Subject("male")) == []  # no birth date: which one applies cannot be told


def test_a_qualified_range_comes_before_a_plain_one_and_a_lone_range_is_the_labs_choice():
    obs = {"referenceRange": [rng(150, 450, "10*9/L"), rng(150, 400, "10*9/L", age=(18, 120))]}
    assert [r["high"]["value"] for r in applicable_ranges(obs, MAN_59)] == [400, 450]
    lone = {"referenceRange": [rng(40, 160, sex="male")]}
    assert lows(lone, Subject(None)) == []  # sex unknown: a range for one sex is not used
    assert lows(lone, Subject("female")) == []  # it contradicts what is recorded
    adults = {"referenceRange": [rng(150, 400, "10*9/L", age=(18, 120))]}
    assert lows(adults, Subject("male")) == [150]  # birth date unknown: the lab's only range, for its age band
    assert lows(adults, Subject("male", dt.date(2020, 1, 1), dt.date(2024, 1, 2))) == []  # a child
    phase = {"referenceRange": [rng(70, 1300, sex="follicular phase"), rng(1, 2)]}
    assert lows(phase, MAN_59) == [1]  # a population that is no sex is not judged


def test_a_male_estradiol_is_judged_against_the_male_range(mapping):
    """probe62 D6: estradiol 250 pmol/L, ranges female 70-1300 and male 40-160: the gonadal axis is
    abnormal for him; it was "no reference range or interpretation to judge the value"."""
    e2 = observation(
        "2243-4",
        "e2",
        valueQuantity={"value": 250, "unit": "pmol/L", "system": "http://unitsofmeasure.org", "code": "pmol/L"},
        referenceRange=[rng(70, 1300, sex="female"), rng(40, 160, sex="male")],
    )
    found = [
        f
        for f in extract(make_record(e2, gender="male"), mapping).findings
        if f.topic == Criterion.ENDOCRINOPATHY.value
    ]
    assert [(f.state, f.evidence.reference) for f in found] == [(State.PRESENT, "Observation/e2")]
    her = [
        f
        for f in extract(make_record(e2, gender="female"), mapping).findings
        if f.topic == Criterion.ENDOCRINOPATHY.value
    ]
    assert [f.state for f in her] == [State.ABSENT]


def test_a_birth_known_to_the_year_only_decides_a_band_only_when_every_day_of_it_agrees():
    """probe65 D8: "1975" was taken as born on January 1, so a man most likely 49 got the 50+ band."""
    obs = {"referenceRange": [rng(8.6, 29, "nmol/L", age=(18, 49)), rng(6.7, 25.7, "nmol/L", age=(50, 100))]}
    straddling = Subject("male", dt.date(1975, 1, 1), dt.date(2025, 6, 1), birth_latest=dt.date(1975, 12, 31))
    assert lows(obs, straddling) == []  # 49 or 50 on that day: neither band can be chosen
    clear = Subject("male", dt.date(1960, 1, 1), dt.date(2025, 6, 1), birth_latest=dt.date(1960, 12, 31))
    assert lows(obs, clear) == [6.7]


def test_an_applies_to_text_naming_more_than_a_sex_is_another_population():
    """probe65 D9: "Men on testosterone replacement therapy" was used as the male range."""
    obs = {"referenceRange": [rng(1, 2, sex="Men on testosterone replacement therapy"), rng(8, 29, sex="Adult men")]}
    assert lows(obs, MAN_59) == [8]


def test_a_lone_paediatric_band_is_not_the_labs_choice_for_an_unknown_age():
    """probe65 D12: a neonatal prolactin range (0-1 month) judged an adult whose birth date is unknown."""
    neonatal = {
        "referenceRange": [
            {**rng(100, 500, "ng/mL"), "age": {"low": {"value": 0, "code": "mo"}, "high": {"value": 1, "code": "mo"}}}
        ]
    }
    assert lows(neonatal, Subject("female")) == []
    adults = {"referenceRange": [rng(4, 15, "ng/mL", age=(18, 120))]}
    assert lows(adults, Subject("female")) == [4]


MEANING = "http://terminology.hl7.org/CodeSystem/referencerange-meaning"


def typed(rr, code=None, text=None):
    concept = {"coding": [{"system": MEANING, "code": code}]} if code else {}
    return {**rr, "type": {**concept, **({"text": text} if text else {})}}


def test_a_range_typed_as_a_treatment_or_recommended_level_is_not_the_normal_range():
    """probe79 D4: the first range was used whatever its type - a "treatment" or "recommended" range
    listed first decided a VEGF absent that the lab's normal range put above its upper limit."""
    normal = typed(rng(0, 96.2, "pg/mL"), "normal")
    for other in (typed(rng(0, 300, "pg/mL"), "recommended"), typed(rng(0, 300, "pg/mL"), "treatment")):
        assert [r["high"]["value"] for r in applicable_ranges({"referenceRange": [other, normal]}, MAN_59)] == [96.2]
    target = typed(rng(0, 300, "pg/mL"), text="Целевой уровень на терапии")
    assert [r["high"]["value"] for r in applicable_ranges({"referenceRange": [target, rng(0, 96.2)]}, MAN_59)] == [96.2]
    # typed "normal" before an untyped range of the same specificity; an unknown type counts as untyped
    unknown = typed(rng(0, 50, "pg/mL"), text="Reference interval")
    found = applicable_ranges({"referenceRange": [unknown, rng(0, 80), normal]}, MAN_59)
    assert [r["high"]["value"] for r in found] == [96.2, 50, 80]


def test_a_text_range_labelled_by_sex_gives_the_patients_part():
    """probe79 D3: "Male: 135-175 g/L" was unreadable, so the default limits decided against the lab."""
    from poems_fhir.mapping.range_choice import text_for

    both = "Female: 120-160; Male: 135-175 g/L"
    assert text_for(both, MAN_59) == "135-175 g/L"
    assert text_for(both, Subject("female")) == "120-160"
    assert text_for("M 135-175, F 120-160", MAN_59) == "135-175"
    assert text_for("Жен. 120-150; муж. 130-170", Subject("female")) == "120-150"
    assert text_for("Male: 135-175 g/L", Subject("female")) is None  # no part for her
    assert text_for("135-175 (women 120-160)", MAN_59) == "135-175"  # the lead is the sex not named
    assert text_for("135-175 (women 120-160)", Subject("female")) == "120-160"
    assert text_for("135-175 (women 120-160)", Subject(None)) is None  # one part for one sex: none applies
    assert text_for(both, Subject(None)) is None and text_for(both, None) is None  # sex not recorded
    for plain in ("135-175 g/L", "< 96,2", "до 5", "0-115 pg/mL"):  # no labels: as it is
        assert text_for(plain, MAN_59) == plain


def haemoglobin_168(range_text):
    return observation(
        "718-7",
        "hb",
        valueQuantity={"value": 168, "unit": "g/L", "system": "http://unitsofmeasure.org", "code": "g/L"},
        referenceRange=[{"text": range_text}],
    )


def test_a_haemoglobin_inside_the_lab_range_for_his_sex_is_no_polycythaemia(mapping):
    """probe79 D3 end to end: Hb 168 g/L is inside a man's 135-175 but above a woman's 120-150."""
    hb = haemoglobin_168("Female: 120-150 g/L; Male: 135-175 g/L")

    def state(gender):
        found = [
            f
            for f in extract(make_record(hb, gender=gender), mapping).findings
            if f.topic == Criterion.THROMBOCYTOSIS_POLYCYTHEMIA.value and "hemoglobin" in f.evidence.summary
        ]
        return [f.state for f in found]

    assert state("male") == [State.ABSENT]
    assert state("female") == [State.PRESENT]


WOMAN = Subject("female", dt.date(1970, 1, 1), dt.date(2024, 1, 2))


@pytest.mark.parametrize(
    ("text", "man", "woman"),
    [
        # words around the limits: a population, both sexes, an age band, a unit in brackets (probe81 D4)
        ("135-175 g/L (men and women)", "135-175 g/L", "135-175 g/L"),
        ("135-175 g/L (both sexes)", "135-175 g/L", "135-175 g/L"),
        ("Adults: 135-175 g/L", "135-175 g/L", "135-175 g/L"),
        ("Sex-independent: 120-175", "120-175", "120-175"),
        ("Males over 18 years: 135-175 g/L", "135-175 g/L", None),
        ("Men 18-65 y: 135-175; Women: 120-160", "135-175", "120-160"),
        ("age 18-65: 135-175", "135-175", "135-175"),
        ("Мужчины 18-60 лет: 130-170 г/л", "130-170 г/л", None),
        ("130-170 г/л (мужчины), 120-150 г/л (женщины)", "130-170 г/л", "120-150 г/л"),
        ("Ер: 130-170; Әйел: 120-150", "130-170", "120-150"),
        ("150 - 400 (x10^9/L)", "150-400", "150-400"),
        ("150-400 x10^9/L (adults)", "150-400 x10^9/L", "150-400 x10^9/L"),
        ("1.5e2-4.0e2", "1.5e2-4.0e2", "1.5e2-4.0e2"),
        ("1 000 - 2 000", "1 000-2 000", "1 000-2 000"),
        # other populations never apply (probe81 D5)
        ("Male: 135-175 g/L; Female: 120-150 g/L; Children: 110-140 g/L", "135-175 g/L", "120-150 g/L"),
        ("Pregnant women: 110-170; Women: 120-160", None, "120-160"),
        # two value ranges for the patient: which one holds cannot be told
        ("135-175 or 140-180", None, None),
        ("see note", None, None),
        # sexes split by a slash or by nothing; a critical limit is no normal range (probe82 D2)
        ("M: 135-175 / F: 120-160", "135-175", "120-160"),
        ("M 135-175 F 120-160", "135-175", "120-160"),
        ("135-175 g/L; Critical: >200", "135-175 g/L", "135-175 g/L"),
        # a letter of a unit is no sex label
        ("0.5-1.5 m/s", "0.5-1.5 m/s", "0.5-1.5 m/s"),
        ("1.2-1.9 m^2", "1.2-1.9 m^2", "1.2-1.9 m^2"),
    ],
)
def test_a_text_range_is_read_through_the_words_around_its_limits(text, man, woman):
    from poems_fhir.mapping.range_choice import text_for

    assert (text_for(text, MAN_59), text_for(text, WOMAN)) == (man, woman)


def test_a_text_range_the_patient_cannot_be_judged_by_is_said(mapping):
    """probe81 D4: an unreadable range text left the default to decide without a word."""
    hb = haemoglobin_168("see the lab's leaflet")
    notes = [n.detail for n in extract(make_record(hb, gender="male"), mapping).notes if n.kind == "unused"]
    assert any("see the lab's leaflet" in n and "default limits decide" in n for n in notes)


def test_two_ranges_that_apply_equally_and_disagree_leave_the_default_to_decide_and_say_so(mapping):
    """probe79: two untyped ranges (135-175 and 120-150 g/L, neither typed nor qualified) - the first
    listed decided, so the lab's order changed the criterion. Now neither is used, whichever comes first:
    the default limits decide, as for a result without a range, and the note says why."""

    def hb_with(*ranges):
        return observation(
            "718-7",
            "hb",
            valueQuantity={"value": 168, "unit": "g/L", "system": "http://unitsofmeasure.org", "code": "g/L"},
            referenceRange=list(ranges),
        )

    def states(hb):
        out = extract(make_record(hb, gender="male"), mapping)
        found = [f.state for f in out.findings if f.topic == Criterion.THROMBOCYTOSIS_POLYCYTHEMIA.value]
        return found, [n.detail for n in out.notes if n.kind == "unused"]

    wide, narrow = {"text": "135-175 g/L"}, {"text": "120-150 g/L"}
    default, _ = states(hb_with())
    for ranges in ((wide, narrow), (narrow, wide)):
        found, notes = states(hb_with(*ranges))
        assert found == default
        assert any("'135-175 g/L'" in n and "'120-150 g/L'" in n and "disagree" in n for n in notes), notes
    # one of them typed "normal" is the lab's normal range: it decides (inside 135-175: no polycythaemia)
    typed = {**wide, "type": {"coding": [{"code": "normal"}]}}
    assert states(hb_with(narrow, typed))[0] == [State.ABSENT]
    assert states(hb_with(narrow))[0] == [State.PRESENT]
