"""compare() against an independent oracle, every comparator x operator x position of the cut-off.

A censored value stands for the interval of its possible true values ("<50": every x < 50, ">=2000": every
x >= 2000, no comparator: exactly the value); the answer is True when every possible value passes the test,
False when none does, None when some do (values.py docstring, criteria.md "censored values"). The oracle
samples each interval at points between and beyond the cut-offs used here, which decides all/some/none."""

from __future__ import annotations

import operator as op

import pytest

from poems_fhir.mapping.values import Value, compare

V = 50.0
OPS = {">": op.gt, ">=": op.ge, "<": op.lt, "<=": op.le}
# sample points of the line: far out, around V and around each cut-off (V-1, V, V+1)
POINTS = [-1e12, V - 2, V - 1.5, V - 1, V - 0.5, V, V + 0.5, V + 1, V + 1.5, V + 2, 1e12]
IN_INTERVAL = {
    None: lambda x: x == V,
    "<": lambda x: x < V,
    "<=": lambda x: x <= V,
    ">": lambda x: x > V,
    ">=": lambda x: x >= V,
}


def oracle(comparator: str | None, cut: float, test: str) -> bool | None:
    results = [OPS[test](x, cut) for x in POINTS if IN_INTERVAL[comparator](x)]
    if all(results):
        return True
    return None if any(results) else False


@pytest.mark.parametrize("comparator", [None, "<", "<=", ">", ">="])
@pytest.mark.parametrize("test", [">", ">=", "<", "<="])
@pytest.mark.parametrize("cut", [V - 1, V, V + 1])
def test_compare_matches_the_interval_oracle(comparator, test, cut):
    assert compare(Value(V, "pg/mL", comparator), cut, test) is oracle(comparator, cut, test)


@pytest.mark.parametrize(
    ("value", "comparator", "expected"),
    [
        # the clinical readings behind the table (criteria.md: plasma VEGF >= 200 pg/mL elevated)
        (200.0, "<", False),  # "<200": never elevated
        (200.0, "<=", None),  # "<=200": may be exactly 200
        (200.0, ">", True),
        (200.0, ">=", True),
        (200.0, None, True),  # exactly at the cut-off counts
        (250.0, "<", None),  # "<250" straddles 200: indeterminate, not absent
        (150.0, ">", None),  # ">150" may or may not reach 200
    ],
)
def test_censored_vegf_against_its_cut_off(value, comparator, expected):
    assert compare(Value(value, "pg/mL", comparator), 200.0, ">=") is expected
