"""`poems-fhir serve` settings and command line: trust, config keys, refusals before start."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from poems_fhir.cli import main
from poems_fhir.errors import ConfigError
from poems_fhir.serve.settings import load_serve_settings, parse_trust


def test_trust_is_issuer_equals_jwks_and_a_jwks_url_may_have_a_query():
    t = parse_trust("https://ehr.example.org=https://ehr.example.org/jwks?tenant=a")
    assert (t.issuer, t.jwks, t.is_url) == ("https://ehr.example.org", "https://ehr.example.org/jwks?tenant=a", True)
    with pytest.raises(ConfigError, match="ISSUER=JWKS"):
        parse_trust("https://ehr.example.org")


def test_config_file_keys_are_the_flags_and_flags_win(tmp_path: Path):
    jwks = tmp_path / "jwks.json"
    jwks.write_text('{"keys": []}', encoding="utf-8")
    config = tmp_path / "serve.toml"
    config.write_text(
        f'port = 9000\nlanguage = "ru"\ntrust = ["https://ehr.example.org={jwks}"]\n'
        'public-url = "https://cds.example.org/"\n',
        encoding="utf-8",
    )
    settings = load_serve_settings(config, {"language": "kk", "host": None, "trust": ()})
    assert (settings.port, settings.language, settings.base_url()) == (9000, "kk", "https://cds.example.org")
    assert [t.issuer for t in settings.trusted()] == ["https://ehr.example.org"]


def test_refusals_before_start(tmp_path: Path):
    with pytest.raises(ConfigError, match="--trust"):
        load_serve_settings(None, {})
    with pytest.raises(ConfigError, match="no such JWKS file"):
        load_serve_settings(None, {"trust": ("https://ehr.example.org=/nonexistent/jwks.json",)})
    with pytest.raises(ConfigError, match="https"):
        load_serve_settings(None, {"trust": ("https://ehr.example.org=http://ehr.example.org/jwks",)})
    config = tmp_path / "serve.toml"
    config.write_text("langauge = 'ru'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="did you mean 'language'"):
        load_serve_settings(config, {})


def test_cli_serve_without_trust_exits_2_with_the_reason():
    result = CliRunner().invoke(main, ["serve", "--port", "8099"])
    assert result.exit_code == 2
    assert "--trust" in result.output


def test_an_unusable_jwks_file_is_a_configuration_error_at_start(tmp_path: Path, mapping):
    from poems_fhir.serve.app import create_app

    for content in ('{"keys": []}', "not json", '{"keys": [{"kty": "EC"}]}'):
        jwks = tmp_path / "jwks.json"
        jwks.write_text(content, encoding="utf-8")
        settings = load_serve_settings(
            None, {"trust": (f"https://ehr.example.org={jwks}",), "state": tmp_path / "s.sqlite"}
        )
        with pytest.raises(ConfigError, match="not a usable JWK Set"):
            create_app(settings, mapping=mapping)


def test_environment_between_file_and_flags(tmp_path: Path):
    jwks = tmp_path / "jwks.json"
    jwks.write_text('{"keys": []}', encoding="utf-8")
    config = tmp_path / "serve.toml"
    config.write_text('port = 9000\nlanguage = "ru"\n', encoding="utf-8")
    environ = {
        "POEMS_FHIR_SERVE_TRUST": f"https://a.example.org={jwks}, https://b.example.org={jwks}",
        "POEMS_FHIR_SERVE_LANGUAGE": "kk",
        "POEMS_FHIR_SERVE_PORT": "9100",
        "POEMS_FHIR_STATE": "/elsewhere/sync-state.sqlite",
    }  # the sync job's variable: not ours
    settings = load_serve_settings(config, {"port": 9200}, environ=environ)
    assert (settings.port, settings.language) == (9200, "kk")
    assert [t.issuer for t in settings.trusted()] == ["https://a.example.org", "https://b.example.org"]
    assert str(settings.state) == ".poems-fhir/serve.sqlite"


def test_fhir_servers_come_from_the_file_or_environment_and_must_be_urls(tmp_path: Path):
    jwks = tmp_path / "jwks.json"
    jwks.write_text('{"keys": []}', encoding="utf-8")
    trust = {"trust": (f"https://ehr.example.org={jwks}",)}
    config = tmp_path / "serve.toml"
    config.write_text('fhir-servers = ["https://EHR.example.org:443/fhir/R4/"]\n', encoding="utf-8")
    assert load_serve_settings(config, trust, environ={}).fhir_servers == ["https://ehr.example.org/fhir/R4"]
    environ = {"POEMS_FHIR_SERVE_FHIR_SERVERS": "https://a.example/fhir, https://b.example:8443/fhir"}
    assert load_serve_settings(config, trust, environ=environ).fhir_servers == [
        "https://a.example/fhir",
        "https://b.example:8443/fhir",
    ]
    config.write_text('fhir-servers = ["ehr.example.org/fhir"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="fhir_servers"):
        load_serve_settings(config, trust, environ={})


def test_a_port_in_use_is_a_configuration_error_that_says_what_to_do(tmp_path: Path):
    # probe44: exit 3 (documented as a network error of the sync job) after uvicorn's own log line
    import socket

    from tests.serve.helpers import Ehr

    jwks = Ehr().write_jwks(tmp_path / "jwks.json")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            main,
            [
                "serve",
                "--port",
                str(port),
                "--trust",
                f"https://ehr.example.org={jwks}",
                "--state",
                str(tmp_path / "s"),
            ],
        )
    assert result.exit_code == 2, result.output
    assert f"cannot listen on 127.0.0.1:{port}" in result.output and "choose another --port" in result.output
