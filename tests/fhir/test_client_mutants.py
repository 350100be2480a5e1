"""Client rules that a one-token bug would break unnoticed: which transactions may be retried,
the jitter range of the backoff, the retry budget edge. Sleep, clock and randomness are injected."""

from __future__ import annotations

import json

import pytest
import responses
from responses.registries import OrderedRegistry

from poems_fhir.errors import FatalNetworkError, PreconditionFailedError, TemporaryNetworkError
from poems_fhir.fhir.client import MAX_EMPTY_PAGES, MAX_PATIENT_PAGES, FhirClient, RetryPolicy, page_resources
from tests.fhir.transcripts import BASE

OK = {"resourceType": "Bundle", "type": "transaction-response", "entry": []}


def client(rng: float, **kw) -> tuple[FhirClient, list[float]]:
    sleeps: list[float] = []
    return FhirClient(BASE, sleep=sleeps.append, clock=lambda: 1_800_000_000.0, rng=lambda: rng, **kw), sleeps


def entry(url: str, method: str = "PUT", **request) -> dict:
    return {"resource": {"resourceType": url.split("?")[0]}, "request": {"method": method, "url": url, **request}}


@responses.activate(registry=OrderedRegistry)
def test_a_transaction_with_only_some_conditional_entries_is_not_retried():
    # the unconditional POST would be created twice if the first attempt had reached the server
    responses.add("POST", BASE, status=503)
    responses.add("POST", BASE, json=OK)
    c, sleeps = client(0.5)
    mixed = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [entry("DiagnosticReport?identifier=s|v"), entry("Provenance", "POST")],
    }
    with pytest.raises(TemporaryNetworkError):
        c.transaction(mixed)
    assert sleeps == [] and len(responses.calls) == 1


@responses.activate(registry=OrderedRegistry)
@pytest.mark.parametrize(
    "request_extra",
    [
        {"url": "Provenance", "method": "POST", "ifNoneExist": "identifier=s|p"},
        {"url": "Patient/1", "method": "GET"},
        # a withdrawal's update If-Match a version: a repeat of one applied is refused 412, never written
        # twice (probe101 D1: a 502 before the server failed the withdrawal; the write beside it was retried)
        {"url": "CarePlan/c1", "method": "PUT", "ifMatch": 'W/"3"'},
    ],
)
def test_if_none_exist_and_reads_count_as_conditional(request_extra):
    responses.add("POST", BASE, status=503)
    responses.add("POST", BASE, json=OK)
    c, sleeps = client(0.5)
    extra = dict(request_extra)  # parameters are shared between runs: never change them
    url, method = extra.pop("url"), extra.pop("method")
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [entry("DiagnosticReport?identifier=s|v"), entry(url, method, **extra)],
    }
    assert c.transaction(bundle) == OK
    assert len(sleeps) == 1 and len(responses.calls) == 2


@responses.activate(registry=OrderedRegistry)
def test_a_plain_update_by_id_is_not_retried():
    # without If-Match a repeat could overwrite what someone wrote after the first attempt was applied
    responses.add("POST", BASE, status=503)
    responses.add("POST", BASE, json=OK)
    c, sleeps = client(0.5)
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [entry("CarePlan/c1")]}
    with pytest.raises(TemporaryNetworkError):
        c.transaction(bundle)
    assert sleeps == [] and len(responses.calls) == 1


@responses.activate(registry=OrderedRegistry)
@pytest.mark.parametrize(
    ("rng", "expected"), [(0.0, [0.5, 1.0, 2.0]), (0.5, [0.75, 1.5, 3.0]), (0.999, [0.9995, 1.999, 3.998])]
)
def test_backoff_jitter_stays_between_half_and_full_delay_and_never_reaches_zero(rng, expected):
    for _ in range(3):
        responses.add("GET", f"{BASE}/Patient/1", status=503)
    responses.add("GET", f"{BASE}/Patient/1", json={"resourceType": "Patient", "id": "1"})
    c, sleeps = client(rng)
    c.get("Patient/1")
    assert sleeps == pytest.approx(expected)
    assert all(s > 0 for s in sleeps)


