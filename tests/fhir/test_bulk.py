"""The Bulk Data $export client (poems_fhir/fhir/bulk.py) against a fixture server on 127.0.0.1
(tests/fhir/bulk_server.py): kick-off, polling (Retry-After, X-Progress, backoff), the manifest and
its quirks, the token rules, downloads (parallel, 429, gzip, thousands of files), error files,
DELETE, and resume after a crash. Clock and sleep are injected: nothing sleeps for real."""

from __future__ import annotations

from urllib.parse import parse_qs

import gzip
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest

from poems_fhir.errors import ConfigError, ForeignHostError, NetworkError, RunDeadlineError
from poems_fhir.sync.config import load_settings
from poems_fhir.fhir.auth import BearerAuth
from poems_fhir.fhir.bulk import (
    JOURNAL_FILE,
    MANIFEST_FILE,
    BulkExporter,
    ExportGoneError,
    ExportRequest,
    parse_level,
    type_filters,
)
from poems_fhir.errors import FatalNetworkError, TemporaryNetworkError
from poems_fhir.fhir.client import FhirClient
from poems_fhir.fhir.read import RELEVANT_TYPES, read_paths
from tests.fhir.bulk_server import TOKEN, BulkServer, FileSpec, OtherOrigin

PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "male"}


def obs(i: int) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": f"o{i}",
        "status": "final",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": "http://loinc.org", "code": "777-3"}]},
        "valueQuantity": {"value": 400 + i, "unit": "10*9/L", "system": "http://unitsofmeasure.org", "code": "10*9/L"},
        "effectiveDateTime": "2019-02-11",
    }


class FakeTime:
    """Monotonic and wall clock that move only when the code under test 'sleeps'."""

    def __init__(self, wall: float = 1_795_000_000.0) -> None:
        self.now = 0.0
        self.wall = wall
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        self.wall += seconds

    def monotonic(self) -> float:
        return self.now

    def clock(self) -> float:
        return self.wall


@pytest.fixture
def server():
    with BulkServer() as s:
        s.add_ndjson("Patient.ndjson", [PATIENT])
        s.add_ndjson("Observation.ndjson", [obs(1), obs(2)])
        yield s


def make(server: BulkServer, folder: Path, t: FakeTime | None = None, **kw: Any) -> BulkExporter:
    t = t or FakeTime()
    client = FhirClient(
        server.base, BearerAuth(TOKEN), sleep=t.sleep, clock=t.clock, monotonic=t.monotonic, rng=lambda: 1.0
    )
    return BulkExporter(client, folder, sleep=t.sleep, monotonic=t.monotonic, clock=t.clock, rng=lambda: 1.0, **kw)


def test_patient_export_kicks_off_polls_downloads_and_deletes(server, tmp_path):
    t = FakeTime()
    result = make(server, tmp_path / "exp", t).run(ExportRequest.of("patient"))
    kick = server.calls("/fhir/R4/Patient/$export")
    assert len(kick) == 1 and server.kickoffs == 1
    assert kick[0].headers["prefer"] == "respond-async" and kick[0].headers["accept"] == "application/fhir+json"
    params = server.kickoff_params[0]
    assert params["_outputFormat"] == ["application/fhir+ndjson"]
    # a Patient-level export holds the Patient compartment: Medication is not asked for
    assert params["_type"] == [",".join(sorted(RELEVANT_TYPES - {"Medication"}))] and "_since" not in params
    # two 202s without Retry-After: capped exponential backoff (jitter at its top here: 1 s, 2 s)
    assert server.polls == 3 and t.sleeps == [1.0, 2.0]
    assert (result.files, result.downloaded, result.error_count) == (2, 2, 0)
    data = sorted(p.name for p in result.data_dir.iterdir())
    assert data == ["00000.Patient.ndjson", "00001.Observation.ndjson"]
    assert (result.data_dir / "00001.Observation.ndjson").read_bytes() == server.files["Observation.ndjson"].body
    assert json.loads((tmp_path / "exp" / MANIFEST_FILE).read_text())["output"][0]["type"] == "Patient"
    assert result.transaction_time == "2026-11-27T00:09:48.351Z" and server.deletes == 1
    # requiresAccessToken true and the files on the server's origin: the token went with them
    assert all(server.authorised(s) for s in server.calls("/fhir/R4/files/"))
    # the folder reads like any export: 1 patient with both Observations
    read = read_paths([result.data_dir])
    assert [r.patient for r in read.records] == ["Patient/p1"] and not read.errors


def test_system_and_group_levels_and_since_and_type_filter():
    assert ExportRequest.of("system").path == "$export"
    assert ExportRequest.of("system").params()["_type"] == ",".join(sorted(RELEVANT_TYPES))
    assert ExportRequest.of("group:cohort-1").path == "Group/cohort-1/$export"
    req = ExportRequest.of("patient", since="2026-11-27T00:09:48.351Z", type_filters=["Observation?code=a|1"])
    assert req.params()["_since"] == "2026-11-27T00:09:48.351Z" and req.params()["_typeFilter"] == [
        "Observation?code=a|1"
    ]
    with pytest.raises(ConfigError, match="system, patient or group:ID"):
        parse_level("group:")
    # dot segments: requests resolves "Group/../$export" to the system-level export (probe25)
    for dots in ("group:..", "group:."):
        with pytest.raises(ConfigError, match="system, patient or group:ID"):
            parse_level(dots)
        with pytest.raises(ConfigError, match="give system, patient or group:ID"):
            load_settings(None, {"server": "https://x/R4", "bulk": dots}, environ={})
    assert ExportRequest.of("group:...").path == "Group/.../$export"  # not a dot segment
    filters = type_filters({"Observation": [f"http://loinc.org|{i}" for i in range(85)], "Condition": ["x|1"]})
    assert len(filters) == 3 and all(f.startswith("Observation?code=") for f in filters)
    assert filters[0].count(",") == 39  # 40 codes a value, like the server search


def test_retry_after_seconds_and_http_date_are_honoured_and_progress_is_logged(server, tmp_path, caplog):
    t = FakeTime()
    date = "Fri, 27 Nov 2026 00:10:48 GMT"  # 30 s after the fake wall clock below
    t.wall = 1_795_738_218.0  # Fri, 27 Nov 2026 00:10:18 GMT
    server.pending_polls = 2
    server.poll_headers = [{"Retry-After": "7", "X-Progress": "50% done"}, {"Retry-After": date}]
    with caplog.at_level(logging.INFO, logger="poems_fhir.bulk"):
        make(server, tmp_path / "exp", t).run(ExportRequest.of("patient"))
    # the HTTP-date against the response's own Date (the server's clock, 00:09:48): 60 s, whatever ours says
    assert t.sleeps[0] == 7.0 and t.sleeps[1] == pytest.approx(60.0)
    assert any(getattr(r, "fields", {}).get("progress") == "50% done" for r in caplog.records)


