"""benchmarks/mutation_score.py: the README's mutation score is killed / (checked - equivalent), where
a mutant no test reaches, or whose test process died of a signal, counts as checked and not killed."""

from __future__ import annotations

from collections import Counter

from tests.conftest import benchmark_script


def _script():
    return benchmark_script("mutation_score")


def test_the_score_counts_unreached_and_crashed_mutants_against_it_and_sets_equivalents_apart():
    row = _script()._row(
        "m", Counter({"killed": 80, "timeout": 5, "survived": 6, "no tests": 2, "segfault": 2, "equivalent": 5})
    )
    cells = [c.strip() for c in row.strip("|").split("|")]
    # module, mutants, checked, killed, survived, equivalent, no tests, score
    assert cells == ["m", "100", "100", "85", "6", "5", "2", "89 %"]  # 85 / (100 - 5)


def test_mutants_not_run_are_not_checked():
    cells = [c.strip() for c in _script()._row("m", Counter({"killed": 9, "not checked": 91})).strip("|").split("|")]
    assert cells[1:4] == ["100", "9", "9"] and cells[-1] == "100 %"


def test_module_of_a_method_and_of_a_function_mutant():
    module_of = _script().module_of
    assert module_of("poems_fhir.sync.job.xǁSyncJobǁrun__mutmut_3") == "poems_fhir.sync.job"
    assert module_of("poems_fhir.criteria.engine.x_combine__mutmut_1") == "poems_fhir.criteria.engine"


class _Item:
    def __init__(self, nodeid: str) -> None:
        self.nodeid = nodeid


def test_under_a_mutant_the_fastest_tests_run_first_and_otherwise_the_order_is_kept(tmp_path, monkeypatch):
    from tests.conftest import pytest_collection_modifyitems

    (tmp_path / "mutmut-stats.json").write_text('{"duration_by_test": {"a": 9.0, "b": 0.5, "c": 2.0}}')
    monkeypatch.chdir(tmp_path)

    def order(mutant: str | None) -> list[str]:
        if mutant is None:
            monkeypatch.delenv("MUTANT_UNDER_TEST", raising=False)
        else:
            monkeypatch.setenv("MUTANT_UNDER_TEST", mutant)
        items = [_Item(n) for n in ("a", "new", "b", "c")]
        pytest_collection_modifyitems(None, items)  # type: ignore[arg-type]
        return [i.nodeid for i in items]

    assert order("poems_fhir.x_f__mutmut_3") == ["b", "c", "a", "new"]  # unknown duration: last
    assert order(None) == order("stats") == order("") == ["a", "new", "b", "c"]
