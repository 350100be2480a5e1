"""`poems-fhir config check`: the checklist, offline and --online (recorded Medplum shapes)."""

from __future__ import annotations

import json

import responses
from click.testing import CliRunner

from poems_fhir.cli import main
from poems_fhir.fhir.capabilities import WRITE_TYPES
from poems_fhir.sync.check import SEARCHED, check_config
from tests.conftest import SAMPLES
from tests.fhir.transcripts import BASE, ORIGIN, exchange, fill

TOKEN_URL = f"{ORIGIN}/oauth2/token"


def metadata():
    return fill(exchange("01-metadata.json", 0)["response"]["body"])


def server_toml(tmp_path, secret_mode=0o600, extra=""):
    secret = tmp_path / "client-secret"
    secret.write_text("s3cret-value\n")
    secret.chmod(secret_mode)
    cfg = tmp_path / "sync.toml"
    cfg.write_text(
        f'server = "{BASE}"\nauth = "client-credentials"\nclient-id = "poems"\n'
        f'client-secret-file = "{secret}"\ntoken-url = "{TOKEN_URL}"\n'
        f'state = "{tmp_path / "state" / "s.sqlite"}"\n{extra}'
    )
    return cfg


def by_name(result):
    return {c.name: c for c in result.checks}


def test_offline_checklist_on_a_good_configuration(tmp_path):
    cfg = server_toml(tmp_path)
    result = check_config(cfg, {}, environ={})
    checks = by_name(result)
    assert checks["configuration"].status == "ok"
    assert checks["secret: client secret"].status == "ok" and "s3cret" not in checks["secret: client secret"].detail
    assert checks["mappings"].status == "ok" and checks["mappings: UNVERIFIED"].status == "warn"
    assert checks["state"].status == "warn"  # not created yet: must persist
    assert result.exit_code == 0


def test_offline_problems_exit_2(tmp_path):
    cfg = server_toml(tmp_path, secret_mode=0o644)
    assert by_name(check_config(cfg, {}, environ={}))["secret: client secret"].status == "warn"
    (tmp_path / "client-secret").write_text("")
    result = check_config(cfg, {}, environ={})
    assert by_name(result)["secret: client secret"].status == "fail" and result.exit_code == 2
    bad_map = tmp_path / "site.yaml"
    bad_map.write_text("name: x\nversion: 1\nobservations: 7\n")
    cfg = server_toml(tmp_path, extra=f'mappings = ["{bad_map}"]\n')
    result = check_config(cfg, {}, environ={})
    assert by_name(result)["mappings"].status == "fail" and result.exit_code == 2
    cfg.write_text('servr = "x"\n')
    result = check_config(cfg, {}, environ={})
    assert result.checks[0].status == "fail" and "did you mean 'server'" in result.checks[0].detail


def test_scopes_are_compared_with_what_the_job_needs(tmp_path):
    cfg = server_toml(tmp_path, extra='scope = "system/*.rs system/DiagnosticReport.cu"\n')
    scopes = by_name(check_config(cfg, {}, environ={}))["scopes"]
    assert scopes.status == "warn" and "CarePlan.write" in scopes.detail and "Observation.read" not in scopes.detail
    cfg = server_toml(tmp_path, extra='scope = "system/*.read system/*.write"\n')
    assert by_name(check_config(cfg, {}, environ={}))["scopes"].status == "ok"


def test_the_least_privilege_scopes_of_the_readme_are_enough_and_each_one_is_needed(tmp_path):
    # README "Permissions": the write-mode list (the sync --help example) covers a run - the criterion
    # Observations are contained in the report, never written alone (probe15 F1) - and dropping a read
    # the ownership reads need is reported (F2)
    from poems_fhir.sync.permissions import scope_string

    full = scope_string("write")
    assert "Observation.write" not in full
    cfg = server_toml(tmp_path, extra=f'scope = "{full}"\n')
    assert by_name(check_config(cfg, {}, environ={}))["scopes"].status == "ok"
    v2 = full.replace(".read", ".rs").replace(".write", ".cu")
    cfg = server_toml(tmp_path, extra=f'scope = "{v2}"\n')
    assert by_name(check_config(cfg, {}, environ={}))["scopes"].status == "ok"
    fewer = full.replace("system/CarePlan.read ", "").replace("system/Provenance.read ", "")
    cfg = server_toml(tmp_path, extra=f'scope = "{fewer}"\n')
    scopes = by_name(check_config(cfg, {}, environ={}))["scopes"]
    assert scopes.status == "warn" and "CarePlan.read, Provenance.read" in scopes.detail
    assert "Observation.write" not in scopes.detail


