# SPDX-License-Identifier: Apache-2.0
"""Bulk export downloads (poems_fhir/fhir/bulk.py) over real HTTP on loopback: many tiny files, and
one large file, with the client's peak RSS (the files are streamed to disk, never held whole).

The fixture server (tests/fhir/bulk_server.py) runs in a forked child process, so the client's
memory and GIL are its own; the large file is generated in the child.

    python benchmarks/bulk_download.py [--tiny 2000] [--large-mb 200] [--parallel 4]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from poems_fhir.fhir.bulk import BulkExporter, ExportRequest  # noqa: E402
from poems_fhir.fhir.client import FhirClient  # noqa: E402


def _serve(conn, tiny: int, large_mb: int) -> None:  # type: ignore[no-untyped-def]
    from tests.fhir.bulk_server import BulkServer, FileSpec

    server = BulkServer()
    server.require_auth = False
    server.requires_token = False
    server.pending_polls = 0
    line = b'{"resourceType":"Observation","id":"o","status":"final","subject":{"reference":"Patient/p"}}\n'
    for i in range(tiny):
        server.files[f"Observation{i}.ndjson"] = FileSpec(line)
    if large_mb:
        server.files["Observation.big.ndjson"] = FileSpec(line * (large_mb * 2**20 // len(line)))
    conn.send(server.base)
    conn.recv()  # until the parent is done
    server.close()


def run(tiny: int, large_mb: int, parallel: int) -> None:
    parent, child = mp.Pipe()
    proc = mp.get_context("fork").Process(target=_serve, args=(child, tiny, large_mb), daemon=True)
    proc.start()
    base = parent.recv()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        result = BulkExporter(FhirClient(base), Path(tmp) / "exp", parallel=parallel).run(ExportRequest.of("system"))
        wall = time.perf_counter() - started
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    parent.send("done")
    proc.join(timeout=10)
    print(
        f"files={result.files} (tiny={tiny}, large={large_mb} MB) parallel={parallel} "
        f"wall={wall:.2f}s files/s={result.files / wall:.0f} MB/s={result.bytes / 2**20 / wall:.1f} "
        f"peak RSS {rss_before:.0f} MB before, {rss_after:.0f} MB after"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", type=int, default=2000)
    parser.add_argument("--large-mb", type=int, default=200)
    parser.add_argument("--parallel", type=int, default=4)
    args = parser.parse_args()
    run(args.tiny, 0, args.parallel)
    run(0, args.large_mb, args.parallel)


if __name__ == "__main__":
    main()