def _observations(n: int) -> list[dict[str, Any]]:
    return [{"resourceType": "Observation", "id": f"o{i}", "status": "final"} for i in range(n)]


def test_a_file_short_of_the_manifests_count_is_fetched_again(server, tmp_path):
    # found by a held-out probe (probe25): a file cut at a line's end, without Content-Length, lost
    # 49 of 99 resources with exit 0 although the manifest said count: 99
    server.files.clear()
    server.add_ndjson("Observation.ndjson", _observations(99), count=99, short=1)
    result = make(server, tmp_path / "exp", FakeTime()).run(ExportRequest.of("patient"))
    assert result.errors == [] and result.error_count == 0
    (path,) = result.data_dir.glob("*Observation.ndjson")
    assert len(path.read_text().splitlines()) == 99
    downloads = [s for s in server.seen if "/files/" in s.path]
    assert len(downloads) == 2


def test_a_file_that_keeps_differing_from_the_count_is_kept_reported_and_fetched_by_the_next_run(server, tmp_path):
    server.files.clear()
    server.add_ndjson("Observation.ndjson", _observations(3), count=5)  # the server's count is off
    server.add_ndjson("Condition.ndjson", [{"resourceType": "Condition", "id": "c"}], count=1)
    result = make(server, tmp_path / "exp", FakeTime()).run(ExportRequest.of("patient"))
    assert result.error_count == 1
    (problem,) = result.errors
    assert problem.endswith(
        "Observation.ndjson: 3 resource(s) received, the manifest says 5 (fetched twice): "
        "the file is read as it is; the next run fetches it again"
    )
    (path,) = result.data_dir.glob("*Observation.ndjson")
    assert len(path.read_text().splitlines()) == 3  # read as it is
    before = len(server.seen)
    again = make(server, tmp_path / "exp", FakeTime()).run(ExportRequest.of("patient"))
    fetched = [s.path for s in server.seen[before:] if "/files/" in s.path]
    assert fetched and all("Observation" in p for p in fetched)  # not the complete Condition file
    assert again.error_count == 1
    # probe55 D3: the export stays on the server while a file is short, so that "the next run fetches
    # it again" can be true; once the file is whole it is deleted
    assert server.deletes == 0 and not again.deleted_on_server
    server.add_ndjson("Observation.ndjson", _observations(5), count=5)
    whole = make(server, tmp_path / "exp", FakeTime()).run(ExportRequest.of("patient"))
    assert whole.error_count == 0 and whole.deleted_on_server and server.deletes == 1 and server.kickoffs == 1


def test_lines_are_counted_across_chunks_blank_lines_and_a_last_line_without_newline(tmp_path):
    from poems_fhir.fhir.bulk import _FileWriter

    writer = _FileWriter(tmp_path / "f.ndjson")
    for chunk in (b'{"a":1}', b"\n", b'\n{"b":2}\n{"c"', b":3}\r\n\n", b'{"d":4}'):
        writer.write(chunk)
    writer.finish()
    assert writer.lines == 4


def test_a_retry_after_date_past_by_the_servers_own_clock_is_the_backoff_not_a_hammer(server, tmp_path):
    # found by a held-out probe (probe25): a date already past made the client poll every 0.1 s
    t = FakeTime()
    server.pending_polls = 3
    server.poll_headers = [{"Retry-After": "Fri, 27 Nov 2026 00:08:48 GMT"}]  # a minute before its Date
    exporter = make(server, tmp_path / "exp", t, poll_max=8.0)
    exporter.rng = lambda: 1.0
    exporter.run(ExportRequest.of("patient"))
    assert t.sleeps == [1.0, 2.0, 4.0]  # the capped exponential backoff, as without Retry-After


def test_backoff_is_capped_and_jittered(server, tmp_path):
    t = FakeTime()
    server.pending_polls = 9
    exporter = make(server, tmp_path / "exp", t, poll_max=8.0)
    exporter.rng = lambda: 0.0  # the jitter's low end: half the step, never 0
    exporter.run(ExportRequest.of("patient"))
    assert t.sleeps == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0]


def test_overall_deadline_stops_polling_and_a_rerun_polls_the_same_export(server, tmp_path):
    t = FakeTime()
    server.pending_polls = 50
    with pytest.raises(RunDeadlineError, match="run again to continue polling the same export"):
        make(server, tmp_path / "exp", t, deadline=100.0).run(ExportRequest.of("patient"))
    assert sum(t.sleeps) <= 100.0
    server.pending_polls = 0
    result = make(server, tmp_path / "exp").run(ExportRequest.of("patient"))
    assert server.kickoffs == 1 and result.resumed and result.files == 2


def test_manifest_quirks_missing_fields_and_request_without_slash(server, tmp_path):
    server.requires_token = None  # missing: the token still goes to the server's own origin only
    server.transaction_time = None  # missing: the kick-off's Date header stands in
    server.request_slash = False
    server.pending_polls = 0
    result = make(server, tmp_path / "exp").run(ExportRequest.of("patient"))
    assert result.transaction_time == "2026-11-27T00:09:48.000Z"
    assert any("transactionTime" in n for n in result.notes) and any("'/'" in n for n in result.notes)
    assert any("requiresAccessToken" in n for n in result.notes) and result.files == 2


def test_presigned_urls_get_no_token(server, tmp_path):
    server.requires_token = False
    server.presigned = {"Patient.ndjson", "Observation.ndjson"}
    result = make(server, tmp_path / "exp").run(ExportRequest.of("patient"))
    files = server.calls("/presigned/")
    assert len(files) == 2 and not any("authorization" in s.headers for s in files) and result.files == 2


def test_requires_access_token_false_sends_no_token_even_to_the_server(server, tmp_path):
    server.requires_token = False
    server.require_auth = False
    make(server, tmp_path / "exp").run(ExportRequest.of("patient"))
    files = server.calls("/fhir/R4/files/")
    assert len(files) == 2 and not any("authorization" in s.headers for s in files)


def test_a_redirect_to_another_origin_is_followed_without_the_token(server, tmp_path):
    other = OtherOrigin(body=server.files["Observation.ndjson"].body)
    try:
        server.redirect = {"Observation.ndjson": f"{other.origin}/bucket/obs.ndjson?sig=1"}
        result = make(server, tmp_path / "exp").run(ExportRequest.of("patient"))
    finally:
        other.close()
    assert len(other.seen) == 1 and "authorization" not in other.seen[0].headers
    assert (result.data_dir / "00001.Observation.ndjson").read_bytes() == server.files["Observation.ndjson"].body


def _file_url(server, index: int, url: str) -> None:
    """The server's manifest from now on, with output file ``index`` at ``url``."""
    real = server.manifest

    def edited() -> dict[str, Any]:
        doc = real()
        doc["output"][index]["url"] = url
        return doc

    server.manifest = edited


