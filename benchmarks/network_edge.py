# SPDX-License-Identifier: Apache-2.0
"""Cost of the network edge: plain requests vs FhirClient (prepared-URL origin check, streamed body
read under a deadline, JSON parse) on the same loopback server, for a small and a large body.

    python benchmarks/network_edge.py [--rounds 200]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from poems_fhir.fhir.client import FhirClient  # noqa: E402
from tests.fhir.loopback import Loopback, respond  # noqa: E402


def body(entries: int) -> bytes:
    return json.dumps(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [
                {
                    "resource": {
                        "resourceType": "Observation",
                        "id": str(i),
                        "status": "final",
                        "code": {"coding": [{"system": "http://loinc.org", "code": "777-3"}]},
                        "valueQuantity": {"value": i, "unit": "10*9/L"},
                    }
                }
                for i in range(entries)
            ],
        }
    ).encode()


def measure(rounds: int, raw: bytes) -> tuple[float, float]:
    """Interleaved (plain, ours, plain, ours, ...) so that server and machine noise hit both alike."""
    plain = ours = 0.0
    with Loopback([respond(200, raw) for _ in range(2 * rounds)], lifetime=600) as server:
        base = f"{server.origin}/fhir/R4"
        session = requests.Session()
        client = FhirClient(base)
        for _ in range(rounds):
            start = time.perf_counter()
            session.get(f"{base}/Observation", timeout=(10, 120)).json()
            plain += time.perf_counter() - start
            start = time.perf_counter()
            client.get("Observation")
            ours += time.perf_counter() - start
    return plain / rounds, ours / rounds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    for entries in (2, 200, 5000):
        raw = body(entries)
        plain, ours = measure(args.rounds if entries < 5000 else max(1, args.rounds // 10), raw)
        print(
            f"body {len(raw) / 1024:8.1f} KB  requests.get+json {plain * 1000:7.2f} ms  "
            f"FhirClient.get {ours * 1000:7.2f} ms  ({ours / plain:4.2f} x)"
        )


if __name__ == "__main__":
    main()
