"""The summary's per-patient lines past the first few thousand live on disk (issue #11, flat memory):
they read back in order, compare like a list, and the JSON summary is written byte for byte as
json.dumps writes the whole document."""

from __future__ import annotations

import json
import tempfile
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from poems_fhir import cli
from poems_fhir.sync.spill import SpilledList

_ITEMS = st.lists(
    st.dictionaries(
        st.text(max_size=5),
        st.none() | st.integers() | st.text() | st.lists(st.text(max_size=3), max_size=3),
        max_size=4,
    ),
    max_size=12,
)


@settings(max_examples=100, deadline=None)
@given(items=_ITEMS, in_memory=st.integers(0, 5))
def test_spilled_items_read_back_in_order(items: list[Any], in_memory: int) -> None:
    spilled = SpilledList(in_memory)
    for item in items:
        spilled.append(item)
    assert len(spilled) == len(items)
    assert list(spilled) == items and list(spilled) == items  # twice: reading does not consume
    assert spilled == items
    assert (spilled == SpilledList()) == (not items)
    spilled.append({"late": 1})  # appending after reading goes on at the end
    assert list(spilled)[-1] == {"late": 1} and len(spilled) == len(items) + 1
    spilled.close()


@settings(max_examples=100, deadline=None)
@given(items=_ITEMS, in_memory=st.integers(0, 5))
def test_an_item_is_found_by_its_index_in_memory_or_on_disk(items: list[Any], in_memory: int) -> None:
    spilled = SpilledList(in_memory)
    for item in items:
        spilled.append(item)
    assert [spilled[i] for i in range(len(items))] == items
    assert [spilled[-i] for i in range(1, len(items) + 1)] == [items[-i] for i in range(1, len(items) + 1)]
    for beyond in (len(items), -len(items) - 1):
        with pytest.raises(IndexError):
            spilled[beyond]


@settings(max_examples=100, deadline=None)
@given(
    items=_ITEMS,
    in_memory=st.integers(0, 5),
    indent=st.sampled_from([None, 2]),
    problems=st.lists(st.text()),
    order=st.booleans(),
)
def test_the_streamed_summary_is_what_json_dumps_writes(
    items: list[Any], in_memory: int, indent: int | None, problems: list[str], order: bool
) -> None:
    spilled, spilled_problems = SpilledList(in_memory), SpilledList(in_memory)
    for item in items:
        spilled.append(item)
    for problem in problems:
        spilled_problems.append(problem)
    doc: dict[str, Any] = {"written": 3, "completed": True}
    keys = [("conclusions", cli._CONCLUSIONS), ("problems", cli._PROBLEMS)]
    for key, marker in keys if order else keys[::-1]:  # either order in the document
        doc[key] = marker
    doc["last"] = "x"
    runner = CliRunner()

    @cli.click.command()
    def show() -> None:
        cli._echo_json_streamed(doc, {cli._CONCLUSIONS: spilled, cli._PROBLEMS: spilled_problems}, indent)

    out = runner.invoke(show).output
    assert out == json.dumps({**doc, "conclusions": items, "problems": problems}, indent=indent) + "\n"


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_a_sync_summary_with_spilled_conclusions_prints_every_patient(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    from tests.conftest import SAMPLES

    monkeypatch.setattr("poems_fhir.sync.spill.IN_MEMORY", 2)
    args = ["sync", "--source", str(SAMPLES), "--out", str(tmp_path / "out"), "--state", str(tmp_path / "s.db")]
    result = CliRunner().invoke(cli.main, [*args, "--format", fmt], catch_exceptions=False)
    written = len(list((tmp_path / "out").glob("*.json")))
    assert written > 2
    if fmt == "json":
        doc = json.loads(result.stdout)
        assert len(doc["conclusions"]) == doc["in_scope"] == written
    else:
        lines = [ln for ln in result.stdout.splitlines() if ln.startswith(("Patient/", "patient-"))]
        assert len(lines) == written


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_a_sync_summary_with_spilled_problems_prints_every_problem(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    # a patient with many unusable results: the problem lines past IN_MEMORY live on disk, all printed
    good = {"resourceType": "Patient", "id": "p1", "gender": "female"}
    vegf = {"coding": [{"system": "http://loinc.org", "code": "75628-8"}]}
    bad = [
        {
            "resourceType": "Observation",
            "id": f"o{i}",
            "status": "final",
            "subject": {"reference": "Patient/p1"},
            "code": vegf,
            "effectiveDateTime": f"2024-01-0{i + 1}",
            "valueQuantity": {"value": 100 + i, "unit": "bananas"},
        }
        for i in range(7)
    ]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "feed.ndjson").write_text("\n".join(json.dumps(r) for r in [good, *bad]) + "\n")
    monkeypatch.setattr("poems_fhir.sync.spill.IN_MEMORY", 2)
    spill_files: list[Any] = []
    real = tempfile.TemporaryFile

    def recorded(*a: Any, **kw: Any) -> Any:
        spill_files.append(real(*a, **kw))
        return spill_files[-1]

    monkeypatch.setattr("poems_fhir.sync.spill.tempfile.TemporaryFile", recorded)
    args = ["sync", "--source", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--state", str(tmp_path / "s.db")]
    result = CliRunner().invoke(cli.main, [*args, "--format", fmt], catch_exceptions=False)
    if fmt == "json":
        problems = json.loads(result.stdout)["problems"]
    else:
        problems = [ln for ln in result.stdout.splitlines() if ln.startswith("problem: ")]
    assert len(spill_files) == 1  # the problems went to disk past the first 2 (one patient: no conclusions)
    assert sorted(p.split("skipped ")[1].split(":")[0] for p in problems) == [f"Observation/o{i}" for i in range(7)]
    assert all("'bananas' is not a valid UCUM unit" in p for p in problems), problems
