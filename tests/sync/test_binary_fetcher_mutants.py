"""sync/attachments.py, the Binary fetcher, beyond tests/sync/test_binary_attachments.py (mutation testing, the
forty-fourth session): what a bulk export's record learns from the fetched Binaries, and the problems it is told,
each naming the patient and the url that was not read."""

from __future__ import annotations

import base64
from typing import Any

from poems_fhir.errors import FatalNetworkError
from poems_fhir.fhir.read import PatientRecord, Raw, ResourceIndex
from poems_fhir.sync.attachments import BinaryFetcher

BASE = "https://ehr.example.org/fhir/R4"


class FakeClient:
    """A server holding some Binaries: ``get("Binary/<id>")`` answers them, anything else is a 404."""

    base_url = BASE

    def __init__(self, binaries: dict[str, dict[str, Any]]) -> None:
        self.binaries = binaries
        self.asked: list[str] = []

    def get(self, path: str) -> dict[str, Any]:
        self.asked.append(path)
        if path in self.binaries:
            return self.binaries[path]
        raise FatalNetworkError(f"{path}: not found", url=f"{BASE}/{path}", status=404)


def note(rid: str, url: str) -> dict[str, Any]:
    return {
        "resourceType": "DocumentReference",
        "id": rid,
        "status": "current",
        "subject": {"reference": "Patient/p-a"},
        "content": [{"attachment": {"contentType": "text/plain", "url": url}}],
    }


def text_binary(text: str) -> dict[str, Any]:
    return {"resourceType": "Binary", "contentType": "text/plain", "data": base64.b64encode(text.encode()).decode()}


def record(*resources: dict[str, Any]) -> PatientRecord:
    index = ResourceIndex()
    raws = [
        Raw(r, f"DocumentReference.ndjson:{i + 1}", f"{r['resourceType']}/{r['id']}") for i, r in enumerate(resources)
    ]
    for raw in raws:
        index.by_key[raw.ref] = raw
    return PatientRecord("Patient/p-a", raws, index, {"resourceType": "Patient", "id": "p-a"})


def test_a_bulk_records_problems_name_the_patient_and_its_fetched_text_is_in_the_record() -> None:
    """A bulk export's record (``inline_record``): the Binary's text lands in the record's own note, and a Binary that
    could not be fetched is a problem of that patient (the sync job keeps a patient's report when it could not read
    its data - it does not withdraw it)."""
    client = FakeClient({"Binary/b1": text_binary("Splenomegaly.")})
    rec = record(note("n1", "Binary/b1"), note("n2", "Binary/gone"))
    problems = BinaryFetcher(client).inline_record(rec, "Patient/p-a")  # type: ignore[arg-type]
    [problem] = problems
    assert problem.patient == "Patient/p-a"
    assert problem.source == "DocumentReference.ndjson:2"
    assert problem.message == (  # a 404 says the server does not hold it, and what to do (fix139a, probe138 G5)
        "the Binary named 'Binary/gone' is not on the server (HTTP 404, not found): the attachment names a Binary the "
        "server does not hold - have the attachment corrected at the source, or give its text inline; its text is not "
        "read"
    )
    first = rec.resources[0].data["content"][0]["attachment"]
    assert base64.b64decode(first["data"]) == b"Splenomegaly." and first["url"] == "Binary/b1"
    assert "data" not in rec.resources[1].data["content"][0]["attachment"]


def test_past_the_bound_each_further_attachment_is_listed_its_url_quoted_to_200_characters(monkeypatch) -> None:
    """MAX_FETCHED Binaries a patient: the next ones are not fetched, each listed, naming the patient (a server whose
    base url is long: the url is quoted to 200 characters)."""
    from poems_fhir.sync import attachments

    monkeypatch.setattr(attachments, "MAX_FETCHED", 1)
    client = FakeClient({"Binary/b1": text_binary("Splenomegaly.")})
    client.base_url = "https://ehr.example.org/" + "tenant/" * 30 + "fhir"  # 238 characters
    long_url = f"{client.base_url}/Binary/b2"
    resources = [(note("n1", "Binary/b1"), "o1"), (note("n2", long_url), "o2"), (note("n3", "Binary/b3"), "o3")]
    problems = BinaryFetcher(client).inline(resources, "Patient/p-a")  # type: ignore[arg-type]
    assert client.asked == ["Binary/b1"]
    assert [(p.source, p.message, p.patient) for p in problems] == [
        (
            "o2",
            f"more than 1 attachments to fetch for this patient: {long_url[:200]} not fetched; its text is not read",
            "Patient/p-a",
        ),
        (
            "o3",
            "more than 1 attachments to fetch for this patient: Binary/b3 not fetched; its text is not read",
            "Patient/p-a",
        ),
    ]


def test_what_is_read_for_an_attachment_url() -> None:
    from poems_fhir.sync.attachments import binary_path

    assert binary_path("Binary/b1", BASE) == "Binary/b1"
    assert binary_path(f"{BASE}/Binary/b1/_history/3", BASE) == "Binary/b1/_history/3"  # a vread (probe134 D4)
    assert binary_path(f" {BASE}/Binary/b1/ ", BASE + "/") == "Binary/b1"
    assert binary_path("https://elsewhere.example.org/fhir/R4/Binary/b1", BASE) is None
    assert binary_path("Binary/../b1", BASE) is None
    assert binary_path(None, BASE) is None


def test_each_fetch_costs_one_of_the_patients_budget(monkeypatch) -> None:
    from poems_fhir.sync import attachments

    monkeypatch.setattr(attachments, "MAX_FETCHED", 2)
    client = FakeClient({f"Binary/b{i}": text_binary("Ascites.") for i in (1, 2, 3)})
    resources = [(note(f"n{i}", f"Binary/b{i}"), f"o{i}") for i in (1, 2, 3)]
    problems = BinaryFetcher(client).inline(resources, "Patient/p-a")  # type: ignore[arg-type]
    assert client.asked == ["Binary/b1", "Binary/b2"]
    assert [p.source for p in problems] == ["o3"]


def test_the_digest_of_fetched_text_takes_any_string_a_server_sent() -> None:
    """The input hash's digest of fetched data (probe134 D1): a lone surrogate in a hostile Binary's data (JSON allows
    "\\ud800") is hashed, never an error that costs the patient; what was not fetched adds nothing."""
    from poems_fhir.sync.attachments import fetched_digest

    def doc(data: str) -> dict[str, Any]:
        return {**note("n1", "Binary/b1"), "content": [{"attachment": {"url": "Binary/b1", "data": data}}]}

    hostile = fetched_digest(doc("QQ\ud800=="))
    assert len(hostile) == 32 and hostile != fetched_digest(doc("QQ=="))
    assert fetched_digest(note("n1", "Binary/b1")) == ""
