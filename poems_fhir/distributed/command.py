# SPDX-License-Identifier: Apache-2.0
"""The `poems-fhir distributed` command (registered by cli.py; parsing and presentation only).

Imported at the end of cli.py, so the shared option helpers below exist already. Dask itself is
imported only when the command runs: the base install does not need the extra.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import click

from ..cli import (
    _ALL_HELP,
    _TRIGGER_HELP,
    EXIT_OK,
    EXIT_SKIPPED,
    EXIT_USAGE,
    _Date,
    _fail,
    _json,
    _load_mapping,
    _reading_options,
    _trigger,
)
from ..criteria.profiles import DEFAULT_PROFILE, PROFILES
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


@click.command("distributed", help=HELP)
@click.argument("inputs", nargs=-1, required=True)
@click.option("--out", "out", required=True, help="Output folder or URL (fsspec), writable by every worker.")
@click.option(
    "--scheduler",
    envvar="DASK_SCHEDULER_ADDRESS",
    help="Dask scheduler address (tcp://host:8786), or 'synchronous' (no cluster: one process, for "
    "debugging). Default: a LocalCluster on this machine.",
)
@click.option(
    "--local-workers",
    type=click.IntRange(min=1),
    help="Worker processes of the LocalCluster [all cores].",
)
@click.option(
    "--partitions",
    type=click.IntRange(min=1),
    help="Output partitions (files per kind) [one per 128 MiB of input].",
)
@click.option(
    "--blocksize",
    type=click.IntRange(min=1),
    default=64,
    show_default=True,
    help="MiB of NDJSON per read task (Bundle JSON files are read whole).",
)
@click.option("--as-of", "as_of", type=_Date(), help="Evaluate with facts effective on or before DATE only.")
@click.option("--baseline", type=_Date(), help="Response baseline date (default: before the first treatment).")
@click.option("--profile", type=click.Choice(sorted(PROFILES)), default=DEFAULT_PROFILE, show_default=True)
@click.option("--mappings", "mapping_files", multiple=True, type=click.Path(), help="Site mapping files (repeatable).")
@click.option("--trigger", "trigger", multiple=True, help=_TRIGGER_HELP)
@click.option("--all", "--show-out-of-scope", "show_all", is_flag=True, help=_ALL_HELP)
@click.option(
    "--report-status",
    type=click.Choice(["partial", "preliminary"]),
    default="partial",
    show_default=True,
    help="DiagnosticReport.status of written reports (never 'final').",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_reading_options
def distributed(
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
    language: str = "en",
    max_per_patient: int = MAX_RESOURCES_PER_PATIENT,
) -> None:
    from . import MissingExtraError, require

    try:
        require()
    except MissingExtraError as exc:
        _fail(str(exc))
    from ..fhir.read import InputError
    from .partition import Settings
    from .run import ClusterError, default_partitions, list_inputs, now, run
    from .run import scheduler as open_scheduler

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
    )
    try:
        with open_scheduler(scheduler, local_workers) as client:
            summary = run(inputs, settings, blocksize * 2**20, files)
            workers = len(client.scheduler_info().get("workers", {})) if client is not None else 1
    except ClusterError as exc:
        _fail(str(exc), EXIT_SERVER)
    except OSError as exc:
        _fail(f"cannot read the input or write {out}: {exc}", EXIT_USAGE)
    code = EXIT_INTERNAL if summary.internal else EXIT_SKIPPED if summary.errors_total else EXIT_OK
    _print(summary, settings, mapping, workers, fmt)
    sys.exit(code)


def _print(summary: Any, settings: Any, mapping: Any, workers: int, fmt: str) -> None:
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
    )
    for e in summary.errors:
        click.echo(f"  skipped: {e.source}{' (' + e.resource + ')' if e.resource else ''}: {e.message}")
    if summary.errors_total > len(summary.errors):
        click.echo(f"  ... and {summary.errors_total - len(summary.errors)} more in errors/part-*.ndjson")


def _version() -> str:
    from .. import __version__

    return __version__
