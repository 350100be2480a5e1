"""The command line under hostile input (issue #9): exit codes are a contract, a bug costs one
resource or patient and exits 4, nothing hangs, no traceback without --debug."""

from __future__ import annotations

import datetime as dt

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from poems_fhir.errors import EXIT_INTERNAL
from poems_fhir.cli import main
from poems_fhir.mapping import extract
from tests.conftest import SAMPLES
from tests.mapping.test_yaml_bounds import ALIAS_BOMB

CLASSIC = str(SAMPLES / "classic-poems.json")


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def strict_json(text: str) -> Any:
    """json.loads that refuses NaN/Infinity, like strict parsers do."""

    def refuse(name: str) -> None:
        raise ValueError(f"bare {name} in JSON output")

    return json.loads(text, parse_constant=refuse)


def _bad_line(tmp_path: Path) -> Path:
    """A neighbour file with one resource of every kind of fault the issue lists."""
    obs = {
        "resourceType": "Observation",
        "status": "final",
        "subject": {"reference": "Patient/bad"},
        "code": {"coding": [{"system": "http://loinc.org", "code": "75628-8"}]},
    }
    lines = [
        json.dumps({"resourceType": "Patient", "id": "bad"}),
        json.dumps({**obs, "id": "b1", "valueQuantity": {"value": float("nan"), "unit": "pg/mL"}}),
        json.dumps({**obs, "id": "b2", "valueQuantity": {"value": 1, "unit": "pg/mL"}}).replace("1,", "1e400,"),
        json.dumps({**obs, "id": "b3", "valueInteger": "3"}),
        json.dumps({**obs, "id": "b4", "effectiveDateTime": "2019-1-5"}),
        json.dumps({**obs, "id": "b5", "status": ["final"]}),
    ]
    path = tmp_path / "bad.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_bad_neighbours_are_listed_and_the_good_patient_is_unchanged(tmp_path: Path) -> None:
    alone = strict_json(invoke("evaluate", CLASSIC, "--format", "json").stdout)
    result = invoke("evaluate", CLASSIC, str(_bad_line(tmp_path)), "--format", "json")
    assert result.exit_code == 1
    doc = strict_json(result.stdout)
    good = [p for p in doc["patients"] if p["patient"] == alone["patients"][0]["patient"]]
    assert good == alone["patients"]
    assert sorted(e["resource"] for e in doc["errors"]) == [f"Observation/b{i}" for i in range(1, 6)]
    assert "Traceback" not in result.output


def test_an_internal_error_costs_one_resource_and_exits_4(monkeypatch: pytest.MonkeyPatch) -> None:
    real = extract._HANDLERS["Condition"]

    def buggy(raw: Any, *args: Any) -> None:
        if raw.ref == "Condition/cp-pnp":
            raise KeyError("boom")
        real(raw, *args)

    monkeypatch.setitem(extract._HANDLERS, "Condition", buggy)
    result = invoke("evaluate", CLASSIC, "--format", "json")
    assert result.exit_code == EXIT_INTERNAL
    doc = strict_json(result.stdout)
    [error] = doc["errors"]
    assert error["resource"] == "Condition/cp-pnp" and error["internal"] is True
    assert "internal error (KeyError" in error["message"]
    assert doc["patients"][0]["classification"]  # the patient is still evaluated
    assert "Traceback" not in result.stderr


def test_an_internal_error_in_a_patient_costs_that_patient(monkeypatch: pytest.MonkeyPatch) -> None:
    from poems_fhir import pipeline

    real = pipeline.evaluate

    def buggy(patient: str, *args: Any) -> Any:
        if patient == "Patient/classic-poems":
            raise ZeroDivisionError("boom")
        return real(patient, *args)

    monkeypatch.setattr(pipeline, "evaluate", buggy)
    result = invoke("evaluate", str(SAMPLES), "--format", "json")
    assert result.exit_code == EXIT_INTERNAL
    doc = strict_json(result.stdout)
    assert "Patient/classic-poems" not in {p["patient"] for p in doc["patients"]}
    assert len(doc["patients"]) >= 5
    assert any(e["resource"] == "Patient/classic-poems" and e.get("internal") for e in doc["errors"])


