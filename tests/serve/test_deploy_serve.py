"""deploy/ for `poems-fhir serve`: the systemd unit verifies and is hardened, the Kubernetes
Deployment matches the schemas, and both shipped serve.toml files load with the service's loader."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from poems_fhir.serve.settings import load_serve_settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
POEMS_FHIR = Path(sys.executable).with_name("poems-fhir")
UNIT = DEPLOY / "systemd" / "poems-fhir-serve.service"
MANIFEST = DEPLOY / "kubernetes" / "cds-serve.yaml"


def _docs() -> dict[str, dict]:
    return {doc["kind"]: doc for doc in yaml.safe_load_all(MANIFEST.read_text()) if doc}


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze not installed (Debian package systemd)")
def test_systemd_unit_verifies_and_is_hardened(tmp_path):
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text().replace("/opt/poems-fhir/venv/bin/poems-fhir", str(POEMS_FHIR)))
    result = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--man=no", str(unit)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr
    result = subprocess.run(
        [SYSTEMD_ANALYZE, "security", "--offline=true", "--threshold=20", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    exposure = re.search(r"Overall exposure level for \S+: ([\d.]+)", result.stdout + result.stderr)
    assert exposure and float(exposure.group(1)) <= 2.0, result.stdout[-2000:]


@pytest.mark.parametrize("kind", ["ConfigMap", "PersistentVolumeClaim", "Deployment", "Service"])
def test_kubernetes_manifests_match_the_schemas(kind):
    import kubernetes_validate

    kubernetes_validate.validate(_docs()[kind], "1.30.0", strict=True)


def test_deployment_mounts_what_serve_toml_names_and_probes_healthz(tmp_path):
    docs = _docs()
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert {v["name"]: v for v in pod["volumes"]}["state"]["persistentVolumeClaim"]["claimName"] == docs[
        "PersistentVolumeClaim"
    ]["metadata"]["name"]
    config = tmp_path / "serve.toml"
    config.write_text(docs["ConfigMap"]["data"]["serve.toml"])
    settings = load_serve_settings(config, {})
    assert str(settings.state).startswith(mounts["state"] + "/")
    assert container["ports"][0]["containerPort"] == settings.port
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert pod["securityContext"]["runAsNonRoot"] and container["securityContext"]["readOnlyRootFilesystem"]


def test_systemd_serve_toml_loads():
    settings = load_serve_settings(DEPLOY / "systemd" / "serve.toml", {})
    assert settings.public_url == "https://cds.example.org" and settings.trusted()[0].is_url