@responses.activate(registry=OrderedRegistry)
def test_backoff_is_capped_at_max_delay():
    for _ in range(4):
        responses.add("GET", f"{BASE}/Patient/1", status=503)
    responses.add("GET", f"{BASE}/Patient/1", json={"resourceType": "Patient", "id": "1"})
    c, sleeps = client(0.999999, retry=RetryPolicy(attempts=5, base_delay=1.0, max_delay=3.0))
    c.get("Patient/1")
    assert sleeps == pytest.approx([1.0, 2.0, 3.0, 3.0], abs=1e-4)


@responses.activate
def test_retry_after_shorter_than_the_backoff_does_not_shorten_it_and_is_capped():
    responses.add("GET", f"{BASE}/Patient/1", status=429, headers={"Retry-After": "0"})
    c, sleeps = client(0.0, retry=RetryPolicy(attempts=2))
    with pytest.raises(TemporaryNetworkError, match="gave up after 2"):
        c.get("Patient/1")
    assert sleeps == [0.5]  # max(server 0 s, jittered backoff 0.5 s)


@responses.activate
def test_retry_after_above_the_cap_waits_the_cap():
    responses.add("GET", f"{BASE}/Patient/1", status=503, headers={"Retry-After": "7200"})
    c, sleeps = client(0.0, retry=RetryPolicy(attempts=2, max_retry_after=300))
    with pytest.raises(TemporaryNetworkError):
        c.get("Patient/1")
    assert sleeps == [300]


@responses.activate
@pytest.mark.parametrize(("attempts", "budget", "calls"), [(3, 50, 3), (10, 2, 3), (1, 50, 1)])
def test_attempts_and_budget_edges(attempts, budget, calls):
    responses.add("GET", f"{BASE}/Patient/1", status=502)
    c, sleeps = client(0.5, retry=RetryPolicy(attempts=attempts, budget=budget))
    with pytest.raises(TemporaryNetworkError, match=f"gave up after {calls} attempt"):
        c.get("Patient/1")
    assert len(responses.calls) == calls and len(sleeps) == calls - 1
    assert c.stats.requests == calls and c.stats.retries == calls - 1


# --- error texts: what an operator reads must name the URL, the status and the server's reason ------


def test_outcome_text_prefers_diagnostics_and_marks_html():
    import requests

    from poems_fhir.fhir.client import outcome_text

    def response(body: bytes, ctype: str) -> requests.Response:
        r = requests.Response()
        r._content, r.status_code = body, 400
        r.headers["Content-Type"] = ctype
        return r

    oo = json.dumps(
        {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": "error",
                    "code": "invalid",
                    "diagnostics": "Unknown search parameter: foo",
                    "details": {"text": "Invalid search"},
                },
                {"severity": "warning", "code": "processing", "details": {"text": "ignored"}},
                {"code": "not-found"},
            ],
        }
    ).encode()
    assert outcome_text(response(oo, "application/fhir+json")) == (
        "error: Unknown search parameter: foo; warning: ignored; error: not-found"
    )
    html = outcome_text(response(b"<html><body>Bad Gateway</body></html>", "text/html"))
    assert "HTML page" in html and "<html>" not in html  # messages never dump HTML bodies
    assert outcome_text(response(b"plain words", "text/plain")) == "text 'plain words'"
    assert outcome_text(response(b'{"a": 1}', "application/json")) == "JSON that is not a FHIR resource"


@responses.activate
def test_redirect_error_names_both_urls_and_the_status():
    responses.add("GET", f"{BASE}/metadata", status=302, headers={"Location": "https://other.example/x"})
    c, _ = client(0.5)
    with pytest.raises(FatalNetworkError) as err:
        c.get("metadata")
    assert f"GET {BASE}/metadata was redirected (HTTP 302) to https://other.example/x" in str(err.value)
    assert (err.value.url, err.value.status) == (f"{BASE}/metadata", 302)


