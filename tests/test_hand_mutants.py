"""benchmarks/hand_mutants.py (issue #16's independent hand-made mutants) must not rot: each mutant's
original text is found exactly once in the code it mutates, so the script checks what it claims."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("hand_mutants", ROOT / "benchmarks" / "hand_mutants.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # the mutants run only under __main__
    return module


def test_every_hand_made_mutant_still_applies_to_the_code():
    script = _script()
    assert script.stale() == []
    assert len(script.M) >= 15
    for path, old, new, tests in script.M:
        assert old != new, path
        assert (ROOT / tests).is_file(), tests
