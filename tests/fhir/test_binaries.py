"""A note's or report's text in a Binary the input carries (an export's Binary.ndjson, a Bundle's entry): read from
the input, never from the network or the local disk (fhir/binaries.py).

Epic- and Cerner-style records give a DocumentReference's text as ``attachment.url`` "Binary/<id>"; an export or a
Bundle often carries that Binary beside the note. Before, files left such a note unread ("by url only") even with
its Binary in the same Bundle: every finding it states was "no data"."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from poems_fhir.cli import main
from poems_fhir.criteria.model import Criterion
from poems_fhir.fhir.binaries import MAX_INLINED, binary_text, input_binary_key, input_binary_names
from poems_fhir.fhir.read import read_paths, stored_binary
from poems_fhir.fhir.spool import open_paths
from tests.mapping.pdf_files import pdf, scanned_pdf

ORGANS = Criterion.ORGANOMEGALY.value
BONE = Criterion.SCLEROTIC_BONE_LESIONS.value
CT_TEXT = "CT chest, abdomen and pelvis. IMPRESSION: Splenomegaly, 16 cm. Multiple sclerotic bone lesions in the spine."


def b64(text: str, encoding: str = "utf-8") -> str:
    return base64.b64encode(text.encode(encoding)).decode("ascii")


def ct_note(url: str, rid: str = "d1", content_type: str | None = "text/plain", **elements: Any) -> dict[str, Any]:
    attachment: dict[str, Any] = {"url": url}
    if content_type:
        attachment["contentType"] = content_type
    return {
        "resourceType": "DocumentReference",
        "id": rid,
        "status": "current",
        "type": {"coding": [{"system": "http://loinc.org", "code": "18748-4", "display": "Diagnostic imaging study"}]},
        "subject": {"reference": "Patient/p1"},
        "date": "2024-03-05T09:30:00Z",
        "description": "CT chest abdomen pelvis",  # Epic names the study here (README: DocumentReference)
        "content": [{"attachment": attachment}],
        **elements,
    }


def binary(text: str | None, rid: str = "b1", content_type: str = "text/plain", **elements: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"resourceType": "Binary", "id": rid, "contentType": content_type, **elements}
    if text is not None:
        out["data"] = b64(text)
    return out


PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "male", "birthDate": "1970-01-01"}


def bundle(path: Path, *resources: dict[str, Any]) -> Path:
    entries = [
        {"fullUrl": f"https://ehr.example.org/fhir/{r['resourceType']}/{r['id']}", "resource": r} for r in resources
    ]
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}), encoding="utf-8")
    return path


def evaluate(*paths: Path) -> dict[str, Any]:
    result = CliRunner().invoke(
        main, ["evaluate", *map(str, paths), "--format", "json", "--all"], catch_exceptions=False
    )
    return json.loads(result.output)


def criteria_of(out: dict[str, Any]) -> dict[str, Any]:
    return out["patients"][0]["criteria"]


def messages(out: dict[str, Any]) -> list[str]:
    return [e["message"] for e in out["errors"]]


def test_a_notes_text_in_a_binary_of_the_same_bundle_is_read(tmp_path: Path) -> None:
    out = evaluate(bundle(tmp_path / "b.json", PATIENT, ct_note("Binary/b1"), binary(CT_TEXT)))
    criteria = criteria_of(out)
    assert criteria[ORGANS]["state"] == "present" and criteria[BONE]["state"] == "present"
    # cited as the note: the Binary is only where its text was
    assert {e["reference"] for e in criteria[BONE]["evidence"]} == {"DocumentReference/d1"}
    assert not any("by url only" in m for m in messages(out))


def test_without_its_binary_the_note_stays_listed_as_unread(tmp_path: Path) -> None:
    out = evaluate(bundle(tmp_path / "b.json", PATIENT, ct_note("Binary/b1"), binary(CT_TEXT, rid="other")))
    assert criteria_of(out)[BONE]["state"] == "not_assessed"
    # listed as unread, saying which Binary the input lacks and what to do (fix139a, probe138 G5; was "by url only")
    assert any("the Binary named 'Binary/b1' is not in the input" in m for m in messages(out))


def test_an_exports_binary_ndjson_is_read_beside_its_notes(tmp_path: Path) -> None:
    """A bulk export's files: the note in DocumentReference.ndjson, its text in Binary.ndjson (the spool path), the
    note naming it by its absolute url on the exporting server."""
    (tmp_path / "Patient.ndjson").write_text(json.dumps(PATIENT) + "\n", encoding="utf-8")
    note = ct_note("https://ehr.example.org/fhir/Binary/b1")
    (tmp_path / "DocumentReference.ndjson").write_text(json.dumps(note) + "\n", encoding="utf-8")
    (tmp_path / "Binary.ndjson").write_text(json.dumps(binary(CT_TEXT)) + "\n", encoding="utf-8")
    out = evaluate(tmp_path)
    assert criteria_of(out)[ORGANS]["state"] == "present"
    assert criteria_of(out)[BONE]["state"] == "present"


def test_the_binarys_denial_is_read_as_a_denial(tmp_path: Path) -> None:
    """A CT report's negatives test the criterion: absent, not present and not "no data"."""
    text = "CT abdomen. IMPRESSION: No splenomegaly. No hepatomegaly. No lymphadenopathy. No sclerotic bone lesions."
    out = evaluate(bundle(tmp_path / "b.json", PATIENT, ct_note("Binary/b1"), binary(text)))
    assert criteria_of(out)[ORGANS]["state"] == "absent"
    assert criteria_of(out)[BONE]["state"] == "absent"