@responses.activate
def test_precondition_and_json_errors_carry_url_and_status():
    responses.add(
        "PUT",
        f"{BASE}/DiagnosticReport/1",
        status=412,
        json={"resourceType": "OperationOutcome", "issue": [{"code": "conflict"}]},
    )
    responses.add("GET", f"{BASE}/Patient/1", body="<html>login</html>", content_type="text/html")
    c, _ = client(0.5)
    with pytest.raises(PreconditionFailedError) as pre:
        c.request("PUT", "DiagnosticReport/1", json={"resourceType": "DiagnosticReport"})
    assert (pre.value.url, pre.value.status) == (f"{BASE}/DiagnosticReport/1", 412)
    with pytest.raises(FatalNetworkError, match=r"returned text/html .*instead of FHIR JSON") as bad:
        c.get("Patient/1")
    assert (bad.value.url, bad.value.status) == (f"{BASE}/Patient/1", 200)


@responses.activate
def test_a_repeating_next_link_is_an_error_that_names_it():
    page = {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": [{"relation": "next", "url": f"{BASE}/Patient?page=2"}],
    }
    responses.add("GET", f"{BASE}/Patient", json=page)
    c, _ = client(0.5)
    with pytest.raises(FatalNetworkError, match=r"next link repeats \(.*Patient\?page=2\)"):
        list(c.search_pages("Patient"))


@responses.activate
def test_a_server_sending_empty_pages_with_ever_new_next_links_is_stopped():
    # found by a held-out probe (probe23): the search never ended, 1,865 requests in 90 s
    def page(request):
        n = int(request.params.get("page", "0"))
        body: dict = {"resourceType": "Bundle", "type": "searchset"}
        if n < 500:  # "endless" (a bound, so that a client without one fails this test, not hangs)
            body["link"] = [{"relation": "next", "url": f"{BASE}/Condition?page={n + 1}"}]
        if n < 3:  # real pages first
            body["entry"] = [{"resource": {"resourceType": "Condition", "id": f"c{n}"}}]
        return 200, {"Content-Type": "application/fhir+json"}, json.dumps(body)

    responses.add_callback("GET", f"{BASE}/Condition", callback=page)
    c, _ = client(0.5)
    got = []
    # the whole message: what happened, and that the search was stopped (mutation seed 22: its end)
    with pytest.raises(
        FatalNetworkError,
        match=r"^search Condition: 20 pages in a row without a new resource, each with a new next link: "
        r"the server pages in a loop; stopped$",
    ):
        for bundle in c.search_pages("Condition"):
            got.extend(page_resources(bundle))
    assert [r["id"] for r in got] == ["c0", "c1", "c2"]
    assert len(responses.calls) == 3 + MAX_EMPTY_PAGES


@responses.activate
def test_a_loop_that_spells_its_next_link_anew_each_lap_is_stopped_in_one_patients_search():
    # probe23: the last page linked back to the first as _offset=00, 000, ...: the same resources forever
    def page(request):
        offset = request.params.get("_offset", "0")
        laps = len(offset)
        first = int(offset) == 0
        body: dict = {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": {"resourceType": "Condition", "id": f"c{0 if first else 1}"}}],
        }
        if laps < 200:  # a bound, so that a client without one fails this test, not hangs
            nxt = offset + "1" if first else "0" * laps  # "0" -> "01" -> "00" -> "001" -> "000" -> ...
            body["link"] = [{"relation": "next", "url": f"{BASE}/Condition?_offset={nxt}"}]
        return 200, {"Content-Type": "application/fhir+json"}, json.dumps(body)

    responses.add_callback("GET", f"{BASE}/Condition", callback=page)
    c, _ = client(0.5)
    with pytest.raises(FatalNetworkError, match=r"pages in a row without a new resource"):
        list(c.search("Condition", max_pages=MAX_PATIENT_PAGES))
    assert len(responses.calls) == 2 + MAX_EMPTY_PAGES


@responses.activate
def test_a_few_empty_pages_between_results_are_read_through():
    def page(request):
        n = int(request.params.get("page", "0"))
        body: dict = {"resourceType": "Bundle", "type": "searchset"}
        if n < 40:
            body["link"] = [{"relation": "next", "url": f"{BASE}/Condition?page={n + 1}"}]
        if n % 10 == 9:  # nine empty pages, then one with a resource (a filtering server)
            body["entry"] = [{"resource": {"resourceType": "Condition", "id": f"c{n}"}}]
        return 200, {"Content-Type": "application/fhir+json"}, json.dumps(body)

    responses.add_callback("GET", f"{BASE}/Condition", callback=page)
    c, _ = client(0.5)
    assert [r["id"] for r in c.search("Condition")] == ["c9", "c19", "c29", "c39"]


