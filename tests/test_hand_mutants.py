"""benchmarks/hand_mutants.py (issue #16's independent hand-made mutants) must not rot: each mutant's
original text is found exactly once in the code it mutates, so the script checks what it claims."""

from __future__ import annotations

from tests.conftest import ROOT, benchmark_script


def _script():
    return benchmark_script("hand_mutants")


def test_every_hand_made_mutant_still_applies_to_the_code():
    script = _script()
    assert script.stale() == []
    assert len(script.M) >= 15
    for path, old, new, tests in script.M:
        assert old != new, path
        assert (ROOT / tests).is_file(), tests
