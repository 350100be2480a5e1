"""The shipped deployment files: systemd units verified by systemd-analyze, Kubernetes manifests
validated against the Kubernetes JSON schemas (kubernetes-validate, offline), their sync.toml
accepted by our own configuration loader, and the Dockerfile's promises (pinned, non-root)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from poems_fhir.sync.config import load_settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
K8S_VERSION = "1.30.0"  # oldest Kubernetes release the manifests are checked against (strict: no unknown keys)
POEMS_FHIR = Path(sys.executable).with_name("poems-fhir")


def _units(tmp_path: Path) -> list[Path]:
    """The units as shipped, with ExecStart pointing at this checkout's poems-fhir (verify checks it exists)."""
    out = []
    for name in ("poems-fhir.service", "poems-fhir.timer"):
        text = (DEPLOY / "systemd" / name).read_text()
        (tmp_path / name).write_text(text.replace("/opt/poems-fhir/venv/bin/poems-fhir", str(POEMS_FHIR)))
        out.append(tmp_path / name)
    return out


@pytest.mark.skipif(
    SYSTEMD_ANALYZE is None, reason="systemd-analyze not installed (Debian package systemd): the units are not verified"
)
def test_systemd_units_verify_cleanly(tmp_path):
    units = _units(tmp_path)
    result = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--man=no", *map(str, units)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr
    # and a typo would be caught
    bad = tmp_path / "bad"
    bad.mkdir()
    typo = _units(bad)[0]
    typo.write_text(typo.read_text().replace("ProtectSystem=strict", "ProtectSystm=strict"))
    result = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--man=no", str(typo)], capture_output=True, text=True, timeout=120
    )
    assert "Unknown key" in result.stderr


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze not installed (Debian package systemd)")
def test_systemd_service_is_hardened(tmp_path):
    service = _units(tmp_path)[0]
    result = subprocess.run(
        [SYSTEMD_ANALYZE, "security", "--offline=true", "--threshold=20", "--no-pager", str(service)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    exposure = re.search(r"Overall exposure level for \S+: ([\d.]+)", result.stdout + result.stderr)
    assert exposure and float(exposure.group(1)) <= 2.0 and result.returncode == 0, result.stdout[-2000:]


def test_systemd_service_keeps_state_and_secrets_where_the_readme_says():
    text = (DEPLOY / "systemd" / "poems-fhir.service").read_text()
    assert "StateDirectory=poems-fhir" in text and "POEMS_FHIR_STATE=%S/poems-fhir/state.sqlite" in text
    assert re.search(r"^LoadCredential=client-secret:/etc/poems-fhir/credentials/client-secret$", text, re.M)
    assert "POEMS_FHIR_CLIENT_SECRET_FILE=%d/client-secret" in text
    timer = (DEPLOY / "systemd" / "poems-fhir.timer").read_text()
    assert "Unit=poems-fhir.service" in timer and "WantedBy=timers.target" in timer


def _manifests() -> list[tuple[str, dict]]:
    return [
        (f.name, doc)
        for f in sorted((DEPLOY / "kubernetes").glob("*.yaml"))
        for doc in yaml.safe_load_all(f.read_text())
        if doc
    ]


@pytest.mark.parametrize("name, doc", _manifests(), ids=lambda v: v if isinstance(v, str) else "")
def test_kubernetes_manifests_match_the_schemas(name, doc):
    import kubernetes_validate

    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_schema_validation_catches_mistakes():
    import kubernetes_validate

    cronjob = next(doc for _, doc in _manifests() if doc["kind"] == "CronJob")
    container = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    container["volumeMount"] = container.pop("volumeMounts")  # a typo
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(cronjob, K8S_VERSION, strict=True)


def test_kubernetes_cronjob_forbids_overlap_and_persists_state(tmp_path):
    docs = {doc["kind"]: doc for _, doc in _manifests()}
    cron, pvc = docs["CronJob"], docs["PersistentVolumeClaim"]
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["name"]: m for m in pod["containers"][0]["volumeMounts"]}
    assert volumes["state"]["persistentVolumeClaim"]["claimName"] == pvc["metadata"]["name"]
    assert volumes["credentials"]["secret"]["defaultMode"] == 0o400 and mounts["credentials"]["readOnly"]
    assert pod["securityContext"]["runAsNonRoot"] and pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"]
    settings = load_settings(_configmap_toml(tmp_path), {}, environ={})
    assert str(settings.state).startswith(mounts["state"]["mountPath"] + "/")
    assert str(settings.client_secret_file).startswith(mounts["credentials"]["mountPath"] + "/")
    assert str(settings.metrics_file).startswith(mounts["state"]["mountPath"] + "/")


def _configmap_toml(folder: Path) -> Path:
    docs = {doc["kind"]: doc for _, doc in _manifests()}
    path = folder / "sync.toml"
    path.write_text(docs["ConfigMap"]["data"]["sync.toml"])
    return path


def test_shipped_sync_toml_files_are_valid_configurations(tmp_path):
    for cfg in (DEPLOY / "systemd" / "sync.toml", _configmap_toml(tmp_path)):
        s = load_settings(cfg, {}, environ={"POEMS_FHIR_CLIENT_SECRET_FILE": "/run/credentials/x/client-secret"})
        s.check()
        assert s.server and s.auth == "client-credentials"


def test_dockerfile_is_pinned_slim_and_non_root():
    text = (DEPLOY / "Dockerfile").read_text()
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M)
    assert base and re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", base.group(1))
    assert all(line.split()[1] == "${PYTHON_IMAGE}" for line in re.findall(r"^FROM .*$", text, re.M))
    user = re.findall(r"^USER (\S+)$", text, re.M)
    assert user and user[-1].split(":")[0] not in ("0", "root")
    assert 'VOLUME ["/var/lib/poems-fhir"]' in text
    copied = re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.M)
    assert all((ROOT / src).exists() for line in copied for src in line.split())
    assert not any("secret" in line.lower() or "token" in line.lower() for line in copied)