def test_an_unexpected_crash_is_one_line_and_exit_4_with_the_traceback_only_in_debug(
    monkeypatch: pytest.MonkeyPatch,
) -> None:

    def crash(*_args: Any, **_kw: Any) -> None:
        raise RuntimeError("unexpected")

    monkeypatch.setattr("poems_fhir.fhir.spool.open_paths", crash)
    result = invoke("evaluate", CLASSIC)
    assert result.exit_code == EXIT_INTERNAL
    assert "poems-fhir: internal error: RuntimeError: unexpected" in result.stderr
    assert "--debug" in result.stderr and "Traceback" not in result.stderr
    debug = invoke("--debug", "evaluate", CLASSIC)
    assert debug.exit_code == EXIT_INTERNAL and "Traceback" in debug.stderr


def test_an_alias_bomb_as_mappings_exits_2_quickly(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(ALIAS_BOMB, encoding="utf-8")
    for args in (
        ["evaluate", CLASSIC, "--mappings", str(bomb)],
        ["report", CLASSIC, "--html", str(tmp_path / "x.html"), "--mappings", str(bomb)],
        ["mappings", "check", str(bomb)],
    ):
        result = invoke(*args)
        assert result.exit_code == 2, args
        assert "alias bomb" in result.output


def test_a_named_pipe_input_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.ndjson"
    os.mkfifo(fifo)
    result = invoke("evaluate", str(fifo), CLASSIC)
    assert result.exit_code == 1
    assert "named pipe, not a regular file" in result.stdout and "Classification: MET" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["evaluate", CLASSIC, "--out", "{f}/x.json"],
        ["evaluate", CLASSIC, "--out", "{f}/dir"],
        ["evaluate", CLASSIC, "--out", "{f}"],
        ["report", CLASSIC, "--html", "{f}/x.html"],
        ["report", str(SAMPLES), "--html", "{f}/pages"],
    ],
)
def test_output_below_a_regular_file_is_a_usage_error(tmp_path: Path, args: list[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    result = invoke(*[a.format(f=blocker) for a in args])
    assert result.exit_code == 2
    assert "is a part of the path a regular file?" in result.stderr and "Traceback" not in result.output


def test_report_survives_extreme_dates_and_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the run's day at the calendar's end: a result dated 9999 is otherwise set aside as one from the future
    # (pipeline.set_aside_future_results), and the calendar-end paths this guards would not be reached
    monkeypatch.setattr("poems_fhir.pipeline.run_day", lambda: dt.date(9999, 12, 31))

    def obs(i: int, day: str, value: float) -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "id": f"o{i}",
            "status": "final",
            "subject": {"reference": "Patient/x"},
            "effectiveDateTime": day,
            "code": {"coding": [{"system": "http://loinc.org", "code": "33358-3"}]},
            "valueQuantity": {"value": value, "unit": "g/L", "system": "http://unitsofmeasure.org", "code": "g/L"},
        }

    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": {"resourceType": "Patient", "id": "x"}},
            {"resource": obs(1, "0001-01-01", 5)},
            {"resource": obs(2, "9999-12-31", 1e308)},
            {"resource": obs(3, "2020-01-01", 3)},
        ],
    }
    source = tmp_path / "extreme.json"
    source.write_text(json.dumps(bundle), encoding="utf-8")
    page = tmp_path / "x.html"
    result = invoke("report", str(source), "--html", str(page))
    assert result.exit_code == 0, result.output
    assert "<svg" in page.read_text(encoding="utf-8")
    assert strict_json(invoke("evaluate", str(source), "--format", "json").stdout)["patients"]


def test_report_lists_every_skip(tmp_path: Path) -> None:
    result = invoke("report", CLASSIC, str(_bad_line(tmp_path)), "--html", str(tmp_path / "pages"))
    assert result.exit_code == 1
    for i in range(1, 6):
        assert f"(Observation/b{i})" in result.stderr