def test_an_untyped_attachment_takes_the_binarys_type_and_a_charset(tmp_path: Path) -> None:
    text = "КТ органов брюшной полости. Заключение: спленомегалия (селезёнка 16 см)."
    doc = ct_note("Binary/b1", content_type=None)
    encoded = {
        "resourceType": "Binary",
        "id": "b1",
        "contentType": "text/plain; charset=windows-1251",
        "data": b64(text, "cp1251"),
    }
    out = evaluate(bundle(tmp_path / "b.json", PATIENT, doc, encoded))
    assert criteria_of(out)[ORGANS]["state"] == "present"


def test_a_binary_that_says_it_is_an_image_is_listed_and_not_read(tmp_path: Path) -> None:
    scan = binary(CT_TEXT, content_type="image/jpeg")  # text bytes, but the Binary says it is a picture
    out = evaluate(bundle(tmp_path / "b.json", PATIENT, ct_note("Binary/b1"), scan))
    assert criteria_of(out)[BONE]["state"] == "not_assessed"
    said = [e for e in out["errors"] if "image/jpeg" in e["message"]]
    assert said and said[0]["resource"] == "DocumentReference/d1"
    assert "Binary/b1: the Binary is image/jpeg" in said[0]["message"]


def test_a_pdf_binary_is_read_by_its_text_layer(tmp_path: Path) -> None:
    """A PDF is text poems-fhir reads (tests/mapping/test_attachment_pdf.py): under an attachment saying text/plain,
    the Binary's own type decides how its bytes are read."""
    report_pdf = {"resourceType": "Binary", "id": "b1", "contentType": "application/pdf"}
    report_pdf["data"] = base64.b64encode(pdf(CT_TEXT.split(". "))).decode()
    out = evaluate(bundle(tmp_path / "b.json", PATIENT, ct_note("Binary/b1"), report_pdf))
    assert criteria_of(out)[BONE]["state"] == "present"


def test_a_pdf_binary_is_kept_without_its_data_and_a_text_one_whole() -> None:
    """An export's Binaries can be gigabytes of scans: one that says it is no text keeps no data."""
    scan = binary("x" * 100, content_type="image/jpeg")  # a PDF is text here: kept whole
    assert "data" not in stored_binary(scan) and stored_binary(scan)["contentType"] == "image/jpeg"
    text = binary("Splenomegaly")
    assert stored_binary(text) is text
    untyped = binary("Splenomegaly", content_type="application/octet-stream")
    assert stored_binary(untyped) is untyped


@pytest.mark.parametrize(
    ("held", "state"),
    [("2", "present"), ("1", "not_assessed")],
)
def test_a_versioned_url_reads_only_that_version(tmp_path: Path, held: str, state: str) -> None:
    """ "Binary/b1/_history/2" names version 2: another version's text is not the note's (probe134 D4's rule)."""
    out = evaluate(
        bundle(
            tmp_path / "b.json",
            PATIENT,
            ct_note("Binary/b1/_history/2"),
            binary(CT_TEXT, meta={"versionId": held}),
        )
    )
    assert criteria_of(out)[BONE]["state"] == state
    if state == "not_assessed":
        assert any("the input holds version '1' of it, not '2'" in m for m in messages(out))


def test_a_contained_binary_named_by_its_local_id_is_read(tmp_path: Path) -> None:
    doc = ct_note("#b1", contained=[binary(CT_TEXT)])
    out = evaluate(bundle(tmp_path / "b.json", PATIENT, doc))
    assert criteria_of(out)[BONE]["state"] == "present"


