"""`sync --bulk group:ID` (poems_fhir/sync/bulk_source.py): the cohort is the Group's members, read from the
server as `--group ID` reads them, whoever else the export's files hold (probe72 D7: every patient of the
files got a report). Against the bulk fixture server; clock and sleep are injected, nothing sleeps."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from poems_fhir.errors import ConfigError, FatalNetworkError, PermissionDeniedError
from poems_fhir.fhir.bulk import ExportRequest
from poems_fhir.sync.bulk_source import BulkSource
from tests.fhir.bulk_server import BulkServer
from tests.fhir.test_bulk import FakeTime, make


def patient(pid: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": pid, "gender": "female", "birthDate": "1961-03-02"}


def observation(pid: str, i: int) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": f"{pid}-o{i}",
        "status": "final",
        "subject": {"reference": f"Patient/{pid}"},
        "code": {"coding": [{"system": "http://loinc.org", "code": "777-3"}]},
        "valueQuantity": {"value": 500 + i, "unit": "10*9/L", "system": "http://unitsofmeasure.org", "code": "10*9/L"},
        "effectiveDateTime": "2019-02-11",
    }


def group(gid: str, *members: str) -> dict[str, Any]:
    """A Group as servers answer it; one member as an absolute reference, one that is no Patient."""
    return {
        "resourceType": "Group",
        "id": gid,
        "type": "person",
        "actual": True,
        "member": [{"entity": {"reference": ref}} for ref in members]
        + [{"entity": {"reference": "Practitioner/dr-1"}}],
    }


@pytest.fixture
def server():
    with BulkServer() as s:
        s.pending_polls = 0
        # the export holds the two members and a patient outside the Group (a related patient, a member's
        # $everything): as servers do send it
        s.add_ndjson("Patient.ndjson", [patient("m1"), patient("m2"), patient("outsider")])
        s.add_ndjson("Observation.ndjson", [observation(p, 1) for p in ("m1", "m2", "outsider")])
        s.groups["cohort-1"] = group("cohort-1", "Patient/m1", f"{s.base}/Patient/m2")
        yield s


def source(server: BulkServer, folder: Path, bulk: str = "group:cohort-1") -> BulkSource:
    return BulkSource(make(server, folder, FakeTime()), ExportRequest.of(bulk))


def test_a_group_export_evaluates_the_groups_members_only(server, tmp_path, caplog):
    bulk = source(server, tmp_path / "exp")
    with caplog.at_level(logging.WARNING, logger="poems_fhir.bulk"):
        cohort = bulk.cohort(None)
    assert cohort.patients == ["Patient/m1", "Patient/m2"] and bulk.non_members == 1
    record, _ = bulk.fetch("Patient/m1")
    assert record is not None and record.patient == "Patient/m1"
    reads = server.calls("/fhir/R4/Group/cohort-1")
    assert [s.path for s in reads] == ["/fhir/R4/Group/cohort-1", "/fhir/R4/Group/cohort-1/$export"]
    assert server.authorised(reads[0])  # read with the credentials, as --group reads it
    logged = [r for r in caplog.records if getattr(r, "event", None) == "bulk.non_members"]
    assert len(logged) == 1 and logged[0].fields == {"group": "cohort-1", "count": 1}  # type: ignore[attr-defined]
    assert "outsider" not in logged[0].getMessage()  # counts only: ids are PHI
    assert cohort.server_time == server.transaction_time  # filtering is no loss: the checkpoint moves


def test_a_patient_retried_from_an_earlier_run_that_is_no_member_is_not_evaluated(server, tmp_path):
    cohort = source(server, tmp_path / "exp").cohort(None, extra=["Patient/left-the-group", "Patient/m2"])
    assert cohort.patients == ["Patient/m1", "Patient/m2"]


def test_a_group_the_server_does_not_have_is_a_usage_error_and_starts_no_export(server, tmp_path):
    with pytest.raises(ConfigError, match=r"--bulk group:nope: the server has no such Group \(HTTP 404\)") as exc:
        source(server, tmp_path / "exp", "group:nope").cohort(None)
    assert exc.value.exit_code == 2 and server.kickoffs == 0


def test_a_group_that_cannot_be_read_never_widens_the_cohort(server, tmp_path):
    server.group_status = 403  # no system/Group.read
    with pytest.raises(PermissionDeniedError) as exc:
        source(server, tmp_path / "exp").cohort(None)
    assert exc.value.exit_code == 5 and server.kickoffs == 0


def test_an_answer_that_is_no_group_ends_the_run(server, tmp_path):
    server.groups["cohort-1"] = patient("m1")
    with pytest.raises(FatalNetworkError, match="did not return a Group resource"):
        source(server, tmp_path / "exp").cohort(None)
    assert server.kickoffs == 0


def test_an_empty_group_has_nobody_to_evaluate(server, tmp_path):
    server.groups["cohort-1"] = {"resourceType": "Group", "id": "cohort-1", "type": "person", "actual": True}
    bulk = source(server, tmp_path / "exp")
    assert bulk.cohort(None).patients == [] and bulk.non_members == 3


def test_a_patient_or_system_export_reads_no_group(server, tmp_path):
    cohort = source(server, tmp_path / "exp", "patient").cohort(None)
    assert cohort.patients == ["Patient/m1", "Patient/m2", "Patient/outsider"]
    assert not [s for s in server.seen if s.path.startswith("/fhir/R4/Group")]


def test_an_exported_notes_text_given_by_url_is_fetched_from_the_server(server, tmp_path):
    """A bulk export's DocumentReference whose text is a Binary of the exporting server (the Bulk Data IG lets
    attachments point to one): fetched as the per-patient reads fetch it, then read."""
    import base64
    from types import SimpleNamespace

    from poems_fhir.sync.attachments import BinaryFetcher

    text = "IMPRESSION: Multiple sclerotic bone lesions of the pelvis."
    note = {
        "resourceType": "DocumentReference",
        "id": "m1-ct",
        "status": "current",
        "type": {"coding": [{"system": "http://loinc.org", "code": "18748-4", "display": "Diagnostic imaging study"}]},
        "subject": {"reference": "Patient/m1"},
        "date": "2019-02-11",
        "content": [{"attachment": {"contentType": "text/plain", "url": f"{server.base}/Binary/b1"}}],
    }
    server.add_ndjson("DocumentReference.ndjson", [note])
    asked: list[str] = []

    class Client:
        base_url = server.base

        def get(self, path: str) -> dict[str, Any]:
            asked.append(path)
            return {
                "resourceType": "Binary",
                "contentType": "text/plain",
                "data": base64.b64encode(text.encode()).decode(),
            }

    bulk = source(server, tmp_path / "exp")
    bulk.server = SimpleNamespace(binaries=BinaryFetcher(Client()))  # type: ignore[assignment]
    bulk.cohort(None)
    record, errors = bulk.fetch("Patient/m1")
    assert record is not None and not errors
    assert asked == ["Binary/b1"]
    [doc] = [r for r in record.resources if r.data["resourceType"] == "DocumentReference"]
    assert doc.data["content"][0]["attachment"]["data"]
