# SPDX-License-Identifier: Apache-2.0
"""`poems-fhir state ...`: look into and repair the sync state (a cache and journal, see state.py)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import PoemsFhirError

if TYPE_CHECKING:
    from .state import StateStore


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"poems-fhir: error: {message}", err=True)
    sys.exit(code)


def _state_path(config_file: Path | None, state: Path | None) -> Path:
    from .config import load_settings

    try:
        return load_settings(config_file, {"state": state} if state else {}).state
    except PoemsFhirError as exc:
        _fail(str(exc), exc.exit_code)
        raise  # unreachable


def _open(config_file: Path | None, state: Path | None, write: bool = False) -> StateStore:
    path = _state_path(config_file, state)
    if not path.exists():
        _fail(f"no state file at {path}: give --state FILE (or --config with its state key); a sync run creates it")
    from .state import StateStore  # here, not at import: every command of the CLI imports this module

    try:
        return StateStore(path, readonly=not write)
    except PoemsFhirError as exc:
        _fail(str(exc), exc.exit_code)
        raise


def _options(f: Any) -> Any:
    f = click.option("--state", type=click.Path(path_type=Path), help="State file [the sync default or --config's].")(f)
    return click.option("--config", "config_file", type=click.Path(path_type=Path), help="The sync TOML file.")(f)


def _patient_ref(value: str) -> str:
    return value if value.startswith("Patient/") else f"Patient/{value}"


STATE_HELP = """Look into and repair the sync state: runs, checkpoints, failures, takeovers.

\b
The state is a cache and a journal: ownership of what is on the server is read from the server,
so losing the file costs requests, never a clinician's work.

\b
Examples:
  poems-fhir state show --state /var/lib/poems-fhir/state.sqlite
  poems-fhir state conflicts --config /etc/poems-fhir/sync.toml
  poems-fhir state failed
  poems-fhir state retry Patient/123        # try it again at the next run
  poems-fhir state forget Patient/123       # drop everything the state knows about it
  poems-fhir state export --format json > state.json
  poems-fhir state lookup patient-3f9c2a81d0b4e6f1   # which patient a log line means
"""


@click.group("state", help=STATE_HELP)
def state_group() -> None:
    pass


@state_group.command("show")
@_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def show(config_file: Path | None, state: Path | None, fmt: str) -> None:
    """Runs, checkpoints and patient counts per server."""
    store = _open(config_file, state)
    counts: dict[str, dict[str, int]] = {}
    for p in store.patients():
        counts.setdefault(p["server"], {}).setdefault(p["status"], 0)
        counts[p["server"]][p["status"]] += 1
    data: dict[str, Any] = {
        "state": str(store.path),
        "checkpoints": store.checkpoints(),
        "runs": store.runs()[-10:],
        "patients": counts,
        "takeovers": len(store.takeovers()),
    }
    if fmt == "json":
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"state file: {store.path}")
    for c in data["checkpoints"]:
        click.echo(f"checkpoint: {c['server']}: since {c['since']} (set {c['updated_at']})")
    for server, by_status in counts.items():
        click.echo(f"patients: {server}: " + ", ".join(f"{k}={v}" for k, v in sorted(by_status.items())))
    click.echo(f"takeovers reported: {data['takeovers']}")
    for r in data["runs"]:
        summary = r["summary"] or {}
        brief = ", ".join(f"{k}={summary[k]}" for k in ("written", "unchanged", "failed", "conflicts") if k in summary)
        click.echo(
            f"run {r['id']}: {r['started_at']} -> {r['finished_at'] or '-'} {r['outcome'] or 'running/killed'}"
            f" ({brief})"
        )


@state_group.command("conflicts")
@_options
def conflicts(config_file: Path | None, state: Path | None) -> None:
    """Resources a clinician (or someone else) took over or deleted: reported once, left alone since."""
    store = _open(config_file, state)
    rows = store.takeovers()
    for t in rows:
        what = "deleted by someone" if t["status"] == "deleted" else f"(status {t['status'] or '?'}) taken over"
        click.echo(f"{t['patient']}: {t['ref']} {what}; reported {t['reported_at']}")
    if not rows:
        click.echo("no takeovers recorded")


@state_group.command("failed")
@_options
def failed(config_file: Path | None, state: Path | None) -> None:
    """Patients that failed (retried at every run) or were not found (404/410, reported once)."""
    store = _open(config_file, state)
    rows = [p for p in store.patients() if p["status"] in ("failed", "missing")]
    for p in rows:
        click.echo(f"{p['patient']}: {p['status']} ({p['attempts']} run(s)): {p['reason'] or '-'}")
    if not rows:
        click.echo("no failed patients")


@state_group.command("retry")
@_options
@click.argument("patient")
def retry(config_file: Path | None, state: Path | None, patient: str) -> None:
    """Evaluate PATIENT again at the next run, whatever its state (e.g. after a 404 was fixed)."""
    store = _open(config_file, state, write=True)
    with store.locked():
        n = store.retry(_patient_ref(patient))
    if not n:
        _fail(f"{_patient_ref(patient)} is not in the state (nothing to retry; name it with --patient in a sync run)")
    click.echo(f"{_patient_ref(patient)}: queued for the next run")


@state_group.command("forget")
@_options
@click.argument("patient")
def forget(config_file: Path | None, state: Path | None, patient: str) -> None:
    """Drop everything the state knows about PATIENT (its next run decides afresh from the server)."""
    store = _open(config_file, state, write=True)
    with store.locked():
        n = store.forget(_patient_ref(patient))
    click.echo(f"{_patient_ref(patient)}: forgotten ({n} row(s))")


@state_group.command("export")
@_options
@click.option("--format", "fmt", type=click.Choice(["json"]), default="json", show_default=True)
def export(config_file: Path | None, state: Path | None, fmt: str) -> None:
    """Everything in the state as one JSON document."""
    click.echo(json.dumps(_open(config_file, state).export(), indent=2))


@state_group.command("lookup")
@_options
@click.option("--pseudonym-key-file", type=click.Path(path_type=Path), help="If the sync runs with one.")
@click.argument("name")
def lookup(config_file: Path | None, state: Path | None, pseudonym_key_file: Path | None, name: str) -> None:
    """Which patient a log pseudonym (patient-...) stands for: needs the installation's key."""
    store = _open(config_file, state)
    env = os.environ.get("POEMS_FHIR_PSEUDONYM_KEY")
    key_path = pseudonym_key_file or store.path.parent / "pseudonym.key"
    if not env and not key_path.exists():
        _fail(
            f"no pseudonym key at {key_path}: give --pseudonym-key-file or POEMS_FHIR_PSEUDONYM_KEY, as the sync run does"
        )
    key = store.pseudonym_key(pseudonym_key_file, env)
    from .job import pseudonym

    found = sorted({p["patient"] for p in store.patients() if pseudonym(key, p["patient"]) == name})
    if not found:
        _fail(
            f"{name} matches no patient in {store.path} (another installation's key, or a patient the state "
            "does not hold)",
            1,
        )
    for p in found:
        click.echo(p)
