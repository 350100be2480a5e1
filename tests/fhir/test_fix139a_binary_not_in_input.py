"""probe138 G5 (fix139a): a note or report whose text is in a Binary it names by url, a Binary the input does not
hold, was listed "content[0].attachment text/plain by url only not read (…)": neither what happened nor what to do.
It says now that the Binary named "Binary/xyz" is not in the input, and to add it to the Bundle or export or run
against the server that holds it (a contained "#id" or a Bundle entry's urn likewise, in their own words). A report's
presentedForm naming such a Binary was not listed at all (its conclusion read, or nothing): it is listed the same way.

Controls: a Binary the input carries is read as before; a url naming a file or another host's page (no Binary) stays
"by url only"; a Binary the input holds that cannot be read keeps its own problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.fhir.test_binaries import BONE, CT_TEXT, PATIENT, binary, bundle, criteria_of, ct_note, evaluate

WHAT_TO_DO = "add the Binary to the Bundle or export, or run poems-fhir sync against the server that holds it"


def messages_of(out: dict[str, Any], ref: str) -> list[str]:
    return [e["message"] for e in out["errors"] if e.get("resource") == ref]


def report(rid: str, url: str, conclusion: str | None = None, category: str = "RAD", text: str = "CT abdomen") -> dict:
    data: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "id": rid,
        "status": "final",
        "subject": {"reference": "Patient/p1"},
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": category}]}],
        "code": {"text": text},
        "effectiveDateTime": "2024-03-05",
        "presentedForm": [{"contentType": "text/plain", "url": url}],
    }
    if conclusion:
        data["conclusion"] = conclusion
    return data


def test_a_note_naming_a_binary_the_input_does_not_hold_says_so_and_what_to_do(tmp_path: Path) -> None:
    out = evaluate(bundle(tmp_path / "b.json", PATIENT, ct_note("Binary/xyz")))
    [message] = messages_of(out, "DocumentReference/d1")
    assert "the Binary named 'Binary/xyz' is not in the input" in message and WHAT_TO_DO in message, message
    assert "by url only" not in message
    assert "counts as no data" in message  # still listed as unread, never silent
    assert criteria_of(out)[BONE]["state"] == "not_assessed"


def test_the_version_and_an_absolute_url_are_named_as_sent(tmp_path: Path) -> None:
    notes = [ct_note("Binary/b7/_history/2", rid="d1"), ct_note("https://ehr.example.org/fhir/Binary/abc", rid="d2")]
    out = evaluate(bundle(tmp_path / "b.json", PATIENT, *notes))
    assert "'Binary/b7/_history/2' is not in the input" in messages_of(out, "DocumentReference/d1")[0]
    assert "'Binary/abc' is not in the input" in messages_of(out, "DocumentReference/d2")[0]


def test_a_contained_or_urn_binary_that_is_missing_says_where_to_add_it(tmp_path: Path) -> None:
    urn = "urn:uuid:7f0e7f3e-1111-2222-3333-444455556666"
    out = evaluate(bundle(tmp_path / "b.json", PATIENT, ct_note("#missing", rid="d1"), ct_note(urn, rid="d2")))
    assert "the contained Binary #missing is not in the resource" in messages_of(out, "DocumentReference/d1")[0]
    assert (
        f"no entry of the input is {urn}: add the Binary to the Bundle" in messages_of(out, "DocumentReference/d2")[0]
    )


def test_a_reports_presented_form_is_listed_the_same_way(tmp_path: Path) -> None:
    """Imaging without text (listed before, generically), imaging with a conclusion and a letter (not listed before:
    the attached text lost without a word)."""
    reports = [
        report("r1", "Binary/rxyz"),
        report("r2", "Binary/ct1", conclusion="No splenomegaly."),
        report("r3", "Binary/letter1", category="LAB", text="Haematology clinic letter"),
    ]
    out = evaluate(bundle(tmp_path / "b.json", PATIENT, *reports))
    for rid, binary_id in (("r1", "rxyz"), ("r2", "ct1"), ("r3", "letter1")):
        [message] = messages_of(out, f"DiagnosticReport/{rid}")
        assert message.startswith(f"presentedForm[0]: the Binary named 'Binary/{binary_id}' is not in the input")
        assert WHAT_TO_DO in message and "its text is not read" in message


def test_a_binary_the_input_holds_is_read_and_nothing_is_listed(tmp_path: Path) -> None:
    """Control: the note's Binary in the Bundle."""
    out = evaluate(bundle(tmp_path / "b.json", PATIENT, ct_note("Binary/b1"), binary(CT_TEXT)))
    assert criteria_of(out)[BONE]["state"] == "present"
    assert messages_of(out, "DocumentReference/d1") == []


def test_a_url_that_names_no_binary_stays_by_url_only(tmp_path: Path) -> None:
    """Control: a file or a web page is never read, and no Binary is named: nothing to add to the input."""
    out = evaluate(bundle(tmp_path / "b.json", PATIENT, ct_note("https://files.example.org/notes/n1.txt")))
    [message] = messages_of(out, "DocumentReference/d1")
    assert "by url only" in message and "is not in the input" not in message


def test_a_binary_held_but_unreadable_keeps_its_own_problem(tmp_path: Path) -> None:
    """Control: an image Binary is in the input - it is no text, not missing."""
    out = evaluate(
        bundle(tmp_path / "b.json", PATIENT, ct_note("Binary/b1"), binary(CT_TEXT, content_type="image/jpeg"))
    )
    listed = " | ".join(messages_of(out, "DocumentReference/d1"))
    assert "the Binary is image/jpeg" in listed and "is not in the input" not in listed
