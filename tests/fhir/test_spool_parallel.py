"""Reading with several processes (fhir/spool_parallel.py): how the input is cut into units, and
what happens when a reading process dies. That the spool it builds equals the serial one is checked
by every equivalence test of test_spool.py (assert_same_as_read_paths reads with two processes too)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from poems_fhir.fhir import spool_parallel
from poems_fhir.fhir.spool import iter_records, open_paths
from poems_fhir.fhir.read import HEAD_BYTES, refusal_reason
from poems_fhir.fhir.spool_parallel import Unit, plan
from tests.fhir.test_spool import _lines, _obs, _patient, _snapshot

_LINE = st.binary(max_size=12).map(lambda b: b.replace(b"\n", b"x"))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(_LINE, max_size=30), final_newline=st.booleans(), unit_bytes=st.integers(1, 40))
def test_units_cover_the_file_and_end_at_line_breaks(
    tmp_path_factory: pytest.TempPathFactory, lines: list[bytes], final_newline: bool, unit_bytes: int
) -> None:
    path = tmp_path_factory.mktemp("plan") / "x.ndjson"
    content = b"\n".join(lines) + (b"\n" if final_newline and lines else b"")
    path.write_bytes(content)
    units, files = plan([path], unit_bytes)
    assert files == 1
    if len(content) <= unit_bytes or refusal_reason(content[:HEAD_BYTES], "x.ndjson", ndjson=True) is not None:
        # a small file is read whole, and a UTF-16 or compressed one (refused once, as a whole, by the serial reader)
        assert units == [Unit(path, file=1)]
        return
    assert units[0].start == 0 and units[-1].end == len(content)
    for before, after in zip(units, units[1:], strict=False):
        assert before.end == after.start
        assert content[before.end - 1 : before.end] == b"\n"  # a unit never cuts a line
    for unit in units:
        assert unit.first_line == content[: unit.start].count(b"\n") + 1
        assert unit.end is not None and unit.end > unit.start
        assert unit.file == 1  # the number the spool's files table gives it


def test_bundles_and_small_files_are_whole_units(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('{"resourceType": "Bundle"}' + " " * 500)
    (tmp_path / "b.ndjson").write_bytes(b"{}\n" * 10)
    (tmp_path / "c.ndjson").write_bytes(b"{}\n" * 100)
    units, files = plan([tmp_path], 100)
    assert files == 3
    assert units[:2] == [Unit(tmp_path / "a.json", file=1), Unit(tmp_path / "b.ndjson", file=2)]
    assert [(u.path.name, u.file) for u in units[2:]] == [("c.ndjson", 3)] * 3


def _folder(tmp_path: Path) -> Path:
    (tmp_path / "a.ndjson").write_bytes(
        _lines(*[_patient(f"p{i}") for i in range(40)], *[_obs(f"o{i}", f"Patient/p{i % 40}", i) for i in range(200)])
    )
    (tmp_path / "b.ndjson").write_bytes(_lines(b"{broken", _obs("o7", "Patient/p1", 999)))
    return tmp_path


def _read(folder: Path, workers: int) -> tuple[list[str], str, int]:
    with open_paths([folder], workers=workers) as source:
        return [repr(_snapshot(r)) for r in iter_records(source)], repr(source.errors), source.readers


def test_a_dead_reading_process_means_reading_again_with_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    folder = _folder(tmp_path)
    serial = _read(folder, 1)
    monkeypatch.setattr(spool_parallel, "UNIT_BYTES", 2000)
    assert _read(folder, 2)[:2] == serial[:2] and _read(folder, 2)[2] == 2

    monkeypatch.setattr(spool_parallel, "_read_task", _dies_on_the_third_unit)
    with caplog.at_level(logging.WARNING, logger="poems_fhir.fhir.spool_parallel"):
        again = _read(folder, 2)
    assert again == (*serial[:2], 1)  # read by one process, the same records and errors
    assert "reading it again with one process" in caplog.text


_READ_TASK = spool_parallel._read_task


def _dies_on_the_third_unit(task: tuple[Unit, str]) -> spool_parallel.Shard:
    """A reading process that dies (as if killed for memory) on one unit; module level: the pool
    sends the function to its processes by name."""
    if task[1].endswith("shard-2.sqlite"):
        os._exit(9)
    return _READ_TASK(task)
