# SPDX-License-Identifier: Apache-2.0
"""Hand-made mutants of the kinds named in issue #16 (a cut-off moved by one token, a rule weakened):
each is applied to the source in turn, the targeted test file is run, and the source is restored.

    .venv/bin/python benchmarks/hand_mutants.py        # prints KILLED / SURVIVED per mutant

Complements `make mutation` (mutmut): these are chosen by hand, so they check the boundary tests
independently of the tool's operators. Run it from a clean work tree (it edits and restores files).
"""

import pathlib
import subprocess
import sys

R = pathlib.Path(__file__).resolve().parents[1]
M = [  # (file, original text, mutated text, tests that must catch it)
    (
        "poems_fhir/criteria/engine.py",
        "return finding.effective is not None and finding.effective <= as_of",
        "return finding.effective is not None and finding.effective < as_of",
        "tests/criteria/test_thresholds_boundaries.py",
    ),
    (
        "poems_fhir/criteria/engine.py",
        "f.effective and f.effective >= latest_present]",
        "f.effective and f.effective > latest_present]",
        "tests/criteria/test_thresholds_boundaries.py",
    ),
    (
        "poems_fhir/criteria/response.py",
        "if m_measurable and change is not None and change <= -0.5:",
        "if m_measurable and change is not None and change < -0.5:",
        "tests/criteria/test_thresholds_boundaries.py",
    ),
    (
        "poems_fhir/criteria/response.py",
        "if at_most(latest, base, 1 - cfg.vegf_partial_decrease):",
        "if latest < base * (1 - cfg.vegf_partial_decrease):",
        "tests/criteria/test_thresholds_boundaries.py",
    ),
    (
        "poems_fhir/criteria/response.py",
        "at_least(latest_m.value, nadir, 1.25)",
        "at_least(latest_m.value, nadir, 1.5)",
        "tests/criteria/test_thresholds_boundaries.py",
    ),
    (
        "poems_fhir/criteria/response.py",
        "if at_least(latest, nadir, 1 + cfg.vegf_progression_increase) and latest >= cutoff:",
        "if at_least(latest, nadir, 1 + cfg.vegf_progression_increase):",
        "tests/criteria/test_thresholds_boundaries.py",
    ),
    (
        "poems_fhir/criteria/risk.py",
        "albumin.value < cfg.albumin_low",
        "albumin.value <= cfg.albumin_low",
        "tests/criteria/test_thresholds_boundaries.py",
    ),
    (
        "poems_fhir/mapping/extract.py",
        "elif rr is not None and rr.high is not None and value.value > rr.high:",
        "elif rr is not None and rr.high is not None and value.value >= rr.high:",
        "tests/mapping/test_values_boundaries.py",
    ),
    (
        "poems_fhir/mapping/extract.py",
        'ctx.finding(topic, State.INDETERMINATE, label, value, **kw, note="censored value straddles the cut-off")',
        "ctx.finding(topic, State.ABSENT, label, value, **kw)",
        "tests/mapping/test_values_boundaries.py",
    ),
    (
        "poems_fhir/mapping/ife.py",
        '"l": "lambda",\n    "k": "kappa",\n',
        '"l": "kappa",\n    "k": "lambda",\n',
        "tests/mapping/test_values_boundaries.py",
    ),
    (
        "poems_fhir/mapping/ife.py",
        "if len(heavies) == 1 and len(lights) == 1 and not complete:",
        "if len(heavies) == 1 and len(lights) == 1:",
        "tests/mapping/test_values_boundaries.py",
    ),
    (
        "poems_fhir/sync/job.py",
        "if summary.completed and cohort.server_time and not self.dry_run:",
        "if cohort.server_time and not self.dry_run:",
        "tests/sync/test_job_mutants.py",
    ),
    ("poems_fhir/fhir/client.py", "conditional = all(", "conditional = any(", "tests/fhir/test_client_mutants.py"),
    (
        "poems_fhir/fhir/http.py",
        "jittered = backoff * (0.5 + min(max(self.rng(), 0.0), 1.0) / 2)",
        "jittered = backoff * self.rng()",
        "tests/fhir/test_client_mutants.py",
    ),
    (
        "poems_fhir/mapping/values.py",
        'all_hold = low > cut or (low == cut and (operator == ">=" or not low_in))',
        "all_hold = low > cut or (low == cut and not low_in)",
        "tests/mapping/test_values_boundaries.py",
    ),
]


def stale() -> list[str]:
    """Mutants whose original text is not found exactly once (the code moved on: update the list)."""
    return [f"{path}: {old!r}" for path, old, _, _ in M if (R / path).read_text().count(old) != 1]


if __name__ == "__main__":
    if problems := stale():
        raise SystemExit("the code these mutants change is no longer there:\n" + "\n".join(problems))
    survived = 0
    for path, old, new, tests in M:
        p = R / path
        src = p.read_text()
        p.write_text(src.replace(old, new))
        try:
            r = subprocess.run(
                [sys.executable, "-m", "pytest", tests, "-x", "-q", "-p", "no:cacheprovider"],
                cwd=R,
                capture_output=True,
                text=True,
            )
            print(("KILLED  " if r.returncode else "SURVIVED"), path, new[:70], flush=True)
            survived += not r.returncode
        finally:
            p.write_text(src)
    print(f"{len(M) - survived} of {len(M)} hand-made mutants killed")
    sys.exit(1 if survived else 0)
