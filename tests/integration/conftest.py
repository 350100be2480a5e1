"""A real FHIR server over real HTTP for the integration tests.

POEMS_FHIR_TEST_SERVER (+ optional POEMS_FHIR_TEST_TOKEN) points the tests at any FHIR R4 server
(HAPI FHIR, Medplum, ...). Without it, the minimal loopback server in tests/fhir_server/ (Medplum's
FHIR engine in memory) is started on a free port when Node.js and its npm packages are installed
(`make test` installs them) and stopped afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import missing_prerequisite

SERVER_DIR = Path(__file__).resolve().parents[1] / "fhir_server"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"test FHIR server exited: {proc.stdout.read().decode() if proc.stdout else ''}")
        try:
            if requests.get(f"{url}/metadata", timeout=2).ok:
                return
        except requests.ConnectionError:
            time.sleep(0.2)  # polling a real process we started: not a test sleep
    raise RuntimeError("test FHIR server did not start within 60 s")


@pytest.fixture(scope="session")
def fhir_server() -> Iterator[dict[str, str]]:
    url = os.environ.get("POEMS_FHIR_TEST_SERVER")
    if url:
        yield {"url": url.rstrip("/"), "token": os.environ.get("POEMS_FHIR_TEST_TOKEN", ""), "resettable": ""}
        return
    node = shutil.which("node")
    if not node or not (SERVER_DIR / "node_modules" / "@medplum" / "fhir-router").exists():
        missing_prerequisite(
            "no FHIR server: set POEMS_FHIR_TEST_SERVER, or install Node.js and run "
            "`npm ci --prefix tests/fhir_server` (make test does)"
        )
    port = _free_port()
    major = int(
        subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip().lstrip("v").split(".")[0]
    )
    args = [node] + (["--experimental-websocket"] if major < 22 else []) + ["server.mjs"]
    proc = subprocess.Popen(
        args, cwd=SERVER_DIR, env={**os.environ, "PORT": str(port)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}/fhir/R4"
    try:
        _wait(url, proc)
        yield {"url": url, "token": "", "resettable": "yes"}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def headers(server: dict[str, str]) -> dict[str, str]:
    h = {"Content-Type": "application/fhir+json"}
    if server["token"]:
        h["Authorization"] = f"Bearer {server['token']}"
    return h


def load_bundles(server: dict[str, str], paths: list[Path]) -> None:
    """PUT sample resources with their ids, as a transaction per file."""
    for path in paths:
        files = sorted(path.rglob("*.json")) if path.is_dir() else [path]
        for f in files:
            doc = json.loads(f.read_text(encoding="utf-8"))
            if doc.get("resourceType") != "Bundle":
                continue
            entries = [
                {
                    "resource": e["resource"],
                    "request": {"method": "PUT", "url": f"{e['resource']['resourceType']}/{e['resource']['id']}"},
                }
                for e in doc["entry"]
            ]
            r = requests.post(
                server["url"],
                json={"resourceType": "Bundle", "type": "batch", "entry": entries},
                headers=headers(server),
                timeout=60,
            )
            r.raise_for_status()


@pytest.fixture
def server(fhir_server: dict[str, str]) -> dict[str, str]:
    """The test server reset and loaded with the sample patients (origin case, classic case, mimics)."""
    from tests.conftest import SAMPLES

    if fhir_server["resettable"]:
        requests.post(f"{fhir_server['url']}/$reset", timeout=10).raise_for_status()
    load_bundles(fhir_server, [SAMPLES / "origin-case", SAMPLES / "classic-poems.json", SAMPLES / "mimics"])
    return fhir_server