@responses.activate
def test_one_patients_search_has_a_bound_on_its_pages_a_discovery_search_has_none():
    def page(request):
        n = int(request.params.get("page", "0"))
        body = {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": {"resourceType": "Condition", "id": f"c{n}"}}],
        }
        if n < 30:
            body["link"] = [{"relation": "next", "url": f"{BASE}/Condition?page={n + 1}"}]
        return 200, {"Content-Type": "application/fhir+json"}, json.dumps(body)

    responses.add_callback("GET", f"{BASE}/Condition", callback=page)
    c, _ = client(0.5)
    assert len(list(c.search("Condition"))) == 31
    with pytest.raises(FatalNetworkError, match=r"more than 10 pages: the server pages in a loop"):
        list(c.search("Condition", max_pages=10))


@responses.activate
def test_redirect_without_location_says_so():
    responses.add("GET", f"{BASE}/metadata", status=301)
    c, _ = client(0.5)
    with pytest.raises(FatalNetworkError, match=r"redirected \(HTTP 301\) to \?;"):
        c.get("metadata")


@responses.activate
def test_an_answer_nested_past_the_input_rule_is_a_named_failure_not_a_recursion_error():
    # found by a held-out probe (probe27): 1,000 nested brackets from a fhirServer were a 500 of the
    # CDS service (RecursionError); 300 were read
    deep = '{"resourceType":"Patient","id":"p1","x":' + "[" * 100_000 + "]" * 100_000 + "}"
    responses.add("GET", f"{BASE}/Patient/p1", body=deep, content_type="application/fhir+json")
    shallow = '{"resourceType":"Patient","id":"p2","x":' + "[" * 200 + "]" * 200 + "}"
    responses.add("GET", f"{BASE}/Patient/p2", body="\ufeff" + shallow, content_type="application/fhir+json")
    c, _ = client(0.5)
    with pytest.raises(FatalNetworkError, match=r"returned JSON nested more than 256 levels deep: not read"):
        c.get("Patient/p1")
    assert c.get("Patient/p2")["id"] == "p2"  # within the rule (and a byte-order mark) is read


def _pages(pages: list[list[str]], total: int | None, bundle_type: str = "searchset"):
    def page(request):
        n = int(request.params.get("page", "0"))
        body: dict = {
            "resourceType": "Bundle",
            "type": bundle_type,
            "entry": [
                {"resource": {"resourceType": "Condition", "id": i}, "search": {"mode": "match"}} for i in pages[n]
            ],
        }
        if total is not None:
            body["total"] = total
        if n + 1 < len(pages):
            body["link"] = [{"relation": "next", "url": f"{BASE}/Condition?page={n + 1}"}]
        return 200, {"Content-Type": "application/fhir+json"}, json.dumps(body)

    responses.add_callback("GET", f"{BASE}/Condition", callback=page)


@responses.activate
def test_pages_ordered_afresh_that_repeat_a_row_and_miss_another_fail_the_patients_search():
    # probe33: a server without ORDER BY served c2 twice and c3 never; the report lost its evidence, exit 0
    _pages([["c1", "c2"], ["c2", "c4"]], total=4)
    c, _ = client(0.5)
    with pytest.raises(
        TemporaryNetworkError, match=r"3 distinct result\(s\) of the 4 the server counts, 1 of them more"
    ):
        list(c.search("Condition", max_pages=MAX_PATIENT_PAGES))


@responses.activate
def test_a_total_with_no_entry_and_no_next_page_fails_the_patients_search():
    _pages([[]], total=4)
    c, _ = client(0.5)
    with pytest.raises(TemporaryNetworkError, match=r"0 distinct result\(s\) of the 4 the server counts: its pages"):
        list(c.search("Condition", max_pages=MAX_PATIENT_PAGES))


@responses.activate
def test_a_total_that_is_merely_wrong_is_not_held_against_the_search():
    _pages([["c1", "c2"], ["c3"]], total=7)  # no repeats: an estimate, or a server's own count
    c, _ = client(0.5)
    assert [r["id"] for r in c.search("Condition", max_pages=MAX_PATIENT_PAGES)] == ["c1", "c2", "c3"]


