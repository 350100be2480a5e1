"""The summary's per-patient lines past the first few thousand live on disk (issue #11, flat memory):
they read back in order, compare like a list, and the JSON summary is written byte for byte as
json.dumps writes the whole document."""

from __future__ import annotations

import json
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
@given(items=_ITEMS, in_memory=st.integers(0, 5), indent=st.sampled_from([None, 2]), problems=st.lists(st.text()))
def test_the_streamed_summary_is_what_json_dumps_writes(
    items: list[Any], in_memory: int, indent: int | None, problems: list[str]
) -> None:
    spilled = SpilledList(in_memory)
    for item in items:
        spilled.append(item)
    doc = {"written": 3, "completed": True, "conclusions": cli._CONCLUSIONS, "problems": problems}
    runner = CliRunner()

    @cli.click.command()
    def show() -> None:
        cli._echo_json_streamed(doc, spilled, indent)

    out = runner.invoke(show).output
    assert out == json.dumps({**doc, "conclusions": items}, indent=indent) + "\n"


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
