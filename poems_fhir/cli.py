"""The `poems-fhir` command line: parsing and presentation only.

Exit codes (a contract with schedulers and scripts; see README "Exit codes"):
  0  everything was read and evaluated
  1  some input was skipped (reported in the output's `errors`)
  2  usage error, unreadable input, or invalid mapping file
  4  internal error: a bug of poems-fhir (the resources/patients it hit are listed; --debug logs the
     traceback); everything else was still processed
"""
from __future__ import annotations

import datetime as dt
import gc
import json
import logging
import math
import sys
import textwrap
from pathlib import Path
from typing import Any

import click

from . import __version__
from .criteria.profiles import DEFAULT_PROFILE, PROFILES, get_profile
from .errors import EXIT_INTERNAL
from .fhir.read import MAX_RESOURCES_PER_PATIENT, InputError, SourceError, read_paths
from .mapping.rules import MappingError, load_mapping

EXIT_OK, EXIT_SKIPPED, EXIT_USAGE = 0, 1, 2
log = logging.getLogger("poems_fhir.cli")


def _json(doc: Any) -> str:
    """JSON text that strict parsers accept: a non-finite float (never from input - the boundary
    refuses those - but possibly from arithmetic on extreme values) becomes null."""

    def clean(node: Any) -> Any:
        if isinstance(node, float) and not math.isfinite(node):
            return None
        if isinstance(node, dict):
            return {k: clean(v) for k, v in node.items()}
        if isinstance(node, list):
            return [clean(v) for v in node]
        return node

    try:
        return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False)
    except ValueError:
        return json.dumps(clean(doc), indent=2, ensure_ascii=False, allow_nan=False)


def _exit_code(errors: list[SourceError]) -> int:
    if any(e.internal for e in errors):
        return EXIT_INTERNAL
    return EXIT_SKIPPED if errors else EXIT_OK