def test_a_whole_record_in_year_9999_is_evaluated_and_rendered(tmp_path: Path) -> None:
    """Found by the long fuzz profile: scheduling day +100 or a VEGF in 6 months ran past 9999-12-31."""
    import re

    text = re.sub(r'"\d{4}-(\d{2})', r'"9999-\1', (SAMPLES / "relapse-case.json").read_text(encoding="utf-8"))
    source = tmp_path / "late.json"
    source.write_text(text, encoding="utf-8")
    result = invoke("evaluate", str(source), "--format", "json")
    assert result.exit_code in (0, 1), result.output
    assert not [e for e in strict_json(result.stdout)["errors"] if e.get("internal")]
    page = invoke("report", str(source), "--html", str(tmp_path / "late.html"))
    assert page.exit_code in (0, 1), page.output


def test_a_reader_that_goes_away_is_no_internal_error():
    # `poems-fhir evaluate … | head`: the pipe closes under us; found by a black-box fuzz probe as exit 70
    import subprocess
    import sys

    from poems_fhir.errors import EXIT_BROKEN_PIPE
    from tests.conftest import SAMPLES

    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-c", "from poems_fhir.cli import main; main()", "evaluate", str(SAMPLES), "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first line
    err = proc.stderr.read().decode("utf-8", "replace")
    assert proc.wait(timeout=120) == EXIT_BROKEN_PIPE == 141
    assert "internal error" not in err and "Traceback" not in err


@pytest.mark.parametrize("command", [["evaluate", "--format", "json"], ["mappings", "coverage", "--format", "json"]])
def test_sigterm_removes_the_spool_and_exits_143(tmp_path, monkeypatch, command):
    """Killed by SIGTERM (a scheduler's timeout) the spool of the input stayed in TMPDIR: the default
    action ends the process before any clean-up (found by a black-box fuzzer). The signal arrives
    here while the spool exists."""
    import signal
    import tempfile

    from poems_fhir.errors import EXIT_TERMINATED
    from poems_fhir.fhir import spool

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    real = spool._Spooler.finish

    def finish_then_terminated(self, *a, **kw):
        real(self, *a, **kw)
        assert list(tmp_path.glob("poems-fhir-spool-*/spool.sqlite"))  # the spool is there
        # without a handler the signal would end the test run itself: fail instead
        assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL, "no SIGTERM handler installed"
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(spool._Spooler, "finish", finish_then_terminated)
    before = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        result = CliRunner().invoke(main, [*command, str(SAMPLES / "classic-poems.json")])
    finally:
        signal.signal(signal.SIGTERM, before)
    assert result.exit_code == EXIT_TERMINATED, result.output
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("command", [["evaluate", "--format", "json"], ["mappings", "coverage", "--format", "json"]])
def test_ctrl_c_removes_the_spool_and_exits_130_not_1(tmp_path, monkeypatch, command):
    """Ctrl-C ended `evaluate` with click's "Aborted!" and exit 1, which the exit-code table gives to
    "some input was skipped" (probe51 D5): 130, as the shell reports SIGINT, after the clean-up."""
    import tempfile

    from poems_fhir.errors import EXIT_INTERRUPTED
    from poems_fhir.fhir import spool

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    real = spool._Spooler.finish

    def finish_then_interrupted(self, *a, **kw):
        real(self, *a, **kw)
        assert list(tmp_path.glob("poems-fhir-spool-*/spool.sqlite"))  # the spool is there
        raise KeyboardInterrupt

    monkeypatch.setattr(spool._Spooler, "finish", finish_then_interrupted)
    result = CliRunner().invoke(main, [*command, str(SAMPLES / "classic-poems.json")])
    assert result.exit_code == EXIT_INTERRUPTED == 130, result.output
    assert "interrupted" in result.output and "Aborted" not in result.output
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("element", "value"),
    [
        ("name", [{"given": ["Ann", 3], "family": "Lee"}]),  # a number among the given names
        ("name", [{"given": [None], "text": None}]),  # nulls in an array
        ("name", [{"family": True}]),
        ("identifier", [{"value": "123", "type": "MRN"}]),  # a type that is a string, not a CodeableConcept
        ("identifier", [{"value": "123", "type": {"coding": ["MR"]}}]),
    ],
)
def test_a_patient_whose_name_or_identifier_is_malformed_is_a_reported_skip_not_an_internal_error(
    tmp_path: Path, element: str, value: Any
) -> None:
    # found by a black-box fuzz probe: the page header joined the given names and read identifier.type,
    # so one such Patient cost its whole evaluation as an internal error (exit 70)
    bundle = json.loads(Path(CLASSIC).read_text(encoding="utf-8"))
    patient = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    patient[element] = value
    path = tmp_path / "case.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    result = CliRunner().invoke(main, ["evaluate", str(path), "--format", "json", "--out", str(tmp_path / "out")])
    doc = json.loads(result.stdout)
    assert result.exit_code == 1, result.output  # input problems, not an internal error
    assert [e["resource"] for e in doc["errors"]] == [f"Patient/{patient['id']}"]
    assert not any(e.get("internal") for e in doc["errors"])
    assert doc["patients"][0]["classification"] == "met"  # the rest of the record still counts
    assert len(list((tmp_path / "out").iterdir())) == 1


