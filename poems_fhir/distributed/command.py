# SPDX-License-Identifier: Apache-2.0
"""The `poems-fhir distributed` command's body and help (the options are declared in cli.py).

Imported only when the command runs (so is Dask): the base install does not need the extra.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import click

from ..errors import EXIT_INTERNAL, EXIT_SERVER
from ..fhir.read import MAX_RESOURCES_PER_PATIENT

HELP = """Evaluate an export on a Dask cluster: the same per-patient evaluation as `evaluate`, past one machine.

INPUT is a folder or file of FHIR Bundle JSON / NDJSON, as a local path or an fsspec URL (file://,
s3://, gs://, hdfs://, ...; the last ones need their fsspec package on the driver and every worker:
s3fs, gcsfs, pyarrow). Credentials come from the environment or the filesystem's own configuration
(AWS_*, GOOGLE_APPLICATION_CREDENTIALS, FSSPEC_<PROTOCOL>_<KEY>), never from the command line.

OUTPUT (a folder or URL every worker can write) gets, per partition NNNNN:
results/part-NNNNN.ndjson (one `evaluate --format json` patient item per line),
transactions/part-NNNNN.json (one transaction Bundle for the in-scope patients),
errors/part-NNNNN.ndjson (what was skipped), and summary.json. A patient's resources all land in one
partition (keyed by patient, shuffled by Dask); the same --partitions gives the same files.

\b
Examples:
  poems-fhir distributed export/ --out results/                     # a LocalCluster, all cores
  poems-fhir distributed export/ --out results/ --local-workers 2 --format json
  poems-fhir distributed s3://bucket/export/ --out s3://bucket/poems/ \\
      --scheduler tcp://dask-scheduler:8786 --partitions 64 --mappings site.yaml
  DASK_SCHEDULER_ADDRESS=tcp://10.0.0.5:8786 poems-fhir distributed hdfs:///exports/2026-11/ --out hdfs:///poems/

\b
Needs the optional extra: pip install 'poems-fhir[distributed]' (on the workers too).
Exit codes: 0 all read and evaluated; 1 some input skipped (listed in errors/ and the summary);
2 usage error (the extra missing, no input files, a bad mapping file, an output that cannot be
created); 3 the Dask scheduler cannot be reached or the cluster lost the run; 70 internal error.
"""


def run_distributed(
    inputs: tuple[str, ...],
    out: str,
    scheduler: str | None,
    local_workers: int | None,
    partitions: int | None,
    blocksize: int,
    as_of: dt.date | None,
    baseline: dt.date | None,
    profile: str,
    mapping_files: tuple[str, ...],
    trigger: tuple[str, ...],
    show_all: bool,
    report_status: str,
    fmt: str,
    results_only: bool = False,
    language: str = "en",
    max_per_patient: int = MAX_RESOURCES_PER_PATIENT,
) -> None:
    """The body of `poems-fhir distributed` (the options are declared in cli.py)."""
    from ..cli import EXIT_OK, EXIT_SKIPPED, EXIT_USAGE, _fail, _load_mapping, _trigger
    from . import MissingExtraError, require

    try:
        require()
    except MissingExtraError as exc:
        _fail(str(exc))
    from ..fhir.read import InputError
    from .partition import Settings
    from .run import ClusterError, default_partitions, list_inputs, now, run
    from .run import scheduler as open_scheduler

    from distributed import KilledWorker
    from distributed.comm import CommClosedError

    if scheduler and local_workers:
        _fail("--scheduler and --local-workers exclude each other (--local-workers starts a LocalCluster)")
    scope_trigger = _trigger(trigger)
    mapping = _load_mapping(mapping_files)
    try:
        files = list_inputs(inputs)
    except (InputError, ValueError, ImportError, OSError) as exc:
        _fail(f"{exc}")
    settings = Settings(
        mapping=mapping,
        out=out,
        partitions=partitions or default_partitions(files),
        now=now(),
        profile=profile,
        as_of=as_of,
        baseline=baseline,
        trigger=scope_trigger,
        show_all=show_all,
        report_status=report_status,
        language=language,
        max_per_patient=max_per_patient,
        transactions=not results_only,
    )
    try:
        with open_scheduler(scheduler, local_workers) as client:
            summary = run(inputs, settings, blocksize * 2**20, files)
            workers = len(client.scheduler_info().get("workers", {})) if client is not None else 1
    except ClusterError as exc:
        _fail(str(exc), EXIT_SERVER)
    except ImportError as exc:  # raised on a worker, re-raised here
        _fail(
            f"a Dask worker cannot import {exc.name or exc}: install the same poems-fhir[distributed] "
            "on every worker (and s3fs/gcsfs/pyarrow for object storage)",
            EXIT_USAGE,
        )
    except (KilledWorker, CommClosedError) as exc:
        _fail(f"the Dask cluster lost the run ({type(exc).__name__}: {exc}); nothing is complete", EXIT_SERVER)
    except OSError as exc:
        _fail(f"cannot read the input or write {out}: {exc}", EXIT_USAGE)
    code = EXIT_INTERNAL if summary.internal else EXIT_SKIPPED if summary.errors_total else EXIT_OK
    _print(summary, settings, mapping, workers, fmt)
    sys.exit(code)


def _print(summary: Any, settings: Any, mapping: Any, workers: int, fmt: str) -> None:
    from ..cli import _json
    from ..report.text_report import render_screening
    from .run import summary_to_dict

    if fmt == "json":
        doc = {
            "poems_fhir_version": _version(),
            "mapping": mapping.identity,
            "trigger": list(settings.trigger),
            "output": settings.out,
            "workers": workers,
            **summary_to_dict(summary),
        }
        click.echo(_json(doc))
        return
    click.echo(
        f"{summary.patients} patient(s) evaluated from {summary.files} file(s), {summary.resources} resources, "
        f"on {workers} worker(s) in {summary.partitions} partition(s); {summary.errors_total} input problem(s)."
    )
    click.echo(f"Screening: {render_screening(summary.screening)}.")
    click.echo(
        f"wrote {settings.out.rstrip('/')}/{{results,transactions,errors}}/part-*.{{ndjson,json}} and summary.json "
        f"({summary.transaction_entries} transaction entries)"
        if settings.transactions
        else f"wrote {settings.out.rstrip('/')}/{{results,errors}}/part-*.ndjson and summary.json (--results-only)"
    )
    for e in summary.errors:
        click.echo(f"  skipped: {e.source}{' (' + e.resource + ')' if e.resource else ''}: {e.message}")
    if summary.errors_total > len(summary.errors):
        click.echo(f"  ... and {summary.errors_total - len(summary.errors)} more in errors/part-*.ndjson")


def _version() -> str:
    from .. import __version__

    return __version__
