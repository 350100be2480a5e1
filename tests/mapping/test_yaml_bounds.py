"""Mapping files are loaded bounded by construction (issue #9): YAML aliases cannot expand without
limit, only regular files are read, deep nesting is a located problem, not a crash."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from poems_fhir.mapping.rules import MAX_YAML_NODES, MappingError, load_mapping

SITE_HEADER = "format: poems-fhir-mapping/1\nname: site\nversion: '1'\n"
#: the classic "billion laughs": 342 bytes, 9**9 strings once expanded
ALIAS_BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{n}: &{n} [{','.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)


def _problem(path: Path) -> str:
    with pytest.raises(MappingError) as err:
        load_mapping([path])
    [problem] = err.value.problems
    return str(problem)


def test_an_alias_bomb_is_refused_before_it_is_built(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(ALIAS_BOMB, encoding="utf-8")
    assert len(ALIAS_BOMB) < 400
    problem = _problem(path)
    assert f"expands to more than {MAX_YAML_NODES} values" in problem and "bomb.yaml:" in problem


def test_many_alias_uses_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "aliases.yaml"
    path.write_text(SITE_HEADER + "x: &x 1\ny: [" + ", ".join(["*x"] * 150) + "]\n", encoding="utf-8")
    assert "more than 100 YAML alias uses" in _problem(path)


def test_a_few_aliases_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(
        SITE_HEADER + "thresholds:\n  vegf_plasma: &v {value: 200, unit: pg/mL, operator: '>='}\n", encoding="utf-8"
    )
    load_mapping([path])


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text(SITE_HEADER + "x: &x [*x]\n", encoding="utf-8")
    assert "refers to a node that contains it" in _problem(path)


def test_deep_yaml_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(SITE_HEADER + "x: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    assert "nested too deeply" in _problem(path)


@pytest.mark.parametrize("name", ["site.yaml", "map.json"])
def test_a_named_pipe_is_refused_without_blocking(tmp_path: Path, name: str) -> None:
    fifo = tmp_path / name
    os.mkfifo(fifo)
    assert "named pipe, not a regular file" in _problem(fifo)
