# SPDX-License-Identifier: Apache-2.0
"""Throughput of reading + mapping + evaluation against plain json.loads, on one core.

Generates N synthetic patients as NDJSON (bulk-export style, one file per resource type) with a
realistic mix: mostly resources poems-fhir does not map (vitals, encounters, claims), some
mapped labs and conditions. Prints resources/s for
  1. plain json.loads of every line (the floor any reader pays),
  2. mapping + evaluation on already-read records (our own work),
  3. the whole `evaluate` path: read files + map + evaluate.
Target (issue #2): (2) at >= 1/5 of (1); (3) is printed too, for honesty about the whole path.

    python benchmarks/evaluate_throughput.py --patients 2000
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from poems_fhir.criteria.profiles import MAYO
from poems_fhir.fhir.read import read_paths
from poems_fhir.fhir.spool import iter_records, open_paths
from poems_fhir.mapping.extract import observation_pruner
from poems_fhir.mapping.rules import load_mapping
from poems_fhir.pipeline import evaluate_record

LOINC = "http://loinc.org"


def _obs(i: int, pid: str, code: str, value: float, unit: str) -> dict:
    return {
        "resourceType": "Observation",
        "id": f"o{i}",
        "status": "final",
        "meta": {"lastUpdated": "2024-01-01T00:00:00Z"},
        "category": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}
        ],
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": "2024-01-0%dT10:00:00+01:00" % (1 + i % 9),
        "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit},
    }


def generate(folder: Path, patients: int, seed: int = 7) -> int:
    rnd = random.Random(seed)
    files = {
        t: (folder / f"{t}.ndjson").open("w") for t in ("Patient", "Observation", "Condition", "Encounter", "Claim")
    }
    n = 0
    for p in range(patients):
        pid = f"p{p}"
        files["Patient"].write(
            json.dumps(
                {
                    "resourceType": "Patient",
                    "id": pid,
                    "gender": rnd.choice(["male", "female"]),
                    "birthDate": "1960-01-01",
                }
            )
            + "\n"
        )
        n += 1
        for _k in range(24):  # vitals: not mapped
            files["Observation"].write(
                json.dumps(
                    _obs(n, pid, rnd.choice(["8867-4", "29463-7", "8302-2", "9279-1"]), rnd.uniform(50, 100), "kg")
                )
                + "\n"
            )
            n += 1
        for code, unit, lo, hi in (
            ("777-3", "10*9/L", 150, 600),
            ("718-7", "g/L", 90, 180),
            ("33358-3", "g/L", 0, 10),
            ("75628-8", "pg/mL", 50, 900),
            ("1751-7", "g/L", 25, 45),
        ):
            files["Observation"].write(json.dumps(_obs(n, pid, code, round(rnd.uniform(lo, hi), 1), unit)) + "\n")
            n += 1
        for code in rnd.sample(["42345000", "16294009", "60046008", "44054006", "38341003"], 2):
            files["Condition"].write(
                json.dumps(
                    {
                        "resourceType": "Condition",
                        "id": f"c{n}",
                        "subject": {"reference": f"Patient/{pid}"},
                        "code": {"coding": [{"system": "http://snomed.info/sct", "code": code}]},
                        "recordedDate": "2023-05-01",
                    }
                )
                + "\n"
            )
            n += 1
        for _ in range(4):
            files["Encounter"].write(
                json.dumps(
                    {
                        "resourceType": "Encounter",
                        "id": f"e{n}",
                        "status": "finished",
                        "subject": {"reference": f"Patient/{pid}"},
                    }
                )
                + "\n"
            )
            files["Claim"].write(
                json.dumps(
                    {
                        "resourceType": "Claim",
                        "id": f"cl{n}",
                        "status": "active",
                        "patient": {"reference": f"Patient/{pid}"},
                    }
                )
                + "\n"
            )
            n += 2
    for f in files.values():
        f.close()
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=2000)
    args = parser.parse_args()
    mapping = load_mapping()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        n = generate(folder, args.patients)

        t = time.perf_counter()
        count = 0
        for f in sorted(folder.glob("*.ndjson")):
            for line in f.read_text().splitlines():
                json.loads(line)
                count += 1
        parse_s = time.perf_counter() - t

        t = time.perf_counter()
        read = read_paths([folder])
        read_s = time.perf_counter() - t
        t = time.perf_counter()
        for record in read.records:
            evaluate_record(record, mapping, MAYO, None)
        eval_s = time.perf_counter() - t
        del read

        # the path evaluate takes since issue #11: the disk spool (Observations no rule can use
        # pruned to their identity), one record at a time
        t = time.perf_counter()
        with open_paths([folder], prune=observation_pruner(mapping)) as source:
            for record in iter_records(source):
                evaluate_record(record, mapping, MAYO, None)
        spool_s = time.perf_counter() - t

    full = n / (read_s + eval_s)
    print(f"patients: {args.patients}, resources: {n}")
    print(f"json.loads only:               {count / parse_s:>10,.0f} resources/s")
    plain = count / parse_s
    print(
        f"mapping + evaluation:          {n / eval_s:>10,.0f} resources/s "
        f"({n / eval_s / plain:.2f} x json.loads; target >= 0.20)"
    )
    print(f"read + mapping + evaluation:   {full:>10,.0f} resources/s ({full / plain:.2f} x json.loads)")
    spooled = n / spool_s
    print(f"  the same through the spool:  {spooled:>10,.0f} resources/s ({spooled / plain:.2f} x json.loads)")


if __name__ == "__main__":
    main()