@pytest.mark.parametrize("year", ["9999", "0001"])
def test_a_complete_response_window_at_the_calendars_end_is_no_internal_error(
    tmp_path: Path, year: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("poems_fhir.pipeline.run_day", lambda: dt.date(9999, 12, 31))  # see the test above
    # probe22 R-date-overflow-9999: a negative serum and urine immunofixation on 9999-12-06 (the month
    # around them left the calendar): OverflowError, exit 70
    day, start = (f"{year}-12-06", f"{year}-02-22") if year == "9999" else (f"{year}-01-10", f"{year}-01-01")
    lines = [
        {
            "resourceType": "MedicationStatement",
            "id": "dex",
            "status": "completed",
            "medicationCodeableConcept": {
                "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "3264"}]
            },
            "subject": {"reference": "Patient/p1"},
            "effectivePeriod": {"start": start},
        },
        *(
            {
                "resourceType": "Observation",
                "id": oid,
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
                "subject": {"reference": "Patient/p1"},
                "effectiveDateTime": day,
                "valueString": "negative",
            }
            for oid, code in (("ife", "25700-6"), ("bj", "13440-3"))
        ),
    ]
    source = tmp_path / "late.ndjson"
    source.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    result = invoke("evaluate", str(source), "--format", "json")
    assert result.exit_code == 0, result.output
    assert strict_json(result.stdout)["errors"] == []


def test_a_full_disk_is_a_documented_io_error_not_a_bug():
    # probe32: `evaluate … > /dev/full` and a full TMPDIR were "internal error … please report it" (exit 70)
    import subprocess
    import sys

    from poems_fhir.errors import EXIT_IO

    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    with open("/dev/full", "wb") as full:
        proc = subprocess.run(  # noqa: S603 - our own interpreter and module
            [
                sys.executable,
                "-c",
                "from poems_fhir.cli import main; main()",
                "evaluate",
                str(SAMPLES / "classic-poems.json"),
            ],
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=120,
            check=False,
        )
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == EXIT_IO == 74
    assert (
        "cannot write the output (stdout): No space left on device; free space" in err and "internal error" not in err
    )


def test_a_full_disk_during_sync_stops_the_run_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    import errno

    def full(self: Path, data: bytes) -> int:
        self.touch()  # half a file, as a full disk leaves it
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    monkeypatch.setattr(Path, "write_bytes", full)
    out = tmp_path / "out"
    result = invoke(
        "sync",
        "--source",
        str(SAMPLES / "classic-poems.json"),
        "--out",
        str(out),
        "--state",
        str(tmp_path / "s.sqlite"),
    )
    assert result.exit_code == 74, result.output
    assert "cannot write" in result.stderr and "No space left on device" in result.stderr
    assert list(out.glob("*.tmp")) == []


@pytest.mark.parametrize("command", [["evaluate", "--out"], ["report", "--html"]])
def test_a_full_disk_while_writing_a_file_keeps_the_earlier_file_and_exits_74(tmp_path, monkeypatch, command):
    """probe51 D2: a full disk during `evaluate --out` / `report --html` exited 2 ("is a part of the path a
    regular file?") and left a truncated file under its final name, over the good one of an earlier run."""
    import builtins
    import errno

    out = tmp_path / "out"
    args = [command[0], str(SAMPLES / "classic-poems.json"), command[1], str(out)]
    assert invoke(*args).exit_code == 0
    (written,) = [p for p in out.iterdir()]
    good = written.read_bytes()
    real_open = builtins.open

    class Full:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, text):
            self.f.write(text[:100])  # half a file, as a full disk leaves it
            raise OSError(errno.ENOSPC, "No space left on device")

    def full_open(file, mode="r", *a, **kw):
        f = real_open(file, mode, *a, **kw)
        return Full(f) if "w" in mode and str(file).startswith(str(out)) else f

    monkeypatch.setattr(builtins, "open", full_open)
    result = invoke(*args)
    monkeypatch.setattr(builtins, "open", real_open)
    assert result.exit_code == 74, result.output
    assert "No space left on device" in result.stderr and "free space" in result.stderr
    assert f"cannot write {out / written.name}: " in result.stderr  # named, not "the output" (probe59 D7)
    assert [p.name for p in out.iterdir()] == [written.name] and written.read_bytes() == good


