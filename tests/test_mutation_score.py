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


def _meta(codes: dict[str, int | None], hashes: dict[str, str]) -> str:
    import json

    return json.dumps(
        {
            "exit_code_by_key": codes,
            "hash_by_function_name": hashes,
            "type_check_error_by_key": {},
            "durations_by_key": {},
            "estimated_durations_by_key": {},
        }
    )


def _ledger_in(tmp_path, monkeypatch):
    script = _script()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(script, "LEDGER_FILE", tmp_path / "ledger.json")
    equivalent = tmp_path / "equivalent.txt"
    equivalent.write_text("poems_fhir.m.x_f__mutmut_3  # only renames a local\n")
    monkeypatch.setattr(script, "EQUIVALENT_FILE", equivalent)
    meta = tmp_path / "mutants" / "poems_fhir" / "m.py.meta"
    meta.parent.mkdir(parents=True)
    return script, meta


def test_the_ledger_carries_detected_mutants_to_a_new_machine_and_runs_survivors_again(tmp_path, monkeypatch):
    import json

    script, meta = _ledger_in(tmp_path, monkeypatch)
    f = "poems_fhir.m.x_f__mutmut_"
    codes = {f + "1": 1, f + "2": 0, f + "3": 0, f + "4": 36, f + "5": None, f + "6": -11, f + "7": 33}
    meta.write_text(_meta(codes, {"x_f": "h1"}))
    assert script.save() == 6  # one not checked
    ledger = json.loads(script.LEDGER_FILE.read_text())
    assert ledger == {"poems_fhir/m.py": {"x_f": {"hash": "h1", "results": "ksst?xn"}}}

    meta.unlink()  # a new machine: no mutants/ directory
    assert script.restore() == 4  # killed, the listed equivalent, timeout, no tests
    restored = json.loads(meta.read_text())
    assert restored["hash_by_function_name"] == {"x_f": "h1"}
    # a survivor not listed as equivalent and a crash are run again; the equivalent survivor is not
    assert restored["exit_code_by_key"] == {
        f + "1": 1,
        f + "2": None,
        f + "3": 0,
        f + "4": 36,
        f + "5": None,
        f + "6": None,
        f + "7": 33,
    }
    # saving before mutmut ran them again keeps what was known of them
    assert script.save() == 6
    assert json.loads(script.LEDGER_FILE.read_text()) == ledger
    assert script.ledger_results()[f + "2"] == "survived" and script.ledger_results()[f + "5"] == "not checked"


def test_a_changed_function_is_not_given_its_old_results(tmp_path, monkeypatch):
    import json

    script, meta = _ledger_in(tmp_path, monkeypatch)
    f = "poems_fhir.m.x_f__mutmut_"
    meta.write_text(_meta({f + "1": 1, f + "2": 1}, {"x_f": "h1"}))
    script.save()
    meta.write_text(_meta({f + "1": None, f + "2": None}, {"x_f": "h2"}))  # mutmut saw a new version
    assert script.restore() == 0
    assert json.loads(meta.read_text())["exit_code_by_key"] == {f + "1": None, f + "2": None}
    script.save()
    assert json.loads(script.LEDGER_FILE.read_text())["poems_fhir/m.py"]["x_f"] == {"hash": "h2", "results": "??"}
