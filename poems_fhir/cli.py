# SPDX-License-Identifier: Apache-2.0
"""The `poems-fhir` command line: parsing and presentation only.

Exit codes (a contract with schedulers and scripts; see README "Exit codes"):
  0  everything was read and evaluated
  1  some input was skipped (reported in the output's `errors`)
  2  usage error, unreadable input, or invalid mapping file
  70 internal error: a bug of poems-fhir (the resources/patients it hit are listed; --debug logs the
     traceback); everything else was still processed
  74 a write failed for want of space (a full disk): not a bug
"""

from __future__ import annotations

import contextlib

import datetime as dt
import itertools
import json
import logging
import os
import math
import sys
import signal
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable, Iterable
from typing import Any, cast

import click
import orjson

from . import __version__
from .criteria.profiles import DEFAULT_PROFILE, PROFILES, get_profile
from .criteria.scope import DEFAULT_TRIGGER, TriggerError, check_trigger
from .report.markup import terminal_line, terminal_text
from .errors import (
    EXIT_BROKEN_PIPE,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_IO,
    EXIT_TERMINATED,
    NO_SPACE_ERRNOS,
    PoemsFhirError,
)
from .fhir.read import MAX_RESOURCES_PER_PATIENT, InputError, SourceError, problem_count
from .mapping.rules import MappingError, load_mapping

EXIT_OK, EXIT_SKIPPED, EXIT_USAGE = 0, 1, 2
log = logging.getLogger("poems_fhir.cli")


def _open_source(paths: tuple[str, ...], max_per_patient: int, mapping: Any = None, workers: int = 1) -> Any:
    """The input as a spool of per-patient records (fhir/spool.py), removed when the command ends,
    read by ``workers`` processes. With the run's ``mapping``, Observations it cannot use keep only
    their identity (read.pruned)."""
    from .fhir.spool import open_paths
    from .mapping.extract import observation_pruner

    prune = observation_pruner(mapping) if mapping else None
    try:
        source = open_paths(paths, max_per_patient, prune=prune, workers=workers)
    except InputError as exc:
        _fail(str(exc))
    click.get_current_context().call_on_close(source.close)
    return source


def _iter_records(source: Any, patients: tuple[str, ...] = ()) -> Any:
    from .fhir.spool import iter_records

    return iter_records(source, patients or None)


#: what orjson writes differently from json.dumps: floats under 1e-4 ("0.00001", "1.5e-7" where
#: json writes "1e-05", "1.5e-07"); a digit string inside a text can match too (then json writes it)
_ORJSON_SMALL_FLOAT = b"0.0000"
_ORJSON_OPTIONS = (
    orjson.OPT_INDENT_2
    | orjson.OPT_PASSTHROUGH_SUBCLASS  # str/int subclasses and enums: the json module's way
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
)


def _fast_json(doc: Any) -> bytes | None:
    """``doc`` as orjson writes it (UTF-8) when that is byte-identical to json.dumps(indent=2,
    ensure_ascii=False) with non-finite floats as null; None otherwise (integers past 64 bits,
    keys that are not strings, lone surrogates, other types, small floats)."""
    try:
        blob = orjson.dumps(doc, option=_ORJSON_OPTIONS)
    except (TypeError, orjson.JSONEncodeError):
        return None
    return None if _orjson_differs(blob) else blob


def _orjson_differs(blob: bytes) -> bool:
    """``0.0000`` or a digit before ``e-`` (what the regex ``0\\.0000|[0-9]e-`` finds), by bytes.find:
    a regex that starts with a character class tries every position (~0.1 ms per patient)."""
    if _ORJSON_SMALL_FLOAT in blob:
        return True
    at = blob.find(b"e-", 1)
    while at != -1:
        if 0x30 <= blob[at - 1] <= 0x39:
            return True
        at = blob.find(b"e-", at + 1)
    return False


def _indented(text: bytes) -> bytes:
    """UTF-8 JSON text shifted by four spaces, to sit inside the `evaluate --format json` list. Not
    textwrap.indent: it splits lines at U+2028, U+0085 and the like too, which json.dumps leaves
    unescaped inside strings (ensure_ascii=False), and would put spaces into a patient's text."""
    return b"    " + text.replace(b"\n", b"\n    ")


def _json(doc: Any) -> str:
    """JSON text that strict parsers accept: a non-finite float (never from input - the boundary
    refuses those - but possibly from arithmetic on extreme values) becomes null. Written by orjson
    (C speed) where its text is byte-identical to json.dumps(indent=2), by the json module otherwise."""
    fast = _fast_json(doc)
    return fast.decode("utf-8") if fast is not None else _module_json(doc)


def _json_bytes(doc: Any) -> bytes:
    """_json as UTF-8 bytes: `evaluate --format json` writes them as they are (a patient's item is
    ~10 KB; decoding it only for the output stream to encode it again cost ~0.7 s per 20,000). A
    lone surrogate, which UTF-8 cannot carry, is written as its JSON escape (the same string)."""
    fast = _fast_json(doc)
    if fast is not None:
        return fast
    text = _module_json(doc)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _module_json(doc, ensure_ascii=True).encode("ascii")


def _module_json(doc: Any, ensure_ascii: bool = False) -> str:
    """_json by the json module alone: the text that the orjson path must reproduce byte for byte."""

    def clean(node: Any) -> Any:
        if isinstance(node, float) and not math.isfinite(node):
            return None
        if isinstance(node, dict):
            return {k: clean(v) for k, v in node.items()}
        if isinstance(node, list):
            return [clean(v) for v in node]
        return node

    try:
        return json.dumps(doc, indent=2, ensure_ascii=ensure_ascii, allow_nan=False)
    except ValueError:
        return json.dumps(clean(doc), indent=2, ensure_ascii=ensure_ascii, allow_nan=False)


def _exit_code(errors: list[SourceError]) -> int:
    if any(e.internal for e in errors):
        return EXIT_INTERNAL
    return EXIT_SKIPPED if errors else EXIT_OK


def _out_of_space(exc: BaseException) -> str | None:
    """Where a write failed for want of space (a full, read-only or over-quota disk), or None."""
    if isinstance(exc, sqlite3.OperationalError):
        # "disk I/O error": what SQLite says when a write is refused (a file-size limit, `ulimit -f`, probe59
        # D3; a failing disk) - an I/O error, exit 74 (EX_IOERR), not an internal one
        text = str(exc)
        return "a database (the state or the spool)" if "disk is full" in text or "disk I/O error" in text else None
    if isinstance(exc, OSError) and exc.errno in NO_SPACE_ERRNOS:
        return os.fsdecode(exc.filename) if isinstance(exc.filename, (str, bytes)) else "the output (stdout)"
    return None


def _terminated(signum: int, frame: Any) -> None:
    sys.exit(EXIT_TERMINATED)