def test_an_out_folder_on_a_read_only_disk_is_the_machines_not_a_usage_error(tmp_path, monkeypatch):
    """probe59 D6: creating the --out folder on a read-only file system exited 2 with "is a part of the path a
    regular file?"; an existing folder there exits 74 - the machine's, as documented."""
    import errno
    import pathlib

    real_mkdir = pathlib.Path.mkdir
    target = tmp_path / "ro" / "out"

    def read_only(self, *a, **kw):
        if str(self).startswith(str(tmp_path / "ro")):
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        return real_mkdir(self, *a, **kw)

    monkeypatch.setattr(pathlib.Path, "mkdir", read_only)
    result = invoke("evaluate", str(SAMPLES / "classic-poems.json"), "--out", str(target))
    assert result.exit_code == 74, result.output
    assert "Read-only file system" in result.stderr and "regular file" not in result.stderr


@pytest.mark.parametrize("error", ["database or disk is full", "disk I/O error"])
def test_a_full_disk_under_the_state_file_is_no_damaged_state_file(tmp_path, monkeypatch, error):
    """probe51 D2: on a full disk the state file was called "damaged or not a state file ... move it
    aside" (exit 2), advice that loses a good checkpoint: it is the machine's (exit 74, free space)."""
    import sqlite3

    from poems_fhir.sync import state

    real = state._Db.execute

    def full(self, sql, args=()):
        if sql.lstrip().upper().startswith(("INSERT", "UPDATE")):  # as SQLite answers a write, through the wrapper
            raise self._error(sqlite3.OperationalError(error)) from None
        return real(self, sql, args)

    monkeypatch.setattr(state._Db, "execute", full)
    result = invoke(
        "sync", "--source", str(SAMPLES / "classic-poems.json"), "--out", str(tmp_path / "out"),
        "--state", str(tmp_path / "s.sqlite"),
    )  # fmt: skip
    assert result.exit_code == 74, result.output
    said = result.output + result.stderr
    assert "is damaged or not a state file" not in said and "move it aside" not in said
    assert "free space" in result.stderr and error in result.stderr


def test_the_text_output_carries_no_bidi_or_control_characters_and_no_forged_lines(tmp_path):
    # probe32: a U+202E in a Condition's text reached the terminal; a file name with a line break
    # printed as two lines ("...\nFAKE: 0 input problem(s).json")
    condition = {
        "resourceType": "Condition",
        "id": "c1",
        "subject": {"reference": "Patient/p1"},
        "code": {
            "text": "Polyneuropathy \u202e(confirmed)\x1b[2J",
            "coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "G62.89"}],
        },
    }
    good = tmp_path / "in"
    good.mkdir()
    (good / "c.json").write_text(json.dumps(condition), encoding="utf-8")
    (good / "bad\nFAKE: 0 input problem(s).json").write_text("{", encoding="utf-8")
    result = invoke("evaluate", str(good))
    assert "\u202e" not in result.stdout and "\x1b" not in result.stdout
    assert not any(line.startswith("FAKE") for line in result.stdout.splitlines())
    assert "bad\\nFAKE" in result.stdout