def test_a_file_that_needs_the_token_on_another_origin_is_refused_before_sending(server, tmp_path):
    other = OtherOrigin(body=b"")
    try:
        _file_url(server, 1, f"{other.origin}/steal")
        with pytest.raises(ForeignHostError, match="requiresAccessToken: true"):
            make(server, tmp_path / "exp").run(ExportRequest.of("patient"))
    finally:
        other.close()
    assert other.seen == []  # nothing reached the other origin, with or without the token


def test_429_with_retry_after_then_the_file(server, tmp_path):
    t = FakeTime()
    server.pending_polls = 0
    server.files["Observation.ndjson"].throttle = 2
    server.files["Observation.ndjson"].retry_after = "9"
    result = make(server, tmp_path / "exp", t).run(ExportRequest.of("patient"))
    assert t.sleeps == [9.0, 9.0] and result.files == 2
    assert len(server.calls("/fhir/R4/files/Observation.ndjson")) == 3


def test_gzip_content_encoding_and_gz_files_are_stored_decoded(server, tmp_path):
    server.files["Observation.ndjson"].encoding = "gzip"
    server.files["Patient.ndjson"].encoding = "gz"
    result = make(server, tmp_path / "exp").run(ExportRequest.of("patient"))
    assert (result.data_dir / "00001.Observation.ndjson").read_bytes() == server.files["Observation.ndjson"].body
    assert (result.data_dir / "00000.Patient.ndjson").read_bytes() == server.files["Patient.ndjson"].body


def test_a_thousand_tiny_files_in_parallel(tmp_path):
    with BulkServer() as server:
        server.pending_polls = 0
        for i in range(1200):
            server.add_ndjson(f"Observation{i}.ndjson", [obs(i)])
        result = make(server, tmp_path / "exp", parallel=8).run(ExportRequest.of("system"))
    assert result.files == 1200 and len(list(result.data_dir.iterdir())) == 1200
    assert len((tmp_path / "exp" / JOURNAL_FILE).read_text().splitlines()) == 1200
    assert not list(result.data_dir.glob("*.part"))


def test_error_files_are_read_and_every_issue_reported(server, tmp_path):
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": "error", "code": "processing", "diagnostics": "Observation/o9 could not be serialised"},
            {"severity": "warning", "code": "processing", "details": {"text": "Condition search timed out"}},
        ],
    }
    server.errors["OperationOutcome.ndjson"] = FileSpec(
        (json.dumps(outcome) + "\n" + json.dumps(outcome) + "\n").encode()
    )
    result = make(server, tmp_path / "exp").run(ExportRequest.of("patient"))
    assert result.error_count == 4 and result.files == 2
    assert "error: Observation/o9 could not be serialised" in result.errors[0]
    assert "warning: Condition search timed out" in result.errors[1]


def test_crash_during_polling_then_rerun_polls_the_saved_status_url(server, tmp_path):
    server.pending_polls = 3
    exporter = make(server, tmp_path / "exp")
    real = exporter._poll_once

    def die_after_first(url: str) -> Any:
        real(url)
        raise KeyboardInterrupt  # the process dies here

    exporter._poll_once = die_after_first  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        exporter.run(ExportRequest.of("patient"))
    result = make(server, tmp_path / "exp").run(ExportRequest.of("patient"))
    assert server.kickoffs == 1 and result.resumed and result.files == 2


def test_crash_during_download_then_only_missing_files_are_fetched(tmp_path):
    with BulkServer() as server:
        server.pending_polls = 0
        bodies = {f"Observation{i}.ndjson": server.add_ndjson(f"Observation{i}.ndjson", [obs(i)]) for i in range(20)}
        exporter = make(server, tmp_path / "exp", parallel=1)
        done: list[str] = []

        def die_after_five(rel: str) -> None:
            done.append(rel)
            if len(done) == 5:
                raise KeyboardInterrupt

        exporter.downloaded = die_after_five  # type: ignore[method-assign]
        with pytest.raises(KeyboardInterrupt):
            exporter.run(ExportRequest.of("system"))
        first = len(server.calls("/fhir/R4/files/"))
        complete = len((tmp_path / "exp" / JOURNAL_FILE).read_text().splitlines())
        result = make(server, tmp_path / "exp", parallel=4).run(ExportRequest.of("system"))
        fetched_again = [s.path for s in server.calls("/fhir/R4/files/")[first:]]
    assert server.kickoffs == 1 and result.files == 20 and result.downloaded == 20 - complete and complete >= 5
    assert not any(p.endswith(name) for p in fetched_again for name in ("Observation0.ndjson", "Observation4.ndjson"))
    for i in range(20):
        assert (result.data_dir / f"{i:05d}.Observation.ndjson").read_bytes() == bodies[f"Observation{i}.ndjson"]


def test_a_half_written_file_is_fetched_again(server, tmp_path):
    server.pending_polls = 0
    result = make(server, tmp_path / "exp").run(ExportRequest.of("patient"))
    target = result.data_dir / "00001.Observation.ndjson"
    target.write_bytes(target.read_bytes()[:10])  # damaged after the journal said it was complete
    state = json.loads((tmp_path / "exp" / "export-state.json").read_text())
    state["phase"] = "downloading"
    (tmp_path / "exp" / "export-state.json").write_text(json.dumps(state))
    again = make(server, tmp_path / "exp").run(ExportRequest.of("patient"))
    assert again.downloaded == 1 and target.read_bytes() == server.files["Observation.ndjson"].body


def test_status_url_gone_says_so_and_restart_kicks_off_anew(server, tmp_path):
    server.pending_polls = 5
    exporter = make(server, tmp_path / "exp", deadline=1.0)
    with pytest.raises(RunDeadlineError):
        exporter.run(ExportRequest.of("patient"))
    server.status_gone = True
    with pytest.raises(ExportGoneError, match="no longer knows the bulk export.*--bulk-restart") as err:
        make(server, tmp_path / "exp").run(ExportRequest.of("patient"))
    assert err.value.exit_code == 3 and server.kickoffs == 1
    server.status_gone = False
    server.pending_polls = 0
    result = make(server, tmp_path / "exp", restart=True).run(ExportRequest.of("patient"))
    assert server.kickoffs == 2 and result.files == 2 and not result.resumed


def test_an_unfinished_export_of_another_request_is_not_mixed_up(server, tmp_path):
    server.pending_polls = 5
    with pytest.raises(RunDeadlineError):
        make(server, tmp_path / "exp", deadline=1.0).run(ExportRequest.of("patient"))
    with pytest.raises(ConfigError, match="export of another request"):
        make(server, tmp_path / "exp").run(ExportRequest.of("group:g1"))
    with pytest.raises(ConfigError, match=r"another request \(patient\)"):
        make(server, tmp_path / "exp").run(ExportRequest.of("patient", since="2026-01-01T00:00:00Z"))
    assert server.kickoffs == 1


