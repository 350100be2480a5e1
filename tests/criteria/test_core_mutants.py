"""Core behaviours that a one-token bug would break unnoticed (found by `make mutation`)."""
from __future__ import annotations

import pytest

from poems_fhir.criteria.profiles import UnknownProfileError, get_profile


def test_unknown_profile_message_lists_the_choices():
    with pytest.raises(UnknownProfileError) as err:
        get_profile("mayo-2099")
    assert str(err.value) == "unknown rule profile 'mayo-2099'; choose one of: dispenzieri-2003, japan-2019, mayo"


def test_evidence_to_dict_is_the_json_contract():
    import datetime as dt

    from poems_fhir.criteria.model import Evidence

    bare = Evidence("Observation/1", None, "VEGF 412 pg/mL (plasma)")
    assert bare.to_dict() == {"reference": "Observation/1", "summary": "VEGF 412 pg/mL (plasma)", "effective": None}
    full = Evidence("Observation/2", dt.date(2019, 2, 11), "M-protein 7.7 g/L", 7.7, "g/L", "http://loinc.org|33358-3",
                    ("Media/3",))
    assert full.to_dict() == {"reference": "Observation/2", "summary": "M-protein 7.7 g/L", "effective": "2019-02-11",
                              "value": 7.7, "unit": "g/L", "code": "http://loinc.org|33358-3",
                              "supporting": ["Media/3"]}
    zero = Evidence("Observation/4", None, "x", 0.0, None)
    assert zero.to_dict()["value"] == 0.0 and zero.to_dict()["unit"] is None