@responses.activate
def test_online_checks_capabilities_token_searches_and_writes(tmp_path):
    responses.add("GET", f"{BASE}/metadata", json=metadata())
    responses.add("POST", TOKEN_URL, json={"access_token": "tok", "expires_in": 3600, "token_type": "Bearer"})
    for rtype in SEARCHED:
        status = 403 if rtype == "Procedure" else 200
        responses.add(
            "GET",
            f"{BASE}/{rtype}",
            status=status,
            json={"resourceType": "Bundle", "type": "searchset", "total": 3}
            if status == 200
            else {
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "code": "forbidden", "details": {"text": "Forbidden"}}],
            },
        )
    result = check_config(server_toml(tmp_path), {}, online=True, environ={}, sleep=lambda s: None)
    checks = by_name(result)
    assert (
        checks["server"].status == "ok"
        and "FHIR 4.0.1" in checks["server"].detail
        and "medplum" in checks["server"].detail
    )
    assert checks["token"].status == "ok"
    assert checks["search Observation"].status == "ok" and "3 resources" in checks["search Observation"].detail
    assert checks["search Procedure"].status == "fail" and "403" in checks["search Procedure"].detail
    assert all(checks[f"write {t}"].status == "ok" for t in WRITE_TYPES)
    assert result.exit_code == 3
    searches = [c.request for c in responses.calls if c.request.method == "GET" and "metadata" not in c.request.url]
    assert all(c.headers["Authorization"] == "Bearer tok" for c in searches)
    assert not [c for c in responses.calls if c.request.method in ("PUT", "DELETE")]  # nothing written


@responses.activate
def test_online_token_refused_and_server_not_fhir(tmp_path):
    responses.add("GET", f"{BASE}/metadata", json=metadata())
    responses.add(
        "POST", TOKEN_URL, status=400, json={"error": "invalid_request", "error_description": "Invalid secret"}
    )
    result = check_config(server_toml(tmp_path), {}, online=True, environ={}, sleep=lambda s: None)
    assert by_name(result)["token"].status == "fail" and "Invalid secret" in by_name(result)["token"].detail
    assert result.exit_code == 3 and "search Patient" not in by_name(result)
    responses.replace("POST", TOKEN_URL, json={"access_token": "tok", "expires_in": 3600})
    responses.replace("GET", f"{BASE}/metadata", json={"resourceType": "Bundle"})
    result = check_config(server_toml(tmp_path), {}, online=True, environ={}, sleep=lambda s: None)
    assert by_name(result)["server"].status == "fail" and result.exit_code == 3
    assert "is not a FHIR base" in by_name(result)["server"].detail


@responses.activate
def test_online_metadata_behind_authentication(tmp_path):
    def metadata_cb(request):
        if request.headers.get("Authorization") != "Bearer tok":
            return (
                401,
                {},
                json.dumps(
                    {
                        "resourceType": "OperationOutcome",
                        "issue": [{"severity": "error", "code": "login", "details": {"text": "Unauthorized"}}],
                    }
                ),
            )
        return 200, {}, json.dumps(metadata())

    responses.add_callback("GET", f"{BASE}/metadata", callback=metadata_cb)
    responses.add("POST", TOKEN_URL, json={"access_token": "tok", "expires_in": 3600})
    for rtype in SEARCHED:
        responses.add("GET", f"{BASE}/{rtype}", json={"resourceType": "Bundle", "type": "searchset", "total": 0})
    result = check_config(server_toml(tmp_path), {}, online=True, environ={}, sleep=lambda s: None)
    assert by_name(result)["server"].status == "ok" and result.exit_code == 0


@responses.activate
def test_online_write_interactions_missing(tmp_path):
    statement = metadata()
    rest = statement["rest"][0]
    rest["resource"] = [r for r in rest["resource"] if r["type"] != "Provenance"]
    for r in rest["resource"]:
        if r["type"] == "CarePlan":
            r["interaction"] = [{"code": "read"}, {"code": "search-type"}]
    responses.add("GET", f"{BASE}/metadata", json=statement)
    responses.add("POST", TOKEN_URL, json={"access_token": "tok", "expires_in": 3600})
    for rtype in SEARCHED:
        responses.add("GET", f"{BASE}/{rtype}", json={"resourceType": "Bundle", "type": "searchset"})
    checks = by_name(check_config(server_toml(tmp_path), {}, online=True, environ={}, sleep=lambda s: None))
    assert checks["write CarePlan"].status == "fail" and checks["write Provenance"].status == "fail"
    assert checks["write DiagnosticReport"].status == "ok"


def test_cli_text_and_json(tmp_path):
    cfg = tmp_path / "sync.toml"
    cfg.write_text(f'source = ["{SAMPLES}"]\nout = "{tmp_path / "out"}"\nstate = "{tmp_path / "s.sqlite"}"\n')
    result = CliRunner().invoke(main, ["config", "check", "--config", str(cfg)])
    assert result.exit_code == 0 and "[ok]   configuration" in result.output and "ready (exit 0)" in result.output
    result = CliRunner().invoke(main, ["config", "check", "--config", str(cfg), "--online", "--format", "json"])
    doc = json.loads(result.output)
    assert doc["ok"] and doc["exit_code"] == 0
    assert {
        "name": "server",
        "status": "skip",
        "detail": "--source mode: there is no server to check",
        "online": True,
    } in doc["checks"]
    cfg.write_text('server = "https://x/R4"\ntoken = "abc"\n')
    result = CliRunner().invoke(main, ["config", "check", "--config", str(cfg)])
    assert result.exit_code == 2 and "secrets only from files or env" in result.output and "abc" not in result.output
