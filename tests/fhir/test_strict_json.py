"""fhir/strict_json.py: a key given twice in one object is found, however the text is written, and an
integer past Python's digit limit is read as ±inf, shown as what it was (probe99 D1, D3)."""

from __future__ import annotations

import json
import math

import orjson
import pytest

from poems_fhir.fhir.strict_json import DuplicateKey, check_keys, first_duplicate, loads, strict_loads

VEGF_TWICE = (
    '{"resourceType": "Observation", "id": "v1", "status": "final",'
    ' "code": {"coding": [{"system": "http://loinc.org", "code": "75628-8"}]},'
    ' "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2024-01-10",'
    ' "valueQuantity": {"value": 624, "unit": "pg/mL", "value": 50}}'
)


def _check(text: str) -> None:
    check_keys(text, json.loads(text))
    check_keys(text.encode("utf-8"), orjson.loads(text))


def test_a_key_given_twice_in_a_nested_object_is_named_with_its_place() -> None:
    with pytest.raises(DuplicateKey) as caught:
        _check(VEGF_TWICE)
    assert "'value' is given twice" in str(caught.value)
    assert "in Observation.valueQuantity" in str(caught.value)


@pytest.mark.parametrize(
    "text, key, where",
    [
        ('{"resourceType": "Observation", "status": "entered-in-error", "status": "final"}', "status", "Observation"),
        ('{"resourceType": "Observation", "id": "x", "resourceType": "Patient"}', "resourceType", ""),
        ('{"a": [{"b": 1}, {"c": {"d": 1, "d": 2}}]}', "d", "a[1].c"),
        # an escaped ":" in a string (one more ":" after decoding) must not hide the repeated key
        (
            '{"resourceType": "Observation", "note": [{"text": "x\\u003a y"}], "id": "a", "id": "b"}',
            "id",
            "Observation",
        ),
        # values orjson cannot write again: a 30-digit integer, a lone surrogate
        ('{"resourceType": "Observation", "x": 123456789012345678901234567890, "id": "a", "id": "b"}', "id", ""),
        ('{"resourceType": "Observation", "x": "\\ud800", "id": "a", "id": "b"}', "id", ""),
    ],
)
def test_a_repeated_key_is_found_however_the_text_is_written(text: str, key: str, where: str) -> None:
    with pytest.raises(DuplicateKey):
        check_keys(text, loads(text))
    found = first_duplicate(strict_loads(text))
    assert found is not None and found[0] == key
    if where or key == "resourceType":
        assert found[1] == where


@pytest.mark.parametrize(
    "text",
    [
        VEGF_TWICE.replace('"value": 50', '"comparator": ">"'),
        '{"resourceType": "Patient", "id": "p", "name": [{"text": "a: b \\u003a c"}]}',  # ":" in strings, escaped too
        '{"a": {"b": 1}, "c": {"b": 1}}',  # the same key in two objects
        '{"a" : 1 ,\n "b"\t:\t[ {"a": 1} ]}',  # whitespace
        '{"k": 1}',
    ],
)
def test_a_text_without_a_repeated_key_passes(text: str) -> None:
    _check(text)


def test_an_integer_past_pythons_digit_limit_is_read_as_inf() -> None:
    big = "9" * 5000
    with pytest.raises(ValueError, match="4300"):
        json.loads(big)  # the reason for loads
    doc = loads(f'{{"a": {big}, "b": -{big}, "c": 12}}')
    assert doc["a"] == math.inf and doc["b"] == -math.inf and doc["c"] == 12
    assert type(doc["a"]) is float
    assert strict_loads(f"[{big}]")[0] == math.inf
