"""fhir/binaries.py beyond tests/fhir/test_binaries.py (mutation testing, the forty-fourth session): a report's
several attachments each read on their own, the bounds of what a problem quotes, a Binary named by a Bundle entry's
``urn:oid``, and the size bound of a Binary's data."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from poems_fhir.fhir import binaries
from poems_fhir.fhir.binaries import MAX_DATA_CHARS, binary_text
from poems_fhir.fhir.read import PatientRecord, read_paths

PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "male", "birthDate": "1970-01-01"}
CT_TEXT = "CT abdomen. IMPRESSION: Splenomegaly, 16 cm."


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def text_binary(rid: str | None, text: str = CT_TEXT, content_type: str = "text/plain", **more: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"resourceType": "Binary", "contentType": content_type, "data": b64(text), **more}
    if rid is not None:
        out["id"] = rid
    return out


def ct_report(*urls: str, rid: str = "r1", **more: Any) -> dict[str, Any]:
    return {
        "resourceType": "DiagnosticReport",
        "id": rid,
        "status": "final",
        "code": {"text": "CT abdomen"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-03-05",
        "presentedForm": [{"contentType": "text/plain", "url": url} for url in urls],
        **more,
    }


def ct_note(url: str, rid: str = "d1", **more: Any) -> dict[str, Any]:
    return {
        "resourceType": "DocumentReference",
        "id": rid,
        "status": "current",
        "subject": {"reference": "Patient/p1"},
        "date": "2024-03-05",
        "content": [{"attachment": {"contentType": "text/plain", "url": url}}],
        **more,
    }


def read(tmp_path: Path, *entries: dict[str, Any] | tuple[str, dict[str, Any]]) -> PatientRecord:
    """The patient's record read from a Bundle of these resources (a tuple: the entry's own fullUrl)."""
    bundle_entries = []
    for entry in (PATIENT, *entries):
        if isinstance(entry, tuple):
            bundle_entries.append({"fullUrl": entry[0], "resource": entry[1]})
        else:
            url = f"https://ehr.example.org/fhir/{entry['resourceType']}/{entry['id']}"
            bundle_entries.append({"fullUrl": url, "resource": entry})
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": bundle_entries}))
    [record] = read_paths([path]).records
    return record


def forms_read(record: PatientRecord, ref: str) -> list[str | None]:
    """The text each attachment of the resource holds now (None: not read)."""
    [data] = [raw.data for raw in record.resources if raw.ref == ref]
    holders = data.get("presentedForm") or [c["attachment"] for c in data["content"]]
    return [base64.b64decode(a["data"]).decode() if "data" in a else None for a in holders]


def messages(record: PatientRecord) -> list[str]:
    return [p.message for p in record.problems]


def test_each_of_a_reports_attachments_is_read_whatever_the_one_before_it_was(tmp_path: Path) -> None:
    """A report's presentedForm given by several urls: one the input lacks, one that is no text, and one read -
    the first two do not stop the third (they are the report's other formats or parts)."""
    record = read(
        tmp_path,
        ct_report("Binary/missing", "Binary/scan", "Binary/b1"),
        text_binary("scan", content_type="image/png"),
        text_binary("b1"),
    )
    assert forms_read(record, "DiagnosticReport/r1") == [None, None, CT_TEXT]
    assert messages(record) == ["Binary/scan: the Binary is image/png, no text poems-fhir reads; its text is not read"]
    assert record.problems[0].resource == "DiagnosticReport/r1"


def test_past_the_bound_every_further_attachment_is_listed_and_its_url_quoted_to_200_characters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(binaries, "MAX_INLINED", 1)
    long_url = "https://ehr.example.org/" + "archive/" * 30 + "Binary/b2"  # 272 characters
    record = read(
        tmp_path,
        ct_report("Binary/b1", long_url, "Binary/b3"),
        text_binary("b1"),
        text_binary("b2"),
        text_binary("b3"),
    )
    assert forms_read(record, "DiagnosticReport/r1") == [CT_TEXT, None, None]
    assert messages(record) == [
        f"more than 1 attachments given by url for this patient: {long_url[:200]} not read",
        "more than 1 attachments given by url for this patient: Binary/b3 not read",
    ]


def test_a_held_version_is_quoted_to_64_characters(tmp_path: Path) -> None:
    held = "v" * 80
    record = read(tmp_path, ct_note("Binary/b1/_history/2"), text_binary("b1", meta={"versionId": held}))
    assert forms_read(record, "DocumentReference/d1") == [None]
    assert messages(record) == [
        f"Binary/b1/_history/2: the input holds version {'v' * 64!r} of it, not '2'; its text is not read"
    ]


def test_a_contained_binarys_name_is_quoted_whole(tmp_path: Path) -> None:
    """A contained id has up to 64 characters (longer ones are refused when read): "#" and all 64 are quoted - the
    last character of the longest id was cut before."""
    cid = "c" * 64
    note = ct_note(f"#{cid}", contained=[text_binary(cid, content_type="image/png")])
    record = read(tmp_path, note)
    assert messages(record) == [
        f"contained Binary #{cid}: the Binary is image/png, no text poems-fhir reads; its text is not read"
    ]


def test_a_binary_named_by_a_bundle_entrys_urn_oid_is_read_and_a_long_one_quoted_to_80_characters(
    tmp_path: Path,
) -> None:
    """probe138 G1's rule for "urn:oid:" fullUrls too (FHIR allows both kinds of urn for an entry without a server
    url); an id-less Binary is named by its urn, at most 80 characters of it."""
    oid = "urn:oid:1.2.840.113619.2.55.3"
    long_oid = "urn:oid:" + ".".join(["1.2.840.113619"] * 8)  # 126 characters
    record = read(
        tmp_path,
        ct_note(oid),
        ct_note(long_oid, rid="d2"),
        (oid, text_binary(None)),
        (long_oid, text_binary(None, content_type="image/png")),
    )
    assert forms_read(record, "DocumentReference/d1") == [CT_TEXT]
    assert forms_read(record, "DocumentReference/d2") == [None]
    assert messages(record) == [
        f"Binary {long_oid[:80]}: the Binary is image/png, no text poems-fhir reads; its text is not read"
    ]


def test_another_binarys_id_is_quoted_to_64_characters() -> None:
    other = "x" * 80
    assert binary_text(text_binary(other), "b1") == f"the answer is another Binary ({'x' * 64!r})"


def test_data_of_exactly_the_bound_is_read_and_one_character_more_is_not() -> None:
    at_bound = {"resourceType": "Binary", "contentType": "text/plain", "data": "A" * MAX_DATA_CHARS}
    assert binary_text(at_bound, None) == (at_bound["data"], "text/plain")
    over = {**at_bound, "data": "A" * (MAX_DATA_CHARS + 1)}
    assert binary_text(over, None) == f"{MAX_DATA_CHARS + 1:,} characters of data, more than {MAX_DATA_CHARS:,}"


def test_an_untyped_binary_is_read_in_the_attachments_type() -> None:
    """A Binary that states no type says nothing against the attachment's: read, the attachment's type kept."""
    untyped = {"resourceType": "Binary", "id": "b1", "data": b64(CT_TEXT)}
    assert binary_text(untyped, "b1") == (b64(CT_TEXT), "")


def test_the_binarys_data_goes_into_a_copy_and_the_resource_as_read_is_left_as_it_was() -> None:
    from poems_fhir.fhir.binaries import with_binaries

    note = ct_note("Binary/b1")
    copied = with_binaries(note, {0: (b64(CT_TEXT), "text/html")})
    assert copied["content"][0]["attachment"] == {"contentType": "text/html", "url": "Binary/b1", "data": b64(CT_TEXT)}
    assert note["content"][0]["attachment"] == {"contentType": "text/plain", "url": "Binary/b1"}
