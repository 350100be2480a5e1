"""Every request of a real run (discovery, reads, ownership, write, withdrawal) is covered by the
documented scopes, and the --help example is exactly that list."""

from __future__ import annotations

import json
import re

import requests
import requests.adapters
from click.testing import CliRunner

from poems_fhir.cli import main
from poems_fhir.sync.permissions import scope_string, scopes
from tests.integration.test_sync_server import run


def needed(method: str, url: str, body) -> set[str]:
    path = url.split("/fhir/R4", 1)[-1].split("?", 1)[0].strip("/")
    if path == "metadata":
        return set()
    if path == "":  # a transaction: each entry's type, written
        return {f"system/{e['request']['url'].split('?')[0].split('/')[0]}.write" for e in body["entry"]} | {
            f"system/{e['request']['url'].split('?')[0].split('/')[0]}.read"
            for e in body["entry"]
            if "?" in e["request"]["url"]
        }  # conditional: the server searches first
    rtype = path.split("/")[0]
    found = {f"system/{rtype}.read"}
    params = url.split("?", 1)[1] if "?" in url else ""
    for include in re.findall(r"_(?:rev)?include=([A-Za-z]+)%3A([a-z]+)", params):
        found.add(f"system/{'Provenance' if include[0] == 'Provenance' else _target(include)}.read")
    return found


def _target(include: tuple[str, str]) -> str:
    return {"specimen": "Specimen", "patient": "Patient", "medication": "Medication"}[include[1]]


def test_every_request_of_a_run_is_within_the_documented_scopes(server, tmp_path, monkeypatch):
    seen: set[str] = set()
    original = requests.adapters.HTTPAdapter.send

    def recording(self, prepared, **kw):
        # every request leaves through the transport adapter (fhir/http.py prepares it first)
        body = prepared.body.decode("utf-8") if isinstance(prepared.body, bytes) else prepared.body
        if prepared.method == "POST" and prepared.url.split("?")[0].endswith("/_search"):
            form = dict(re.findall(r"([^&=]+)=([^&]*)", body or ""))
            seen.update(needed("GET", prepared.url.split("/_search")[0] + "?" + (body or ""), None))
            for include in re.findall(
                r"([A-Za-z]+)(?::|%3A)([a-z]+)", requests.utils.unquote(form.get("_include", ""))
            ):
                seen.add(f"system/{_target(include)}.read")
        else:
            seen.update(needed(prepared.method, prepared.url, json.loads(body) if body else None))
        return original(self, prepared, **kw)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", recording)
    run(server, tmp_path, patient=[])  # discovery, reads, ownership, writes
    run(server, tmp_path, patient=[], profile="dispenzieri-2003")  # + withdrawal of the old profile
    assert seen - set(scopes("write")) == set()
    assert {
        "system/CarePlan.write",
        "system/Provenance.write",
        "system/MedicationStatement.read",
        "system/Provenance.read",
    } <= seen  # the recording saw the whole run
    dry: set[str] = set()
    seen.clear()
    run(server, tmp_path / "dry", patient=[], dry_run=tmp_path / "out")
    dry = set(seen)
    assert dry - set(scopes("dry-run")) == set() and not any(s.endswith(".write") for s in dry)


def test_the_help_example_scope_is_the_documented_one():
    text = CliRunner().invoke(main, ["sync", "--help"]).output
    assert f'scope = "{scope_string()}"' in text.replace("\n", "")