class _GuardedGroup(click.Group):
    """The last resort: an unexpected exception anywhere becomes one line and exit code 70 (EXIT_INTERNAL);
    the traceback only with --debug."""

    def invoke(self, ctx: click.Context) -> Any:
        # SIGTERM ends the command through SystemExit, so its temporary spool and files are removed
        # (the default action kills at once); sync and serve install their own graceful stop
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _terminated)
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            # Ctrl-C: not "some input was skipped" (click's Abort would exit 1 - probe51 D5); the spool and
            # the workers are gone by now, as after SIGTERM
            click.echo("poems-fhir: interrupted (Ctrl-C); nothing after this point was evaluated or written", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
            raise
        except BrokenPipeError:
            # the reader went away (`poems-fhir evaluate … | head`): not a bug; end quietly, as a
            # process killed by SIGPIPE would (the shell's 141), without a second error at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(EXIT_BROKEN_PIPE)
        except (OSError, sqlite3.OperationalError) as exc:
            where = _out_of_space(exc)
            if where is None:
                self._internal(exc, f"{type(exc).__name__}: {str(exc)[:300]}")
            # not a bug: the machine (probe32: reported as an internal error, exit 70)
            click.echo(
                f"poems-fhir: cannot write {where}: {exc.strerror if isinstance(exc, OSError) else exc}; "
                "free space, or point --out, --state or TMPDIR (the spool of large inputs) to another disk",
                err=True,
            )
            sys.exit(EXIT_IO)
        except PoemsFhirError as exc:
            # an error of ours a command did not catch is still no bug: its class says the exit code
            # (probe51 D4: a read-only HOME, where the file-name key is kept, was "internal error ... report it")
            click.echo(f"poems-fhir: {exc}", err=True)
            sys.exit(exc.exit_code)
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
        if _logs_json():
            from .sync.events import ev

            # `sync --log-format json`: the fatal line is a JSON object too (probe120: a bare text line among them)
            log.error("poems-fhir: internal error: %s; please report it", what, extra=ev("run.internal_error"))
        else:
            click.echo(f"poems-fhir: internal error: {terminal_line(what)}; please report it", err=True)
        sys.exit(EXIT_INTERNAL)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the sys.stderr of the moment (tests and embedders swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def _debug_requested() -> bool:
    """Whether `poems-fhir --debug` was given (the command's own logging keeps its debug records)."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.find_root().params.get("debug"))


def _logs_json() -> bool:
    """Whether the poems_fhir logs are JSON lines now (`sync --log-format json` set them up)."""
    from .sync.events import JsonFormatter

    return any(isinstance(h.formatter, JsonFormatter) for h in logging.getLogger("poems_fhir").handlers)


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


def _fail(message: str, code: int = EXIT_USAGE, hint: str | None = None, *, lines: bool = False) -> None:
    """The error on stderr, one line whatever it quotes (a file's or a server's words: probe91b D1, a CR/LF
    in a `next` link forged a log line); ``lines``: a message of our own lines (a mapping file's problems),
    each made one line so; then our own ``hint``."""
    said = "\n".join(map(terminal_line, message.split("\n"))) if lines else terminal_line(message)
    click.echo(f"poems-fhir: error: {said}" + (f"\n{hint}" if hint else ""), err=True)
    sys.exit(code)


_LANGUAGE_HELP = (
    "Language of every clinician-facing text (page, narrative, conclusion, CarePlan): en, ru, kk, or "
    "any language with a catalog in poems_fhir/locale."
)


def _language(value: str) -> str:
    from .i18n import UnknownLanguageError, translator

    try:
        return translator(value).language
    except UnknownLanguageError as exc:
        raise click.BadParameter(str(exc), param_hint="--language") from None


def _trigger(values: tuple[str, ...]) -> tuple[str, ...]:
    try:
        return check_trigger(values or DEFAULT_TRIGGER)
    except TriggerError as exc:
        _fail(f"--trigger: {exc}")
        raise  # unreachable: _fail exits


_TRIGGER_HELP = (
    "Criterion that puts a patient in scope (repeatable; any one present suffices) "
    f"[{', '.join(DEFAULT_TRIGGER)}]. A patient whose criteria are met is always in scope."
)
_ALL_HELP = (
    "Show the full detail of out-of-scope patients too (criteria, withheld flags, missing work-up, "
    "response, risk), for audits. Without it they get one line / a quiet entry."
)


def _load_mapping(files: tuple[str, ...]):  # type: ignore[no-untyped-def]
    try:
        return load_mapping(list(files))
    except MappingError as exc:
        _fail(str(exc), hint="Run `poems-fhir mappings check FILE` for details.", lines=True)


def _print_version(ctx: click.Context, param: Any, value: bool) -> None:
    """--version: the program and the mapping in force (default, plus POEMS_FHIR_MAPPINGS if set)."""
    if not value or ctx.resilient_parsing:
        return
    import os

    click.echo(f"poems-fhir {__version__}")
    site: list[str | Path] = [f for f in os.environ.get("POEMS_FHIR_MAPPINGS", "").split(",") if f.strip()]
    try:
        identity = load_mapping(site).identity
    except MappingError as exc:
        click.echo(f"mapping: not loadable ({len(exc.problems)} problem(s); run `poems-fhir mappings check`)")
    else:
        for m in identity:
            click.echo(f"mapping: {m['name']} {m['version']} ({m['file']}, sha256 {m['sha256'][:12]})")
    ctx.exit(0)


@click.group(cls=_GuardedGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and the mapping version in force, then exit.",
)
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
      poems-fhir config check --config sync.toml --online
      poems-fhir mappings coverage export/ --format json
    """
    _setup_cli_logging(debug)
    for stream in (sys.stdout, sys.stderr):  # a stray undecodable file name must not end the output
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


def _reading_options(command: Any) -> Any:
    """The options `evaluate` and `report` share: the reader's language and the per-patient bound."""
    command = click.option(
        "--max-resources-per-patient",
        "max_per_patient",
        type=click.IntRange(min=1),
        default=MAX_RESOURCES_PER_PATIENT,
        show_default=True,
        help="A patient with more relevant resources is reported and not evaluated.",
    )(command)
    return click.option(
        "--language", default="en", show_default=True, callback=lambda c, p, v: _language(v), help=_LANGUAGE_HELP
    )(command)


def _workers_option(command: Any) -> Any:
    """--workers N: patients are evaluated by N processes (default: every core); output is the same."""

    def convert(ctx: click.Context, param: Any, value: str) -> int:
        from .parallel import parse_workers

        try:
            return parse_workers(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None

    return click.option(
        "--workers",
        default="auto",
        show_default=True,
        envvar="POEMS_FHIR_WORKERS",  # as sync reads it (probe51 D8: evaluate ignored it)
        show_envvar=True,
        callback=convert,
        help="Worker processes evaluating patients (0 or auto: every core; 1: in this process). "
        "The output is the same, in the same order, for any number.",
    )(command)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "--as-of",
    "as_of",
    type=_Date(),
    help="Evaluate with facts effective on or before DATE only (for response: the restaging point).",
)
@click.option(
    "--baseline",
    type=_Date(),
    help="Response baseline: the last measurement on or before DATE "
    "(default: the last one before the first treatment).",
)
@click.option(
    "--profile",
    type=click.Choice(sorted(PROFILES)),
    default=DEFAULT_PROFILE,
    show_default=True,
    help="Rule profile (criteria set).",
)
@click.option(
    "--mappings",
    "mapping_files",
    multiple=True,
    type=click.Path(),
    help="Site mapping YAML or ConceptMap JSON, merged over the default (repeatable).",
)
@click.option("--patient", "patients", multiple=True, help="Only this patient (Patient/ID or ID; repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--out",
    type=click.Path(),
    default=None,
    help="Write the FHIR transaction Bundle(s): FILE.json for all patients in one, or a DIR "
    "for one transaction per patient.",
)
@click.option(
    "--report-status",
    type=click.Choice(["partial", "preliminary"]),
    default="partial",
    show_default=True,
    help="DiagnosticReport.status of written reports (never 'final').",
)
@click.option("--trigger", "trigger", multiple=True, help=_TRIGGER_HELP)
@click.option("--all", "--show-out-of-scope", "show_all", is_flag=True, help=_ALL_HELP)
@_reading_options
@_workers_option
def evaluate(
    paths: tuple[str, ...],
    as_of: dt.date | None,
    baseline: dt.date | None,
    profile: str,
    mapping_files: tuple[str, ...],
    patients: tuple[str, ...],
    fmt: str,
    out: str | None,
    report_status: str,
    trigger: tuple[str, ...],
    show_all: bool,
    language: str = "en",
    max_per_patient: int = MAX_RESOURCES_PER_PATIENT,
    workers: int = 1,
) -> None:
    """Evaluate the POEMS criteria for every patient found in PATHS.

    PATHS are FHIR Bundle JSON files (collection, searchset, transaction, batch, document),
    NDJSON files (bulk-export style) or folders of them. One result per patient.

    Only patients in scope (a --trigger criterion present: by default polyneuropathy or a
    monoclonal plasma-cell disorder) get the full detail and a write-back; the others get one
    line each and a count (--all shows everything, for audits).

    \b
    Examples:
      poems-fhir evaluate sample_bundles/classic-poems.json
      poems-fhir evaluate sample_bundles/origin-case --as-of 2019-02-28
      poems-fhir evaluate sample_bundles/site-local --mappings sample_bundles/site-local/site-mapping.yaml
      poems-fhir evaluate bulk-export/*.ndjson --format json
      poems-fhir evaluate sample_bundles/classic-poems.json --out writeback.json
      poems-fhir evaluate sample_bundles/ --out out/   # one transaction per patient
      poems-fhir evaluate bulk-export/ --all           # full detail for out-of-scope patients too
    """
    from .criteria.scope import ScreeningCounts
    from .parallel import map_patients, select_patients
    from .report.json_report import screening_to_dict
    from .report.text_report import render_screening

    scope_trigger = _trigger(trigger)
    mapping = _load_mapping(mapping_files)
    rule_profile = get_profile(profile)
    read = _open_source(paths, max_per_patient, mapping, workers)
    # One patient at a time: its record is built from the spool, its result printed (and its
    # transaction built) and then dropped, so memory holds neither the input nor the evaluations.
    failed: list[SourceError] = []
    errors = list(read.errors)
    unlisted = problem_count(read.errors) - len(read.errors)  # past the listed ones: counted, not named
    writer = _OutWriter(Path(out), mapping, report_status, errors, language) if out else None
    screening = ScreeningCounts()
    quiet: list[str] = []  # one line per out-of-scope patient, after the in-scope detail
    evaluated = 0
    if fmt == "json":
        head = {"poems_fhir_version": __version__, "mapping": mapping.identity, "trigger": list(scope_trigger)}
        click.echo(_json(head)[:-2] + ',\n  "patients": [', nl=False)  # flushed: the items go under it
        # each item's bytes as they are, under the flushed head (click.echo would probe the stream per call)
        items_out = getattr(sys.stdout, "buffer", None)
    work = _evaluate_work(mapping, rule_profile, as_of, baseline, scope_trigger, fmt, show_all, writer)
    source = read
    keys = select_patients(source.patients(), patients)
    errors += _unknown_patients(keys, patients)
    # in patient order whatever the number of workers: the output is the same for any --workers
    done = map_patients(source, keys, work, workers)
    with click.progressbar(
        done, length=len(keys), label="evaluating", file=sys.stderr, hidden=not sys.stderr.isatty() or len(keys) < 20
    ) as items:
        for item in items:
            if item.error is not None:  # an internal error costs this patient only
                failed.append(item.error)
                continue
            shown: _Shown = item.value  # type: ignore[assignment]  # no error: a value
            errors.extend(shown.errors)
            if shown.merged:  # a record a merge retired: listed, not evaluated (probe79 D1)
                continue
            # ScreeningCounts.add: only the scope's in_scope crosses from a worker (its evidence is slow to unpickle)
            (screening.in_scope if shown.in_scope else screening.out_of_scope)[shown.classification.value] += 1
            if writer and shown.out is not None:
                writer.accept(shown.out)
            if fmt == "json":
                blob = (b",\n" if evaluated else b"\n") + shown.text  # type: ignore[operator]
                if items_out is not None:
                    items_out.write(blob)
                else:
                    click.echo(blob, nl=False)
            elif shown.quiet:
                quiet.append(cast(str, shown.text))  # bytes for --format json only
            else:
                click.echo(shown.text)
            evaluated += 1
    errors[len(read.errors) : len(read.errors)] = failed
    written = writer.finish() if writer else []
    if fmt == "json":
        if items_out is not None:
            items_out.flush()
        tail = _json(
            {"screening": screening_to_dict(screening), "errors": [e.to_dict() for e in errors], "written": written}
        )
        click.echo(("\n  ]" if evaluated else "]") + ",\n" + tail[2:])
    else:
        if quiet:
            click.echo(
                f"Out of scope - no reason to suspect POEMS under the trigger ({', '.join(scope_trigger)}); "
                "no flags, work-up or risk factors (--all shows them):"
            )
            for line in quiet:
                click.echo("  " + line)
            click.echo("")
        for w in written:
            click.echo(
                f"wrote {w['file']}: transaction of {w['entries']} entries for {w['patients']} patient(s) "
                "(DiagnosticReport, CarePlan proposal, criterion Observations, Device, Provenance)"
            )
        click.echo(
            f"{evaluated} patient(s) evaluated from {read.files} file(s), "
            f"{read.resources} resources; {len(errors) + unlisted} input problem(s)."
        )
        click.echo(f"Screening: {render_screening(screening)}.")
        if out and screening.total_out_of_scope:
            click.echo(f"Not written back: {screening.total_out_of_scope} out-of-scope patient(s).")
        for e in errors:
            click.echo("  " + _skipped(e))
    sys.exit(_exit_code(errors))


@dataclass
class _Shown:
    """One patient as `evaluate` prints it, built where it was evaluated (maybe a worker process):
    the text itself, not the evaluation, crosses back to the parent."""

    errors: list[SourceError]
    in_scope: bool
    classification: Any  # Classification
    text: str | bytes  # the JSON item (UTF-8), the text detail, or the out-of-scope line
    quiet: bool  # text is an out-of-scope line, printed after the in-scope detail
    out: Any = None  # the --out transaction (_OutWriter.prepare)
    merged: bool = False  # a record a merge retired: not evaluated, its problem in ``errors``


def _evaluate_work(
    mapping: Any,
    profile: Any,
    as_of: dt.date | None,
    baseline: dt.date | None,
    trigger: tuple[str, ...],
    fmt: str,
    show_all: bool,
    writer: _OutWriter | None,
) -> Any:
    """`evaluate`'s per-patient work: evaluate, render, build the write-back (in a worker process)."""
    from .pipeline import evaluate_record, merged_record_problem, run_day
    from .report.json_report import patient_to_dict
    from .report.text_report import render_assessment, render_out_of_scope, render_response

    def work(patient: str, record: Any) -> _Shown:
        if (merged := merged_record_problem(record)) is not None:
            return _Shown([merged], False, None, b"", False, merged=True)
        r = evaluate_record(record, mapping, profile, as_of, baseline, trigger, clock_day=run_day())
        # out of scope means quiet: no write-back (an EHR full of "indeterminate" reports buries the real ones)
        out = writer.prepare(r) if writer and r.scope.in_scope else None
        quiet = False
        if fmt == "json":
            text: str | bytes = _indented(
                _json_bytes(patient_to_dict(r.assessment, r.response, r.risk, r.scope, show_all))
            )
        elif not r.scope.in_scope and not show_all:
            text, quiet = terminal_line(render_out_of_scope(r.assessment, r.scope)), True
        else:
            from .criteria.pathway import poems_context  # the risk factors' display gate

            applies = poems_context(r.assessment, r.response.first_treatment)
            text = terminal_text(
                render_assessment(r.assessment, scope=r.scope)
                + "\n"
                + render_response(r.response, r.risk, applies)
                + "\n"
            )
        return _Shown(r.extraction.errors, r.scope.in_scope, r.assessment.classification, text, quiet, out)

    return work


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "--html",
    "target",
    required=True,
    type=click.Path(),
    help="FILE.html for one patient, or a DIR for one page per patient (named without PHI).",
)
@click.option("--patient", "patients", multiple=True, help="Only this patient (Patient/ID or ID; repeatable).")
@click.option("--as-of", "as_of", type=_Date(), help="Show the state on DATE (restaging point).")
@click.option("--baseline", type=_Date(), help="Response baseline date (default: before the first treatment).")
@click.option("--profile", type=click.Choice(sorted(PROFILES)), default=DEFAULT_PROFILE, show_default=True)
@click.option("--mappings", "mapping_files", multiple=True, type=click.Path(), help="Site mapping files.")
@click.option("--trigger", "trigger", multiple=True, help=_TRIGGER_HELP)
@click.option(
    "--all",
    "--show-out-of-scope",
    "show_all",
    is_flag=True,
    help="Full pages for out-of-scope patients too (audit); without it a folder gets pages for "
    "in-scope patients only, and a single FILE.html of an out-of-scope patient is a quiet page.",
)
@_reading_options
@_workers_option
def report(
    paths: tuple[str, ...],
    target: str,
    patients: tuple[str, ...],
    as_of: dt.date | None,
    baseline: dt.date | None,
    profile: str,
    mapping_files: tuple[str, ...],
    trigger: tuple[str, ...],
    show_all: bool,
    language: str = "en",
    max_per_patient: int = MAX_RESOURCES_PER_PATIENT,
    workers: int = 1,
) -> None:
    """Write a self-contained HTML page per patient: criteria with evidence, what is missing, the
    response at each restaging, risk factors, the proposed care pathway and a timeline chart of
    M-protein, free light chains and VEGF (per specimen type) with treatments marked.

    \b
    Examples:
      poems-fhir report sample_bundles/origin-case --html origin.html
      poems-fhir report sample_bundles/ --html pages/          # one page per patient
      poems-fhir report export/ --patient Patient/123 --as-of 2019-08-20 --html restaging.html
      poems-fhir report sample_bundles/origin-case --html origin-ru.html --language ru
    """
    from .criteria.scope import ScreeningCounts
    from .fhir.file_names import name_key, patient_file_name
    from .parallel import map_patients, select_patients
    from .report.text_report import render_screening

    scope_trigger = _trigger(trigger)
    mapping = _load_mapping(mapping_files)
    read = _open_source(paths, max_per_patient, mapping, workers)
    out = Path(target)
    single = out.suffix.lower() == ".html"
    work = _page_work(mapping, get_profile(profile), as_of, baseline, scope_trigger, show_all, language, single)
    source = read
    failed: list[SourceError] = []  # a patient whose evaluation failed (internal error)
    later: list[SourceError] = []  # problems of the resources read for a page, then pages that failed
    page_errors: list[SourceError] = []
    screening = ScreeningCounts()
    evaluated = written = 0
    names = b""  # the file-name key, read when the first page is named
    first: _Page | None = None
    for e in read.errors:
        click.echo(_skipped(e), err=True)
    keys = select_patients(source.patients(), patients)
    unknown = _unknown_patients(keys, patients)  # probe59 D1: listed, exit 1, as `evaluate` does
    # pages are drawn by the workers, in patient order (--workers 1: in this process); a folder gets
    # each page as it comes, so memory holds one page, not every patient's (issue #11)
    for item in map_patients(source, keys, work, 1 if single else workers):
        if item.error is not None:
            failed.append(item.error)
            continue
        if item.value is None:
            continue
        r = item.value
        later.extend(r.errors)
        if r.merged:
            continue
        evaluated += 1
        (screening.in_scope if r.in_scope else screening.out_of_scope)[r.classification.value] += 1
        if single:
            first = first or r
        elif r.in_scope or show_all:
            written += 1
            names = names or name_key()  # keyed: a page's name must not give the patient id away
            _write_page(out / patient_file_name(r.patient, names, ".html"), r, show_all, page_errors)
    for e in failed:
        click.echo(_skipped(e), err=True)
    if not evaluated:
        _fail(
            "no patient found in the input (or none matching --patient)",
            EXIT_INTERNAL if any(e.internal for e in failed) else EXIT_USAGE,
        )
    if single and first is not None:
        if evaluated > 1:
            _fail(f"{evaluated} patients found: give --patient, or a folder for --html")
        _write_page(out, first, show_all, page_errors)
    else:
        _make_dir(out, "--html")  # the folder, even when every patient was out of scope
        if written < evaluated:
            click.echo(f"no page for {evaluated - written} out-of-scope patient(s) (--all writes them too)")
    click.echo(f"Screening: {render_screening(screening)}.")
    for e in later + page_errors + unknown:
        click.echo(_skipped(e), err=True)
    errors = list(read.errors) + failed + later + page_errors + unknown
    sys.exit(_exit_code(errors))


def _unknown_patients(keys: list[str], patients: tuple[str, ...] | None) -> list[SourceError]:
    """Each --patient that names nobody in the input: listed, never dropped in silence (probe32, probe59)."""
    from .parallel import select_patients

    return [
        SourceError("--patient", f"{wanted}: no such patient in the input; nothing evaluated for it")
        for wanted in patients or ()
        if not select_patients(keys, [wanted])
    ]


def _skipped(e: SourceError) -> str:
    """One input problem as the commands list it: where, which resource, what."""
    return terminal_line(f"skipped: {e.source}{' (' + e.resource + ')' if e.resource else ''}: {e.message}")


def _write_page(path: Path, r: _Page, show_all: bool, errors: list[SourceError]) -> None:
    """One `report` page to its file and its "wrote" line; a page that could not be drawn is an error."""
    if r.page_error is not None:  # last resort: one page's bug must not lose the others
        errors.append(r.page_error)
        return
    from .report.markup import xml_safe

    _make_dir(path.parent, "--html")
    # last resort too: a character no UTF-8 page can hold (a lone surrogate) must not stop the run
    _write_text(path, xml_safe(r.page or ""), "--html")
    what = r.classification.value if r.in_scope or show_all else "out of scope"
    click.echo(f"wrote {path} ({what}{', out of scope' if show_all and not r.in_scope else ''})")


@dataclass
class _Page:
    """One patient's page as `report` writes it, drawn where it was evaluated (maybe a worker)."""

    patient: str
    in_scope: bool
    classification: Any  # Classification
    errors: list[SourceError]
    page: str | None = None  # None: no page for this patient (out of scope in a folder)
    page_error: SourceError | None = None
    merged: bool = False  # a record a merge retired: no page, its problem in ``errors``


def _page_work(
    mapping: Any,
    profile: Any,
    as_of: dt.date | None,
    baseline: dt.date | None,
    trigger: tuple[str, ...],
    show_all: bool,
    language: str,
    single: bool,
) -> Any:
    """`report`'s per-patient work: evaluate and draw the page (in a worker process). For a single
    FILE.html (run in this process) only the first patient's page is drawn: more patients are an error."""
    from .fhir.read import internal_error
    from .pipeline import evaluate_record, html_for, merged_record_problem, run_day

    drawn: list[str] = []

    def work(patient: str, record: Any) -> _Page | None:
        if (merged := merged_record_problem(record)) is not None:  # its survivor's page shows it (probe79 D1)
            return _Page(patient, False, None, [merged], merged=True)
        r = evaluate_record(record, mapping, profile, as_of, baseline, trigger, clock_day=run_day())
        a = r.assessment
        page = _Page(a.patient, r.scope.in_scope, a.classification, r.extraction.errors)
        if (single and not drawn) or (not single and (r.scope.in_scope or show_all)):
            drawn.append(a.patient)
            generated = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
            try:
                page.page = html_for(r, mapping, audit=show_all, language=language, generated=generated)
            except Exception as exc:  # last resort: one page's bug must not lose the others
                page.page_error = internal_error(a.patient, a.patient, exc)
        return page

    return work


def _make_dir(path: Path, option: str) -> None:
    """mkdir -p, with a usage error (not a traceback) when a parent is a file or not writable."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if exc.errno in NO_SPACE_ERRNOS:  # a full or read-only disk: the machine's, exit 74 (probe59 D6)
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        _fail(
            f"{option} {path}: cannot create the folder ({exc.strerror or exc}); is a part of the path a regular file?"
        )


def _write_text(path: Path, text: str, option: str) -> None:
    """Write a whole file or none: into a temporary file beside it, then renamed over it, so a full disk
    or a kill never leaves a truncated transaction or page under the final name, nor destroys the one
    an earlier run wrote there (probe51 D2). Out of space is the machine's (exit 74, by _GuardedGroup),
    any other failure a usage error."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if exc.errno in NO_SPACE_ERRNOS:
            # named: the message says what could not be written (probe59 D7: "cannot write the output")
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        _fail(f"{option} {path}: cannot write ({exc.strerror or exc}); is a part of the path a regular file?")


class _OutWriter:
    """--out: one transaction file per patient written as each is evaluated (DIR), or all patients
    merged into one FILE.json at the end (then only the bundles are kept, not the evaluations)."""

    def __init__(
        self, target: Path, mapping: Any, report_status: str, errors: list[SourceError], language: str = "en"
    ) -> None:
        self.target, self.mapping, self.report_status, self.errors = target, mapping, report_status, errors
        self.language = language
        self.merged = target.suffix.lower() == ".json"
        _make_dir(target.parent if self.merged else target, "--out")
        self.now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        self.names = b""  # the file-name key (DIR only), read when the first file is named
        self.entries: list[dict[str, Any]] = []
        self.patients = 0
        self.written: list[dict[str, Any]] = []

    def prepare(self, r: Any) -> tuple[str, Any, Any]:
        """One patient's transaction, built where the patient was evaluated (maybe a worker process):
        (patient, SourceError, None) when it cannot be built, else (patient, None, the entries for
        FILE.json or the file's text for DIR)."""
        from .fhir.read import internal_error
        from .fhir.write import NotWritableError, WriteContext
        from .pipeline import html_for, transaction_for

        patient = r.assessment.patient
        ctx = WriteContext(self.now, self.mapping.identity, r.inputs, self.report_status, language=self.language)
        try:
            bundle = transaction_for(r, ctx, html_for(r, self.mapping, language=self.language, generated=self.now))
        except NotWritableError as exc:
            return patient, SourceError(patient, str(exc)), None
        except Exception as exc:  # last resort: one patient's bug must not lose the others
            return patient, internal_error(patient, patient, exc), None
        return patient, None, bundle["entry"] if self.merged else (_json(bundle) + "\n", len(bundle["entry"]))

    def accept(self, prepared: tuple[str, Any, Any]) -> None:
        from .fhir.file_names import name_key, patient_file_name

        patient, error, built = prepared
        if error is not None:
            self.errors.append(error)
            return
        self.patients += 1
        if self.merged:
            self.entries.extend(built)
            return
        text, entries = built
        self.names = self.names or name_key()
        path = self.target / patient_file_name(patient, self.names)
        _write_text(path, text, "--out")
        self.written.append({"file": str(path), "entries": entries, "patients": 1})

    def add(self, r: Any) -> None:
        self.accept(self.prepare(r))

    def finish(self) -> list[dict[str, Any]]:
        if self.merged:
            entries = _dedupe(self.entries)
            merged: dict[str, Any] = {"resourceType": "Bundle", "type": "transaction"}
            if entries:  # FHIR JSON has no empty arrays: nobody in scope is a transaction without entries
                merged["entry"] = entries
            _write_text(self.target, _json(merged) + "\n", "--out")
            self.written.append({"file": str(self.target), "entries": len(entries), "patients": self.patients})
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
nothing when nothing changed. Only patients in scope get reports: a --trigger criterion present (by
default polyneuropathy or a monoclonal plasma-cell disorder) or the criteria met; the others are
counted as out_of_scope. The summary counts patients per scope and classification.

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
  # exactly what a run reads and writes (README "Permissions"; a dry run needs only the .read ones)
  scope = "system/Patient.read system/Observation.read system/Condition.read system/Procedure.read system/DiagnosticReport.read system/DocumentReference.read system/Binary.read system/Specimen.read system/Medication.read system/MedicationStatement.read system/MedicationRequest.read system/MedicationAdministration.read system/CarePlan.read system/Provenance.read system/Device.read system/Device.write system/DiagnosticReport.write system/CarePlan.write system/Provenance.write"
  state = "/var/lib/poems-fhir/state.sqlite"
  profile = "mayo"
  mappings = ["/etc/poems-fhir/site.yaml"]
  every = "15m"
  log-format = "json"
  metrics-file = "/var/lib/node_exporter/textfile_collector/poems_fhir.prom"
  metrics-port = 9464               # /metrics and /healthz on 127.0.0.1 (with every)
  # bulk = "group:cohort-1"        # read through Bulk Data $export (README "Bulk export")

\b
Exit codes: 0 all ok; 1 some patients failed, went missing (404/410) or were first found taken over
by a clinician, or some input was skipped; 2 configuration/usage error (also: --server is not a FHIR
base; a damaged, locked or foreign state file); 3 server down, unreachable or its answers unusable;
4 authentication refused; 5 permission missing (HTTP 403; the message names the resource type,
interaction and scope); 70 internal error (a bug; --debug shows the traceback); 74 a full disk.
"""


@main.command(help=SYNC_HELP)
@click.option("--config", "config_file", type=click.Path(path_type=Path), help="TOML file; keys = these flags.")
@click.option("--server", help="FHIR R4 base URL.")
@click.option("--auth", type=click.Choice(["none", "bearer", "basic", "client-credentials", "smart-backend"]))
@click.option("--token-file", type=click.Path(path_type=Path), help="Bearer token file (or POEMS_FHIR_TOKEN).")
@click.option("--client-id", help="OAuth client id (the user for --auth basic).")
@click.option(
    "--client-secret-file",
    type=click.Path(path_type=Path),
    help="Client secret file (the password for basic; or POEMS_FHIR_CLIENT_SECRET).",
)
@click.option("--private-key", type=click.Path(path_type=Path), help="SMART Backend Services key: PEM or JWKS.")
@click.option("--token-url", help="Token endpoint (default: discovered from .well-known/smart-configuration).")
@click.option("--scope", help="OAuth scopes.")
@click.option("--state", type=click.Path(path_type=Path), help="SQLite state file [.poems-fhir/state.sqlite].")
@click.option(
    "--patient", multiple=True, help="Only this patient (Patient/ID or ID; repeatable; @FILE reads one per line)."
)
@click.option("--group", help="Only the members of this Group id.")
@click.option("--dry-run", type=click.Path(path_type=Path), help="Write the transactions to DIR, send nothing.")
@click.option("--format", "format_", type=click.Choice(["text", "json"]), help="Summary format [text].")
@click.option("--log-format", type=click.Choice(["text", "json"]), help="Log format on stderr [text].")
@click.option("--every", help="Loop: run every DURATION (30s, 15m, 1h); stop with SIGTERM/SIGINT.")
@click.option(
    "--request-deadline", help="End one HTTP exchange (connect to last byte) after DURATION, then retry it [5m]."
)
@click.option(
    "--run-deadline",
    help="Send no request after DURATION from the start of a run; the rest waits for the next run [6h].",
)
@click.option(
    "--source", multiple=True, type=click.Path(path_type=Path), help="Read Bundle/NDJSON files instead of a server."
)
@click.option("--out", type=click.Path(path_type=Path), help="With --source: folder for the transaction bundles.")
@click.option("--mappings", multiple=True, type=click.Path(path_type=Path), help="Site mapping YAML / ConceptMap JSON.")
@click.option("--profile", type=click.Choice(sorted(PROFILES)), help=f"Rule profile [{DEFAULT_PROFILE}].")
@click.option("--phi", is_flag=True, default=None, help="Show patient ids in logs and the summary (hashed by default).")
@click.option("--trigger", multiple=True, help=_TRIGGER_HELP)
@click.option("--language", help="Language of the written narrative, conclusions, CarePlan and page [en].")
@click.option(
    "--report-status",
    type=click.Choice(["partial", "preliminary"]),
    help="DiagnosticReport.status of written reports [partial]; never final.",
)
@click.option(
    "--metrics-file",
    type=click.Path(path_type=Path),
    help="Write Prometheus metrics to FILE.prom after each run (node exporter textfile collector).",
)
@click.option("--metrics-port", type=int, help="With --every: serve /metrics and /healthz on 127.0.0.1:PORT.")
@click.option(
    "--pseudonym-key-file",
    type=click.Path(path_type=Path),
    help="Secret of the keyed log pseudonyms [pseudonym.key beside the state; or POEMS_FHIR_PSEUDONYM_KEY].",
)
@click.option(
    "--retry-missing", type=int, help="Runs in which a 404/410 patient is tried again after being reported [0]."
)
@click.option("--bulk", help="Read the server by Bulk Data $export: system, patient or group:ID.")
@click.option("--bulk-dir", type=click.Path(path_type=Path), help="The export's folder [bulk-export beside --state].")
@click.option("--bulk-restart", is_flag=True, default=None, help="Abandon the folder's unfinished export; start anew.")
@click.option("--bulk-type-filter", is_flag=True, default=None, help="_typeFilter: only mapped Observation codes.")
@click.option("--bulk-parallel", type=int, help="Parallel downloads of --bulk [4].")
@click.option(
    "--all-observations",
    is_flag=True,
    default=None,
    help="With --server: read every Observation of a patient, also results known by display text only "
    "(more requests) [only the mapped codes].",
)
@click.option(
    "--workers",
    help="With --source: processes evaluating patients ahead of the writer, which stays one, in order "
    "(0 or auto: every core; 1: in this process) [auto].",
)
def sync(config_file: Path | None, **flags: Any) -> None:
    import os
    import time

    from .errors import NetworkError, PoemsFhirError
    from .fhir.auth import Redactor
    from .sync.config import load_settings
    from .sync.runner import StopFlag, run_once, setup_logging

    flags["format"] = flags.pop("format_")
    log_format = flags.get("log_format") or os.environ.get("POEMS_FHIR_LOG_FORMAT", "text")
    fmt = flags.get("format") or os.environ.get("POEMS_FHIR_FORMAT", "text")
    try:
        settings = load_settings(config_file, flags)
        settings.check()
    except PoemsFhirError as exc:
        _sync_fatal(exc, log_format, fmt)
    setup_logging(settings.log_format, debug=_debug_requested())
    stop = StopFlag()
    stop.install()
    interval = settings.interval()
    metrics, health = _sync_metrics(settings, interval)
    worst = EXIT_OK
    #: the run's secrets, once its credentials are read: masked in everything printed (probe80 D1)
    redactor = Redactor()
    try:
        while True:

            def progress(items: Any) -> Any:
                items = list(items)
                if not sys.stderr.isatty():
                    return items
                return _ProgressIter(items)

            metrics.run_started()
            started = time.monotonic()
            try:
                summary, extra = run_once(settings, stop, progress, redactor=redactor)
            except NetworkError as exc:
                metrics.run_failed(exc.exit_code)
                _write_metrics(metrics, settings)
                if interval is None:
                    _sync_fatal(exc, settings.log_format, settings.format, getattr(exc, "summary", None), redactor)
                # a long-lived loop survives an outage: report it and try again at the next interval
                _log_error(exc, settings.log_format, retry_in=settings.every)
                # every run leaves its summary on stdout (one line with --format json), failed ones too
                _print_summary(
                    getattr(exc, "summary", None), [], settings.format, one_line=True, error=exc, redact=redactor
                )
                worst = max(worst, exc.exit_code)
                if stop.event.wait(interval):
                    break
                continue
            except (PoemsFhirError, InputError, MappingError) as exc:  # a --source path or mapping file unusable
                metrics.run_failed(getattr(exc, "exit_code", EXIT_USAGE))
                _write_metrics(metrics, settings)
                fatal: Exception = (
                    exc
                    if not isinstance(exc, MappingError)
                    else _config_error(f"{exc}\nRun `poems-fhir mappings check FILE` for details.")
                )
                _sync_fatal(fatal, settings.log_format, settings.format, getattr(exc, "summary", None), redactor)
            except Exception as exc:  # a bug: the summary still prints (completed: false), then the traceback
                if getattr(exc, "summary", None) is not None:
                    # one line in --every mode, as every run's (probe120 D2: this one was indented JSON)
                    _print_summary(
                        exc.summary,  # type: ignore[attr-defined]
                        [],
                        settings.format,
                        one_line=interval is not None,
                        redact=redactor,
                    )
                raise
            code = (
                EXIT_SKIPPED
                if (summary.failed or summary.conflicts or summary.missing or summary.skipped_input)
                else EXIT_OK
            )
            if not summary.completed and stop():
                # stopped by SIGTERM/SIGINT before the cohort's end: not "all patients ok" to a scheduler
                # (probe33: exit 0 with completed: false); the shell's code for SIGTERM
                code = EXIT_TERMINATED
            duration = round(time.monotonic() - started, 3)
            metrics.run_finished(summary, code, summary.skipped_input)
            _write_metrics(metrics, settings)
            _log_summary(summary, code, duration)
            _print_summary(summary, extra, settings.format, one_line=interval is not None, redact=redactor)
            worst = max(worst, code)
            if interval is None or stop():
                break
            if stop.event.wait(interval):
                break
    finally:
        if health is not None:
            health.stop()
    sys.exit(worst)


def _sync_metrics(settings: Any, interval: float | None) -> tuple[Any, Any]:
    """The run's metrics (carried over from --metrics-file) and, in --every mode, the loopback server."""
    from .mapping.rules import MappingError
    from .sync.metrics import HealthServer, SyncMetrics
    from .sync.runner import mapping_for

    metrics = SyncMetrics(previous=settings.metrics_file)
    try:
        metrics.set_mapping(mapping_for(list(settings.mappings)).identity)
    except MappingError:
        pass  # reported by the run itself
    health = None
    if settings.metrics_port and interval is not None:
        try:
            health = HealthServer(metrics, settings.metrics_port, interval).start()
        except OSError as exc:
            _sync_fatal(
                _config_error(
                    f"cannot listen on 127.0.0.1:{settings.metrics_port} for --metrics-port: "
                    f"{exc.strerror or exc}; choose a free port"
                ),
                settings.log_format,
                settings.format,
            )
    return metrics, health


def _config_error(message: str) -> Exception:
    from .errors import ConfigError

    return ConfigError(message)


def _write_metrics(metrics: Any, settings: Any) -> None:
    import logging

    from .sync.events import ev

    if settings.metrics_file is None:
        return
    try:
        metrics.write(settings.metrics_file)
    except OSError as exc:
        logging.getLogger("poems_fhir.sync").error(
            "cannot write the metrics file %s: %s",
            settings.metrics_file,
            exc.strerror,
            extra=ev("metrics.write_failed", file=str(settings.metrics_file)),
        )


def _log_summary(summary: Any, code: int, duration: float) -> None:
    import logging

    from .sync.events import ev

    counts = summary.counts()
    logging.getLogger("poems_fhir.sync").info(
        "run %s in %.1fs: %s",
        "completed" if summary.completed else "stopped early",
        duration,
        ", ".join(f"{k}={v}" for k, v in counts.items()),
        extra=ev("run.finished", **counts, completed=summary.completed, duration_s=duration, exit_code=code),
    )


def _log_error(exc: Exception, log_format: str, **fields: Any) -> None:
    import logging

    from .sync.events import ev

    code = getattr(exc, "exit_code", EXIT_USAGE)
    retry = f" (retrying in {fields['retry_in']})" if fields.get("retry_in") else ""
    if log_format == "json":
        from .sync.runner import setup_logging

        setup_logging("json")  # also when the error came before the configuration was read
        logging.getLogger("poems_fhir.sync").error(
            "%s%s",
            exc,
            retry,
            extra=ev(
                "run.error" if retry else "fatal",
                error=str(exc),
                error_type=type(exc).__name__,
                exit_code=code,
                **fields,
            ),
        )
    else:
        # the error may quote a server's words (a `next` link with CR/LF forged a log line: probe91b D1)
        click.echo(f"poems-fhir: error: {terminal_line(str(exc))}{retry}", err=True)


def _sync_fatal(
    exc: Exception, log_format: str, fmt: str, summary: Any = None, redact: Callable[[str], str] | None = None
) -> None:
    """A fatal error: as a JSON log line with --log-format json; on stdout the summary of what the run
    did before it died (one JSON object with the error's fields with --format json). ``redact``: the
    run's secrets, masked in the error (probe80 D1)."""
    code = getattr(exc, "exit_code", EXIT_USAGE)
    if redact is not None:
        exc.args = tuple(redact(a) if isinstance(a, str) else a for a in exc.args)
    _log_error(exc, log_format)
    _print_summary(summary, [], fmt, error=exc, redact=redact)
    sys.exit(code)


def _error_doc(exc: Exception) -> dict[str, Any]:
    return {
        "completed": False,
        "error": str(exc),
        "error_type": type(exc).__name__,
        "exit_code": getattr(exc, "exit_code", EXIT_USAGE),
    }


class _ProgressIter:
    def __init__(self, items: list[str]) -> None:
        self.items = items

    def __iter__(self) -> Any:
        with click.progressbar(self.items, label="syncing", file=sys.stderr) as bar:
            yield from bar


#: stands for the summary's conclusions in the document until they are written, one at a time
_CONCLUSIONS = "\x00poems-fhir conclusions\x00"
_PROBLEMS = "\x00poems-fhir problems\x00"


def _echo_json_streamed(doc: dict[str, Any], lists: dict[str, Iterable[Any]], indent: int | None) -> None:
    """``click.echo(json.dumps(doc, indent=indent))`` with each ``lists[marker]`` in place of the
    top-level value ``marker``, written item by item: the text is the same, and the items (one per
    patient or problem, maybe spilled to disk) are never all in memory."""
    text = json.dumps(doc, indent=indent)
    places = sorted((at, marker) for marker in lists if (at := text.find(json.dumps(marker))) >= 0)
    done = 0
    for at, marker in places:
        click.echo(text[done:at], nl=False)
        _echo_json_list(lists[marker], indent)
        done = at + len(json.dumps(marker))
    click.echo(text[done:])


def _echo_json_list(items: Iterable[Any], indent: int | None) -> None:
    first = True
    for item in items:
        if indent is None:
            click.echo(("[" if first else ", ") + json.dumps(item), nl=False)
        else:  # the list is one level deep: its items are indented by two levels
            pad = " " * (2 * indent)
            click.echo(
                ("[\n" if first else ",\n") + pad + json.dumps(item, indent=indent).replace("\n", "\n" + pad), nl=False
            )
        first = False
    click.echo("[]" if first else ("]" if indent is None else "\n" + " " * indent + "]"), nl=False)


def _print_summary(
    summary: Any,
    extra: list[str],
    fmt: str,
    one_line: bool = False,
    error: Exception | None = None,
    redact: Callable[[str], str] | None = None,
) -> None:
    """The run's summary on stdout. After a fatal ``error`` the summary (if the run got that far) and
    the error are one JSON object, so that stdout always holds exactly one document per run. ``redact``
    masks the run's secrets in every text of the server's it may hold - problems, the fatal error - the
    last line of defence wherever a message was built (probe80 D1)."""
    from .report.json_report import screening_to_dict
    from .report.text_report import render_screening

    mask: Callable[[str], str] = redact if redact is not None else (lambda text: text)
    if fmt == "json":
        doc: dict[str, Any] = {}
        if summary is not None:
            doc = {
                **summary.counts(),
                "completed": summary.completed,
                "screening": screening_to_dict(summary.screening),
                **({"fatal": mask(summary.fatal)} if getattr(summary, "fatal", None) else {}),
                "conclusions": _CONCLUSIONS,
                "problems": _PROBLEMS,
            }
        if error is not None:
            doc.update(_error_doc(error))
            doc["error"] = mask(doc["error"])
        lists: dict[str, Iterable[Any]] = {}
        if summary is not None:
            problems = (mask(p) for p in itertools.chain(summary.problems, extra))
            lists = {_CONCLUSIONS: summary.conclusions, _PROBLEMS: problems}
        # --every: one object per line (JSON Lines), so a log shipper can take each run as it comes
        _echo_json_streamed(doc, lists, indent=None if one_line else 2)
        return
    if summary is None:
        return  # the error itself went to stderr
    for c in summary.conclusions:
        missing = f"; missing: {', '.join(c['missing'])}" if c["missing"] else ""
        flags = f"; flags: {', '.join(c['flags'])}" if c["flags"] else ""
        click.echo(terminal_line(f"{c['patient']}: {c['classification']}{missing}{flags}"))
        for alert in c.get("alerts", []):
            click.echo(terminal_line(f"  alert: {alert['code']}: {alert['message']}"))
    for p in itertools.chain(summary.problems, extra):
        click.echo(terminal_line(f"problem: {mask(p)}"))
    counts = summary.counts()
    click.echo(f"screening: {render_screening(summary.screening)}")
    click.echo(
        "summary: "
        + ", ".join(f"{k}={v}" for k, v in counts.items())
        + ("" if summary.completed else " (stopped early)")
    )


SERVE_HELP = """CDS Hooks 2.0 service: the patient-view hook answers with a card on the POEMS criteria.

\b
Every request must carry a JWT signed by a trusted EHR (--trust ISSUER=JWKS, a JWKS file or https URL;
repeatable). --public-url is the service's base URL as the EHR reaches it (the JWT audience is
PUBLIC_URL/cds-services/poems-patient-view). The card's language: the request's Accept-Language when
it names en, ru or kk, else --language. Keys of --config (TOML) are these flag names:

\b
  host = "0.0.0.0"
  port = 8080
  public-url = "https://cds.example.org"
  trust = ["https://ehr.example.org=https://ehr.example.org/.well-known/jwks.json"]
  language = "ru"
  state = "/var/lib/poems-fhir/serve.sqlite"
"""


@main.command(help=SERVE_HELP)
@click.option("--host", help="Address to listen on [127.0.0.1].")
@click.option("--port", type=int, help="Port [8080].")
@click.option("--trust", multiple=True, help="Trusted EHR: ISSUER=JWKS (JWK Set file or https URL; repeatable).")
@click.option(
    "--language",
    type=click.Choice(["en", "ru", "kk"]),
    help="Card language when the request's Accept-Language names none of them [en].",
)
@click.option("--config", "config_file", type=click.Path(path_type=Path), help="TOML file; keys = these flags.")
@click.option("--public-url", help="The service's base URL as the EHR reaches it (JWT audience) [http://HOST:PORT].")
@click.option("--mappings", multiple=True, type=click.Path(path_type=Path), help="Site mapping YAML / ConceptMap JSON.")
@click.option("--profile", type=click.Choice(sorted(PROFILES)), help=f"Rule profile [{DEFAULT_PROFILE}].")
@click.option("--trigger", multiple=True, help=_TRIGGER_HELP)
@click.option(
    "--state", type=click.Path(path_type=Path), help="SQLite file of card feedback [.poems-fhir/serve.sqlite]."
)
@click.option(
    "--all-observations",
    is_flag=True,
    default=None,
    help="Prefetch every Observation of the patient, not only those with mapped codes (for unmapped local lab codes).",
)
@click.option("--log-format", type=click.Choice(["text", "json"]), help="Log format on stderr [text].")
def serve(config_file: Path | None, **flags: Any) -> None:
    from .errors import PoemsFhirError
    from .serve.main import serve as run_service

    try:
        run_service(config_file, flags)
    except PoemsFhirError as exc:
        _fail(str(exc), getattr(exc, "exit_code", EXIT_USAGE))


@main.group()
def config() -> None:
    """Check a sync configuration before the first run."""


@config.command("check")
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path),
    help="The sync TOML file (POEMS_FHIR_* environment variables apply as for sync).",
)
@click.option(
    "--online",
    is_flag=True,
    help="Also check the server: CapabilityStatement, token, search and write "
    "permissions per resource type (reads only; nothing is written).",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def config_check(config_file: Path | None, online: bool, fmt: str) -> None:
    """Validate a sync configuration and print a checklist.

    \b
    Offline: TOML keys and types (file and line, "did you mean"), no secrets in the file, the
    secrets files (readable, not empty, not world-readable; the value is never shown), the mapping
    files (and how many UNVERIFIED entries are in force), the state, source, output and metrics paths,
    and whether the requested SMART scopes cover the job's reads and writes.
    With --online: the server's CapabilityStatement (FHIR R4), the token, a search per resource type
    the job reads, and the write interactions it needs as the CapabilityStatement advertises them.

    \b
    Exit codes: 0 ready (warnings allowed); 2 a configuration, secret, mapping or path problem;
    3 the configuration is fine but the server check failed (unreachable, token refused, permission missing).

    \b
    Examples:
      poems-fhir config check --config /etc/poems-fhir/sync.toml
      poems-fhir config check --config /etc/poems-fhir/sync.toml --online --format json
    """
    from .sync.check import check_config

    result = check_config(config_file, {}, online=online)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        marks = {"ok": "[ok]  ", "warn": "[warn]", "fail": "[FAIL]", "skip": "[skip]"}
        for c in result.checks:
            click.echo(f"{marks[c.status]} {c.name}: {c.detail}")
        verdict = {0: "ready", 2: "not ready: fix the configuration", 3: "not ready: the server check failed"}
        click.echo(f"{verdict[result.exit_code]} (exit {result.exit_code})")
    sys.exit(result.exit_code)


@main.group()
def mappings() -> None:
    """Check mapping files, and report what a site's data holds that they do not map (coverage)."""


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
        click.echo(
            json.dumps(
                {
                    "ok": not problems,
                    "problems": [p.__dict__ for p in problems],
                    "notes": [p.__dict__ for p in notes],
                },
                indent=2,
            )
        )
    else:
        for p in problems:
            click.echo(f"error: {p}")
        for p in notes:
            click.echo(f"note: {p}")
        if not problems:
            click.echo(
                f"ok: {', '.join(files)} merged over the default mapping without problems "
                f"({unverified} UNVERIFIED codes/thresholds in force - see the file comments)"
            )
    sys.exit(EXIT_USAGE if problems else EXIT_OK)


@mappings.command("coverage")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--mappings",
    "mapping_files",
    multiple=True,
    type=click.Path(),
    help="Site mapping YAML or ConceptMap JSON, merged over the default (repeatable).",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--server",
    help="Read from this FHIR server instead of PATHS (all Observations, Conditions, "
    "Procedures and DiagnosticReports of each --patient / --group member).",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Sync TOML for the server's auth settings (auth, token-file, client-id, ...).",
)
@click.option("--patient", "patients", multiple=True, help="Patient/ID or ID (repeatable; with --server).")
@click.option("--group", help="Group id whose members to read (with --server).")
def mappings_coverage(
    paths: tuple[str, ...],
    mapping_files: tuple[str, ...],
    fmt: str,
    server: str | None,
    config_file: Path | None,
    patients: tuple[str, ...],
    group: str | None,
) -> None:
    """Onboarding report for a new site: what the data holds that the mapping does not read.

    Lists relevant-looking codes and texts that map to nothing, rejected values and units,
    display-text fallback matches (lower confidence), values used without a unit, with counts
    and example references, and prints a site-mapping skeleton to start the site file from.
    Exit code 0 (the report is the result), 2 on a usage error.

    \b
    Examples:
      poems-fhir mappings coverage export/ --format json > coverage.json
      poems-fhir mappings coverage export/ --mappings site.yaml
      poems-fhir mappings coverage --server https://fhir.example.org/R4 --config sync.toml --group poems-screen
    """
    from .mapping.coverage import collect, render_text, to_dict

    mapping = _load_mapping(mapping_files)
    if server:
        from .errors import PoemsFhirError

        try:
            records: Any = _server_records(server, config_file, list(patients), group)
        except PoemsFhirError as exc:  # configuration (2), server (3), authentication (4), permission (5)
            _fail(str(exc), exc.exit_code)
    else:
        if not paths:
            _fail("give PATHS to read, or --server URL")
        wanted = {p.split("/", 1)[-1] for p in patients}
        read = _open_source(paths, MAX_RESOURCES_PER_PATIENT)
        records = (r for r in _iter_records(read) if not wanted or r.patient.split("/", 1)[-1] in wanted)
    cov = collect(records, mapping)
    # what the reader refused (unreadable lines and files, resources refused at the boundary): a site
    # must see it too - it is data the mapping never got to see
    unreadable = [e.to_dict() for e in getattr(read, "errors", [])] if not server else []
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "poems_fhir_version": __version__,
                    "mapping": mapping.identity,
                    **to_dict(cov),
                    "unreadable_input": unreadable,
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    else:
        text = terminal_text(render_text(cov))
        if unreadable:
            text += f"\n\nUnreadable input ({len(unreadable)}; each skipped, the rest was read):\n" + "\n".join(
                f"  {e['source']}: {e['message']}" for e in unreadable[:50]
            )
            if len(unreadable) > 50:
                text += f"\n  ... {len(unreadable) - 50} more (--format json lists them)"
        click.echo(text)
    sys.exit(EXIT_OK)


