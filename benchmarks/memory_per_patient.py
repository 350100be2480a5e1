# SPDX-License-Identifier: Apache-2.0
"""Peak memory per patient of `poems-fhir evaluate` on many tiny patients (issue #9, item 8).

Generates N patients as NDJSON, each a Patient and one VEGF Observation (≈180 bytes of input per
patient, the shape of the issue's 20,000-patient / 3.6 MB feed), runs the real command line in a
child process for 1 patient and for N, and prints the peak resident memory of each, the
difference per patient, and the wall time.

    python benchmarks/memory_per_patient.py --patients 20000 [--format json|text]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def generate(path: Path, patients: int) -> int:
    with path.open("w", encoding="utf-8") as f:
        for i in range(patients):
            f.write(
                json.dumps({"resourceType": "Patient", "id": f"p{i}", "gender": "male", "birthDate": "1960-01-01"})
                + "\n"
            )
            f.write(
                json.dumps(
                    {
                        "resourceType": "Observation",
                        "id": f"o{i}",
                        "status": "final",
                        "subject": {"reference": f"Patient/p{i}"},
                        "code": {"coding": [{"system": "http://loinc.org", "code": "75628-8"}]},
                        "effectiveDateTime": "2024-01-01",
                        "valueQuantity": {
                            "value": 500,
                            "unit": "pg/mL",
                            "system": "http://unitsofmeasure.org",
                            "code": "pg/mL",
                        },
                    }
                )
                + "\n"
            )
    return path.stat().st_size


def peak_rss_mib(args: list[str]) -> tuple[float, float]:
    """Run one child; its peak RSS (MiB) and wall time. RUSAGE_CHILDREN is a running maximum,
    so the children are run smallest first."""
    t = time.perf_counter()
    subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    seconds = time.perf_counter() - t
    kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    return kib / 1024, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=20000)
    parser.add_argument("--format", choices=["json", "text"], default="json")
    args = parser.parse_args()
    cli = [sys.executable, "-m", "poems_fhir.cli", "evaluate", "--format", args.format]
    with tempfile.TemporaryDirectory() as tmp:
        one, many = Path(tmp) / "one.ndjson", Path(tmp) / "many.ndjson"
        generate(one, 1)
        size = generate(many, args.patients)
        base, base_s = peak_rss_mib(cli + [str(one)])
        peak, seconds = peak_rss_mib(cli + [str(many)])
    per_patient_kib = (peak - base) * 1024 / max(1, args.patients - 1)
    print(f"patients: {args.patients}, input {size / 1e6:.1f} MB NDJSON, --format {args.format}")
    print(f"peak RSS, 1 patient:        {base:8.1f} MiB ({base_s:.1f} s: imports and mapping load)")
    print(f"peak RSS, {args.patients} patients: {peak:8.1f} MiB ({seconds:.1f} s)")
    print(f"peak memory per patient:    {per_patient_kib:8.1f} KiB")


if __name__ == "__main__":
    main()