def test_a_binary_of_another_patients_note_is_that_notes_alone(tmp_path: Path) -> None:
    """One Binary per note: p2's note names b2; p1's note names b1 - each reads its own text."""
    p2 = {**PATIENT, "id": "p2"}
    other = {**ct_note("Binary/b2", rid="d2"), "subject": {"reference": "Patient/p2"}}
    negative = "CT. IMPRESSION: No splenomegaly. No sclerotic bone lesions."
    out = evaluate(
        bundle(tmp_path / "b.json", PATIENT, p2, ct_note("Binary/b1"), other, binary(CT_TEXT), binary(negative, "b2"))
    )
    by_patient = {p["patient"]: p["criteria"] for p in out["patients"]}
    assert by_patient["Patient/p1"][BONE]["state"] == "present"
    assert by_patient["Patient/p2"][BONE]["state"] == "absent"


def test_nothing_is_read_from_the_local_disk_or_the_network(tmp_path: Path) -> None:
    """A url naming a file or another host is never opened: only a Binary the input carries is read."""
    secret = tmp_path / "secret.txt"
    secret.write_text(CT_TEXT, encoding="utf-8")
    notes = [
        ct_note(secret.as_uri(), rid="d1"),
        ct_note("http://169.254.169.254/latest/meta-data", rid="d2"),
        ct_note("Binary/../../etc/passwd", rid="d3"),
    ]
    out = evaluate(bundle(tmp_path / "b.json", PATIENT, *notes))
    assert criteria_of(out)[BONE]["state"] == "not_assessed"
    assert sum("by url only" in m for m in messages(out)) == 3


def test_a_malformed_binary_is_a_reported_skip_and_the_rest_is_read(tmp_path: Path) -> None:
    bad = {"resourceType": "Binary", "id": "b9", "contentType": "text/plain", "data": 42}
    out = evaluate(bundle(tmp_path / "b.json", PATIENT, ct_note("Binary/b1"), binary(CT_TEXT), bad))
    assert criteria_of(out)[BONE]["state"] == "present"
    assert any(e["resource"] == "Binary/b9" and "refused" in e["message"] for e in out["errors"])


def test_the_spool_and_the_in_memory_reader_agree(tmp_path: Path) -> None:
    path = bundle(tmp_path / "b.json", PATIENT, ct_note("Binary/b1"), binary(CT_TEXT))
    in_memory = read_paths([path]).records[0]
    with open_paths([path]) as source:
        spooled = source.record("Patient/p1")
    assert spooled is not None
    for record in (in_memory, spooled):
        (note,) = [r.data for r in record.resources if r.data["resourceType"] == "DocumentReference"]
        attachment = note["content"][0]["attachment"]
        assert base64.b64decode(attachment["data"]).decode() == CT_TEXT and attachment["url"] == "Binary/b1"


def test_at_most_so_many_binaries_a_patient_are_read(tmp_path: Path) -> None:
    notes = [ct_note(f"Binary/b{i}", rid=f"d{i}") for i in range(MAX_INLINED + 2)]
    binaries = [binary("CT. IMPRESSION: No ascites.", rid=f"b{i}") for i in range(MAX_INLINED + 2)]
    out = evaluate(bundle(tmp_path / "b.json", PATIENT, *notes, *binaries))
    assert sum(f"more than {MAX_INLINED} attachments given by url" in m for m in messages(out)) == 2


def test_binary_text_checks() -> None:
    assert binary_text(binary("x"), "b1") == (b64("x"), "text/plain")
    assert binary_text(binary("x", content_type="text/html; charset=koi8-r"), "b1") == (
        b64("x"),
        "text/html; charset=koi8-r",
    )
    assert binary_text(binary("x", rid="b2"), "b1") == "the answer is another Binary ('b2')"
    assert binary_text({"resourceType": "Patient"}, "b1") == "the answer is no Binary"
    assert binary_text(binary(None), "b1") == "the answer holds no Binary data"
    assert binary_text(binary("x", content_type="application/octet-stream"), "b1") == (b64("x"), "")


def test_input_binary_keys() -> None:
    assert input_binary_key("Binary/b1") == ("Binary/b1", None)
    assert input_binary_key("https://ehr.example.org/fhir/Binary/b1/_history/3") == ("Binary/b1", "3")
    assert input_binary_key(" Binary/b1/ ") == ("Binary/b1", None)
    assert input_binary_key("Binary/../../etc/passwd") is None
    assert input_binary_key("DocumentReference/d1") is None


