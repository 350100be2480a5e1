# SPDX-License-Identifier: Apache-2.0
"""Where a first file-mode sync spends its time, per stage, without a profiler's distortion.

Runs the real command line in this process (``poems-fhir sync --source DIR --out OUT --state STATE``,
a fresh output folder and state file) with the job's stages wrapped by wall-clock accumulators, and
prints seconds and ms per call for each: evaluation, page, transaction (and its own-output check,
shape computation, value classification), plan, file write, state record.

    python benchmarks/sync_stages.py --patients 500 [--workdir DIR] [--workers N]

With ``--workers 1`` (the default) every stage runs in this process and is timed; with more, evaluation,
page and transaction run in worker processes and only the writer's stages are timed here.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from evaluate_throughput import generate  # noqa: E402

from poems_fhir.fhir import shape_check, write  # noqa: E402
from poems_fhir.sync import job, sinks, state  # noqa: E402

seconds: collections.Counter[str] = collections.Counter()
calls: collections.Counter[str] = collections.Counter()


def wrap(owner: Any, name: str, label: str) -> None:
    inner: Callable[..., Any] = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            seconds[label] += time.perf_counter() - t
            calls[label] += 1

    setattr(owner, name, timed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=500)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--workers", default="1", help="sync's --workers; 1 (default) times every stage here")
    args = parser.parse_args()
    for owner, name, label in (
        (job.SyncJob, "run", "whole job"),
        (job, "evaluate_record", "evaluate"),
        (job, "html_for", "page"),
        (job, "transaction_for", "transaction"),
        (write, "check_transaction", "  own-output check"),
        (shape_check.ShapeCache, "shape", "    shape"),
        (shape_check.ShapeCache, "_class", "      new value classified"),
        (write, "_check_resource", "    bindings, references, narrative"),
        (job, "plan_writes", "plan_writes"),
        (sinks.DirSink, "write", "file write"),
        (job.SyncJob, "_input_hash", "input hash"),
        (state.StateStore, "record_patient", "state record"),
    ):
        wrap(owner, name, label)
    from poems_fhir.cli import main as cli

    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        generate(data, args.patients)
        argv = [
            "sync",
            "--source",
            str(data),
            "--out",
            f"{tmp}/out",
            "--state",
            f"{tmp}/state.sqlite",
            "--workers",
            args.workers,
        ]
        t = time.perf_counter()
        try:
            cli(argv, standalone_mode=False)
        except SystemExit:
            pass
        total = time.perf_counter() - t
    print(f"patients: {args.patients}, whole command: {total:.1f} s", file=sys.stderr)
    for label in seconds:
        print(
            f"{label:<36} {seconds[label]:7.1f} s {seconds[label] / calls[label] * 1000:8.2f} ms/call x{calls[label]}",
            file=sys.stderr,
        )
    print(f"full fhir.resources validations (new shapes): {write._SHAPES.validated}", file=sys.stderr)


if __name__ == "__main__":
    main()