class _GuardedGroup(click.Group):
    """The last resort: an unexpected exception anywhere becomes one line and exit code 4;
    the traceback only with --debug."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit,
                KeyboardInterrupt):
            raise
        except RecursionError as exc:
            self._internal(exc, "input nested too deeply for Python")
        except MemoryError as exc:
            self._internal(exc, "out of memory")
        except Exception as exc:
            self._internal(exc, f"{type(exc).__name__}: {str(exc)[:300]}")

    @staticmethod
    def _internal(exc: BaseException, what: str) -> None:
        log.debug("internal error", exc_info=exc)
        if not log.isEnabledFor(logging.DEBUG):
            what += " (run with --debug for the traceback)"
        click.echo(f"poems-fhir: internal error: {what}; please report it", err=True)
        sys.exit(EXIT_INTERNAL)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the sys.stderr of the moment (tests and embedders swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def _setup_cli_logging(debug: bool) -> None:
    logger = logging.getLogger("poems_fhir")
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger.handlers[:] = [handler]  # `sync` sets up its own (text or JSON) logging afterwards
    logger.propagate = False
    logger.setLevel(logging.DEBUG if debug else logging.WARNING)


class _Date(click.ParamType):
    name = "DATE"

    def convert(self, value: Any, param: Any, ctx: Any) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date like 2019-02-28", param, ctx)


def _fail(message: str, code: int = EXIT_USAGE) -> None:
    click.echo(f"poems-fhir: error: {message}", err=True)
    sys.exit(code)


def _load_mapping(files: tuple[str, ...]):  # type: ignore[no-untyped-def]
    try:
        return load_mapping(list(files))
    except MappingError as exc:
        _fail(f"{exc}\nRun `poems-fhir mappings check FILE` for details.")


@click.group(cls=_GuardedGroup,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="poems-fhir")
@click.option("--debug", is_flag=True, help="Log details to stderr, with the traceback of any internal error.")
def main(debug: bool) -> None:
    """poems-fhir: POEMS syndrome criteria from FHIR R4 data, written back as decision support.

    \b
    Read Observation/Condition/Procedure/DiagnosticReport resources, map them (mappings/*.yaml)
    to the POEMS criteria, evaluate them with honest "not assessed", and report - or write back a
    DiagnosticReport + CarePlan (proposal) + Provenance transaction.

    \b
    Examples:
      poems-fhir evaluate sample_bundles/
      poems-fhir evaluate sample_bundles/origin-case --as-of 2019-02-28 --profile dispenzieri-2003
      poems-fhir evaluate export/ --mappings site.yaml --format json > results.json
      poems-fhir report sample_bundles/origin-case --html origin.html
      poems-fhir sync --source sample_bundles --out out/
      poems-fhir mappings check site.yaml
    """
    _setup_cli_logging(debug)
    for stream in (sys.stdout, sys.stderr):  # a stray undecodable file name must not end the output
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--as-of", "as_of", type=_Date(), help="Evaluate with facts effective on or before DATE only "
              "(for response: the restaging point).")
@click.option("--baseline", type=_Date(), help="Response baseline: the last measurement on or before DATE "
              "(default: the last one before the first treatment).")
@click.option("--profile", type=click.Choice(sorted(PROFILES)), default=DEFAULT_PROFILE,
              show_default=True, help="Rule profile (criteria set).")
@click.option("--mappings", "mapping_files", multiple=True, type=click.Path(),
              help="Site mapping YAML or ConceptMap JSON, merged over the default (repeatable).")
@click.option("--patient", "patients", multiple=True,
              help="Only this patient (Patient/ID or ID; repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--out", type=click.Path(), default=None,
              help="Write the FHIR transaction Bundle(s): FILE.json for all patients in one, or a DIR "
                   "for one transaction per patient.")
@click.option("--report-status", type=click.Choice(["partial", "preliminary"]), default="partial",
              show_default=True, help="DiagnosticReport.status of written reports (never 'final').")
@click.option("--max-resources-per-patient", "max_per_patient", type=click.IntRange(min=1),
              default=MAX_RESOURCES_PER_PATIENT, show_default=True,
              help="A patient with more relevant resources is reported and not evaluated.")
def evaluate(paths: tuple[str, ...], as_of: dt.date | None, baseline: dt.date | None, profile: str,
             mapping_files: tuple[str, ...], patients: tuple[str, ...], fmt: str,
             out: str | None, report_status: str, max_per_patient: int) -> None:
    """Evaluate the POEMS criteria for every patient found in PATHS.

    PATHS are FHIR Bundle JSON files (collection, searchset, transaction, batch, document),
    NDJSON files (bulk-export style) or folders of them. One result per patient.

    \b
    Examples:
      poems-fhir evaluate sample_bundles/classic-poems.json
      poems-fhir evaluate sample_bundles/origin-case --as-of 2019-02-28
      poems-fhir evaluate sample_bundles/site-local --mappings sample_bundles/site-local/site-mapping.yaml
      poems-fhir evaluate bulk-export/*.ndjson --format json
      poems-fhir evaluate sample_bundles/classic-poems.json --out writeback.json
      poems-fhir evaluate sample_bundles/ --out out/   # one transaction per patient
    """
    from .pipeline import iter_evaluations
    from .report.json_report import assessment_to_dict, response_to_dict, risk_to_dict
    from .report.text_report import render_assessment, render_response

    mapping = _load_mapping(mapping_files)
    rule_profile = get_profile(profile)
    try:
        read = read_paths(paths, max_per_patient)
    except InputError as exc:
        _fail(str(exc))
    # One patient at a time: its result is printed (and its transaction built) and then dropped,
    # so memory holds the input, not every patient's evaluation (issue #9: 80 KB per patient).
    gc.freeze()  # the records read are long-lived: keep the cyclic GC from rescanning them
    failed: list[SourceError] = []
    errors = list(read.errors)
    writer = _OutWriter(Path(out), mapping, report_status, errors) if out else None
    evaluated = 0
    if fmt == "json":
        head = {"poems_fhir_version": __version__, "mapping": mapping.identity}
        click.echo(_json(head)[:-2] + ',\n  "patients": [', nl=False)
    with click.progressbar(read.records, label="evaluating", file=sys.stderr,
                           hidden=not sys.stderr.isatty() or len(read.records) < 20) as records:
        for r in iter_evaluations(records, mapping, rule_profile, as_of, patients, baseline, failed):
            errors.extend(r.extraction.errors)
            if writer:
                writer.add(r)
            if fmt == "json":
                item = {**assessment_to_dict(r.assessment), "response": response_to_dict(r.response),
                        "risk_factors": risk_to_dict(r.risk)}
                click.echo(("," if evaluated else "") + "\n" + textwrap.indent(_json(item), "    "), nl=False)
            else:
                click.echo(render_assessment(r.assessment))
                click.echo(render_response(r.response, r.risk))
                click.echo("")
            evaluated += 1
    gc.unfreeze()
    errors[len(read.errors):len(read.errors)] = failed
    written = writer.finish() if writer else []
    if fmt == "json":
        tail = _json({"errors": [e.to_dict() for e in errors], "written": written})
        click.echo(("\n  ]" if evaluated else "]") + ",\n" + tail[2:])
    else:
        for w in written:
            click.echo(f"wrote {w['file']}: transaction of {w['entries']} entries for {w['patients']} patient(s) "
                       "(DiagnosticReport, CarePlan proposal, criterion Observations, Device, Provenance)")
        click.echo(f"{evaluated} patient(s) evaluated from {read.files} file(s), "
                   f"{read.resources} resources; {len(errors)} input problem(s).")
        for e in errors:
            click.echo(f"  skipped: {e.source}{' (' + e.resource + ')' if e.resource else ''}: {e.message}")
    sys.exit(_exit_code(errors))


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--html", "target", required=True, type=click.Path(),
              help="FILE.html for one patient, or a DIR for one page per patient (named without PHI).")
@click.option("--patient", "patients", multiple=True, help="Only this patient (Patient/ID or ID; repeatable).")
@click.option("--as-of", "as_of", type=_Date(), help="Show the state on DATE (restaging point).")
@click.option("--baseline", type=_Date(), help="Response baseline date (default: before the first treatment).")
@click.option("--profile", type=click.Choice(sorted(PROFILES)), default=DEFAULT_PROFILE, show_default=True)
@click.option("--mappings", "mapping_files", multiple=True, type=click.Path(), help="Site mapping files.")
@click.option("--max-resources-per-patient", "max_per_patient", type=click.IntRange(min=1),
              default=MAX_RESOURCES_PER_PATIENT, show_default=True,
              help="A patient with more relevant resources is reported and not evaluated.")
def report(paths: tuple[str, ...], target: str, patients: tuple[str, ...], as_of: dt.date | None,
           baseline: dt.date | None, profile: str, mapping_files: tuple[str, ...], max_per_patient: int) -> None:
    """Write a self-contained HTML page per patient: criteria with evidence, what is missing, the
    response at each restaging, risk factors, the proposed care pathway and a timeline chart of
    M-protein, free light chains and VEGF (per specimen type) with treatments marked.

    \b
    Examples:
      poems-fhir report sample_bundles/origin-case --html origin.html
      poems-fhir report sample_bundles/ --html pages/          # one page per patient
      poems-fhir report export/ --patient Patient/123 --as-of 2019-08-20 --html restaging.html
    """
    from .fhir.read import internal_error
    from .fhir.write import patient_file_name
    from .pipeline import html_for, iter_evaluations

    mapping = _load_mapping(mapping_files)
    try:
        read = read_paths(paths, max_per_patient)
    except InputError as exc:
        _fail(str(exc))
    failed: list[SourceError] = []
    results = list(iter_evaluations(read.records, mapping, get_profile(profile), as_of, patients, baseline,
                                    failed))
    errors = list(read.errors) + failed + [e for r in results for e in r.extraction.errors]
    for e in read.errors + failed:
        click.echo(f"skipped: {e.source}{' (' + e.resource + ')' if e.resource else ''}: {e.message}", err=True)
    if not results:
        _fail("no patient found in the input (or none matching --patient)",
              EXIT_INTERNAL if any(e.internal for e in failed) else EXIT_USAGE)
    out = Path(target)
    if out.suffix.lower() == ".html":
        if len(results) > 1:
            _fail(f"{len(results)} patients found: give --patient, or a folder for --html")
        pages = [(out, results[0])]
    else:
        _make_dir(out, "--html")
        pages = [(out / patient_file_name(r.assessment.patient).replace(".json", ".html"), r) for r in results]
    for path, r in pages:
        try:
            page = html_for(r, mapping)
        except Exception as exc:  # last resort: one page's bug must not lose the others
            errors.append(internal_error(r.assessment.patient, r.assessment.patient, exc))
            continue
        _make_dir(path.parent, "--html")
        _write_text(path, page, "--html")
        click.echo(f"wrote {path} ({r.assessment.classification.value})")
    for e in errors[len(read.errors) + len(failed):]:
        click.echo(f"skipped: {e.source}{' (' + e.resource + ')' if e.resource else ''}: {e.message}", err=True)
    sys.exit(_exit_code(errors))


def _make_dir(path: Path, option: str) -> None:
    """mkdir -p, with a usage error (not a traceback) when a parent is a file or not writable."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _fail(f"{option} {path}: cannot create the folder ({exc.strerror or exc}); "
              "is a part of the path a regular file?")


def _write_text(path: Path, text: str, option: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail(f"{option} {path}: cannot write ({exc.strerror or exc}); is a part of the path a regular file?")


class _OutWriter:
    """--out: one transaction file per patient written as each is evaluated (DIR), or all patients
    merged into one FILE.json at the end (then only the bundles are kept, not the evaluations)."""

    def __init__(self, target: Path, mapping: Any, report_status: str, errors: list[SourceError]) -> None:
        self.target, self.mapping, self.report_status, self.errors = target, mapping, report_status, errors
        self.merged = target.suffix.lower() == ".json"
        _make_dir(target.parent if self.merged else target, "--out")
        self.now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        self.entries: list[dict[str, Any]] = []
        self.patients = 0
        self.written: list[dict[str, Any]] = []

    def add(self, r: Any) -> None:
        from .fhir.read import internal_error
        from .fhir.write import NotWritableError, WriteContext, patient_file_name
        from .pipeline import html_for, transaction_for

        ctx = WriteContext(self.now, self.mapping.identity, r.extraction.used, self.report_status)
        try:
            bundle = transaction_for(r, ctx, html_for(r, self.mapping))
        except NotWritableError as exc:
            self.errors.append(SourceError(r.assessment.patient, str(exc)))
            return
        except Exception as exc:  # last resort: one patient's bug must not lose the others
            self.errors.append(internal_error(r.assessment.patient, r.assessment.patient, exc))
            return
        self.patients += 1
        if self.merged:
            self.entries.extend(bundle["entry"])
            return
        path = self.target / patient_file_name(r.assessment.patient)
        _write_text(path, _json(bundle) + "\n", "--out")
        self.written.append({"file": str(path), "entries": len(bundle["entry"]), "patients": 1})

    def finish(self) -> list[dict[str, Any]]:
        if self.merged:
            merged = {"resourceType": "Bundle", "type": "transaction", "entry": _dedupe(self.entries)}
            _write_text(self.target, _json(merged) + "\n", "--out")
            self.written.append({"file": str(self.target), "entries": len(merged["entry"]),
                                 "patients": self.patients})
        return self.written


def _dedupe(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Device entry is shared by all patients: keep one per fullUrl."""
    seen, out = set(), []
    for e in entries:
        if e["fullUrl"] not in seen:
            seen.add(e["fullUrl"])
            out.append(e)
    return out


SYNC_HELP = """Run the sync job once (for cron, systemd timers, Kubernetes CronJobs) or in a loop.

Each run finds the patients whose relevant data changed since the last checkpoint, evaluates them,
and writes DiagnosticReport + CarePlan + Provenance as one conditional transaction per patient -
nothing when nothing changed. Only patients with polyneuropathy or a monoclonal plasma-cell disorder
present get reports; the others are counted as out_of_scope.

\b
Examples:
  # files in, transaction bundles out (no server): the README's run command
  poems-fhir sync --source sample_bundles --out out/ --phi
  # a server, client-credentials, every 15 minutes, config from TOML
  poems-fhir sync --config /etc/poems-fhir/sync.toml --every 15m
  # build and validate everything against a server, send nothing
  poems-fhir sync --server https://fhir.example.org/R4 --auth bearer --token-file /run/secrets/token \\
      --dry-run /tmp/poems-dry

\b
A complete sync.toml (keys are the flag names; environment variables POEMS_FHIR_<KEY> override the
file, flags override both; secrets only from files or POEMS_FHIR_TOKEN / POEMS_FHIR_CLIENT_SECRET):
  server = "https://fhir.example.org/R4"
  auth = "smart-backend"            # none | bearer | basic | client-credentials | smart-backend
  client-id = "poems-fhir"
  private-key = "/run/secrets/poems-fhir.jwks"   # PEM or JWKS, RS384 or ES384
  # token-url = "https://auth.example.org/token" # default: .well-known/smart-configuration
  scope = "system/Observation.read system/Condition.read system/DiagnosticReport.write"
  state = "/var/lib/poems-fhir/state.sqlite"
  profile = "mayo"
  mappings = ["/etc/poems-fhir/site.yaml"]
  every = "15m"
  log-format = "json"

\b
Exit codes: 0 all ok; 1 some patients failed or conflicted; 2 configuration/usage error;
3 server unreachable or unauthorised.
"""


@main.command(help=SYNC_HELP)
@click.option("--config", "config_file", type=click.Path(path_type=Path), help="TOML file; keys = these flags.")
@click.option("--server", help="FHIR R4 base URL.")
@click.option("--auth", type=click.Choice(["none", "bearer", "basic", "client-credentials", "smart-backend"]))
@click.option("--token-file", type=click.Path(path_type=Path), help="Bearer token file (or POEMS_FHIR_TOKEN).")
@click.option("--client-id", help="OAuth client id (the user for --auth basic).")
@click.option("--client-secret-file", type=click.Path(path_type=Path),
              help="Client secret file (the password for basic; or POEMS_FHIR_CLIENT_SECRET).")
@click.option("--private-key", type=click.Path(path_type=Path), help="SMART Backend Services key: PEM or JWKS.")
@click.option("--token-url", help="Token endpoint (default: discovered from .well-known/smart-configuration).")
@click.option("--scope", help="OAuth scopes.")
@click.option("--state", type=click.Path(path_type=Path), help="SQLite state file [.poems-fhir/state.sqlite].")
@click.option("--patient", multiple=True, help="Only this patient (Patient/ID or ID; repeatable; @FILE reads one per line).")
@click.option("--group", help="Only the members of this Group id.")
@click.option("--dry-run", type=click.Path(path_type=Path), help="Write the transactions to DIR, send nothing.")
@click.option("--format", "format_", type=click.Choice(["text", "json"]), help="Summary format [text].")
@click.option("--log-format", type=click.Choice(["text", "json"]), help="Log format on stderr [text].")
@click.option("--every", help="Loop: run every DURATION (30s, 15m, 1h); stop with SIGTERM/SIGINT.")
@click.option("--source", multiple=True, type=click.Path(path_type=Path), help="Read Bundle/NDJSON files instead of a server.")
@click.option("--out", type=click.Path(path_type=Path), help="With --source: folder for the transaction bundles.")
@click.option("--mappings", multiple=True, type=click.Path(path_type=Path), help="Site mapping YAML / ConceptMap JSON.")
@click.option("--profile", type=click.Choice(sorted(PROFILES)), help=f"Rule profile [{DEFAULT_PROFILE}].")
@click.option("--phi", is_flag=True, default=None, help="Show patient ids in logs and the summary (hashed by default).")
@click.option("--trigger", multiple=True, help="Criterion that puts a patient in scope (repeatable) "
              "[polyneuropathy, monoclonal_plasma_cell_disorder].")
@click.option("--report-status", type=click.Choice(["partial", "preliminary"]),
              help="DiagnosticReport.status of written reports [partial]; never final.")
def sync(config_file: Path | None, **flags: Any) -> None:
    from .errors import NetworkError, PoemsFhirError
    from .sync.config import load_settings
    from .sync.runner import StopFlag, run_once, setup_logging

    flags["format"] = flags.pop("format_")
    try:
        settings = load_settings(config_file, flags)
        settings.check()
    except PoemsFhirError as exc:
        _fail(str(exc), exc.exit_code)
    setup_logging(settings.log_format)
    stop = StopFlag()
    stop.install()
    interval = settings.interval()
    worst = EXIT_OK
    while True:
        def progress(items: Any) -> Any:
            items = list(items)
            if not sys.stderr.isatty():
                return items
            return _ProgressIter(items)
        try:
            summary, extra = run_once(settings, stop, progress)
        except NetworkError as exc:
            if interval is None:
                _fail(str(exc), exc.exit_code)
            # a long-lived loop survives an outage: report it and try again at the next interval
            click.echo(f"poems-fhir: error: {exc} (retrying in {settings.every})", err=True)
            worst = max(worst, exc.exit_code)
            if stop.event.wait(interval):
                break
            continue
        except PoemsFhirError as exc:
            _fail(str(exc), exc.exit_code)
        _print_summary(summary, extra, settings.format)
        code = EXIT_SKIPPED if (summary.failed or summary.conflicts) else EXIT_OK
        worst = max(worst, code)
        if interval is None or stop():
            break
        if stop.event.wait(interval):
            break
    sys.exit(worst)


class _ProgressIter:
    def __init__(self, items: list[str]) -> None:
        self.items = items

    def __iter__(self) -> Any:
        with click.progressbar(self.items, label="syncing", file=sys.stderr) as bar:
            yield from bar


def _print_summary(summary: Any, extra: list[str], fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps({**summary.counts(), "completed": summary.completed,
                               "conclusions": summary.conclusions,
                               "problems": summary.problems + extra}, indent=2))
        return
    for c in summary.conclusions:
        missing = f"; missing: {', '.join(c['missing'])}" if c["missing"] else ""
        flags = f"; flags: {', '.join(c['flags'])}" if c["flags"] else ""
        click.echo(f"{c['patient']}: {c['classification']}{missing}{flags}")
    for p in summary.problems + extra:
        click.echo(f"problem: {p}")
    counts = summary.counts()
    click.echo("summary: " + ", ".join(f"{k}={v}" for k, v in counts.items())
               + ("" if summary.completed else " (stopped early)"))


@main.group()
def mappings() -> None:
    """Check and inspect mapping files."""


@mappings.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def mappings_check(files: tuple[str, ...], fmt: str) -> None:
    """Report every problem in site mapping files (YAML) or ConceptMaps (JSON).

    Each problem names the file, the line and key, and a fix. The files are checked on their own
    and merged over the default mapping, as `evaluate --mappings` would use them.
    Exit code 0 when they are usable, 2 when not.

    \b
    Example:
      poems-fhir mappings check sample_bundles/site-local/site-mapping.yaml
    """
    from .mapping.conceptmap import load_concept_map

    problems = []
    notes = []
    for f in files:
        if f.endswith(".json"):
            try:
                cm = load_concept_map(f)
                notes.extend(cm.skipped)
            except MappingError as exc:
                problems.extend(exc.problems)
    if not problems:
        try:
            compiled = load_mapping(list(files))
        except MappingError as exc:
            problems.extend(exc.problems)
        else:
            unverified = _unverified(compiled)
    if fmt == "json":
        click.echo(json.dumps({
            "ok": not problems,
            "problems": [p.__dict__ for p in problems],
            "notes": [p.__dict__ for p in notes],
        }, indent=2))
    else:
        for p in problems:
            click.echo(f"error: {p}")
        for p in notes:
            click.echo(f"note: {p}")
        if not problems:
            click.echo(f"ok: {', '.join(files)} merged over the default mapping without problems "
                       f"({unverified} UNVERIFIED codes/thresholds in force - see the file comments)")
    sys.exit(EXIT_USAGE if problems else EXIT_OK)


def _unverified(compiled: Any) -> int:
    codes = {(s, c) for (s, c), rules in compiled.by_code.items()
             for r in rules for ref in r.spec.codes
             if ref.system == s and ref.code == c and ref.verification == "UNVERIFIED"}
    thresholds = [t for t in compiled.thresholds.values() if t.verification == "UNVERIFIED"]
    return len(codes) + len(thresholds)


if __name__ == "__main__":  # pragma: no cover
    main()
