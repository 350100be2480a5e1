"""Core behaviours that a one-token bug would break unnoticed (found by `make mutation`)."""
from __future__ import annotations

import pytest

from poems_fhir.criteria.profiles import UnknownProfileError, get_profile


def test_unknown_profile_message_lists_the_choices():
    with pytest.raises(UnknownProfileError) as err:
        get_profile("mayo-2099")
    assert str(err.value) == "unknown rule profile 'mayo-2099'; choose one of: dispenzieri-2003, japan-2019, mayo"
