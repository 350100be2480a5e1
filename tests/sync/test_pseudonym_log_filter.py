# SPDX-License-Identifier: Apache-2.0
"""The run's log filter (sync/job.py `PseudonymLogFilter`): without --phi, the patient in flight is
named by its pseudonym in every log line and every structured field, also as a bare id."""

from __future__ import annotations

import logging

from poems_fhir.sync.job import PseudonymLogFilter, pseudonym

KEY = b"k" * 32


def record(message: str, **fields: object) -> logging.LogRecord:
    rec = logging.LogRecord("poems_fhir.client", logging.WARNING, __file__, 1, message, None, None)
    rec.fields = fields  # type: ignore[attr-defined]
    return rec


def test_the_patient_in_flight_is_pseudonymised_in_the_message_and_in_every_field():
    f = PseudonymLogFilter(KEY)
    f.current = "Patient/ab12"  # four characters: long enough to be masked bare
    shown = pseudonym(KEY, "Patient/ab12")
    rec = record("GET Condition?patient=ab12 failed for Patient/ab12", url="x?patient=ab12", attempt=2)
    assert f.filter(rec)
    assert rec.getMessage() == f"GET Condition?patient={shown} failed for Patient/{shown}"
    assert rec.fields == {"url": f"x?patient={shown}", "attempt": 2}  # type: ignore[attr-defined]


def test_an_id_shorter_than_four_characters_is_masked_only_as_a_reference():
    f = PseudonymLogFilter(KEY)
    f.current = "Patient/abc"
    shown = pseudonym(KEY, "Patient/abc")
    rec = record("abc: Patient/abc")
    f.filter(rec)
    assert rec.getMessage() == f"abc: Patient/{shown}"  # "abc" bare would blank letters out of every word


def test_without_a_patient_in_flight_only_references_are_masked():
    f = PseudonymLogFilter(KEY)
    rec = record("retrying Patient/zz99 and zz99", what="Patient/zz99")
    f.filter(rec)
    shown = pseudonym(KEY, "Patient/zz99")
    assert rec.getMessage() == f"retrying Patient/{shown} and zz99"
    assert rec.fields == {"what": f"Patient/{shown}"}  # type: ignore[attr-defined]


def test_malformed_patient_references_and_patient_searches_are_masked_whole():
    """probe47 D1: refusals quote the malformed reference they refused, and "patient/ID",
    "Patient//ID", "PATIENT/ID", "Patient\\ID", a percent-encoded or non-ASCII id and a
    "Patient?name=FAMILY" search kept the id or the family name in the run summary without --phi."""
    from poems_fhir.sync.job import scrub_identifiers

    pid = "phi-pat-7781"
    for text in (
        f"subject 'patient/{pid}' is not a Patient",
        f"subject 'Patient//{pid}' is not a valid Patient reference",
        f"subject 'PATIENT/{pid}' is not a Patient",
        f"subject 'Patient\\{pid}' is not a Patient",
        "subject 'Patient/phi%2Dpat-7781' is not a valid Patient reference",
        "subject 'Patient/ü' is not a valid Patient reference",
    ):
        shown = scrub_identifiers(KEY, text)
        assert "phi" not in shown and "7781" not in shown and "ü" not in shown, shown
        assert scrub_identifiers(KEY, shown) == shown  # a pseudonym is not masked again
    assert scrub_identifiers(KEY, f"subject 'patient/{pid}'") == f"subject 'patient/{pseudonym(KEY, 'Patient/' + pid)}'"
    search = scrub_identifiers(
        KEY,
        "subject 'Patient?family=Phimarkfam&given=Anna&birthdate=1950-01-02': read only as Patient?identifier=[system|]value",
    )
    assert "Phimarkfam" not in search and "Anna" not in search and "1950" not in search
    assert "Patient?identifier=[system|]value" in search  # the hint's placeholder is no identifier
    assert scrub_identifiers(KEY, "Patient?identifier=https://mrn|12345") == (
        f"Patient?identifier=https://mrn|{pseudonym(KEY, '12345')}"
    )


def test_a_patient_search_keeps_its_parameter_names_each_value_masked_on_its_own():
    """Mutation sample seed 24 (`_scrub_query` not splitting at "&"): the whole query was one value - the
    names a reader needs ("family", "birthdate") were masked with it."""
    from poems_fhir.sync.job import scrub_identifiers

    shown = scrub_identifiers(KEY, "subject 'Patient?family=Phimarkfam&given=Anna&birthdate=1950-01-02'")
    p = {v: pseudonym(KEY, v) for v in ("Phimarkfam", "Anna", "1950-01-02")}
    assert shown == f"subject 'Patient?family={p['Phimarkfam']}&given={p['Anna']}&birthdate={p['1950-01-02']}'"


def test_a_masked_patient_url_or_reference_keeps_its_resource_type():
    """probe82 D12: "GET http://…/fhir/R4/patient-f1abb922a0e0e593 failed: HTTP 500" read as another
    endpoint: the pseudonym replaced the `Patient/` segment with the id. Only the id is masked, wherever a
    URL or reference names the patient - in flight, another one, or a malformed reference."""
    from poems_fhir.sync.job import scrub_identifiers

    f = PseudonymLogFilter(KEY)
    f.current = "Patient/classic-poems"
    shown = pseudonym(KEY, "Patient/classic-poems")
    rec = record(
        "GET http://127.0.0.1:8172/fhir/R4/Patient/classic-poems failed: HTTP 500",
        url="http://127.0.0.1:8172/fhir/R4/Patient/classic-poems",
    )
    f.filter(rec)
    assert rec.getMessage() == f"GET http://127.0.0.1:8172/fhir/R4/Patient/{shown} failed: HTTP 500"
    assert rec.fields == {"url": f"http://127.0.0.1:8172/fhir/R4/Patient/{shown}"}  # type: ignore[attr-defined]
    other = pseudonym(KEY, "Patient/zz99")
    assert scrub_identifiers(KEY, "retrying Patient/zz99") == f"retrying Patient/{other}"
    assert scrub_identifiers(KEY, "subject 'patient//zz99'") == f"subject 'patient//{other}'"  # the shape kept
    masked = scrub_identifiers(KEY, "GET http://h/fhir/Patient/zz99/$everything")
    assert masked == f"GET http://h/fhir/Patient/{other}/$everything"
    assert scrub_identifiers(KEY, masked) == masked  # a pseudonym is not masked again
    f.current = "Patient/zz99"
    again = record(masked)
    f.filter(again)
    assert again.getMessage() == masked
