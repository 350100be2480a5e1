"""Texts a sync run records about a patient: error messages carry no patient id unless --phi (ids
sit in URLs, bare or as "Patient/<id>"), and an internal error names where it happened."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from poems_fhir.criteria.profiles import MAYO
from poems_fhir.mapping.rules import load_mapping
from poems_fhir.sync.job import SyncJob, _internal_reason, _WorkerFailure, pseudonym
from poems_fhir.sync.sources import FileSource
from tests.conftest import SAMPLES
from poems_fhir.sync.state import StateStore

NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.timezone.utc)
KEY = b"k" * 32


def job(tmp_path, **kw) -> SyncJob:
    return SyncJob(
        FileSource([SAMPLES / "classic-poems.json"]),
        None,
        StateStore(tmp_path / "s.sqlite"),
        load_mapping(),
        MAYO,
        "srv",
        lambda: NOW,
        pseudonym_key=KEY,
        **kw,
    )


def test_scrub_replaces_the_reference_and_the_bare_id_but_nothing_else(tmp_path):
    j = job(tmp_path)
    alias = pseudonym(KEY, "Patient/abc-1")
    text = (
        "GET https://h/fhir/R4/Patient/abc-1/$everything failed: HTTP 404: Patient resource abc-1 not found; "
        "GET https://h/fhir/R4/Observation?subject=abc-1 not tried"
    )
    assert j.scrub(text, "Patient/abc-1") == (
        f"GET https://h/fhir/R4/Patient/{alias}/$everything failed: HTTP 404: Patient resource {alias} not found; "
        f"GET https://h/fhir/R4/Observation?subject={alias} not tried"
    )


def test_scrub_keeps_the_id_with_phi(tmp_path):
    text = "GET https://h/fhir/R4/Observation?subject=abc-1 failed"
    assert job(tmp_path, show_phi=True).scrub(text, "Patient/abc-1") == text


def _inner() -> None:
    raise KeyError("boom")


def _outer() -> None:
    _inner()


def test_an_internal_error_names_the_innermost_frame():
    with pytest.raises(KeyError) as info:
        _outer()
    line = _inner.__code__.co_firstlineno + 1
    assert _internal_reason(info.value) == f"internal error KeyError at {os.path.basename(__file__)}:{line}"


def test_a_worker_failure_carries_its_reason_as_message():
    failure = _WorkerFailure("internal error: no result")
    assert failure.reason == "internal error: no result" and str(failure) == "internal error: no result"


def test_scrub_treats_everything_after_the_type_as_the_id(tmp_path):
    # --patient values are not checked against the FHIR id syntax: a mistyped "a/b" is still
    # replaced whole, and a lone "b" elsewhere in the text is left alone
    j = job(tmp_path)
    alias = pseudonym(KEY, "Patient/x1/b")
    text = "GET https://h/fhir/R4/Observation?subject=x1/b failed: HTTP 400: bad subject"
    assert (
        j.scrub(text, "Patient/x1/b")
        == f"GET https://h/fhir/R4/Observation?subject={alias} failed: HTTP 400: bad subject"
    )