def test_input_binary_names_are_what_inline_input_binaries_may_look_up() -> None:
    """The distributed run joins Binaries to patients by these names (distributed/keying.py): what the note may read."""
    assert input_binary_names(ct_note("https://ehr.example.org/fhir/Binary/b1/_history/2")) == ["Binary/b1"]
    assert input_binary_names(ct_note("urn:uuid:5b0c1d6e-0000-4000-8000-000000000a14 ", content_type=None)) == [
        "urn:uuid:5b0c1d6e-0000-4000-8000-000000000a14"
    ]
    report = {"resourceType": "DiagnosticReport", "presentedForm": [{"url": "Binary/r1"}, {"url": "Binary/r2"}]}
    assert input_binary_names(report) == ["Binary/r1", "Binary/r2"]
    # one document in two formats: the one read
    two = ct_note("Binary/html", content_type="text/html")
    two["content"].append({"attachment": {"url": "Binary/plain", "contentType": "text/plain"}})
    assert input_binary_names(two) == ["Binary/plain"]
    # nothing to look up: contained, a picture, a file or another host
    assert input_binary_names(ct_note("#b1", contained=[binary(CT_TEXT)])) == []
    assert input_binary_names(ct_note("Binary/b1", content_type="image/jpeg")) == []
    assert input_binary_names(ct_note("https://ehr.example.org/notes/n1.txt")) == []
    # behind an inline format: named too - the reading falls through to it when the inline one cannot be read, and
    # the distributed run must join what the readers read
    inline = ct_note("Binary/b2")
    inline["content"].insert(0, {"attachment": {"contentType": "text/plain", "data": b64(CT_TEXT)}})
    assert input_binary_names(inline) == ["Binary/b2"]


@pytest.mark.parametrize("with_id", [True, False], ids=["with-id", "without-id"])
def test_a_document_bundles_urn_uuid_names_its_binary(tmp_path: Path, with_id: bool) -> None:
    """probe138 G1, G2: a document or transaction Bundle names the Binary by its entry's fullUrl "urn:uuid:…" (its
    usual shape: the Binary often has no id at all)."""
    urn = "urn:uuid:5b0c1d6e-0000-4000-8000-000000000a14"
    text = binary(CT_TEXT)
    if not with_id:
        del text["id"]
    entries = [
        {"fullUrl": "urn:uuid:5b0c1d6e-0000-4000-8000-0000000000p1", "resource": PATIENT},
        {"fullUrl": "urn:uuid:5b0c1d6e-0000-4000-8000-0000000000d1", "resource": ct_note(urn)},
        {"fullUrl": urn, "resource": text},
    ]
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "transaction", "entry": entries}), encoding="utf-8")
    out = evaluate(path)
    assert criteria_of(out)[BONE]["state"] == "present"
    assert not any("by url only" in m for m in messages(out))


def _with_inline(note: dict[str, Any], attachment: dict[str, Any]) -> dict[str, Any]:
    """The note with an inline format of the same document before its url one."""
    note["content"].insert(0, {"attachment": attachment})
    return note


SCAN = {"contentType": "application/pdf", "data": base64.b64encode(scanned_pdf()).decode("ascii")}


@pytest.mark.parametrize(
    "inline",
    [
        pytest.param(SCAN, id="scanned-pdf"),
        pytest.param({"contentType": "text/plain", "data": "not base64!"}, id="not-base64"),
        pytest.param({"contentType": "text/html", "data": b64("<p> </p>")}, id="blank-html"),
    ],
)
def test_an_unreadable_inline_format_falls_through_to_the_binary_the_input_carries(
    tmp_path: Path, inline: dict[str, Any]
) -> None:
    """A document sent as an inline scan (or a broken inline text) and as its text in a Binary of the input: the
    Binary's text is read - before, only a document with no inline format had its Binary read, so the scan's
    "no readable text" left every finding "no data"."""
    note = _with_inline(ct_note("Binary/b1"), dict(inline))
    out = evaluate(bundle(tmp_path / "b.json", PATIENT, note, binary(CT_TEXT)))
    criteria = criteria_of(out)
    assert criteria[ORGANS]["state"] == "present" and criteria[BONE]["state"] == "present"
    assert {e["reference"] for e in criteria[BONE]["evidence"]} == {"DocumentReference/d1"}


def test_a_readable_inline_format_is_read_and_its_binary_alternative_not_twice(tmp_path: Path) -> None:
    """Control: the inline text is the document; its Binary alternative (the same document) cites nothing twice,
    and a Binary alternative saying otherwise does not override the better-ranked inline text."""
    inline = {"contentType": "text/plain", "data": b64("CT. IMPRESSION: No splenomegaly. No sclerotic bone lesions.")}
    note = _with_inline(ct_note("Binary/b1", content_type="text/rtf"), inline)
    out = evaluate(bundle(tmp_path / "b.json", PATIENT, note, binary(CT_TEXT, content_type="text/rtf")))
    criteria = criteria_of(out)
    assert criteria[BONE]["state"] == "absent"
    assert [e["reference"] for e in criteria[BONE]["evidence"]] == ["DocumentReference/d1"]