def test_a_failed_kick_off_is_not_repeated_but_a_429_is(server, tmp_path):
    t = FakeTime()
    calls = {"n": 0}
    exporter = make(server, tmp_path / "exp", t)
    real = exporter.client.transport.send

    def send(prepared: Any, **kw: Any) -> Any:
        response = real(prepared, **kw)
        if "$export" in (prepared.url or "") and calls["n"] == 0:
            calls["n"] += 1
            response.status_code = 429
            response.headers["Retry-After"] = "3"
        return response

    exporter.client.transport.send = send  # type: ignore[method-assign]
    exporter.run(ExportRequest.of("patient"))
    assert server.kickoffs == 2 and t.sleeps[0] == 3.0  # the 429 is answered only after the server counted it

    with BulkServer() as other:
        exporter = make(other, tmp_path / "exp2")
        real2 = exporter.client.transport.send

        def fail(prepared: Any, **kw: Any) -> Any:
            response = real2(prepared, **kw)
            if "$export" in (prepared.url or ""):
                response.status_code = 500
            return response

        exporter.client.transport.send = fail  # type: ignore[method-assign]
        with pytest.raises(NetworkError, match="HTTP 500") as err:
            exporter.run(ExportRequest.of("patient"))
        assert other.kickoffs == 1 and err.value.exit_code == 3  # a 500 may have started one: not repeated


def test_the_token_is_never_logged(server, tmp_path, caplog):
    with caplog.at_level(logging.DEBUG, logger="poems_fhir"):
        make(server, tmp_path / "exp").run(ExportRequest.of("patient"))
    assert TOKEN not in caplog.text
    assert TOKEN not in (tmp_path / "exp" / "export-state.json").read_text()


def test_gzip_body_is_stored_decoded_even_when_http_did_not_decode_it(tmp_path):
    from poems_fhir.fhir.bulk import _FileWriter

    target = tmp_path / "x.ndjson"
    writer = _FileWriter(target)
    data = gzip.compress(b'{"resourceType":"Patient","id":"p"}\n' * 1000)
    for i in range(0, len(data), 7):
        writer.write(data[i : i + 7])
    writer.finish()
    assert target.read_bytes() == b'{"resourceType":"Patient","id":"p"}\n' * 1000 and writer.size == 36000


def test_a_gzip_file_of_several_members_is_stored_whole(tmp_path):
    from poems_fhir.fhir.bulk import _FileWriter

    target = tmp_path / "x.ndjson"
    writer = _FileWriter(target)
    data = gzip.compress(b'{"a":1}\n') + gzip.compress(b'{"b":2}\n')
    for i in range(0, len(data), 5):
        writer.write(data[i : i + 5])
    writer.finish()
    assert target.read_bytes() == b'{"a":1}\n{"b":2}\n'


def test_a_gzip_file_cut_short_is_not_kept(tmp_path):
    from poems_fhir.errors import TemporaryNetworkError
    from poems_fhir.fhir.bulk import _FileWriter

    writer = _FileWriter(tmp_path / "x.ndjson")
    writer.write(gzip.compress(b'{"a":1}\n' * 100)[:-12])
    with pytest.raises(TemporaryNetworkError, match="ends early"):
        writer.finish()
    assert list(tmp_path.iterdir()) == []


def test_429_on_the_status_url_means_wait_longer_not_fail(server, tmp_path):
    t = FakeTime()
    server.pending_polls = 1
    server.poll_429 = 7  # more than the 5 attempts of one request: the poll loop keeps waiting
    result = make(server, tmp_path / "exp", t).run(ExportRequest.of("patient"))
    assert result.files == 2 and server.kickoffs == 1
    assert t.sleeps.count(30.0) == 7  # every 429's Retry-After was honoured


def test_one_export_per_folder_at_a_time(server, tmp_path):
    import fcntl

    folder = tmp_path / "exp"
    folder.mkdir()
    with open(folder / "export.lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(ConfigError, match="another poems-fhir export is using"):
            make(server, folder).run(ExportRequest.of("patient"))
    assert server.kickoffs == 0


def test_relative_file_urls_are_resolved_against_the_status_url(server, tmp_path):
    _file_url(server, 0, "../files/Patient.ndjson")
    result = make(server, tmp_path / "exp").run(ExportRequest.of("patient"))
    assert (result.data_dir / "00000.Patient.ndjson").read_bytes() == server.files["Patient.ndjson"].body


def test_an_incremental_export_names_patients_whose_whole_records_come_from_the_server(server, tmp_path):
    from poems_fhir.sync.bulk_source import BulkSource

    class Server:
        def __init__(self) -> None:
            self.fetched: list[str] = []
            self.inlined: list[str] = []
            # a full export's records get the server's Binaries of their url-only attachments (none here)
            self.binaries = self

        def inline_record(self, record: Any, patient: str) -> list[Any]:
            self.inlined.append(patient)
            return []

        def fetch(self, patient: str) -> Any:
            self.fetched.append(patient)
            return "whole record", []

    server.pending_polls = 0
    stub = Server()
    source = BulkSource(make(server, tmp_path / "exp"), ExportRequest.of("patient"), server=stub)  # type: ignore[arg-type]
    cohort = source.cohort("2026-11-01T00:00:00.000Z", extra=["Patient/failed-last-time"])
    assert server.kickoff_params[0]["_since"] == ["2026-11-01T00:00:00.000Z"]
    assert cohort.patients == ["Patient/failed-last-time", "Patient/p1"]
    assert cohort.server_time == server.transaction_time  # the next checkpoint
    assert source.fetch("Patient/p1") == ("whole record", []) and stub.fetched == ["Patient/p1"]
    source.finish()
    assert json.loads((tmp_path / "exp" / "export-state.json").read_text())["phase"] == "consumed"

    # a full export (no checkpoint yet) is evaluated from the files alone
    full = BulkSource(make(server, tmp_path / "exp2"), ExportRequest.of("patient"), server=stub)  # type: ignore[arg-type]
    full.cohort(None)
    record, errors = full.fetch("Patient/p1")
    assert record is not None and len(record.resources) == 2 and stub.fetched == ["Patient/p1"]
    assert stub.inlined == ["Patient/p1"]


def test_expired_presigned_urls_are_signed_afresh_by_asking_for_the_manifest_again(server, tmp_path):
    server.requires_token = False
    server.presigned = {"Patient.ndjson", "Observation.ndjson"}
    server.pending_polls = 0
    real = server.manifest
    served: list[int] = []

    def expiring() -> dict[str, Any]:
        doc = real()
        served.append(server.signature)
        if len(served) == 1:
            server.signature += 1  # the first manifest's URLs expire at once
        return doc

    server.manifest = expiring  # type: ignore[method-assign]
    result = make(server, tmp_path / "exp").run(ExportRequest.of("patient"))
    assert result.files == 2 and served == [1, 2] and server.kickoffs == 1
    assert any("freshly signed" in n for n in result.notes)
    signed = [(s.path, parse_qs(s.query).get("Signature")) for s in server.calls("/presigned/")]
    # each file fetched once with the fresh signature; the expired one refused at least once (the other
    # file may or may not have been tried with it before the manifest was asked for again: a race)
    assert sorted(p for p, sig in signed if sig == ["v2"]) == sorted({p for p, _ in signed})
    assert len({p for p, _ in signed}) == 2
    assert 1 <= sum(sig == ["v1"] for _, sig in signed) <= 2 and len(signed) in (3, 4)


def test_presigned_urls_refused_for_good_stop_with_what_to_do(server, tmp_path):
    from poems_fhir.fhir.bulk import SignedUrlRefusedError

    server.requires_token = False
    server.require_auth = False  # the other file is fetched without the token: let it through
    server.presigned = {"Patient.ndjson"}
    server.pending_polls = 0
    real = server.manifest

    def always_expired() -> dict[str, Any]:
        doc = real()
        server.signature += 1
        return doc

    server.manifest = always_expired  # type: ignore[method-assign]
    with pytest.raises(SignedUrlRefusedError, match="HTTP 410.*pre-signed download URL was refused.*--bulk-restart"):
        make(server, tmp_path / "exp").run(ExportRequest.of("patient"))


def test_an_error_file_line_nested_too_deeply_is_reported_not_a_crash(server, tmp_path):
    # json.loads raises RecursionError (not a ValueError) on such a line: it cost the whole export
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "processing"}]}
    deep = '{"issue": ' + "[" * 100_000 + "]" * 100_000 + "}"
    server.errors["OperationOutcome.ndjson"] = FileSpec((deep + "\n" + json.dumps(outcome) + "\n").encode())
    result = make(server, tmp_path / "exp").run(ExportRequest.of("patient"))
    assert result.files == 2 and result.error_count == 2
    assert result.errors[0].endswith("OperationOutcome.ndjson:1: not JSON") and "error:" in result.errors[1]


