"""One over-deep entry of a Bundle file costs only itself (probe54 D1): the file's nesting rule (more than
read.MAX_PARSE_DEPTH levels: "not JSON") refused the whole file, every patient in it, where the same
resource in an NDJSON file costs only its line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from poems_fhir.fhir.read import MAX_PARSE_DEPTH, read_paths
from tests.conftest import SAMPLES
from tests.fhir.test_spool import assert_same_as_read_paths


def _deep(levels: int) -> str:
    inner = "[" * levels + "]" * levels
    return f'{{"resourceType":"Observation","id":"deep","status":"final","subject":{{"reference":"Patient/x"}},"extension":{inner}}}'


def _bundle_with(entry_text: str) -> str:
    bundle = json.loads((SAMPLES / "classic-poems.json").read_text(encoding="utf-8"))
    good = [json.dumps(e) for e in bundle["entry"]]
    # the deep entry in the middle: entries after it keep their places
    entries = [*good[:3], f'{{"resource":{entry_text}}}', *good[3:]]
    return '{"resourceType":"Bundle","type":"collection","entry":[' + ",".join(entries) + "]}"


@pytest.mark.parametrize("levels", [MAX_PARSE_DEPTH + 5, 5_000])
def test_an_entry_nested_past_the_limit_is_skipped_and_the_rest_of_the_file_read(tmp_path: Path, levels: int):
    (tmp_path / "b.json").write_text(_bundle_with(_deep(levels)), encoding="utf-8")
    alone = read_paths([SAMPLES / "classic-poems.json"])
    got = read_paths([tmp_path])
    assert [r.patient for r in got.records] == [r.patient for r in alone.records]
    assert [len(r.resources) for r in got.records] == [len(r.resources) for r in alone.records]
    [problem] = got.errors
    assert problem.source.endswith("b.json#entry[3]") and "nested too deeply" in problem.message
    assert_same_as_read_paths([tmp_path])  # the spool (evaluate, sync --source) reads the same


def test_a_deep_file_that_is_no_bundle_object_stays_not_json(tmp_path: Path):
    (tmp_path / "a.json").write_text("[" * 400 + "]" * 400, encoding="utf-8")
    (tmp_path / "b.json").write_text(_bundle_with(_deep(400))[:-2], encoding="utf-8")  # unclosed
    got = read_paths([tmp_path])
    assert got.records == []
    assert sorted((e.source.rsplit("/", 1)[-1], e.message) for e in got.errors) == [
        ("a.json", "not JSON: nested too deeply"),
        ("b.json", "not JSON: nested too deeply"),
    ]
