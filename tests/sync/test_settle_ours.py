"""The re-tag after a write (sinks.ServerSink._settle) judges the stored resources with every resource of
ours they name - also one this write left unchanged and did not send - as any later run does (probe50
HIGH-1: a plan updated beside an unchanged response report was re-tagged with a hash no later run could
verify, so the next run without the state file, or the next change, read our own plan as a clinician's
takeover and froze it)."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

from poems_fhir.criteria.profiles import MAYO
from poems_fhir.fhir.capabilities import Capabilities
from poems_fhir.fhir.write import WriteContext, is_unchanged_ours, own_ref_key
from poems_fhir.mapping.rules import load_mapping
from poems_fhir.pipeline import evaluate_paths, html_for, transaction_for
from poems_fhir.sync.sinks import ServerSink, entry_key
from tests.conftest import SAMPLES

NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.timezone.utc)


class Response:
    content = b""
    headers: dict[str, str] = {}


class Client:
    """Holds what the server stored; records any PUT."""

    def __init__(self, stored: dict[str, dict[str, Any]]) -> None:
        self.stored = stored
        self.puts: list[str] = []

    def get(self, ref: str) -> dict[str, Any]:
        return copy.deepcopy(self.stored[ref])

    def request(self, method: str, url: str, **kw: Any) -> Response:
        self.puts.append(f"{method} {url}")
        return Response()

    def json(self, response: Any) -> dict[str, Any]:
        return {}


def _code(res: dict[str, Any]) -> str:
    return res.get("code", {}).get("coding", [{}])[0].get("code", "")


def _stored(
    entries: list[dict[str, Any]], ids: dict[str, str], version: str
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, str]]]:
    """The reports and plans as the server stores the sent ``entries`` (every urn resolved to its id), and
    what the write returned for them."""
    text = json.dumps(entries)
    for urn, ref in ids.items():
        text = text.replace(f'"{urn}"', f'"{ref}"')
    stored: dict[str, dict[str, Any]] = {}
    written: dict[str, dict[str, str]] = {}
    for n, e in enumerate(json.loads(text)):
        res = e["resource"]
        if res["resourceType"] not in ("DiagnosticReport", "CarePlan"):
            continue
        ref = ids[entries[n]["fullUrl"]]
        res["id"], res["meta"]["versionId"] = ref.split("/")[1], version
        stored[ref] = res
        written[entry_key(e)] = {"ref": ref, "version": version}
    return stored, written


def test_a_plan_written_beside_an_unchanged_report_of_ours_is_not_re_tagged():
    mapping = load_mapping()
    run = evaluate_paths([SAMPLES / "relapse-case.json"], mapping, MAYO, None)
    (result,) = [r for r in run.results if r.scope.in_scope]
    bundle = transaction_for(
        result, WriteContext(NOW, mapping.identity, result.inputs), html_for(result, mapping, generated=NOW)
    )
    ids = {e["fullUrl"]: f"{e['resource']['resourceType']}/{n}" for n, e in enumerate(bundle["entry"])}
    unchanged = [e for e in bundle["entry"] if _code(e["resource"]) == "poems-response-assessment"]
    assert unchanged, "the sample has a response report"
    # as plan_writes leaves it: the unchanged response report not sent, references to it by its server id
    text = json.dumps([e for e in bundle["entry"] if e not in unchanged])
    for urn in (e["fullUrl"] for e in unchanged):
        text = text.replace(f'"{urn}"', f'"{ids[urn]}"')
    sent = {**bundle, "entry": json.loads(text)}
    stored, written = _stored(sent["entry"], ids, "1")
    client = Client(stored)
    sink = ServerSink(client, Capabilities("4.0.1", True, True, True))  # type: ignore[arg-type]
    sink._returned = {}
    sink._settle(sent, written)
    assert client.puts == []  # stored as sent: nothing to re-tag
    # and any later run, which knows every resource of ours, reads each as ours
    later = frozenset({own_ref_key(r) for r in stored} | {own_ref_key(ids[e["fullUrl"]]) for e in unchanged})
    assert all(is_unchanged_ours(res, later) for res in stored.values())


def _written_beside_a_kept_report(seen_report: bool) -> tuple[Client, dict[str, dict[str, Any]], str]:
    """The criteria report of ours finalised by a clinician (kept, not sent, not named by our Provenance,
    which targets what we wrote), the plan written beside it and citing it by its server id."""
    mapping = load_mapping()
    run = evaluate_paths([SAMPLES / "classic-poems.json"], mapping, MAYO, None)
    (result,) = [r for r in run.results if r.scope.in_scope]
    bundle = transaction_for(
        result, WriteContext(NOW, mapping.identity, result.inputs), html_for(result, mapping, generated=NOW)
    )
    ids = {e["fullUrl"]: f"{e['resource']['resourceType']}/{n}" for n, e in enumerate(bundle["entry"])}
    (kept,) = [e for e in bundle["entry"] if _code(e["resource"]) == "poems-criteria-assessment"]
    report = ids[kept["fullUrl"]]
    text = json.dumps([e for e in bundle["entry"] if e is not kept]).replace(f'"{kept["fullUrl"]}"', f'"{report}"')
    entries = json.loads(text)
    for e in entries:
        if e["resource"]["resourceType"] == "Provenance":
            e["resource"]["target"] = [t for t in e["resource"]["target"] if t.get("reference") != report]
    sent = {**bundle, "entry": entries}
    stored, written = _stored(entries, ids, "2")
    client = Client(stored)
    sink = ServerSink(client, Capabilities("4.0.1", True, True, True))  # type: ignore[arg-type]
    sink._returned = {}
    sink._seen = ("Patient/classic-poems", frozenset({*stored, report}) if seen_report else frozenset())
    sink._settle(sent, written, sink._seen[1])
    return client, stored, report


def test_a_plan_written_beside_our_report_a_clinician_finalised_is_not_re_tagged():
    """probe56 D1: a clinician finalised our report; the next material change rewrote our plan, which
    cites it, and re-tagged it as if the report were someone else's - every later run (which counts that
    report among ours, it still carries our identifier) read our plan as a takeover, and the next change
    wrote a second open proposal beside it."""
    client, stored, report = _written_beside_a_kept_report(seen_report=True)
    assert client.puts == []
    later = frozenset({*stored, report})  # as ServerView.our_refs of the next run
    assert all(is_unchanged_ours(res, later) for res in stored.values())
    # what the write alone knows (without the server's view before it) cannot judge the plan as ours
    client, _, _ = _written_beside_a_kept_report(seen_report=False)
    assert [p.split("/")[0] for p in client.puts] == ["PUT CarePlan"]