def _server_records(server: str, config_file: Path | None, patients: list[str], group: str | None) -> list[Any]:
    """Every clinical resource of the chosen patients, through the sync client and its auth."""
    import requests

    from .fhir.client import MAX_PATIENT_PAGES, FhirClient
    from .fhir.read import records_from_resources
    from .sync.config import load_settings
    from .sync.runner import build_auth
    from .sync.sources import group_patients

    if not patients and not group:
        _fail("--server needs --patient or --group: coverage reads whole records, not the mapped codes only")
    # --patient and --group are checked as sync checks them (FHIR ids: they go into request paths)
    settings = load_settings(config_file, {"server": server, "patient": tuple(patients), "group": group})
    session = requests.Session()
    client = FhirClient(settings.server or server, build_auth(settings, session), session=session)
    refs = [p if p.startswith("Patient/") else f"Patient/{p}" for p in settings.patient]
    if settings.group:
        found = client.get(f"Group/{settings.group}")
        if not isinstance(found, dict) or found.get("resourceType") != "Group":
            _fail(f"Group/{settings.group} did not return a Group resource")
        refs += group_patients(found, client.base_url, f"Group/{settings.group}")
    records: list[Any] = []
    for ref in sorted(set(refs)):
        pid = ref.split("/", 1)[1]
        resources: list[tuple[dict[str, Any], str]] = [(client.get(ref), f"{client.base_url}/{ref}")]
        for rtype in (
            "Observation",
            "Condition",
            "Procedure",
            "DiagnosticReport",
            "MedicationRequest",
            "MedicationStatement",
        ):
            params: dict[str, Any] = {"patient": pid, "_count": "200"}
            if rtype == "Observation":
                params["_include"] = ["Observation:specimen"]
            for resource in client.search(rtype, params, max_pages=MAX_PATIENT_PAGES):
                resources.append((resource, f"{client.base_url}/{resource.get('resourceType')}/{resource.get('id')}"))
        found, _errors = records_from_resources(resources)
        records.extend(r for r in found if r.patient == ref)
    return records


