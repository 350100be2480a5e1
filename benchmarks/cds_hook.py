# SPDX-License-Identifier: Apache-2.0
"""Load on `poems-fhir serve`: patient-view requests with full prefetch over real HTTP, from several
client threads at once; prints p50 / p95 / p99 latency and throughput. The service runs as its own
process (`poems-fhir serve`, uvicorn, on loopback), so the load generator does not share its GIL.

The record is the origin case with all its restagings (a typical POEMS record: ~100 resources); every
request carries a fresh signed JWT (ES384), so signature checking is part of the figure.

    python benchmarks/cds_hook.py [--requests 400] [--clients 4]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from poems_fhir.mapping.rules import load_mapping  # noqa: E402
from tests.serve.helpers import ISSUER, Ehr, bundle_resources, hook_request, patient_id, run_templates  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--clients", type=int, default=4, help="client threads sending at once")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="poems-cds-bench-"))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    ehr = Ehr()
    jwks = ehr.write_jwks(tmp / "jwks.json")
    cli = Path(sys.executable).with_name("poems-fhir")
    service = subprocess.Popen(
        [
            str(cli),
            "serve",
            "--port",
            str(port),
            "--public-url",
            base,
            "--trust",
            f"{ISSUER}={jwks}",
            "--state",
            str(tmp / "serve.sqlite"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(f"{base}/healthz", service)
        run(args, ehr, base)
    finally:
        service.terminate()
        service.wait(timeout=10)


def _wait(url: str, service: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if service.poll() is not None:
            raise SystemExit("poems-fhir serve exited; run it by hand to see why")
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise SystemExit("poems-fhir serve did not answer within 60 s")


def run(args: argparse.Namespace, ehr: Ehr, base: str) -> None:
    mapping = load_mapping()
    paths = sorted((ROOT / "sample_bundles" / "origin-case").glob("*.json"))
    pid = patient_id(*paths)
    resources = bundle_resources(*paths)
    body = hook_request(pid, run_templates(resources, mapping, pid))
    url = f"{base}/cds-services/poems-patient-view"
    session = threading.local()

    def one(_: int) -> float:
        if not hasattr(session, "s"):
            session.s = requests.Session()
        headers = {"Authorization": f"Bearer {ehr.token(aud=url, now=int(time.time()))}"}
        start = time.perf_counter()
        response = session.s.post(url, json=body, headers=headers, timeout=30)
        elapsed = time.perf_counter() - start
        if response.status_code != 200 or not response.json()["cards"]:
            raise SystemExit(f"unexpected answer: HTTP {response.status_code} {response.text[:200]}")
        return elapsed

    for i in range(20):  # warm-up: imports, caches
        one(i)
    started = time.perf_counter()
    with ThreadPoolExecutor(args.clients) as pool:
        times = sorted(pool.map(one, range(args.requests)))
    wall = time.perf_counter() - started

    def pct(p: float) -> float:
        return times[min(len(times) - 1, int(round(p / 100 * len(times))) - 1)] * 1000

    print(
        f"patient-view with full prefetch ({len(resources)} resources, {len(body['prefetch'])} keys), "
        f"{args.requests} requests, {args.clients} clients"
    )
    print(
        f"  p50 {pct(50):.1f} ms   p95 {pct(95):.1f} ms   p99 {pct(99):.1f} ms   "
        f"mean {statistics.mean(times) * 1000:.1f} ms   {args.requests / wall:.0f} requests/s"
    )


if __name__ == "__main__":
    main()
