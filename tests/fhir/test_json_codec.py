"""fhir.json_codec: orjson's speed only where it reads and writes what the json module does."""

from __future__ import annotations

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from poems_fhir.fhir.json_codec import deep_copy, dump, load, long_digits

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()  # unbounded: past 64 bits too
    | st.floats()  # NaN and the infinities too
    | st.text(alphabet=st.characters(exclude_categories=()))  # lone surrogates too
    | st.sampled_from(["null", "NaN", 2**64, -(2**63) - 1, 10**19, 1e-7, 1e16, -0.0])
)
_JSON = st.recursive(_SCALARS, lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=30)


def _same(a, b) -> bool:
    # NaN is not equal to itself: compare what json writes of both, and the types of every number
    return json.dumps(a) == json.dumps(b) and _types(a) == _types(b)


def _types(v):
    if isinstance(v, dict):
        return {k: _types(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_types(x) for x in v]
    return type(v).__name__


@settings(max_examples=400)
@given(_JSON)
def test_a_value_survives_the_round_trip_as_it_does_through_json(value):
    assert _same(deep_copy(value), json.loads(json.dumps(value)))
    assert _same(load(dump(value)), value)


def test_the_edges_orjson_gets_wrong_go_through_json():
    value = {"big": 2**70, "nan": math.nan, "inf": -math.inf, "s": "a\ud800b", "n": None, "t": "null"}
    copied = deep_copy(value)
    assert copied["big"] == 2**70 and isinstance(copied["big"], int)  # orjson would refuse it
    assert math.isnan(copied["nan"]) and copied["inf"] == -math.inf  # orjson would write null
    assert copied["s"] == "a\ud800b" and copied["n"] is None and copied["t"] == "null"


def test_nineteen_digits_are_read_by_json():
    assert long_digits(b'{"v": 1234567890123456789}') and not long_digits(b'{"v": 123456789012345678}')
    assert load(b'{"v": 12345678901234567890123}')["v"] == 12345678901234567890123  # orjson: a float


def test_the_copy_shares_nothing_with_the_original():
    value = {"entry": [{"resource": {"id": "a", "code": {"coding": [{"code": "1"}]}}}]}
    copied = deep_copy(value)
    copied["entry"][0]["resource"]["code"]["coding"].append({"code": "2"})
    copied["entry"].append({})
    assert value == {"entry": [{"resource": {"id": "a", "code": {"coding": [{"code": "1"}]}}}]}
