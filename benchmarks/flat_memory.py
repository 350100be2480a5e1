# SPDX-License-Identifier: Apache-2.0
"""Peak memory and wall time of the real command line at growing input sizes (issue #11, items 2-3).

Generates evaluate_throughput.py's synthetic bulk export (40 resources per patient, 80 % of them of
types poems-fhir reads) at each size, times plain json.loads of every line in this process (the
floor any reader pays), then runs in a child process, one at a time:
  evaluate DIR --format json > /dev/null
  sync --source DIR --out OUT --state STATE     (file mode; with --sync)
and prints wall time, resources/s, the ratio to json.loads and the child's own peak RSS (os.wait4).

    python benchmarks/flat_memory.py --patients 2000 20000 100000 [--sync] [--no-chart] [--data DIR]

--data keeps the generated folders (DIR/p<N>) for the next run. --no-chart stubs the timeline chart
in sync (the chart is drawn per in-scope patient and is item 5's business; memory is this one's).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from evaluate_throughput import generate  # noqa: E402

_SYNC_NO_CHART = (
    "import sys; import poems_fhir.report.html_report as h; h.timeline_svg = lambda *a, **k: None; "
    "from poems_fhir.cli import main; sys.argv[0] = 'poems-fhir'; main()"
)


def json_loads_seconds(folder: Path) -> tuple[float, int]:
    t = time.perf_counter()
    count = 0
    for f in sorted(folder.glob("*.ndjson")):
        with f.open("rb") as lines:
            for line in lines:
                json.loads(line)
                count += 1
    return time.perf_counter() - t, count


def run_child(args: list[str], stdout: int | None = subprocess.DEVNULL) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MiB) of that child alone, and its exit code."""
    t = time.perf_counter()
    proc = subprocess.Popen(args, stdout=stdout, stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - t, usage.ru_maxrss / 1024, proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, nargs="+", default=[2000, 20000, 100000])
    parser.add_argument("--sync", action="store_true", help="also run sync --source (file mode)")
    parser.add_argument("--no-chart", action="store_true", help="sync without drawing the timeline chart")
    parser.add_argument("--data", type=Path, default=None, help="keep generated inputs here (reused)")
    args = parser.parse_args()
    exe = [sys.executable, "-m", "poems_fhir.cli"]
    print("| patients | resources | NDJSON | command | wall | resources/s | x json.loads | peak RSS |")
    print("|---:|---:|---:|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.patients:
            folder = (args.data or Path(tmp)) / f"p{n}"
            if not (folder / "Patient.ndjson").exists():
                folder.mkdir(parents=True, exist_ok=True)
                generate(folder, n)
            size = sum(f.stat().st_size for f in folder.glob("*.ndjson"))
            loads_s, resources = json_loads_seconds(folder)
            runs = [("evaluate --format json", exe + ["evaluate", str(folder), "--format", "json"])]
            if args.sync:
                out, state = Path(tmp) / f"out{n}", Path(tmp) / f"state{n}.sqlite"
                sync = ["sync", "--source", str(folder), "--out", str(out), "--state", str(state)]
                head = [sys.executable, "-c", _SYNC_NO_CHART] if args.no_chart else exe
                runs.append(("sync --source" + (" (no chart)" if args.no_chart else ""), head + sync))
            for label, command in runs:
                wall, rss, code = run_child(command)
                rate = resources / wall
                print(
                    f"| {n:,} | {resources:,} | {size / 1e6:,.0f} MB | `{label}` (exit {code}) | {wall:,.1f} s "
                    f"| {rate:,.0f} | {rate / (resources / loads_s):.2f} | {rss:,.0f} MiB |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
