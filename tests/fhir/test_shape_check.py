"""fhir.resources' verdict on our output, memoised by shape: the same answer as validating in full."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from pydantic import ValidationError

from poems_fhir.criteria.profiles import MAYO
from poems_fhir.fhir.shape_check import ShapeCache
from poems_fhir.fhir.write import WriteContext, _model
from poems_fhir.pipeline import evaluate_paths, html_for, transaction_for
from tests.conftest import SAMPLES


@pytest.fixture(scope="module")
def bundles(mapping) -> list[dict]:
    now = dt.datetime(2026, 11, 27, 9, 30, tzinfo=dt.timezone.utc)
    out = []
    for r in evaluate_paths([SAMPLES], mapping, MAYO).results:
        if r.scope.in_scope:
            ctx = WriteContext(now, mapping.identity, r.inputs, "partial")
            out.append(transaction_for(r, ctx, html_for(r, mapping, generated=now)))
    assert len(out) > 3
    return out


def _full(bundle: dict) -> bool:
    try:
        _model("Bundle").model_validate(bundle)
    except (ValidationError, KeyError):  # fhir.resources: KeyError for an unknown resourceType
        return False
    return True


def test_valid_bundles_pass_and_a_repeated_shape_is_not_validated_again(bundles):
    cache = ShapeCache()
    assert all(cache.check(b) is None for b in bundles)
    first = cache.validated
    assert 0 < first
    assert all(cache.check(copy.deepcopy(b)) is None for b in bundles)
    assert cache.validated == first  # nothing new: no full validation


def _broken(bundle: dict) -> list[dict]:
    """Bundles that differ from a valid one in one value or element only."""
    variants = []
    for path, value in (
        (("entry", 1, "resource", "status"), "has space "),  # a code with trailing whitespace
        (("entry", 1, "resource", "contained", 0, "status"), ""),  # an empty code in a contained resource
        (("entry", 1, "resource", "effectiveDateTime"), "2019-02-30"),  # no such day
        (("entry", 1, "resource", "issued"), "2019-02-03"),  # an instant needs a time and zone
        (("entry", 1, "resource", "meta", "tag", 0, "code"), 5),  # a number where a code goes
        (("entry", 1, "resource", "presentedForm", 0, "data"), "not base64!"),
        (("entry", 2, "resource", "nonsense"), "x"),  # an element the resource does not have
        (("entry", 3, "resource", "resourceType"), "Provenances"),
        (("entry", 1, "resource", "contained", 0, "resourceType"), "Patient"),  # Observation elements on a Patient
        (("type",), ["transaction"]),  # a list where one value goes
    ):
        b = copy.deepcopy(bundle)
        node = b
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value
        variants.append(b)
    return variants


def test_a_change_that_breaks_validity_is_caught_although_the_valid_shape_is_known(bundles):
    cache = ShapeCache()
    assert cache.check(bundles[0]) is None
    for broken in _broken(bundles[0]):
        assert not _full(broken)
        assert cache.check(broken) is not None
    assert cache.check(bundles[0]) is None  # a refusal is not remembered as valid


def test_the_verdict_matches_full_validation(bundles):
    cache = ShapeCache()
    for bundle in bundles + [v for b in bundles[:2] for v in _broken(b)]:
        assert (cache.check(bundle) is None) == _full(bundle)
