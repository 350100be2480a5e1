"""probe119: the immunofixation cues of probe116/probe118 read too much - a note that only says where the result was
copied to, the Kazakh "on the neurologist's referral" (the test was ordered so) - and a request to exclude a
paraproteinaemia before the result was read as its exclusion."""

from __future__ import annotations

import pytest

from poems_fhir.mapping.ife import Band, parse_ife

IGA_L = Band("IgA", "lambda")


@pytest.mark.parametrize(
    "text",
    [
        # D6: a note that only says where the result went, or that it was typed from the analyser
        "IgA lambda band detected\nNote: Transcribed from the analyser printout.",
        "IgA лямбда\nNote: Результат переписан в историю болезни.",
        "IgA лямбда\nNote: Көшірмесі дәрігерге жіберілді.",
        # D2: «on the neurologist's referral, IgA lambda detected» - the referral ordered the test
        "Невропатологтың жолдамасы бойынша IgA лямбда анықталды.",
        # D7: a request to exclude a paraproteinaemia, then the result
        "Для исключения парапротеинемии: выявлен IgA лямбда.",
        "For exclusion of paraproteinaemia: IgA lambda detected.",
    ],
)
def test_the_band_stays_the_patients(text):
    result = parse_ife(text)
    assert IGA_L in result.bands and not result.conflict and not result.negative


@pytest.mark.parametrize(
    "text",
    [
        "IgA lambda\nNote: Transcribed from the referral letter.",
        "IgA лямбда\nNote: Переписано из направления.",
        "IgA lambda\nNote: Copied from an outside laboratory report.",
    ],
)
def test_a_note_that_copies_another_source_still_disowns(text):
    result = parse_ife(text)
    assert result.bands == () and IGA_L in result.possible and result.conflict


@pytest.mark.parametrize(
    "text",
    [
        "IgA lambda excluded.",
        "исключен IgA лямбда",
        "IgA лямбда жоққа шығарылды.",
        "IgA лямбда парапротеинін жоққа шығару қажет.",  # "must be excluded": the old safe reading
        "IgA лямбда - исключить.",
    ],
)
def test_an_exclusion_still_denies(text):
    result = parse_ife(text)
    assert result.negative and result.bands == ()