def _manifest_without(server: BulkServer, change: Any) -> bytes:
    doc = server.manifest()
    change(doc)
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("output"), "no 'output' list"),
        (lambda d: d["output"][1].pop("url"), "output[1] has no url"),
        (lambda d: d["output"][0].update(url=5), "output[0] has no url"),
        (lambda d: d.update(error=[{"type": "OperationOutcome"}]), "error[0] has no url"),
        # probe72 D4: an error file not wrapped in a list was "no errors": exit 0, job deleted, checkpoint moved
        (lambda d: d.update(error={"type": "OperationOutcome", "url": "x"}), "'error' is an object, not a list"),
        (lambda d: d.update(error="x"), "'error' is a string, not a list"),
        (lambda d: d.update(deleted={"type": "Bundle", "url": "x"}), "'deleted' is an object, not a list"),
        (lambda d: d.update(deleted=3), "'deleted' is a number, not a list"),
    ],
)
def test_a_manifest_that_lists_no_files_or_a_file_without_url_is_unusable_not_empty(server, tmp_path, change, message):
    # faultprobe3 B16C/B53S: read as "nothing changed" / a quirk, the sync moved its checkpoint past
    # data it never read. Nothing is downloaded and the export stays on the server.
    server.pending_polls = 0
    server.manifest_bodies = [_manifest_without(server, change)]
    with pytest.raises(NetworkError, match=re.escape(message)) as exc:
        make(server, tmp_path / "exp").run(ExportRequest.of("patient"))
    assert exc.value.exit_code == 3
    assert server.deletes == 0 and not server.calls("/fhir/R4/files/")
    assert not (tmp_path / "exp" / MANIFEST_FILE).exists()


def test_a_200_operation_outcome_from_the_status_url_is_a_failed_export_with_its_text(server, tmp_path):
    server.pending_polls = 0
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "exception", "details": {"text": "export job crashed"}}],
    }
    server.manifest_bodies = [json.dumps(outcome).encode()]
    with pytest.raises(NetworkError, match="failed on the server.*export job crashed") as exc:
        make(server, tmp_path / "exp").run(ExportRequest.of("patient"))
    assert exc.value.exit_code == 3 and server.deletes == 0


def test_a_manifest_cut_short_is_polled_again_then_used(server, tmp_path):
    t = FakeTime()
    server.pending_polls = 0
    server.manifest_bodies = [b'{"transactionTime": "2026-']
    result = make(server, tmp_path / "exp", t).run(ExportRequest.of("patient"))
    assert result.files == 2 and server.kickoffs == 1 and server.polls == 2 and len(t.sleeps) == 1


def test_a_manifest_that_never_parses_fails_after_a_few_polls(server, tmp_path):
    server.pending_polls = 0
    server.manifest_bodies = [b"{"] * 10
    with pytest.raises(NetworkError, match="not JSON"):
        make(server, tmp_path / "exp").run(ExportRequest.of("patient"))
    assert server.polls == 3 and server.deletes == 0


@pytest.mark.parametrize("value", ["yesterday", "2026-02-30T00:00:00Z", "2026-11-27", 1795000000, ""])
def test_a_transaction_time_that_is_not_an_instant_is_not_the_next_since(server, tmp_path, value):
    # faultprobe3 B70C: "yesterday" became the checkpoint; every later run's _since was refused
    server.pending_polls = 0
    server.transaction_time = value  # type: ignore[assignment]
    server.manifest_bodies = [_manifest_without(server, lambda d: d.update(transactionTime=value))]
    result = make(server, tmp_path / "exp").run(ExportRequest.of("patient"))
    assert result.transaction_time == "2026-11-27T00:09:48.000Z"  # the kick-off's Date header
    assert any("transactionTime" in n for n in result.notes)


def test_a_token_echoed_in_x_progress_is_not_logged(server, tmp_path, caplog):
    server.pending_polls = 1
    server.poll_headers = [{"X-Progress": f"step 1 for Bearer {TOKEN}"}]
    with caplog.at_level(logging.INFO, logger="poems_fhir"):
        make(server, tmp_path / "exp").run(ExportRequest.of("patient"))
    progress = [r for r in caplog.records if getattr(r, "event", None) == "bulk.progress"]
    assert progress and all(TOKEN not in r.getMessage() + json.dumps(r.fields) for r in progress)
    assert progress[0].fields["progress"] == "step 1 for Bearer <redacted>"


def test_an_html_page_answered_for_a_file_is_not_kept_as_data(server, tmp_path):
    # faultprobe3 B59: a proxy's login page (200 text/html) was stored as NDJSON and the export exited 0
    server.pending_polls = 0
    server.files["Observation.ndjson"] = FileSpec(b"<html><title>Sign in</title></html>", content_type="text/html")
    with pytest.raises(NetworkError, match="HTML page instead of the NDJSON file") as exc:
        make(server, tmp_path / "exp").run(ExportRequest.of("patient"))
    assert exc.value.exit_code == 3 and server.deletes == 0
    assert not list((tmp_path / "exp" / "data").glob("*Observation*"))


