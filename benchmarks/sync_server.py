# SPDX-License-Identifier: Apache-2.0
"""Requests per patient and patients/s of `poems-fhir sync` against the loopback test server.

Starts tests/fhir_server (Medplum's FHIR engine in memory; `npm ci --prefix tests/fhir_server`
first), loads N synthetic POEMS-work-up patients, then times a first full sync (discovery, reads,
evaluation, one transaction per patient) and an unchanged rerun (reads and hashing, no writes).

    python benchmarks/sync_server.py --patients 100
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from poems_fhir.sync.config import SyncSettings  # noqa: E402
from poems_fhir.sync.runner import StopFlag, make_job  # noqa: E402
from poems_fhir.sync.state import StateStore  # noqa: E402

LOINC, SCT = "http://loinc.org", "http://snomed.info/sct"


def patient_bundle(i: int, rnd: random.Random) -> dict:
    pid = f"bench-{i}"

    def obs(n: str, code: str, **value):
        return {
            "resourceType": "Observation",
            "id": f"{pid}-{n}",
            "status": "final",
            "code": {"coding": [{"system": LOINC, "code": code}]},
            "subject": {"reference": f"Patient/{pid}"},
            "effectiveDateTime": "2025-03-01",
            **value,
        }

    resources = [
        {"resourceType": "Patient", "id": pid, "gender": rnd.choice(["male", "female"]), "birthDate": "1965-01-01"},
        {
            "resourceType": "Condition",
            "id": f"{pid}-pnp",
            "subject": {"reference": f"Patient/{pid}"},
            "code": {"coding": [{"system": SCT, "code": "42345000"}]},
            "recordedDate": "2025-02-01",
        },
        obs("ife", "25700-6", valueString=rnd.choice(["IgA lambda", "IgG kappa", "negative"])),
        obs(
            "vegf",
            "75628-8",
            valueQuantity={
                "value": rnd.randint(50, 900),
                "unit": "pg/mL",
                "system": "http://unitsofmeasure.org",
                "code": "pg/mL",
            },
        ),
        obs(
            "plt",
            "777-3",
            valueQuantity={
                "value": rnd.randint(150, 600),
                "unit": "10*9/L",
                "system": "http://unitsofmeasure.org",
                "code": "10*9/L",
            },
        ),
    ] + [obs(f"v{k}", "8867-4", valueQuantity={"value": 70, "unit": "/min"}) for k in range(10)]
    return {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}} for r in resources
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=100)
    args = parser.parse_args()
    server_dir = ROOT / "tests" / "fhir_server"
    if not shutil.which("node") or not (server_dir / "node_modules").exists():
        sys.exit("needs Node.js and `npm ci --prefix tests/fhir_server`")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        ["node", "--experimental-websocket", "server.mjs"],
        cwd=server_dir,
        env={**os.environ, "PORT": str(port)},
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/fhir/R4"
    try:
        for _ in range(300):
            try:
                if requests.get(f"{base}/metadata", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        rnd = random.Random(11)
        for i in range(args.patients):
            requests.post(base, json=patient_bundle(i, rnd), timeout=30).raise_for_status()
        with tempfile.TemporaryDirectory() as tmp:
            settings = SyncSettings(server=base, state=Path(tmp) / "state.sqlite")
            for label in ("first full sync", "unchanged rerun"):
                store = StateStore(settings.state)
                with store.locked():
                    job, _, _ = make_job(
                        settings, store, StopFlag(), lambda it: it, now=lambda: dt.datetime.now(dt.timezone.utc)
                    )
                    t = time.perf_counter()
                    summary = job.run()
                    elapsed = time.perf_counter() - t
                store.close()
                print(
                    f"{label:<16} patients={summary.patients_scanned} written={summary.written} "
                    f"unchanged={summary.unchanged} requests={summary.requests} "
                    f"requests/patient={summary.requests / max(1, summary.patients_scanned):.2f} "
                    f"patients/s={summary.patients_scanned / elapsed:.1f}"
                )
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
