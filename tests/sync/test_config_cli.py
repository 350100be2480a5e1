"""Sync configuration (TOML < env < flags), secrets handling, the CLI contract and the loop."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from poems_fhir.cli import main
from poems_fhir.errors import ConfigError
from poems_fhir.sync.config import load_settings, parse_duration
from poems_fhir.sync.runner import StopFlag
from tests.conftest import SAMPLES


def test_toml_env_and_flags_precedence(tmp_path):
    cfg = tmp_path / "sync.toml"
    cfg.write_text(
        'server = "https://toml.example/fhir"\nprofile = "japan-2019"\nclient-id = "from-toml"\n'
        'mappings = ["a.yaml"]\nevery = "15m"\n'
    )
    s = load_settings(
        cfg, {"profile": None}, environ={"POEMS_FHIR_PROFILE": "dispenzieri-2003", "POEMS_FHIR_CLIENT_ID": "from-env"}
    )
    assert (s.server, s.profile, s.client_id, s.interval()) == (
        "https://toml.example/fhir",
        "dispenzieri-2003",
        "from-env",
        900,
    )
    s = load_settings(cfg, {"profile": "mayo", "client_id": "from-flag"}, environ={"POEMS_FHIR_PROFILE": "japan-2019"})
    assert (s.profile, s.client_id, s.mappings) == ("mayo", "from-flag", [Path("a.yaml")])


def test_unknown_toml_key_and_bad_values_are_config_errors(tmp_path):
    cfg = tmp_path / "sync.toml"
    cfg.write_text('servr = "x"\n')
    with pytest.raises(ConfigError, match="servr"):
        load_settings(cfg, {}, environ={})
    cfg.write_text('every = "soon"\n')
    with pytest.raises(ConfigError, match="duration"):
        load_settings(cfg, {}, environ={})
    with pytest.raises(ConfigError, match="invalid TOML"):
        cfg.write_text("server = \n")
        load_settings(cfg, {}, environ={})


def test_check_explains_missing_pieces(monkeypatch):
    monkeypatch.delenv("POEMS_FHIR_TOKEN", raising=False)
    monkeypatch.delenv("POEMS_FHIR_CLIENT_SECRET", raising=False)
    with pytest.raises(ConfigError, match="--server URL .* or --source DIR"):
        load_settings(None, {}, environ={}).check()
    with pytest.raises(ConfigError, match="--token-file"):
        load_settings(None, {"server": "https://x", "auth": "bearer"}, environ={}).check()
    with pytest.raises(ConfigError, match="--client-secret-file"):
        load_settings(None, {"server": "https://x", "auth": "client-credentials", "client_id": "c"}, environ={}).check()
    with pytest.raises(ConfigError, match="--private-key"):
        load_settings(None, {"server": "https://x", "auth": "smart-backend"}, environ={}).check()


def test_secrets_cannot_be_given_on_the_command_line():
    result = CliRunner().invoke(main, ["sync", "--server", "https://x", "--token", "abc"])
    assert result.exit_code == 2 and "No such option" in result.output
    result = CliRunner().invoke(main, ["sync", "--server", "https://x", "--client-secret", "abc"])
    assert result.exit_code == 2


def test_durations():
    assert [parse_duration(x) for x in ("30s", "15m", "1h", "1d")] == [30, 900, 3600, 86400]


def run_cli(*args: str):
    return CliRunner().invoke(main, ["sync", *args], catch_exceptions=False)


def test_sync_on_files_json_summary_and_exit_codes(tmp_path):
    args = [
        "--source",
        str(SAMPLES / "classic-poems.json"),
        "--source",
        str(SAMPLES / "mimics"),
        "--out",
        str(tmp_path / "out"),
        "--state",
        str(tmp_path / "s.sqlite"),
        "--format",
        "json",
    ]
    first = run_cli(*args)
    assert first.exit_code == 0, first.output
    doc = json.loads(first.output[first.output.index("{") :])
    assert {
        k: doc[k]
        for k in (
            "patients_scanned",
            "evaluated",
            "written",
            "unchanged",
            "out_of_scope",
            "conflicts",
            "failed",
            "requests",
            "retries",
        )
    } == {
        "patients_scanned": 5,
        "evaluated": 5,
        "written": 4,
        "unchanged": 0,
        "out_of_scope": 1,
        "conflicts": 0,
        "failed": 0,
        "requests": 0,
        "retries": 0,
    }
    assert all(c["patient"].startswith("patient-") for c in doc["conclusions"])  # no PHI by default
    again = run_cli(*args).output
    second = json.loads(again[again.index("{") :])
    assert second["written"] == 0 and second["unchanged"] == 4


def test_sync_usage_errors_exit_2(tmp_path):
    assert run_cli("--source", str(SAMPLES)).exit_code == 2  # no --out
    assert run_cli("--server", "https://x", "--source", str(SAMPLES)).exit_code == 2
    assert run_cli("--profile", "nope").exit_code == 2


def test_unreachable_server_exits_3(tmp_path, monkeypatch):
    slept = []
    monkeypatch.setattr("poems_fhir.sync.runner.time.sleep", slept.append)
    result = run_cli("--server", "http://127.0.0.1:9/fhir", "--state", str(tmp_path / "s.sqlite"))
    assert result.exit_code == 3
    assert "127.0.0.1:9" in result.output and "reachable" in result.output
    assert len(slept) == 4  # retried with backoff, without waiting for real


def test_every_loops_until_stopped(tmp_path, monkeypatch):
    waits = []

    def fake_wait(self, timeout=None):
        waits.append(timeout)
        return len(waits) >= 2  # a SIGTERM arrives during the second wait

    monkeypatch.setattr("threading.Event.wait", fake_wait)
    monkeypatch.setattr(StopFlag, "install", lambda self: None)
    result = run_cli(
        "--source",
        str(SAMPLES / "classic-poems.json"),
        "--out",
        str(tmp_path / "o"),
        "--state",
        str(tmp_path / "s.sqlite"),
        "--every",
        "15m",
    )
    assert result.exit_code == 0
    assert waits == [900, 900]
    assert result.output.count("summary:") == 2


def test_stop_flag_finishes_the_patient_in_flight():
    import os
    import signal

    flag = StopFlag()
    previous = signal.getsignal(signal.SIGTERM)
    try:
        flag.install()
        assert not flag()
        os.kill(os.getpid(), signal.SIGTERM)
        assert flag()
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_patient_list_file(tmp_path):
    ids = tmp_path / "ids.txt"
    ids.write_text("Patient/a\nb  # second\n\n# comment\n")
    assert load_settings(None, {"patient": ("@" + str(ids), "c")}, environ={}).patient == ["Patient/a", "b", "c"]
    with pytest.raises(ConfigError, match="cannot read patient list"):
        load_settings(None, {"patient": ("@" + str(tmp_path / "nope"),)}, environ={})


def test_scope_trigger_is_configurable(tmp_path):
    s = load_settings(None, {"trigger": ("vegf_elevation",)}, environ={})
    assert s.trigger == ["vegf_elevation"]
    with pytest.raises(ConfigError, match="unknown criterion"):
        load_settings(None, {"trigger": ("nonsense",)}, environ={})
    args = [
        "--source",
        str(SAMPLES / "mimics"),
        "--out",
        str(tmp_path / "o"),
        "--state",
        str(tmp_path / "s.sqlite"),
        "--format",
        "json",
    ]
    out = run_cli(*args, "--trigger", "castleman_disease").output
    doc = json.loads(out[out.index("{") :])
    assert (doc["written"], doc["out_of_scope"]) == (1, 3)  # only the Castleman mimic
    assert doc["screening"]["in_scope"] == {"total": 1, "met": 0, "not_met": 1, "indeterminate": 0}
    assert doc["screening"]["out_of_scope"]["total"] == 3
    text = run_cli(*args[:-2], "--state", str(tmp_path / "t.sqlite")).output
    assert "screening: 3 in scope: 3 indeterminate; 1 out of scope" in text


def test_the_loop_survives_an_unreachable_server(tmp_path, monkeypatch):
    waits = []

    def fake_wait(self, timeout=None):
        waits.append(timeout)
        return len(waits) >= 2

    monkeypatch.setattr("threading.Event.wait", fake_wait)
    monkeypatch.setattr(StopFlag, "install", lambda self: None)
    monkeypatch.setattr("poems_fhir.sync.runner.time.sleep", lambda s: None)
    result = run_cli("--server", "http://127.0.0.1:9/fhir", "--state", str(tmp_path / "s.sqlite"), "--every", "1m")
    assert result.exit_code == 3
    assert result.output.count("retrying in 1m") == 2 and waits == [60, 60]


def test_a_one_shot_run_stopped_by_sigterm_is_no_success(tmp_path, monkeypatch):
    # probe33: stopped after 4 of 6 patients, the run exited 0 ("all patients ok") with completed: false
    calls = []

    def stopped(self):
        calls.append(1)
        return len(calls) > 1  # the signal arrives after the first patient

    monkeypatch.setattr(StopFlag, "install", lambda self: None)
    monkeypatch.setattr(StopFlag, "__call__", stopped)
    args = ["--source", str(SAMPLES), "--out", str(tmp_path / "o"), "--state", str(tmp_path / "s.sqlite")]
    result = run_cli(*args, "--workers", "1")
    assert result.exit_code == 143, result.output
    assert "(stopped early)" in result.output
