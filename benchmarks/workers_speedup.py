# SPDX-License-Identifier: Apache-2.0
"""`evaluate --workers N` against `--workers 1`: wall time and where the CPU goes.

Runs the `evaluate` command (JSON output to /dev/null) with 1 and N workers alternately, each
repetition in the same minute, on data made by evaluate_throughput.py's generator (or a folder you
give). Prints per run: wall time, the serial read before the pool, the evaluation loop, and CPU
seconds of the parent (reading, printing) and of the workers. On a shared, busy machine the wall
times are noisy; the CPU split shows what the speed-up would be on idle cores:
    ideal wall(N) = read CPU + max(parent loop CPU, workers' CPU / N, (parent + workers' CPU) / cores).

    python benchmarks/workers_speedup.py --patients 20000 --workers 2 --repeat 3
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from poems_fhir import parallel
from poems_fhir.cli import main


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run(folder: Path, workers: int) -> dict[str, float]:
    """One `evaluate` in this process (forked workers are its children), timed by phase."""
    marks: dict[str, float] = {}
    real = parallel.map_patients

    def timed(*args: Any, **kw: Any) -> Any:  # the pool starts when the read is done
        marks["read"] = time.perf_counter() - marks["start"]
        marks["cpu_read"] = _self_cpu() - marks["cpu0"]
        yield from real(*args, **kw)

    parallel.map_patients = timed  # type: ignore[assignment]
    marks["start"], marks["cpu0"], kids0 = time.perf_counter(), _self_cpu(), _children_cpu()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
            main.main(
                [  # noqa: S603 - our own command
                    "evaluate",
                    str(folder),
                    "--format",
                    "json",
                    "--workers",
                    str(workers),
                ],
                standalone_mode=True,
            )
    finally:
        parallel.map_patients = real  # type: ignore[assignment]
    wall = time.perf_counter() - marks["start"]
    return {
        "wall": wall,
        "read": marks["read"],
        "loop": wall - marks["read"],
        "read_cpu": marks["cpu_read"],
        "parent_loop_cpu": _self_cpu() - marks["cpu0"] - marks["cpu_read"],
        "workers_cpu": _children_cpu() - kids0,
    }


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--data", type=Path, help="a folder of input files (default: generated)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.data
        if folder is None:
            sys.path.insert(0, str(Path(__file__).parent))
            from evaluate_throughput import generate

            folder = Path(tmp)
            print(f"generated {generate(folder, args.patients)} resources for {args.patients} patients")
        print(f"cores available: {parallel.available_cores()}; load average: {os.getloadavg()[0]:.1f}")
        print("workers  wall s  read s  loop s  read CPU s  parent loop CPU s  workers CPU s  ideal wall s")
        walls: dict[int, list[float]] = {1: [], args.workers: []}
        ideals: dict[int, list[float]] = {1: [], args.workers: []}
        for _ in range(args.repeat):
            for n in (1, args.workers):
                r = run(folder, n)
                cpu = r["parent_loop_cpu"] + r["workers_cpu"]
                ideal = r["read_cpu"] + max(
                    r["parent_loop_cpu"], r["workers_cpu"] / n, cpu / parallel.available_cores()
                )
                walls[n].append(r["wall"])
                ideals[n].append(ideal)
                print(
                    f"{n:7d} {r['wall']:7.1f} {r['read']:7.1f} {r['loop']:7.1f} {r['read_cpu']:11.1f} "
                    f"{r['parent_loop_cpu']:18.1f} {r['workers_cpu']:14.1f} {ideal:13.1f}"
                )
        best1, bestn = min(walls[1]), min(walls[args.workers])
        print(f"speed-up (best wall of each): {best1 / bestn:.2f}x with {args.workers} workers")
        print(f"speed-up on idle cores (from CPU seconds): {min(ideals[1]) / min(ideals[args.workers]):.2f}x")


if __name__ == "__main__":
    main_()
