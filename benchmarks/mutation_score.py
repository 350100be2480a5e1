# SPDX-License-Identifier: Apache-2.0
"""Mutation testing with mutmut 3 ([tool.mutmut] in pyproject.toml): run it, sample it, score it.

    python benchmarks/mutation_score.py run [--sample N] [--seed S] [--children N] [GLOB ...]
    python benchmarks/mutation_score.py score [--sample-only | --ledger]
    python benchmarks/mutation_score.py save

`run` first restores the results recorded in benchmarks/mutation_ledger.json (so a run resumes where
an earlier one, on another machine, stopped) and records the results in it again as it goes.

`run` without --sample runs every mutant (or those matching GLOB, e.g. 'poems_fhir.sync.state.*');
a full run is hours on 2 cores. `--sample N` runs N mutants per module drawn at random (fixed seed),
recorded in mutants/sample.txt, so that the score of each module is an unbiased estimate.
`score` prints killed / checked per module as a Markdown table (README "Tests"), and the survivors;
`score --ledger` does so from the ledger alone (no mutants/ directory needed). `save` records the
results of mutants/ in the ledger. Run from the repository root (`make mutation` does).

The ledger keeps, per mutated function, mutmut's hash of the function's source and one letter per
mutant. A result is reused only while that hash is unchanged (mutmut's own rule for its cache);
a survivor, a suspicious result or a crash is never reused, so new tests get their chance at it
every run — only detected mutants (killed, timeout, caught by the type check) and mutants that no
test reaches are carried over.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import threading
import sys
from collections import Counter, defaultdict
from pathlib import Path

MUTMUT = [str(Path(sys.executable).with_name("mutmut"))]
SAMPLE_FILE = Path("mutants") / "sample.txt"
EQUIVALENT_FILE = Path(__file__).with_name("mutation_equivalent.txt")
LEDGER_FILE = Path(__file__).with_name("mutation_ledger.json")
#: mutmut exit code -> ledger letter, and the code a letter restores (None: run it again)
LETTER_BY_CODE = {1: "k", 3: "k", 36: "t", 24: "t", -24: "t", 152: "t", 255: "t", 37: "c", 33: "n", 5: "n", 0: "s"}
CODE_BY_LETTER: dict[str, int | None] = {"k": 1, "t": 36, "c": 37, "n": 33}
STATUS_BY_LETTER = {
    "k": "killed",
    "t": "timeout",
    "c": "caught by type check",
    "n": "no tests",
    "s": "survived",
    "x": "suspicious",
    "?": "not checked",
}
KILLED = {"killed", "timeout", "caught by type check"}  # a timeout is a detected mutant too
#: checked but not killed: a test process that died of a signal ("segfault") or gave an odd exit code
#: ("suspicious") proves nothing about the mutant, so it counts against the score until re-run
NOT_KILLED = ("survived", "no tests", "suspicious", "segfault")


def results() -> dict[str, str]:
    out = subprocess.run([*MUTMUT, "results", "--all", "true"], capture_output=True, text=True, check=False).stdout
    found: dict[str, str] = {}
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and name.startswith("poems_fhir."):
            found[name] = status
    return found


def equivalent() -> dict[str, str]:
    """Survivors that cannot change behaviour, with why (benchmarks/mutation_equivalent.txt)."""
    out = {}
    for line in EQUIVALENT_FILE.read_text(encoding="utf-8").splitlines():
        name, _, why = line.partition("#")
        if name.strip() and not line.startswith("#"):
            out[name.strip()] = why.strip()
    return out


def module_of(mutant: str) -> str:
    # poems_fhir.sync.job.xǁSyncJobǁrun__mutmut_3 / poems_fhir.criteria.engine.x_combine__mutmut_1
    return mutant.split(".x_")[0].split(".xǁ")[0]


def _module_name(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


def _read_meta(meta: Path) -> dict | None:
    try:
        return json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # mutmut may be writing it right now: take it next time
        return None


def load_ledger() -> dict[str, dict[str, dict[str, str]]]:
    if not LEDGER_FILE.exists():
        return {}
    return json.loads(LEDGER_FILE.read_text(encoding="utf-8"))


def save() -> int:
    """Record the results of mutants/*.meta in the ledger; returns how many mutants have a result."""
    ledger = load_ledger()
    for meta_path in sorted(Path("mutants").rglob("*.py.meta")):
        meta = _read_meta(meta_path)
        if meta is None:
            continue
        path = meta_path.relative_to("mutants").as_posix().removesuffix(".meta")
        module = _module_name(path)
        old = ledger.get(path, {})
        codes: dict[str, list[tuple[int, int | None]]] = defaultdict(list)
        for key, code in meta["exit_code_by_key"].items():
            func, _, number = key.removeprefix(module + ".").rpartition("__mutmut_")
            codes[func].append((int(number), code))
        functions: dict[str, dict[str, str]] = {}
        for func, digest in sorted(meta["hash_by_function_name"].items()):
            if func not in codes:
                continue
            known = old.get(func, {})
            before = known.get("results", "") if known.get("hash") == digest else ""
            letters = []
            for number, code in sorted(codes[func]):
                letter = "?" if code is None else LETTER_BY_CODE.get(code, "x")
                if letter == "?" and len(before) >= number:  # restored as "run again" and not run yet
                    letter = before[number - 1]
                letters.append(letter)
            functions[func] = {"hash": digest, "results": "".join(letters)}
        ledger[path] = functions
    LEDGER_FILE.write_text(json.dumps(ledger, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return sum(len(f["results"]) - f["results"].count("?") for funcs in ledger.values() for f in funcs.values())


def restore() -> int:
    """Write the ledger's reusable results into mutants/*.meta, where mutmut looks for them; mutmut
    then keeps them for the functions whose hash is unchanged. Returns how many were restored."""
    same = equivalent()
    restored = 0
    for path, functions in load_ledger().items():
        module = _module_name(path)
        meta_path = Path("mutants") / (path + ".meta")
        meta = _read_meta(meta_path) if meta_path.exists() else None
        if meta is None:
            meta = {
                "exit_code_by_key": {},
                "hash_by_function_name": {},
                "type_check_error_by_key": {},
                "durations_by_key": {},
                "estimated_durations_by_key": {},
            }
        hashes = meta["hash_by_function_name"]
        for func, known in functions.items():
            if hashes.setdefault(func, known["hash"]) != known["hash"]:
                continue  # the function changed since: mutmut runs its mutants again
            for number, letter in enumerate(known["results"], start=1):
                key = f"{module}.{func}__mutmut_{number}"
                code = 0 if letter == "s" and key in same else CODE_BY_LETTER.get(letter)
                if meta["exit_code_by_key"].get(key) is None:
                    meta["exit_code_by_key"][key] = code
                    restored += code is not None
        meta_path.parent.mkdir(parents=True, exist_ok=True)
        meta_path.write_text(json.dumps(meta, indent=4), encoding="utf-8")
    return restored


def _save_every(seconds: float, stop: threading.Event) -> None:
    while not stop.wait(seconds):
        save()


def run(globs: list[str], sample: int | None, seed: int, children: int) -> int:
    names = globs
    if sample:
        known = results()
        if not known:  # mutants are generated by the first `mutmut run`; match nothing to only generate them
            subprocess.run([*MUTMUT, "run", "--max-children", "2", "poems_fhir.no-such-module.*"], check=False)
            known = results()
        by_module: dict[str, list[str]] = defaultdict(list)
        for name in sorted(known):
            if not globs or any(Path(name).match(g) or name.startswith(g.rstrip("*")) for g in globs):
                by_module[module_of(name)].append(name)
        rng = random.Random(seed)
        names = [
            n
            for mod in sorted(by_module)
            for n in (by_module[mod] if len(by_module[mod]) <= sample else rng.sample(by_module[mod], sample))
        ]
        SAMPLE_FILE.write_text("\n".join(names) + "\n", encoding="utf-8")
        print(f"sampled {len(names)} mutants from {len(by_module)} modules -> {SAMPLE_FILE}")
    print(f"restored {restore()} results from {LEDGER_FILE}")
    stop = threading.Event()
    saver = threading.Thread(target=_save_every, args=(120.0, stop), daemon=True)
    saver.start()
    try:
        return subprocess.run([*MUTMUT, "run", "--max-children", str(children), *names], check=False).returncode
    finally:
        stop.set()
        print(f"{save()} results recorded in {LEDGER_FILE}")


def ledger_results() -> dict[str, str]:
    found = {}
    for path, functions in load_ledger().items():
        module = _module_name(path)
        for func, known in functions.items():
            for number, letter in enumerate(known["results"], start=1):
                found[f"{module}.{func}__mutmut_{number}"] = STATUS_BY_LETTER[letter]
    return found


def score(sample_only: bool, from_ledger: bool = False) -> None:
    found = ledger_results() if from_ledger else results()
    if sample_only and SAMPLE_FILE.exists():
        wanted = set(SAMPLE_FILE.read_text(encoding="utf-8").split())
        found = {k: v for k, v in found.items() if k in wanted}
    same = equivalent()
    found = {k: ("equivalent" if v == "survived" and k in same else v) for k, v in found.items()}
    per: dict[str, Counter[str]] = defaultdict(Counter)
    for name, status in found.items():
        per[module_of(name)][status] += 1
    print("| module | mutants | checked | killed | survived | equivalent | no tests | score |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    total: Counter[str] = Counter()
    for mod in sorted(per):
        c = per[mod]
        total.update(c)
        print(_row(mod, c))
    print(_row("**all**", total))
    survivors = sorted(n for n, s in found.items() if s in NOT_KILLED)
    if survivors:
        print(f"\nsurvivors ({len(survivors)}): show one with `.venv/bin/mutmut show NAME`")
        for n in survivors:
            print("  " + n)
    listed = sorted(n for n, s in found.items() if s == "equivalent")
    if listed:
        print(f"\nequivalent ({len(listed)}):")
        for n in listed:
            print(f"  {n}  # {same[n]}")


def _row(mod: str, c: Counter[str]) -> str:
    """score = killed / (checked - equivalent): an equivalent mutant is no bug a test could catch; a
    mutant no test reaches ("no tests") is a bug no test would catch, so it counts as checked."""
    killed = sum(c[s] for s in KILLED)
    checked = killed + c["equivalent"] + sum(c[s] for s in NOT_KILLED)
    real = checked - c["equivalent"]
    pct = f"{100 * killed / real:.0f} %" if real else "-"
    return (
        f"| {mod} | {sum(c.values())} | {checked} | {killed} | {c['survived']} | {c['equivalent']} | "
        f"{c['no tests']} | {pct} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("--sample", type=int)
    r.add_argument("--seed", type=int, default=16)
    r.add_argument("--children", type=int, default=2)
    r.add_argument("globs", nargs="*")
    s = sub.add_parser("score")
    s.add_argument("--sample-only", action="store_true")
    s.add_argument("--ledger", action="store_true")
    sub.add_parser("save")
    args = parser.parse_args()
    if args.command == "run":
        return run(args.globs, args.sample, args.seed, args.children)
    if args.command == "save":
        print(f"{save()} results recorded in {LEDGER_FILE}")
        return 0
    score(args.sample_only, args.ledger)
    return 0


if __name__ == "__main__":
    sys.exit(main())
