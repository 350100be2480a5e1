# SPDX-License-Identifier: Apache-2.0
"""The safety net for speed work: a digest of everything `poems-fhir evaluate` prints and writes.

    python benchmarks/output_digest.py                      # print the digests
    python benchmarks/output_digest.py --save digests.json  # keep them (before a change)
    python benchmarks/output_digest.py --check digests.json # compare (after it): exit 1 on a difference

For every input set it runs `poems-fhir evaluate --format json --all` (the full detail of every
patient, out of scope too) and `--out DIR` (one transaction per in-scope patient), in process, with
the clock frozen (the run time is stamped into the transactions and their pages), and hashes the
JSON printed, the messages on stderr, the exit code and every transaction file. Input sets: each
sample bundle (several profiles and an --as-of cut for the origin case), the Synthea corpus
(../shared/corpora/synthea) and both benchmark generators (benchmarks/evaluate_throughput.py and
benchmarks/text_context.py). An optimisation that changes any result changes a digest.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import importlib.util
import json
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any
from unittest import mock

from click.testing import CliRunner

from poems_fhir import cli
from poems_fhir.criteria.profiles import get_profile
from poems_fhir.fhir.read import read_paths
from poems_fhir.fhir.write import WriteContext
from poems_fhir.mapping.rules import load_mapping
from poems_fhir.pipeline import PatientResult, evaluate_record, transaction_for

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_bundles"
SYNTHEA = ROOT.parent / "shared" / "corpora" / "synthea"
FROZEN = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
NAME_KEY = "output-digest: a fixed file-name key, not a secret"
SITE = ["--mappings", str(SAMPLES / "site-local" / "site-mapping.yaml")]
SITE += ["--mappings", str(SAMPLES / "site-local" / "problems-conceptmap.json")]


class _FrozenDatetime(dt.datetime):
    @classmethod
    def now(cls, tz: Any = None) -> Any:  # type: ignore[override]
        return FROZEN if tz is not None else FROZEN.replace(tzinfo=None)


def _frozen_dt_module() -> types.SimpleNamespace:
    ns = types.SimpleNamespace(**{k: getattr(dt, k) for k in dir(dt) if not k.startswith("__")})
    ns.datetime = _FrozenDatetime
    return ns


def _module(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    if spec is None or spec.loader is None:
        raise RuntimeError(f"benchmarks/{name}.py not found")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:20]


def run_set(paths: list[str], extra: list[str], roots: list[str], pages: bool) -> dict[str, Any]:
    """Digest of one `evaluate` run: stdout JSON, stderr, exit code, transactions (through the CLI
    when ``pages``, which draws a chart per patient; else built in process without the page), and
    the repr of every evaluation (all it holds but the raw record)."""

    # the mapping files' own sha256 is in every output: a mapping edit would change every digest,
    # so it is masked, and only results that the edit changed show up
    digests = [i["sha256"] for i in load_mapping(_flags(extra).get("--mappings")).identity if "sha256" in i]

    def clean(text: str) -> str:
        for root in roots:  # input and output folders differ per run: not a result
            text = text.replace(root, "<root>")
        for digest in digests:
            text = text.replace(digest, "<mapping-sha256>")
        return text

    runner = CliRunner()
    # the file names of --out DIR are keyed by the installation's name key: a fixed key makes the digest the
    # same on every machine (a fresh machine made a new key, and every sample set's digest differed)
    fixed_key = mock.patch.dict("os.environ", {"POEMS_FHIR_NAME_KEY": NAME_KEY})
    with tempfile.TemporaryDirectory() as tmp, mock.patch.object(cli, "dt", _frozen_dt_module()), fixed_key:
        out_dir = str(Path(tmp) / "out")
        args = ["evaluate", *paths, "--format", "json", "--all", *extra]
        shown = runner.invoke(cli.main, args, catch_exceptions=False)
        transactions = hashlib.sha256()
        count, written_text, written_exit = 0, "", None
        if pages:
            written = runner.invoke(cli.main, ["evaluate", *paths, "--out", out_dir, *extra], catch_exceptions=False)
            written_text, written_exit = written.stderr + "\0" + written.stdout, written.exit_code
            files = sorted(Path(out_dir).glob("*.json")) if Path(out_dir).is_dir() else []
            roots = [*roots, out_dir, tmp]
            for f in files:
                transactions.update(f.name.encode() + b"\0" + clean(f.read_text(encoding="utf-8")).encode() + b"\0")
            count = len(files)
        evaluations = hashlib.sha256()
        for result, identity in _evaluations(paths, extra):
            evaluations.update(clean(_result_repr(result)).encode() + b"\0")
            if not pages and result.scope.in_scope:
                ctx = WriteContext(FROZEN, identity, result.extraction.used)
                bundle = transaction_for(result, ctx)
                transactions.update(clean(json.dumps(bundle, sort_keys=True)).encode() + b"\0")
                count += 1
        return {
            "json": _sha(clean(shown.stdout).encode()),
            "stderr": _sha(clean(shown.stderr + "\0" + written_text).encode()),
            "exit": [shown.exit_code, written_exit],
            "patients": len(json.loads(shown.stdout).get("patients", [])) if shown.stdout.startswith("{") else None,
            "evaluations": evaluations.hexdigest()[:20],
            "transactions": [count, transactions.hexdigest()[:20]],
        }


def _flags(extra: list[str]) -> dict[str, list[str]]:
    flags: dict[str, list[str]] = {}
    for flag, value in zip(extra[::2], extra[1::2], strict=True):
        flags.setdefault(flag, []).append(value)
    return flags


def _evaluations(paths: list[str], extra: list[str]) -> Any:
    """evaluate_record over the input, with the flags of ``extra`` that decide results."""
    flags = _flags(extra)
    mapping = load_mapping(flags.get("--mappings"))
    profile = get_profile(flags.get("--profile", ["mayo"])[0])
    as_of = dt.date.fromisoformat(flags["--as-of"][0]) if "--as-of" in flags else None
    baseline = dt.date.fromisoformat(flags["--baseline"][0]) if "--baseline" in flags else None
    for record in read_paths(paths).records:
        yield evaluate_record(record, mapping, profile, as_of, baseline), mapping.identity


def _canonical(node: Any) -> Any:
    """A repr-able form of ``node`` that does not depend on hash order (sets sorted)."""
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        fields = {f.name: _canonical(getattr(node, f.name)) for f in dataclasses.fields(node)}
        return (type(node).__name__, fields)
    if isinstance(node, (set, frozenset)):
        return ("set", sorted((_canonical(x) for x in node), key=repr))
    if isinstance(node, dict):
        return {repr(_canonical(k)): _canonical(v) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return [_canonical(x) for x in node]
    if isinstance(node, BaseException):
        return (type(node).__name__, str(node), _canonical(vars(node)))
    return node


def _result_repr(result: PatientResult) -> str:
    """Everything an evaluation holds except the raw input record."""
    held = (
        result.record.patient,
        result.extraction,
        result.assessment,
        result.response,
        result.response.clinical_overall,
        result.risk,
        result.steps,
        result.scope,
    )
    return repr(_canonical(held))


def input_sets(tmp: Path, patients: int) -> list[tuple[str, list[str], list[str]]]:
    """(name, paths, extra flags) for every input set; the generated ones last."""
    sets: list[tuple[str, list[str], list[str]]] = []
    for entry in sorted(SAMPLES.iterdir()):
        if entry.name in ("generate.py", "site-local"):
            continue
        sets.append((f"samples/{entry.name}", [str(entry)], []))
    sets.append(("samples/site-local", [str(SAMPLES / "site-local" / "export.ndjson")], SITE))
    origin = str(SAMPLES / "origin-case")
    sets.append(("samples/origin-case --as-of 2019-02-28", [origin], ["--as-of", "2019-02-28"]))
    sets.append(("samples/origin-case --as-of 2019-08-31", [origin], ["--as-of", "2019-08-31"]))
    sets.append(("samples/origin-case --baseline 2019-02-20", [origin], ["--baseline", "2019-02-20"]))
    for profile in ("dispenzieri-2003", "japan-2019"):
        sets.append((f"samples (all) --profile {profile}", [str(SAMPLES)], ["--profile", profile]))
    if SYNTHEA.is_dir():
        sets.append(("synthea", [str(SYNTHEA)], []))
        sets.append(("synthea --as-of 2015-01-01", [str(SYNTHEA)], ["--as-of", "2015-01-01"]))
    throughput = tmp / "throughput"
    throughput.mkdir()
    _module("evaluate_throughput").generate(throughput, patients)
    sets.append((f"evaluate_throughput --patients {patients}", [str(throughput)], []))
    text = tmp / "text_context"
    text.mkdir()
    text_module = _module("text_context")
    text_module._throughput_module().generate(text, patients // 2)
    text_module.add_texts(text, patients // 2)
    sets.append((f"text_context --patients {patients // 2}", [str(text)], []))
    return sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=2000, help="patients of the throughput generator")
    parser.add_argument("--save", type=Path, help="write the digests to this JSON file")
    parser.add_argument("--check", type=Path, help="compare with digests saved by --save; exit 1 on a difference")
    args = parser.parse_args()
    digests: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        sets = input_sets(Path(tmp), args.patients)
        roots = [str(SAMPLES), str(SYNTHEA), tmp]
        for name, paths, extra in sets:
            t = time.perf_counter()
            # pages (a chart each) cost ~0.3 s a patient: the generated sets get theirs without
            digests[name] = run_set(paths, extra, roots, pages=not name.startswith(("evaluate_", "text_")))
            print(f"{name:<45} {json.dumps(digests[name])}  ({time.perf_counter() - t:.1f} s)", flush=True)
    total = _sha(json.dumps(digests, sort_keys=True).encode())
    print(f"overall digest: {total}")
    if args.save:
        args.save.write_text(json.dumps({"overall": total, "sets": digests}, indent=2) + "\n")
    if args.check:
        expected = json.loads(args.check.read_text())
        differ = [n for n in expected["sets"] if expected["sets"][n] != digests.get(n)]
        if differ or expected["overall"] != total:
            print("DIFFERENT: " + (", ".join(differ) or "the set of inputs"), file=sys.stderr)
            sys.exit(1)
        print(f"identical to {args.check} ({len(expected['sets'])} input sets)")


if __name__ == "__main__":
    main()
