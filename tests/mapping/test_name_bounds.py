"""Name regexes read a bounded name (probe32: a Procedure.code.text of "autologous stem cell " x 1000,
21 kB, held one patient for four minutes in the transplant regex; a bone-marrow-biopsy name of 192 kB
for a minute). A name is a few words: the patterns read its first MAX_NAME_CHARS characters."""

from __future__ import annotations

import signal

import pytest

from poems_fhir.mapping.extract import extract
from poems_fhir.mapping.rules import MAX_NAME_CHARS
from tests.conftest import make_record


def procedure(text: str) -> dict:
    return {
        "resourceType": "Procedure",
        "id": "p1",
        "status": "completed",
        "code": {"text": text},
        "subject": {"reference": "Patient/p1"},
        "performedDateTime": "2024-03-01",
    }


def test_a_transplant_named_within_the_bound_is_read_one_named_past_it_is_not(mapping):
    named = extract(make_record(procedure("Autologous stem cell transplantation")), mapping)
    assert [e.kind for e in named.events] == ["autologous_hsct"]
    late = extract(make_record(procedure("x" * MAX_NAME_CHARS + " autologous stem cell transplantation")), mapping)
    assert late.events == []


class _Stalled(Exception):
    pass


@pytest.mark.parametrize("text", ["autologous stem cell " * 1000, "bone marrow " * 16000])
def test_a_huge_name_costs_only_its_resource(mapping, text):
    def stalled(signum, frame):  # noqa: ARG001
        raise _Stalled

    previous = signal.signal(signal.SIGALRM, stalled)
    signal.alarm(60)  # not a speed target: only ends a backtracking regex (the test fails instead of hanging)
    try:
        ex = extract(make_record(procedure(text), procedure("Autologous PBSCT") | {"id": "p2"}), mapping)
    except _Stalled:
        pytest.fail("a name regex backtracked for a minute on one long name")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert "Procedure/p2" in [e.reference for e in ex.events]