@pytest.mark.parametrize(
    ("body", "content_type", "says"),
    [
        # probe33: object storage's denial with 200 was read as an empty file and the export consumed
        (
            b'<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>',
            "application/xml",
            "an XML or HTML document",
        ),
        (b"<Error><Code>AccessDenied</Code></Error>", "application/octet-stream", "an XML or HTML document"),
        (
            b'{"error": "AccessDenied", "message": "Request has expired"}\n',
            "application/json",
            "JSON that is no FHIR resource",
        ),
        (
            b'{"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "forbidden"}]}\n',
            "application/fhir+ndjson",
            "an OperationOutcome where Observation resources were listed",
        ),
    ],
)
def test_an_error_document_answered_for_a_file_is_not_kept_as_data(server, tmp_path, body, content_type, says):
    server.pending_polls = 0
    server.files["Observation.ndjson"] = FileSpec(body, content_type=content_type)
    with pytest.raises(NetworkError, match=f"answered {says} instead of the NDJSON file") as exc:
        make(server, tmp_path / "exp").run(ExportRequest.of("patient"))
    assert exc.value.exit_code == 3 and server.deletes == 0  # the export stays for the next run
    assert not list((tmp_path / "exp" / "data").glob("*Observation*"))


@pytest.mark.parametrize(
    "content_type",
    ["application/fhir+ndjson", "application/ndjson", "application/octet-stream", "text/plain", "binary/octet-stream"],
)
def test_files_served_with_other_content_types_are_kept(server, tmp_path, content_type):
    server.pending_polls = 0
    server.files["Observation.ndjson"].content_type = content_type
    assert make(server, tmp_path / "exp").run(ExportRequest.of("patient")).files == 2


def test_a_server_that_refuses_type_filter_gets_the_export_without_it(server, tmp_path):
    # the issue: _typeFilter "where the server supports it"; a refused kick-off started nothing
    server.pending_polls = 0
    server.refuse_type_filter = True
    request = ExportRequest.of("patient", type_filters=["Observation?code=http://loinc.org|777-3"])
    result = make(server, tmp_path / "exp").run(request)
    assert [("_typeFilter" in p) for p in server.kickoff_params] == [True, False]
    assert server.kickoffs == 1 and result.files == 2
    assert any("refused _typeFilter" in n for n in result.notes)
    # resumable as the same request (its key still names the filter)
    assert make(server, tmp_path / "exp").run(request).downloaded == 0 and server.kickoffs == 1


@pytest.mark.parametrize("encoding", ["plain", "gzip"])
def test_a_body_cut_short_without_a_length_to_tell_is_fetched_again_not_kept(server, tmp_path, encoding):
    """probe55 D1/D2: with no Content-Length (and no count in the manifest), a body cut inside a line,
    or inside its gzip stream, was kept as the complete file: 11 or 4 of 23 resources, exit 0, the
    export deleted on the server - and sync wrote conclusions from the rest."""
    server.files.clear()
    body = server.add_ndjson("Observation.ndjson", _observations(23), encoding=encoding, cut=1)
    assert body[: len(body) // 2][-1:] != b"\n"  # the plain cut ends inside a line
    result = make(server, tmp_path / "exp", FakeTime()).run(ExportRequest.of("patient"))
    (path,) = result.data_dir.glob("*Observation.ndjson")
    assert path.read_bytes() == body and result.error_count == 0
    assert len([s for s in server.seen if "/files/" in s.path]) == 2


@pytest.mark.parametrize(
    ("encoding", "says"),
    [("plain", "ends inside a line"), ("gzip", "the gzip stream is cut short")],
)
def test_a_body_always_cut_short_stops_the_export_which_a_rerun_resumes(server, tmp_path, encoding, says):
    server.files.clear()
    body = server.add_ndjson("Observation.ndjson", _observations(23), encoding=encoding, cut=10_000)
    with pytest.raises(TemporaryNetworkError, match=says):
        make(server, tmp_path / "exp", FakeTime()).run(ExportRequest.of("patient"))
    assert server.deletes == 0  # not consumed: the files are still wanted
    assert not list((tmp_path / "exp" / "data").glob("*Observation.ndjson*"))
    server.files["Observation.ndjson"].cut = 0
    result = make(server, tmp_path / "exp", FakeTime()).run(ExportRequest.of("patient"))
    (path,) = result.data_dir.glob("*Observation.ndjson")
    assert path.read_bytes() == body and server.kickoffs == 1 and server.deletes == 1


def test_a_last_line_without_newline_that_is_whole_is_kept(tmp_path):
    from poems_fhir.fhir.bulk import _FileWriter

    writer = _FileWriter(tmp_path / "f.ndjson")
    writer.write(b'{"a":1}\n{"b":' + b"[" * 5000 + b"]" * 5000 + b"}")  # deep, but whole: the reader lists it
    writer.finish()
    assert writer.lines == 2 and (tmp_path / "f.ndjson").exists()


def test_a_file_the_server_no_longer_has_says_how_to_start_anew(server, tmp_path):
    """probe55 D3: a rerun met a bare "HTTP 404" for a file of a deleted export, with no word of --restart."""
    server.files["Observation.ndjson"].status = 404
    with pytest.raises(FatalNetworkError, match=r"HTTP 404.*no longer has the export's file.*--restart"):
        make(server, tmp_path / "exp", FakeTime()).run(ExportRequest.of("patient"))


@pytest.mark.parametrize("echo", [f"Bearer {TOKEN}", f"access_token={TOKEN}", TOKEN, TOKEN[:10].upper()])
def test_a_token_echoed_in_an_error_file_is_masked_in_the_reported_issues(server, tmp_path, echo):
    # probe72 D2: the issue text of an error file reached the export summary and the sync problems as it was
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": "error", "code": "processing", "diagnostics": f"could not export Observation/x for {echo}"}
        ],
    }
    server.errors["OperationOutcome.ndjson"] = FileSpec((json.dumps(outcome) + "\n").encode())
    result = make(server, tmp_path / "exp").run(ExportRequest.of("patient"))
    assert result.error_count == 1 and "could not export Observation/x for" in result.errors[0]
    assert "<redacted>" in result.errors[0]
    assert TOKEN not in json.dumps(result.to_dict()) and TOKEN[:10].upper() not in json.dumps(result.to_dict())
    stored = (tmp_path / "exp" / "errors" / "00000.OperationOutcome.ndjson").read_text()
    assert TOKEN not in stored and "<redacted>" in stored  # "never written to the folder"
    again = make(server, tmp_path / "exp").run(ExportRequest.of("patient"))
    assert again.downloaded == 0 and again.errors == result.errors  # the journal records the file as stored


def test_a_token_echoed_in_the_manifest_is_not_written_to_the_folder(server, tmp_path):
    # probe72 D5: manifest.json and export-state.json held the token a server echoed in `request`
    server.pending_polls = 0
    server.manifest_bodies = [
        _manifest_without(server, lambda d: d.update(request=f"{server.base}/Patient/$export?access_token={TOKEN}"))
    ]
    result = make(server, tmp_path / "exp").run(ExportRequest.of("patient"))
    assert result.files == 2
    for name in (MANIFEST_FILE, "export-state.json"):
        text = (tmp_path / "exp" / name).read_text()
        assert TOKEN not in text and "access_token=<redacted>" in text
    # what resuming needs is kept: a rerun finds the export downloaded and fetches nothing again
    again = make(server, tmp_path / "exp").run(ExportRequest.of("patient"))
    assert again.downloaded == 0 and server.kickoffs == 1


