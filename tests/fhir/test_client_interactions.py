"""Which FHIR interaction a request performs, and the 403 message built from it: the integration
engineer reads this message to know which permission to grant, so each request form is pinned
(derived from the FHIR RESTful API table: type-level POST = create, `_search` = search, `$op` =
operation, `_history` = history/vread, instance PATCH = update)."""

from __future__ import annotations

import pytest
import requests

from poems_fhir.errors import EXIT_FORBIDDEN
from poems_fhir.fhir.auth import BearerAuth
from poems_fhir.fhir.client import FhirClient
from tests.fhir.transcripts import BASE, ORIGIN


def client(**kw) -> FhirClient:
    return FhirClient(BASE, sleep=lambda s: None, clock=lambda: 1_800_000_000.0, **kw)


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "metadata", [("", "capabilities")]),
        ("POST", "$export", [("", "operation")]),
        ("GET", "_history", [("", "operation")]),
        ("GET", "Observation", [("Observation", "search")]),
        ("POST", "Observation", [("Observation", "create")]),
        ("PUT", "CarePlan?identifier=a|b", [("CarePlan", "update")]),
        ("DELETE", "Provenance?target=x", [("Provenance", "delete")]),
        ("PATCH", "Observation", [("Observation", "search")]),  # no type-level PATCH: read as a search
        ("POST", "Observation/_search", [("Observation", "search")]),
        ("GET", "Patient/1/$everything", [("Patient", "operation")]),
        ("POST", "Patient/$match", [("Patient", "operation")]),
        ("GET", "Observation/_history", [("Observation", "history")]),
        ("GET", "Observation/1/_history", [("Observation", "history")]),
        ("GET", "Observation/1/_history/2", [("Observation", "vread")]),
        ("GET", "Patient/1", [("Patient", "read")]),
        ("PUT", "Patient/1", [("Patient", "update")]),
        ("DELETE", "Patient/1", [("Patient", "delete")]),
        ("PATCH", "Patient/1", [("Patient", "update")]),
        ("HEAD", "Patient/1", [("Patient", "read")]),
        ("GET", "", [("", "search-system")]),
        ("DELETE", "", []),
        ("POST", "", []),  # a POST to the base that is not a Bundle: nothing to name
    ],
)
def test_interaction_of_each_request_form(method, path, expected):
    c = client()
    assert c.interactions(method, c.url(path)) == expected


def test_interaction_of_an_absolute_url_outside_the_base_path_uses_its_own_path():
    c = client()
    assert c.interactions("GET", f"{ORIGIN}/Observation/7") == [("Observation", "read")]
    assert c.interactions("GET", f"{ORIGIN}/") == [("", "search-system")]


def _bundle(*entries, **extra) -> dict:
    return {"resourceType": "Bundle", "type": "transaction", "entry": list(entries), **extra}


def _entry(method: str | None, url: str) -> dict:
    request = {"url": url} if method is None else {"method": method, "url": url}
    return {"resource": {"resourceType": url.split("?")[0].split("/")[0]}, "request": request}


def test_a_transaction_names_each_entry_once_in_order():
    body = _bundle(
        _entry("POST", "Observation"),
        _entry("PUT", "CarePlan?identifier=s|1"),
        _entry("POST", "Observation"),  # the same pair again: named once
        _entry(None, "Patient/1"),  # no method: a GET
        _entry("DELETE", "Provenance/9"),
        "not an entry",
        {"request": "not a request"},
        {"request": {"method": "POST"}},  # no url
    )
    assert client().interactions("POST", BASE, body) == [
        ("Observation", "create"),
        ("CarePlan", "update"),
        ("Patient", "read"),
        ("Provenance", "delete"),
    ]


def test_an_entry_resource_is_passed_on_so_a_nested_bundle_is_named():
    inner = _bundle(_entry("PUT", "CarePlan/1"))
    body = _bundle({"resource": inner, "request": {"method": "POST", "url": ""}})
    assert client().interactions("POST", BASE, body) == [("CarePlan", "update")]


@pytest.mark.parametrize(
    ("extra", "named"),
    [({"type": "batch"}, "batch"), ({"type": None}, "transaction"), ({}, "transaction")],
)
def test_a_bundle_without_entries_is_named_by_its_type(extra, named):
    body = {"resourceType": "Bundle", **extra}
    assert client().interactions("POST", BASE, body) == [("", named)]
    body["entry"] = None
    assert client().interactions("POST", BASE, body) == [("", named)]


def _forbidden(c: FhirClient, method: str, path: str, body=None):
    response = requests.Response()
    response.status_code = 403
    response._content = b'{"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "forbidden"}]}'
    return c._forbidden(method, c.url(path), response, body)


def test_403_on_a_transaction_gives_v1_and_v2_scopes_per_type():
    body = _bundle(
        _entry("POST", "Observation"),
        _entry("GET", "Observation?code=x"),
        _entry("PUT", "CarePlan/1"),
        _entry("DELETE", "CarePlan/2"),
    )
    exc = _forbidden(client(auth=BearerAuth("tok")), "POST", "", body)
    message = str(exc)
    assert message.startswith(
        "permission missing: the server refused create on Observation, search on Observation, "
        "update on CarePlan, delete on CarePlan (HTTP 403 on POST "
    )
    assert "error: forbidden). The credentials are valid but not allowed this; " in message
    assert message.endswith(
        "grant it (SMART scopes system/CarePlan.write system/Observation.read system/Observation.write, "
        "or system/CarePlan.ud system/Observation.crs in SMART v2)"
    )
    assert "requested scope" not in message
    assert (exc.status, exc.url, exc.resource_type, exc.interaction) == (403, BASE, "Observation", "create")
    assert exc.exit_code == EXIT_FORBIDDEN


def test_403_on_an_operation_asks_for_read_rights():
    message = str(_forbidden(client(), "GET", "Patient/1/$everything"))
    assert "refused operation on Patient " in message
    assert message.endswith("grant it (SMART scopes system/Patient.read, or system/Patient.r in SMART v2)")


def test_403_without_a_type_names_the_interaction_and_asks_only_to_grant_it():
    exc = _forbidden(client(), "GET", "metadata")
    assert "refused capabilities (HTTP 403 on GET " in str(exc)
    assert str(exc).endswith("not allowed this; grant it")
    assert (exc.resource_type, exc.interaction) == ("", "capabilities")


def test_403_on_an_unnamed_request_says_this_request():
    exc = _forbidden(client(), "POST", "")
    assert str(exc).startswith("permission missing: the server refused this request (HTTP 403 on POST ")
    assert str(exc).endswith("not allowed this; grant it")
    assert (exc.resource_type, exc.interaction, exc.status) == ("", "", 403)


def test_403_quotes_the_requested_scope_when_there_is_one():
    class Scoped(BearerAuth):
        scope = "system/Observation.read"

    message = str(_forbidden(client(auth=Scoped("tok")), "PUT", "CarePlan/1"))
    assert message.endswith("in SMART v2); the requested scope was 'system/Observation.read'")