@pytest.mark.parametrize("brk", ["\n", "\u2028", "\u2029"])
def test_a_line_break_in_a_clinicians_assertion_forges_no_line_of_the_report(tmp_path, brk):
    # probe47 D3: an uncoded Condition "POEMS syndrome\n\nPatient …\n  Classification: NOT_MET" printed a
    # fake patient header and classification at column 0 (the assertion line was not wrapped)
    forged = f"POEMS syndrome{brk}{brk}Patient Patient/fake  (profile mayo){brk}  Classification: NOT_MET"
    condition = {
        "resourceType": "Condition",
        "id": "c1",
        "subject": {"reference": "Patient/p1"},
        "verificationStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "provisional"}]
        },
        "code": {"text": forged},
    }
    (tmp_path / "c.json").write_text(json.dumps(condition), encoding="utf-8")
    result = invoke("evaluate", str(tmp_path / "c.json"), "--all")
    lines = result.stdout.splitlines()
    assert [line for line in lines if line.startswith("Patient ")] == [line for line in lines if "Patient/p1 " in line][
        :1
    ]
    assert not any("NOT_MET" in line and not line.lstrip().startswith("Clinician") for line in lines), result.stdout
    assert any(line.lstrip().startswith("Clinician assertion") and "Classification: NOT_MET" in line for line in lines)


def test_problems_past_the_listed_ones_are_still_counted(tmp_path):
    # probe32: 200,000 bad lines were "1001 input problem(s)" and skipped_input=1001
    folder = tmp_path / "in"
    folder.mkdir()
    good = {"resourceType": "Patient", "id": "p"}
    (folder / "in.ndjson").write_text(json.dumps(good) + "\n" + "{not json\n" * 1_050, encoding="utf-8")
    text = invoke("evaluate", str(folder))
    assert "1050 input problem(s)." in text.stdout
    out = invoke(
        "sync",
        "--source",
        str(folder),
        "--out",
        str(tmp_path / "o"),
        "--state",
        str(tmp_path / "s.sqlite"),
        "--format",
        "json",
    )
    assert json.loads(out.stdout)["skipped_input"] == 1_050


def test_a_patient_filter_naming_nobody_is_reported():
    # probe32: `--patient Patient/nope` exited 0 with "0 patient(s)" and no word
    result = invoke("evaluate", str(SAMPLES / "classic-poems.json"), "--patient", "Patient/nope", "--format", "json")
    assert result.exit_code == 1
    [error] = strict_json(result.stdout)["errors"]
    assert (error["source"], error["message"]) == (
        "--patient",
        "Patient/nope: no such patient in the input; nothing evaluated for it",
    )
    found = invoke("evaluate", str(SAMPLES / "classic-poems.json"), "--patient", "classic-poems", "--format", "json")
    assert found.exit_code == 0 and strict_json(found.stdout)["errors"] == []


def test_report_and_sync_list_a_patient_filter_naming_nobody(tmp_path):
    """probe59 D1/D2: `report --patient nope` wrote the other page and exited 0 without a word; `sync --source
    --patient nope` dropped it (missing=0, exit 0)."""
    page = tmp_path / "p.html"
    result = invoke("report", str(SAMPLES), "--patient", "Patient/classic-poems", "--patient", "Patient/nope",
                    "--html", str(page))  # fmt: skip
    assert result.exit_code == 1 and page.exists()
    assert "skipped: --patient: Patient/nope: no such patient in the input" in result.stderr
    args = ["--out", str(tmp_path / "o"), "--state", str(tmp_path / "s.sqlite"), "--format", "json"]
    synced = invoke("sync", "--source", str(SAMPLES), "--patient", "nope", "--patient", "classic-poems", *args)
    summary = json.loads(synced.stdout)
    assert synced.exit_code == 1 and (summary["missing"], summary["written"]) == (1, 1)
    assert any("no resources found for this patient" in p for p in summary["problems"])
    # each counted, each recorded under its own name: reported once, then no longer retried
    two = invoke("sync", "--source", str(SAMPLES), "--patient", "nope2", "--patient", "nope3", *args)
    assert json.loads(two.stdout)["missing"] == 2
    again = json.loads(
        invoke("sync", "--source", str(SAMPLES), "--patient", "nope2", "--patient", "nope3", *args).stdout
    )
    assert (again["missing"], again["patients_scanned"]) == (0, 0)