@pytest.mark.parametrize(
    "bad", [b'{"resourceType": "Observation", "id": "x",', b"[1, 2, 3]", b'"str"', b'{"id": "no-type"}']
)
def test_the_manifests_count_is_checked_against_resources_not_lines(server, tmp_path, bad):
    # probe72 D1: a garbled line counted as a resource, so a file that lost one passed the count check
    server.files.clear()
    body = server.add_ndjson("Observation.ndjson", _observations(3), count=3)
    server.files["Observation.ndjson"] = FileSpec(body.replace(b"\n", b"\n" + bad + b"\n", 1), count=4)
    result = make(server, tmp_path / "exp", FakeTime()).run(ExportRequest.of("patient"))
    assert result.short_files == ["00000.Observation.ndjson"]
    assert "3 resource(s) received, the manifest says 4 (fetched twice)" in result.errors[0]
    assert result.error_count >= 1 and not result.deleted_on_server and server.deletes == 0
    assert len(server.calls("/fhir/R4/files/")) == 2  # fetched once more, as a file cut short


def test_resources_are_counted_across_chunks_and_unreadable_lines_are_named(tmp_path):
    from poems_fhir.fhir.bulk import _FileWriter

    writer = _FileWriter(tmp_path / "f.ndjson")
    for chunk in (
        b'\xef\xbb\xbf{"resourceType":"Patient","id":"a"}\n{"resourceType":',
        b'"Observation"}\r\n\n',
        b"{bad\n",
    ):
        writer.write(chunk)
    writer.write(b'{"resourceType":"Conditon"}\n{"resourceType":"Condition"}')
    writer.finish()
    assert (writer.lines, writer.resources, writer.unreadable) == (5, 3, 2)
    assert writer.unreadable_at == [(4, "not JSON"), (5, "resourceType 'Conditon' is no FHIR resource type")]


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        (b'{"resourceType": "Observation", "id": "x",', "not JSON"),
        (b"[1, 2, 3]", "JSON that is no object"),
        (b'{"resourceType": "Conditon", "id": "c"}', "resourceType 'Conditon' is no FHIR resource type"),
    ],
)
def test_a_line_that_is_no_resource_is_reported_not_skipped_in_silence(server, tmp_path, bad, says):
    # probe72 D6: with no count to check, export exited 0 with nothing said, and the resource was lost
    server.files["Observation.ndjson"].body = server.files["Observation.ndjson"].body.replace(
        b"\n", b"\n" + bad + b"\n", 1
    )
    result = make(server, tmp_path / "exp", FakeTime()).run(ExportRequest.of("patient"))
    assert result.unreadable_count == 1 and result.error_count == 1 and result.to_dict()["unreadable_lines"] == 1
    assert result.errors == [
        f"00001.Observation.ndjson:2: {says} - no resource the reader can read: it is skipped, lost to this export"
    ]
    again = make(server, tmp_path / "exp", FakeTime()).run(ExportRequest.of("patient"))  # from the journal
    assert again.downloaded == 0 and again.errors == result.errors


def test_an_error_file_that_arrives_empty_is_noted(server, tmp_path):
    # probe72 D19: an error file the manifest listed came empty; nothing was said
    server.errors["OperationOutcome.ndjson"] = FileSpec(b"")
    result = make(server, tmp_path / "exp").run(ExportRequest.of("patient"))
    assert result.error_count == 0
    assert "the error file 00000.OperationOutcome.ndjson listed in the manifest is empty" in " ".join(result.notes)


def test_a_status_url_answering_4xx_is_an_export_that_failed_on_the_server(server, tmp_path):
    # probe72 D12: a bare "HTTP 400" every run, with no word that the export failed nor of --restart
    server.pending_polls = 0
    server.status_error = 400
    with pytest.raises(NetworkError) as exc:
        make(server, tmp_path / "exp").run(ExportRequest.of("patient"))
    text = str(exc.value)
    assert text.startswith("the bulk export failed on the server: ") and "export job died" in text
    assert "--bulk-restart (export: --restart)" in text and exc.value.exit_code == 3
    assert server.deletes == 0


def test_a_status_url_answering_403_names_no_scope_that_does_not_exist(server, tmp_path):
    server.pending_polls = 0
    server.status_error = 403
    with pytest.raises(NetworkError) as exc:
        make(server, tmp_path / "exp").run(ExportRequest.of("patient"))
    text = str(exc.value)
    assert "status.read" not in text and "system/status" not in text and exc.value.exit_code == 5
    assert "refused to read the bulk export's status" in text and "export job died" in text
    assert "--bulk-restart" in text


@pytest.mark.parametrize("where", ["\t/fhir/R4/files/", "/fhir/R4/fi\nles/", "/fhir/R4/files/\r"])
def test_a_file_url_with_a_control_character_is_refused_before_sending(server, tmp_path, where):
    # probe72 D11: urljoin drops a TAB or line break, so such a URL passed the origin rule and was fetched
    # with the token; a space was refused
    _file_url(server, 0, f"{server.origin}{where}Patient.ndjson")
    with pytest.raises(ForeignHostError, match="control character"):
        make(server, tmp_path / "exp").run(ExportRequest.of("patient"))
    assert not [s for s in server.calls("/fhir/R4/files/") if "Patient" in s.path]


def test_a_redirect_with_a_control_character_is_not_followed(server, tmp_path):
    server.redirect["Patient.ndjson"] = f"{server.origin}\t/fhir/R4/files/Observation.ndjson"
    with pytest.raises(ForeignHostError, match="control character"):
        make(server, tmp_path / "exp", parallel=1).run(ExportRequest.of("patient"))


def test_a_line_longer_than_the_reader_takes_is_unreadable_and_not_held_whole(tmp_path, monkeypatch):
    import poems_fhir.fhir.bulk as bulk

    monkeypatch.setattr(bulk, "MAX_LINE_BYTES", 64)
    writer = bulk._FileWriter(tmp_path / "f.ndjson")
    long = b'{"resourceType":"Observation","id":"' + b"x" * 100 + b'"}'
    for chunk in (long[:50], long[50:] + b"\n", b'{"resourceType":"Patient"}\n', long + b"\n"):
        writer.write(chunk)
        assert len(writer._line) <= 64
    writer.finish()
    assert (writer.resources, writer.unreadable) == (1, 2)
    assert writer.unreadable_at == [(1, "longer than the reader takes"), (3, "longer than the reader takes")]


