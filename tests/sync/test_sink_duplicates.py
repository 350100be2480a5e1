"""A server holding duplicates of ours, or ignoring conditional updates (probe56 D2): the operator is told
to look for duplicates - Medplum refuses with 400 "Conditional PUT matched multiple resources", the recorded
production server with 412 "Multiple resources found matching condition" (../shared/fhir-server
08-conditional-update.json) - and an update of a version we read that comes back "201 Created" is logged."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from poems_fhir.errors import FatalNetworkError, PreconditionFailedError
from poems_fhir.fhir.capabilities import Capabilities
from poems_fhir.sync.sinks import ServerSink

ADVICE = "look for duplicates of our resources"


class Refusing:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc
        self.base_url = "http://fhir.test/R4"

    def transaction(self, bundle: dict[str, Any]) -> dict[str, Any]:
        raise self.exc


BUNDLE = {
    "resourceType": "Bundle",
    "type": "transaction",
    "entry": [
        {
            "fullUrl": "urn:uuid:1",
            "resource": {"resourceType": "DiagnosticReport"},
            "request": {"method": "PUT", "url": "DiagnosticReport?identifier=s|v", "ifMatch": 'W/"3"'},
        }
    ],
}


@pytest.mark.parametrize(
    "exc",
    [
        FatalNetworkError("POST / failed: HTTP 400: error: Conditional PUT matched multiple resources", status=400),
        PreconditionFailedError("POST / failed: HTTP 412: Multiple resources found matching condition", status=412),
        FatalNetworkError("POST / failed: HTTP 412: multiple-matches", status=412),
    ],
)
def test_a_refusal_because_of_several_matches_says_to_look_for_duplicates(exc):
    sink = ServerSink(Refusing(exc), Capabilities("4.0.1", True, True, True))  # type: ignore[arg-type]
    with pytest.raises(type(exc)) as raised:
        sink.write("Patient/p", BUNDLE)
    assert ADVICE in str(raised.value) and str(raised.value).startswith("POST / failed: HTTP 4")


def test_other_refusals_are_left_as_they_are():
    exc = FatalNetworkError("POST / failed: HTTP 400: error: Invalid resource", status=400)
    sink = ServerSink(Refusing(exc), Capabilities("4.0.1", True, True, True))  # type: ignore[arg-type]
    with pytest.raises(FatalNetworkError) as raised:
        sink.write("Patient/p", BUNDLE)
    assert ADVICE not in str(raised.value)


def test_an_update_of_a_version_we_read_answered_created_is_logged(caplog):
    sink = ServerSink(Refusing(RuntimeError()), Capabilities("4.0.1", True, True, True))  # type: ignore[arg-type]
    sink._returned = {}
    with caplog.at_level(logging.WARNING):
        sink._written(BUNDLE, [{}], [{"status": "201 Created", "location": "DiagnosticReport/new/_history/1"}])
    assert "seems to ignore conditional updates" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        sink._written(BUNDLE, [{}], [{"status": "200 OK", "location": "DiagnosticReport/old/_history/4"}])
    assert caplog.text == ""
