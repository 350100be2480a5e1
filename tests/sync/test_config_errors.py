"""Configuration errors name the file, the line and the fix (issue #13 item 4, #9 item 6)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from poems_fhir.cli import main
from poems_fhir.errors import ConfigError
from poems_fhir.sync.config import MAX_EVERY, MIN_EVERY, load_settings, parse_duration


def _toml(tmp_path, text: str, encoding: str = "utf-8"):
    cfg = tmp_path / "sync.toml"
    cfg.write_bytes(text.encode(encoding))
    return cfg


def test_unknown_key_names_file_line_and_suggests_the_key(tmp_path):
    cfg = _toml(tmp_path, '# comment\nserver = "https://x/R4"\nclient_idd = "c"\n')
    with pytest.raises(ConfigError) as exc:
        load_settings(cfg, {}, environ={})
    assert f"{cfg} line 3" in str(exc.value) and "did you mean 'client-id'?" in str(exc.value)
    cfg = _toml(tmp_path, "zzzz = 1\n")
    with pytest.raises(ConfigError) as exc:
        load_settings(cfg, {}, environ={})
    assert "unknown key 'zzzz'" in str(exc.value) and "did you mean" not in str(exc.value)


def test_wrong_type_names_file_line_and_key(tmp_path):
    cfg = _toml(tmp_path, 'server = "https://x/R4"\n\nphi = true\nevery = 15\n')
    with pytest.raises(ConfigError) as exc:
        load_settings(cfg, {}, environ={})
    assert f"{cfg} line 4" in str(exc.value) and "'every'" in str(exc.value) and "string" in str(exc.value)
    cfg = _toml(tmp_path, 'metrics-port = "abc"\n')
    with pytest.raises(ConfigError, match=r"line 1: key 'metrics-port'.*integer"):
        load_settings(cfg, {}, environ={})


def test_a_switch_is_true_false_yes_no_on_off_or_1_0_and_anything_else_is_an_error(tmp_path):
    # probe15 F3: phi = "yes please" was read as false and the run went on without --phi
    cfg = _toml(tmp_path, 'server = "https://x/R4"\nphi = "yes please"\n')
    with pytest.raises(ConfigError, match=r"line 2: key 'phi'.*boolean.*'yes please'"):
        load_settings(cfg, {}, environ={})
    for text, expected in (("yes", True), ("on", True), ("1", True), ("no", False), ("off", False), ("0", False)):
        assert load_settings(_toml(tmp_path, f'phi = "{text}"\n'), {}, environ={}).phi is expected
        assert load_settings(None, {}, environ={"POEMS_FHIR_PHI": text}).phi is expected
    with pytest.raises(ConfigError, match="environment variable POEMS_FHIR_PHI"):
        load_settings(None, {}, environ={"POEMS_FHIR_PHI": "maybe"})


def test_environment_and_flag_errors_name_their_origin(tmp_path):
    with pytest.raises(ConfigError, match="environment variable POEMS_FHIR_METRICS_PORT"):
        load_settings(None, {}, environ={"POEMS_FHIR_METRICS_PORT": "x"})
    with pytest.raises(ConfigError, match="flag --every"):
        load_settings(None, {"every": "0s"}, environ={})


@pytest.mark.parametrize(
    "key, advice",
    [
        ("token", "token-file"),
        ("client-secret", "client-secret-file"),
        ("client_secret", "client-secret-file"),
        ("password", "client-secret-file"),
    ],
)
def test_secrets_in_the_file_are_refused_with_advice(tmp_path, key, advice):
    cfg = _toml(tmp_path, f'server = "https://x/R4"\n{key} = "s3cret-value"\n')
    with pytest.raises(ConfigError) as exc:
        load_settings(cfg, {}, environ={})
    text = str(exc.value)
    assert "secrets only from files or env" in text and advice in text and "line 2" in text
    assert "s3cret-value" not in text


def test_key_material_in_a_path_key_is_refused(tmp_path):
    cfg = _toml(tmp_path, 'private-key = """-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----"""\n')
    with pytest.raises(ConfigError, match="secrets only from files or env") as exc:
        load_settings(cfg, {}, environ={})
    assert "MIIE" not in str(exc.value)


def test_latin1_toml_and_patient_file_name_the_line(tmp_path):
    cfg = _toml(tmp_path, 'server = "https://x/R4"\nclient-id = "Krankenh\u00e4user"\n', encoding="latin-1")
    with pytest.raises(ConfigError, match=r"sync.toml: line 2: not UTF-8 .*iconv"):
        load_settings(cfg, {}, environ={})
    bom = _toml(tmp_path, '\ufeffserver = "https://x/R4"\n')
    assert load_settings(bom, {}, environ={}).server == "https://x/R4"
    ids = tmp_path / "ids.txt"
    ids.write_bytes("a\nb\nM\u00fcller\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"patient list .*ids.txt: line 3: not UTF-8"):
        load_settings(None, {"patient": ("@" + str(ids),)}, environ={})
    with pytest.raises(ConfigError, match="cannot read patient list"):
        load_settings(None, {"patient": ("@" + str(tmp_path),)}, environ={})


def test_patient_as_a_string_is_not_split_into_letters(tmp_path):
    cfg = _toml(tmp_path, 'source = ["x"]\npatient = "abc"\n')
    with pytest.raises(ConfigError) as exc:
        load_settings(cfg, {}, environ={})
    assert f"{cfg} line 2" in str(exc.value) and 'patient = ["abc"]' in str(exc.value)
    result = CliRunner().invoke(main, ["sync", "--config", str(cfg), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "must be a list" in result.output


@pytest.mark.parametrize("every", ["0s", "9s", "999999999d", "8d", "99999999999999s"])
def test_every_out_of_bounds_exits_2(tmp_path, every):
    result = CliRunner().invoke(
        main, ["sync", "--source", str(tmp_path), "--out", str(tmp_path / "o"), "--every", every]
    )
    assert result.exit_code == 2, result.output
    assert "--every" in result.output and "Traceback" not in result.output


def test_every_bounds_are_inclusive():
    assert load_settings(None, {"every": "10s"}, environ={}).interval() == MIN_EVERY
    assert load_settings(None, {"every": "7d"}, environ={}).interval() == MAX_EVERY
    assert parse_duration("168h") == MAX_EVERY


def test_unreadable_config_is_exit_2(tmp_path):
    result = CliRunner().invoke(main, ["sync", "--config", str(tmp_path)])
    assert result.exit_code == 2 and "cannot read --config" in result.output


def test_the_toml_example_in_sync_help_is_a_valid_configuration(tmp_path):
    from poems_fhir.cli import SYNC_HELP

    lines = [line.strip() for line in SYNC_HELP.split("A complete sync.toml", 1)[1].split("\n")]
    start = next(i for i, line in enumerate(lines) if line.startswith("server = "))
    example = "\n".join(lines[start : lines.index("", start)])
    cfg = _toml(tmp_path, example)
    s = load_settings(cfg, {}, environ={})
    s.check()
    assert s.auth == "smart-backend" and s.metrics_port == 9464 and s.interval() == 900


@pytest.mark.parametrize(
    "patient",
    ["p1/../../Group/x", "p1?_format=xml", "p1,p2", "Patient/", "", "a" * 65, "Patient/p 1", "пациент"]
    # dot segments: "Patient/.." is the server's base (probe25)
    + ["..", ".", "Patient/..", "Patient/."],
)
def test_a_patient_that_is_not_a_fhir_id_is_a_usage_error(tmp_path, patient):
    # the id goes into request paths and search values: "/", "?" and "," would ask for something else
    with pytest.raises(ConfigError, match="not a patient id: give ID or Patient/ID"):
        load_settings(None, {"server": "https://x/R4", "patient": (patient,)}, environ={})
    result = CliRunner().invoke(main, ["sync", "--server", "https://x/R4", "--patient", patient, "--dry-run", "o"])
    assert result.exit_code == 2 and "flag --patient" in result.output, result.output


def test_patient_ids_at_the_edge_of_the_fhir_id_syntax_pass(tmp_path):
    ids = ["a" * 64, "Patient/A-1.b", "0", "f9d10bc1-a2f9-4a8b-b830-c382e5928284", "...", ".a", "a.."]
    (tmp_path / "ids.txt").write_text("\n".join(ids) + "\n")
    settings = load_settings(None, {"server": "https://x/R4", "patient": (f"@{tmp_path / 'ids.txt'}",)}, environ={})
    assert settings.patient == ids
    with pytest.raises(ConfigError, match="not a patient id"):  # a bad line of a list file is caught alike
        (tmp_path / "ids.txt").write_text("p1\np1?x=1\n")
        load_settings(None, {"server": "https://x/R4", "patient": (f"@{tmp_path / 'ids.txt'}",)}, environ={})


@pytest.mark.parametrize("group", ["g/../x", "g?x", "a" * 65, "", "..", "."])
def test_a_group_that_is_not_a_fhir_id_is_a_usage_error(group):
    with pytest.raises(ConfigError, match="not a Group id"):
        load_settings(None, {"server": "https://x/R4", "group": group}, environ={})
    assert load_settings(None, {"server": "https://x/R4", "group": "g-1.2"}, environ={}).group == "g-1.2"
