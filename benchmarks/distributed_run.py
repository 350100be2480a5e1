# SPDX-License-Identifier: Apache-2.0
"""`poems-fhir distributed` on a LocalCluster against `poems-fhir evaluate`, same data, same machine.

Generates N patients with evaluate_throughput.py's generator (NDJSON, bulk-export style), then runs,
each as its own process (imports and mapping load included, as a user runs them):
  1. plain json.loads of every line (the floor any reader pays),
  2. `poems-fhir evaluate DIR --format json` (one process),
  3. `poems-fhir distributed DIR --out OUT --local-workers W --results-only` (a LocalCluster of W
     processes; cluster start-up included) for each W given.
Both without transactions: with them, each in-scope patient's page draws a matplotlib chart (~0.2 s,
issue #11 item 5), the same cost on both sides, which would only hide the engine's own.
and checks that (3) evaluated the same patients with the same screening counts as (2).

    python benchmarks/distributed_run.py --patients 2000 --workers 1 2
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from evaluate_throughput import generate  # noqa: E402

CLI = [sys.executable, "-m", "poems_fhir.cli"]


def _timed(args: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return took, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--workers", type=int, nargs="+", default=[2])
    parser.add_argument("--partitions", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "export"
        folder.mkdir()
        resources = generate(folder, args.patients)
        size = sum(f.stat().st_size for f in folder.iterdir())
        start = time.perf_counter()
        for f in sorted(folder.iterdir()):
            with f.open("rb") as fh:
                for line in fh:
                    json.loads(line)
        loads = time.perf_counter() - start
        print(f"patients: {args.patients}, resources: {resources}, NDJSON: {size / 2**20:.0f} MB")
        print(f"json.loads only:                 {loads:7.1f} s  {resources / loads:10,.0f} resources/s")
        took, out = _timed([*CLI, "evaluate", str(folder), "--format", "json"])
        expected = json.loads(out)
        print(
            f"poems-fhir evaluate (1 process): {took:7.1f} s  {resources / took:10,.0f} resources/s "
            f"({loads / took:.2f} x json.loads)"
        )
        for w in args.workers:
            out_dir = f"{tmp}/distributed-{w}"
            took_d, out = _timed(
                [
                    *CLI,
                    "distributed",
                    str(folder),
                    "--out",
                    out_dir,
                    "--local-workers",
                    str(w),
                    "--partitions",
                    str(args.partitions),
                    "--format",
                    "json",
                    "--results-only",
                ]
            )
            summary = json.loads(out)
            same = summary["patients"] == len(expected["patients"]) and summary["screening"] == expected["screening"]
            print(
                f"distributed, LocalCluster {w} worker(s): {took_d:7.1f} s  {resources / took_d:10,.0f} resources/s "
                f"({loads / took_d:.2f} x json.loads; {took / took_d:.2f} x evaluate) "
                f"{'same patients and screening' if same else 'DIFFERENT RESULTS'}"
            )


if __name__ == "__main__":
    main()