def _unverified(compiled: Any) -> int:
    from .sync.runner import unverified_in_force

    return len(unverified_in_force(compiled))


def _state_commands() -> None:
    from .sync.state_cli import state_group

    main.add_command(state_group)
    from .sync.export_cli import export

    main.add_command(export)


_state_commands()


def _distributed_help() -> str:
    from .distributed.command import HELP

    return HELP


@main.command("distributed", help=_distributed_help())
@click.argument("inputs", nargs=-1, required=True)
@click.option("--out", "out", required=True, help="Output folder or URL (fsspec), writable by every worker.")
@click.option(
    "--scheduler",
    envvar="DASK_SCHEDULER_ADDRESS",
    help="Dask scheduler address (tcp://host:8786), or 'synchronous' (no cluster: one process, for "
    "debugging). Default: a LocalCluster on this machine.",
)
@click.option("--local-workers", type=click.IntRange(min=1), help="Worker processes of the LocalCluster [all cores].")
@click.option(
    "--partitions", type=click.IntRange(min=1), help="Output partitions (files per kind) [one per 128 MiB of input]."
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
@click.option(
    "--results-only",
    is_flag=True,
    help="No transactions (and no pages): results and errors only, e.g. to screen a registry.",
)
@_reading_options
def distributed(**options: Any) -> None:
    from .distributed.command import run_distributed

    run_distributed(**options)


if __name__ == "__main__":  # pragma: no cover
    main()