@pytest.mark.parametrize(
    "query",
    [
        f"?access_token={TOKEN}",  # probe72 D10: the server signs its download URLs with our own token
        f"?X-Amz-Signature=abc&sig={TOKEN}",  # under another name: recognised as ours all the same
        f"?t={TOKEN.upper()}",
    ],
)
def test_a_file_url_on_another_origin_that_holds_our_token_is_refused_before_sending(server, tmp_path, query):
    other = OtherOrigin(body=server.files["Patient.ndjson"].body)
    try:
        server.requires_token = False  # a pre-signed URL: no Authorization header would go with it
        _file_url(server, 0, f"{other.origin}/bucket/Patient.ndjson{query}")
        # one download at a time: with several, another file's 401 (no token sent: requires_token is off)
        # could end the run first - the outcome hung on which thread the machine's load let run first
        with pytest.raises(ForeignHostError, match="holds our own access token") as exc:
            make(server, tmp_path / "exp", parallel=1).run(ExportRequest.of("patient"))
    finally:
        other.close()
    assert other.seen == []  # nothing reached the other origin: the token is in the URL itself
    text = str(exc.value)
    assert TOKEN not in text and TOKEN.upper() not in text and exc.value.exit_code == 3
    assert server.origin in text  # says where the token may go


def test_a_redirect_to_another_origin_with_our_token_in_its_query_is_not_followed(server, tmp_path):
    other = OtherOrigin(body=server.files["Observation.ndjson"].body)
    try:
        server.redirect = {"Observation.ndjson": f"{other.origin}/bucket/obs.ndjson?access_token={TOKEN}"}
        with pytest.raises(ForeignHostError, match="holds our own access token"):
            make(server, tmp_path / "exp", parallel=1).run(ExportRequest.of("patient"))
    finally:
        other.close()
    assert other.seen == []


def test_a_file_url_on_the_servers_own_origin_may_hold_our_token(server, tmp_path):
    # the server knows its own token: a URL back to it with the token in its query is no leak
    server.requires_token = False
    server.require_auth = False
    _file_url(server, 0, f"{server.base}/files/Patient.ndjson?access_token={TOKEN}")
    result = make(server, tmp_path / "exp").run(ExportRequest.of("patient"))
    assert result.files == 2 and any(TOKEN in s.query for s in server.calls("/fhir/R4/files/Patient"))


def _state(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "export-state.json").read_text())


def test_a_status_url_on_another_origin_is_remembered_so_the_next_run_starts_no_other_export(server, tmp_path):
    # probe72 D8: refused correctly, but nothing was remembered: every run (a 15-minute timer) kicked off a
    # new export on the server and abandoned it
    other = OtherOrigin(body=b"{}")
    try:
        server.status_location = f"{other.origin}/fhir/R4/bulkstatus/job1"  # a proxy's own address
        folder = tmp_path / "exp"
        with pytest.raises(ForeignHostError, match="left running on the server") as first:
            make(server, folder).run(ExportRequest.of("patient"))
        assert server.kickoffs == 1 and first.value.exit_code == 3
        state = _state(folder)
        assert state["phase"] == "refused" and state["status_url"] is None
        assert state["refused_status_url"] == server.status_location and "points at" in state["refused"]
        seen = len(server.seen)
        for _ in range(2):  # the next runs: refused at once, nothing sent anywhere, no new export
            with pytest.raises(ForeignHostError) as again:
                make(server, folder).run(ExportRequest.of("patient"))
            text = str(again.value)
            assert "was left running on the server" in text and server.status_location in text
            assert "--bulk-restart" in text and "Fix --server" in text and again.value.exit_code == 3
        # another request does not start one either: the export left running is what is said
        with pytest.raises(ForeignHostError, match="left running"):
            make(server, folder).run(ExportRequest.of("system"))
    finally:
        other.close()
    assert server.kickoffs == 1 and len(server.seen) == seen and other.seen == [] and server.deletes == 0


@pytest.mark.parametrize(
    ("location", "says"),
    [
        ("/fhir/R4/bulk status/job1", "space"),  # whitespace, refused by the URL rules
        ("/fhir/R4/bulkstatus/\tjob1", "control character"),  # urljoin would drop the TAB silently
        ("", "no Content-Location"),  # a 202 that names no status URL at all
    ],
)
def test_a_status_url_refused_for_other_reasons_is_remembered_too(server, tmp_path, location, says):
    server.status_location = location and f"{server.origin}{location}"
    folder = tmp_path / "exp"
    with pytest.raises(FatalNetworkError, match=says):
        make(server, folder).run(ExportRequest.of("patient"))
    assert _state(folder)["phase"] == "refused"
    with pytest.raises(FatalNetworkError, match="left running on the server") as again:
        make(server, folder).run(ExportRequest.of("patient"))
    assert says in str(again.value) and again.value.exit_code == 3
    assert server.kickoffs == 1 and server.polls == 0 and server.deletes == 0
    assert not server.calls("/fhir/R4/bulkstatus/")  # no poll, not even to the URL without its TAB


def test_restart_after_a_refused_status_url_starts_a_new_export_and_sends_nothing_to_the_old_url(server, tmp_path):
    other = OtherOrigin(body=b"{}")
    try:
        server.status_location = f"{other.origin}/fhir/R4/bulkstatus/job1"
        folder = tmp_path / "exp"
        with pytest.raises(ForeignHostError):
            make(server, folder).run(ExportRequest.of("patient"))
        server.status_location = None  # the proxy passes the server's own Content-Location now
        server.pending_polls = 0
        result = make(server, folder, restart=True).run(ExportRequest.of("patient"))
    finally:
        other.close()
    assert server.kickoffs == 2 and result.files == 2 and other.seen == []
    assert _state(folder)["phase"] == "downloaded" and "refused" not in _state(folder)


def test_a_refused_status_url_is_polled_once_server_names_its_origin(server, tmp_path):
    # --server said 127.0.0.1, the server's links say localhost: refused (another origin). With --server
    # fixed to the address the server uses, the export left running is polled - no second export.
    server.status_location = f"http://localhost:{server.port}/fhir/R4/bulkstatus/job1"
    server.requires_token = False
    server.presigned = {"Patient.ndjson", "Observation.ndjson"}
    server.pending_polls = 0
    folder = tmp_path / "exp"
    with pytest.raises(ForeignHostError, match="left running"):
        make(server, folder).run(ExportRequest.of("patient"))
    assert server.polls == 0
    t = FakeTime()
    client = FhirClient(
        f"http://localhost:{server.port}/fhir/R4",
        BearerAuth(TOKEN),
        sleep=t.sleep,
        clock=t.clock,
        monotonic=t.monotonic,
        rng=lambda: 1.0,
    )
    exporter = BulkExporter(client, folder, sleep=t.sleep, monotonic=t.monotonic, clock=t.clock, rng=lambda: 1.0)
    result = exporter.run(ExportRequest.of("patient"))
    assert server.kickoffs == 1 and server.polls == 1 and result.files == 2 and result.resumed
    assert all(server.authorised(s) for s in server.calls("/fhir/R4/bulkstatus/"))
    assert _state(folder)["phase"] == "downloaded"