@responses.activate
def test_a_bundle_that_is_no_searchset_is_no_search_result():
    _pages([["c1"]], total=1, bundle_type="transaction-response")
    c, _ = client(0.5)
    with pytest.raises(TemporaryNetworkError, match="a Bundle of type 'transaction-response', not a searchset"):
        list(c.search("Condition", max_pages=MAX_PATIENT_PAGES))


def test_a_page_is_new_by_the_type_id_and_version_of_its_resources():
    """A patient's search counts pages that bring nothing new (a server paging in a loop): a resource of
    another type with the same id, or another version, is new (mutation sample seed 23: the type was never
    part of what was compared)."""

    def page(*resources):
        return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}

    known: set = set()
    condition = {"resourceType": "Condition", "id": "1", "meta": {"versionId": "1"}}
    assert FhirClient._news(page(condition), known)
    assert not FhirClient._news(page(condition), known)  # the same again: nothing new
    assert FhirClient._news(page({**condition, "resourceType": "Observation"}), known)
    assert FhirClient._news(page({**condition, "meta": {"versionId": "2"}}), known)
    assert FhirClient._news(page(condition), None)  # without a record of what was read: any resource


def _searchset(resources: list[dict], nxt: str | None = None) -> tuple[int, dict, str]:
    """A searchset page answer holding ``resources``, with a next link when ``nxt`` is given."""
    body: dict = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}
    if nxt:
        body["link"] = [{"relation": "next", "url": nxt}]
    return 200, {"Content-Type": "application/fhir+json"}, json.dumps(body)


@responses.activate
def test_a_discovery_search_repeating_one_page_under_new_links_is_stopped():
    """probe63 D3: a discovery search (no page bound, one page remembered) followed identical pages under
    next links spelt anew (_offset=0, 00, 000, ...) until the run deadline: ~9,900 pages in 10 minutes."""

    def page(request):
        offset = request.params.get("_offset", "0")
        same = [{"resourceType": "Patient", "id": "p1"}, {"resourceType": "Patient", "id": "p2"}]
        # a bound, so that a client without one fails this test, not hangs
        return _searchset(same, f"{BASE}/Patient?_offset={offset}0" if len(offset) < 200 else None)

    responses.add_callback("GET", f"{BASE}/Patient", callback=page)
    c, _ = client(0.5)
    with pytest.raises(FatalNetworkError, match=r"pages in a row without a new resource"):
        list(c.search("Patient", discovery=True))
    assert len(responses.calls) == 1 + MAX_EMPTY_PAGES


def _numbered_pages(last: int):
    """Pages 0..last, each with one Patient of its own number, linked in order."""

    def page(request):
        n = int(request.params.get("page", "0"))
        return _searchset(
            [{"resourceType": "Patient", "id": f"p{n}"}], f"{BASE}/Patient?page={n + 1}" if n < last else None
        )

    return page


@responses.activate
def test_a_discovery_search_whose_pages_differ_is_read_to_its_end():
    responses.add_callback("GET", f"{BASE}/Patient", callback=_numbered_pages(60))
    c, _ = client(0.5)
    assert len(list(c.search("Patient", discovery=True))) == 61


@responses.activate
def test_a_stop_requested_during_a_discovery_search_ends_it_between_pages():
    """probe63 D2: SIGTERM while discovery paged was not honoured (420 more pages in 30 s, then SIGKILL):
    there is no patient in flight to finish, so the search stops before its next page. One patient's
    search (not discovery) is the patient in flight: it reads to its end."""
    from poems_fhir.errors import DiscoveryStopped

    responses.add_callback("GET", f"{BASE}/Patient", callback=_numbered_pages(5))
    c, _ = client(0.5)
    stop = {"now": False}
    c.stop_requested = lambda: stop["now"]
    got = []
    with pytest.raises(DiscoveryStopped, match=r"^search Patient: stop requested"):
        for resource in c.search("Patient", discovery=True):
            got.append(resource["id"])
            stop["now"] = len(got) == 2
    assert got == ["p0", "p1"] and len(responses.calls) == 2
    assert [r["id"] for r in c.search("Patient", max_pages=MAX_PATIENT_PAGES)] == [f"p{n}" for n in range(6)]
