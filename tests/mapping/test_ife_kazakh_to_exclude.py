"""Kazakh puts the verb last: «IgA лямбда парапротеинін жоққа шығару қажет» (the IgA lambda paraprotein is to be
excluded) is a request, not a result - it was read as a negative immunofixation (clone `absent`; found comparing
states after fix132i read such a note as the result). Past forms («жоққа шығарылды», «жоққа шығарылған») stay the
negative; «жоққа шығаруға болмайды» / «жоққа шығарылмайды» (cannot be excluded) is a doubt."""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record, observation


@pytest.mark.parametrize(
    ("value", "state"),
    [
        ("IgA лямбда парапротеинін жоққа шығару қажет.", State.INDETERMINATE),
        ("IgA лямбда парапротеинін жоққа шығару керек", State.INDETERMINATE),
        ("IgA лямбда жоққа шығаруға болмайды.", State.INDETERMINATE),
        ("IgA лямбда жоққа шығарылмайды.", State.INDETERMINATE),
        ("IgA лямбда парапротеині жоққа шығарылды.", State.ABSENT),
        ("Моноклоналды парапротеин жоққа шығарылған.", State.ABSENT),
        ("IgA лямбда анықталды.", State.PRESENT),
    ],
)
def test_a_kazakh_request_to_exclude_is_no_negative(mapping, value: str, state: State) -> None:
    ife = observation("25700-6", "ife", effectiveDateTime="2024-01-02", valueString=value)
    assert [f.state for f in extract(make_record(ife), mapping).findings] == [state]
