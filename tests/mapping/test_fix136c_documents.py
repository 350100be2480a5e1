"""probe136 D4, D5, D7, D8, D9, D13: a DocumentReference's formats fall through as a report's do, and its
``relatesTo`` links replace only what a live, other document can replace.

- D4: a first format that cannot be read (not base64, cp1251 without a charset) hid the RTF or HTML after it;
- D5: a blank text/plain rendition ("\\n") hid the HTML after it, nothing listed;
- D7: a document whose relatesTo replaces itself was dropped silently;
- D8: an entered-in-error replacement still withdrew the original it named;
- D9: A replaces B, B replaces A: both dropped silently;
- D13: a description of the wrong JSON type was not refused;
plus the study named twice when type.text equals the description, and the status case rule."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from poems_fhir.cli import main
from poems_fhir.criteria.model import Criterion, State
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record
from tests.mapping.test_documents import b64, document

ORGANS = Criterion.ORGANOMEGALY.value
CT = ("18748-4", "Diagnostic imaging study")


def organs(mapping, *resources: dict[str, Any]) -> tuple[set[State], list[str]]:
    out = extract(make_record(*resources), mapping)
    return {f.state for f in out.findings if f.topic == ORGANS}, [e.message for e in out.errors]


def ct(rid: str, text: str | None = None, **elements: Any) -> dict[str, Any]:
    return document(text, rid, loinc=CT, type_text="CT abdomen pelvis", **elements)


def formats(*attachments: tuple[str, str | bytes]) -> list[dict[str, Any]]:
    """content[] of (contentType, text or raw bytes); a str that is not base64-able is sent as is with "raw:"."""
    out = []
    for kind, body in attachments:
        if isinstance(body, bytes):
            data = base64.b64encode(body).decode("ascii")
        elif body.startswith("raw:"):
            data = body[4:]
        else:
            data = b64(body)
        out.append({"attachment": {"contentType": kind, "data": data}})
    return out


RTF_EN = r"{\rtf1\ansi{\fonttbl{\f0 Arial;}}\par IMPRESSION:\par Splenomegaly 16 cm.\par}"
RTF_RU = r"{\rtf1\ansi\ansicpg1251{\fonttbl{\f0 Arial;}}\par \u1057?\u1087?\u1083?\u1077?\u1085?\u1086?\u1084?\u1077?\u1075?\u1072?\u1083?\u1080?\u1103? 16 \u1089?\u1084?.\par}"  # noqa: E501 - «Спленомегалия 16 см.»


# ---------------------------------------------------------------- D4: an unreadable format falls through


@pytest.mark.parametrize(
    "first, second",
    [
        (("text/plain", "raw:!!!"), ("text/rtf", RTF_EN)),  # not base64
        (("text/plain", "raw:!!!"), ("text/html", "<p>IMPRESSION:</p><p>Splenomegaly 16 cm.</p>")),
        (("text/plain", "Спленомегалия 16 см.".encode("cp1251")), ("text/rtf", RTF_RU)),  # cp1251, no charset
        (("text/plain", "Спленомегалия 16 см.".encode("cp1251")), ("text/html", "<p>Спленомегалия 16 см.</p>")),
    ],
)
def test_an_unreadable_first_format_falls_through_to_the_next_and_is_listed(mapping, first, second) -> None:
    doc = ct("d4", None)
    doc["content"] = formats(first, second)
    found, errors = organs(mapping, doc)
    assert found == {State.PRESENT}
    assert len(errors) == 1 and errors[0].startswith("content[0].attachment")


def test_a_readable_first_format_is_still_the_one_read(mapping) -> None:
    # control: the plain text says no; the RTF after it (a stale rendition) is not read as well
    doc = ct("d4", None)
    doc["content"] = formats(("text/plain", "IMPRESSION: No splenomegaly."), ("text/rtf", RTF_EN))
    found, errors = organs(mapping, doc)
    assert State.PRESENT not in found and not errors


def test_a_report_and_a_document_fall_through_alike(mapping) -> None:
    report = {
        "resourceType": "DiagnosticReport",
        "id": "r1",
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD"}]}],
        "code": {"text": "CT abdomen pelvis"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-15",
        "presentedForm": [f["attachment"] for f in formats(("text/plain", "raw:!!!"), ("text/rtf", RTF_EN))],
    }
    found, errors = organs(mapping, report)
    assert found == {State.PRESENT} and len(errors) == 1


# ---------------------------------------------------------------- D5: a blank format is no reading


@pytest.mark.parametrize("blank", ["\n", "   \t\r\n ", "\u00a0\n"])
def test_a_blank_plain_text_does_not_hide_the_html(mapping, blank: str) -> None:
    doc = ct("d5", None)
    doc["content"] = formats(("text/plain", blank), ("text/html", "<p>IMPRESSION:</p><p>Splenomegaly 16 cm.</p>"))
    found, errors = organs(mapping, doc)
    assert found == {State.PRESENT} and not errors


def test_russian_blank_plain_then_rtf(mapping) -> None:
    doc = ct("d5", None)
    doc["content"] = formats(("text/plain", "\n\n"), ("application/rtf", RTF_RU))
    found, errors = organs(mapping, doc)
    assert found == {State.PRESENT} and not errors


def test_a_document_whose_every_format_is_blank_is_listed(mapping) -> None:
    doc = ct("d5", None)
    doc["content"] = formats(("text/plain", " \n"), ("text/html", "<p> </p><br>"))
    found, errors = organs(mapping, doc)
    assert not found
    assert len(errors) == 1 and "blank" in errors[0] and "content[0].attachment" in errors[0]


# ---------------------------------------------------------------- D7: a document cannot replace itself


@pytest.mark.parametrize(
    "target",
    [
        "DocumentReference/d7",
        "DocumentReference/d7/_history/1",
        "https://ehr.example.org/fhir/DocumentReference/d7",
        "https://ehr.example.org/fhir/DocumentReference/d7/_history/3",
    ],
)
def test_a_document_replacing_itself_is_read_and_listed(mapping, target: str) -> None:
    doc = ct("d7", "IMPRESSION: Splenomegaly 16 cm.", docStatus="amended")
    doc["relatesTo"] = [{"code": "replaces", "target": {"reference": target}}]
    found, errors = organs(mapping, doc)
    assert found == {State.PRESENT}
    assert len(errors) == 1 and "itself" in errors[0]


def test_a_document_replacing_another_still_replaces_it(mapping) -> None:
    # control: a different id (d70 is not d7) is a real replacement
    old = ct("d7", "IMPRESSION: Splenomegaly 16 cm.")
    new = ct("d70", "IMPRESSION: Normal spleen size.")
    new["relatesTo"] = [{"code": "replaces", "target": {"reference": "DocumentReference/d7"}}]
    found, errors = organs(mapping, old, new)
    assert State.PRESENT not in found and not errors


# ---------------------------------------------------------------- D8: a withdrawn replacement replaces nothing


@pytest.mark.parametrize("withdrawn", [{"status": "entered-in-error"}, {"docStatus": "entered-in-error"}])
def test_an_entered_in_error_replacement_withdraws_nothing(mapping, withdrawn: dict[str, str]) -> None:
    original = ct("d8", "IMPRESSION: Splenomegaly 16 cm.")
    replacement = {**ct("d8b", "IMPRESSION: Normal study."), **withdrawn}
    replacement["relatesTo"] = [{"code": "replaces", "target": {"reference": "DocumentReference/d8"}}]
    found, errors = organs(mapping, original, replacement)
    assert found == {State.PRESENT} and not errors


# ---------------------------------------------------------------- D9: links that go round replace nothing


def _replacing(doc: dict[str, Any], *targets: str) -> dict[str, Any]:
    doc["relatesTo"] = [{"code": "replaces", "target": {"reference": f"DocumentReference/{t}"}} for t in targets]
    return doc


def test_two_documents_replacing_each_other_are_both_read_and_listed_once(mapping) -> None:
    a = _replacing(ct("a", "IMPRESSION: Splenomegaly 16 cm."), "b")
    b = _replacing(ct("b", "IMPRESSION: Hepatomegaly 20 cm."), "a")
    out = extract(make_record(a, b), mapping)
    cited = {f.evidence.reference for f in out.findings if f.topic == ORGANS}
    assert cited == {"DocumentReference/a", "DocumentReference/b"}
    [error] = [e.message for e in out.errors]
    assert "goes round" in error and "DocumentReference/a" in error and "DocumentReference/b" in error


def test_a_ring_of_three_and_a_chain_beside_it(mapping) -> None:
    ring = [
        _replacing(ct("a", "IMPRESSION: Splenomegaly 16 cm."), "b"),
        _replacing(ct("b", "IMPRESSION: Hepatomegaly 20 cm."), "c"),
        _replacing(ct("c", "IMPRESSION: Lymphadenopathy, nodes to 2 cm."), "a"),
    ]
    # control: a plain chain (e replaces d) still replaces, and a ring member replacing an outside document too
    chain = [ct("d", "IMPRESSION: Splenomegaly 19 cm."), _replacing(ct("e", "IMPRESSION: Normal spleen."), "d")]
    outside = ct("x", "IMPRESSION: Splenomegaly 21 cm.")
    ring[0] = _replacing(ring[0], "b", "x")
    out = extract(make_record(*ring, *chain, outside), mapping)
    cited = {f.evidence.reference for f in out.findings if f.topic == ORGANS and f.state is State.PRESENT}
    assert cited == {"DocumentReference/a", "DocumentReference/b", "DocumentReference/c"}
    assert [e.message for e in out.errors if "goes round" in e.message] and len(out.errors) == 1


# ---------------------------------------------------------------- D13, the status case, the study's name


def _evaluate(tmp_path: Path, *resources: dict[str, Any]) -> dict[str, Any]:
    patient = {"resourceType": "Patient", "id": "p1", "gender": "male", "birthDate": "1970-01-01"}
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in (patient, *resources)]}
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    result = CliRunner().invoke(main, ["evaluate", str(path), "--format", "json", "--all"], catch_exceptions=False)
    return json.loads(result.output)


@pytest.mark.parametrize("description", [1, [], {"x": [1]}, True])
def test_a_description_of_the_wrong_type_is_refused(tmp_path: Path, description: Any) -> None:
    out = _evaluate(tmp_path, ct("d13", "IMPRESSION: Splenomegaly 16 cm.", description=description))
    assert any("DocumentReference.description" in e["message"] for e in out["errors"])


def test_a_string_description_names_the_study_once(tmp_path: Path) -> None:
    doc = document(
        "IMPRESSION: Splenomegaly 16 cm.",
        "d1",
        loinc=CT,
        type_text="CT ABDOMEN PELVIS",
        description="CT ABDOMEN PELVIS",
    )
    out = _evaluate(tmp_path, doc)
    assert not out["errors"]
    [evidence] = out["patients"][0]["criteria"][ORGANS]["evidence"]
    assert evidence["summary"].startswith("CT ABDOMEN PELVIS: ")


@pytest.mark.parametrize("status, read", [("CURRENT", True), ("Current", True), ("ENTERED-IN-ERROR", False)])
def test_a_status_in_another_case_is_read_as_results_statuses_are(mapping, status: str, read: bool) -> None:
    # FHIR codes are case-sensitive, but results' statuses are read in any case (README: "in any case or spelling");
    # documents follow the same rule, and a withdrawn one in capitals is still withdrawn
    found, errors = organs(mapping, ct("d1", "IMPRESSION: Splenomegaly 16 cm.", status=status))
    assert (found == {State.PRESENT}) is read and not errors