@pytest.mark.parametrize(
    ("issue", "listed"),
    [
        ({"severity": "error", "code": "too-costly", "diagnostics": "search incomplete: results truncated"}, True),
        ({"severity": "warning", "code": "incomplete"}, True),
        ({"severity": "information", "code": "informational", "diagnostics": "_count reduced to 100"}, False),
    ],
)
def test_a_saved_searchset_that_says_it_is_incomplete_is_a_listed_problem(tmp_path, issue, listed):
    # probe47 D4: read as complete, "0 input problem(s)", exit 0 - the README's rule for a server's page
    bundle = json.loads((SAMPLES / "classic-poems.json").read_text(encoding="utf-8"))
    bundle["type"] = "searchset"
    bundle["entry"].append(
        {"resource": {"resourceType": "OperationOutcome", "issue": [issue]}, "search": {"mode": "outcome"}}
    )
    (tmp_path / "page.json").write_text(json.dumps(bundle), encoding="utf-8")
    result = invoke("evaluate", str(tmp_path / "page.json"))
    assert ("failed or is incomplete" in result.stdout) is listed
    assert result.exit_code == (1 if listed else 0), result.stdout
    assert "1 patient(s) evaluated" in result.stdout  # its entries are still read


def test_a_file_size_limit_hit_by_the_spool_is_an_io_error_not_an_internal_one(tmp_path):
    """probe59 D3: `ulimit -f` reached while writing the temporary spool: SQLite's "disk I/O error" was an
    internal error (exit 70, "please report it"); it is the machine's (exit 74, move TMPDIR)."""
    import resource
    import subprocess
    import sys

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    done = subprocess.run(
        [sys.executable, "-m", "poems_fhir.cli", "evaluate", str(SAMPLES), "--format", "json"],
        capture_output=True, text=True, preexec_fn=limited, env={**os.environ, "TMPDIR": str(tmp_path)}, timeout=300,
    )  # fmt: skip
    assert done.returncode == 74, done.stderr
    assert "internal error" not in done.stderr and "TMPDIR" in done.stderr


FORGED_LINK = (
    "http://h/fhir/Condition?x=1\r\n2026-01-01T00:00:00.000+00:00 INFO run.finished: FORGED\r\n\x1b]0;pwned\x07"
)


def test_a_fatal_error_quoting_a_servers_words_is_one_line_without_terminal_controls(capsys):
    """probe91b D1: a `next` link with CR/LF and ESC/OSC/BEL was refused, but the refusal printed it raw: a
    forged "INFO run.finished" line started a line of the text log and the escapes reached the terminal."""
    from poems_fhir.cli import _log_error
    from poems_fhir.errors import ForeignHostError

    _log_error(ForeignHostError(f"refusing {FORGED_LINK}: it contains a control character"), "text")
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.endswith("\n")
    assert "\x1b" not in err and "\x07" not in err and "\r" not in err
    assert "\\r\\n2026-01-01T00:00:00.000+00:00 INFO run.finished: FORGED" in err  # shown, escaped


def test_a_usage_error_quoting_a_servers_words_is_one_line_and_a_mapping_files_lines_stay_lines(capsys):
    from poems_fhir.cli import _fail

    with pytest.raises(SystemExit):
        _fail(f"Group/{FORGED_LINK} did not return a Group resource")
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "\x1b" not in err
    with pytest.raises(SystemExit):
        _fail("2 problem(s) in mapping files:\nfirst\nsecond", hint="Run it.", lines=True)
    assert capsys.readouterr().err == "poems-fhir: error: 2 problem(s) in mapping files:\nfirst\nsecond\nRun it.\n"
