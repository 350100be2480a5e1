# SPDX-License-Identifier: Apache-2.0
"""Input problems are listed up to a limit and counted by kind beyond it (read.ProblemList): a feed of
millions of broken lines keeps memory flat, and both readers list and count exactly alike."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from poems_fhir.fhir import read
from poems_fhir.fhir.read import ProblemList, SourceError, problem_kind, read_paths
from tests.fhir.test_spool import assert_same_as_read_paths


def _problem(i: int, message: str = "not JSON: Expecting value", internal: bool = False) -> SourceError:
    return SourceError(f"f.ndjson:{i}", message, None, internal=internal)


def test_the_first_problems_are_listed_and_the_rest_counted_by_kind():
    problems = ProblemList(limit=3)
    for i in range(4):
        problems.append(_problem(i))
    problems.append(_problem(9, "refused: Observation.status is a number (1), expected a string"))
    assert [p.source for p in problems] == ["f.ndjson:0", "f.ndjson:1", "f.ndjson:2"]
    problems.close()
    problems.close()  # once
    assert len(problems) == 4
    last = problems[-1]
    assert (last.source, last.internal) == ("input", False)
    assert last.message == "2 more input problem(s) not listed (the first 3 are): not JSON (1); refused (1)"


def test_an_unlisted_internal_error_still_marks_the_count_internal():
    problems = ProblemList(limit=1)
    problems.append(_problem(0))
    problems.append(_problem(1, "internal error (KeyError: 'x'); skipped", internal=True))
    problems.close()
    assert problems[-1].internal is True


def test_an_insert_within_the_limit_pushes_the_last_listed_problem_into_the_count():
    problems = ProblemList(limit=2)
    problems.extend([_problem(0), _problem(1)])
    problems.insert(1, _problem(5, "f.ndjson:5 is also in f.ndjson:1 with different content"))
    assert [p.source for p in problems] == ["f.ndjson:0", "f.ndjson:5"]
    assert dict(problems.unlisted) == {"not JSON": 1}
    problems.insert(2, _problem(7))  # past the listed ones: counted
    assert len(problems) == 2 and problems.unlisted["not JSON"] == 2


def test_a_shard_merged_in_order_lists_and_counts_what_one_reader_would():
    one = ProblemList(limit=4)
    first, second = ProblemList(limit=4), ProblemList(limit=4)
    for i in range(3):
        first.append(_problem(i))
        one.append(_problem(i))
    for i in range(3, 9):
        second.append(_problem(i))
        one.append(_problem(i))
    merged = ProblemList(limit=4)
    merged.extend(first)
    merged.extend(pickle.loads(pickle.dumps(second)))  # noqa: S301 - our own bytes; a shard comes back pickled
    merged.close()
    one.close()
    assert repr(list(merged)) == repr(list(one))


def test_a_copy_and_a_pickled_list_keep_limit_count_and_state():
    problems = ProblemList(limit=1)
    problems.extend([_problem(0), _problem(1, internal=True)])
    for other in (problems.copy(), pickle.loads(pickle.dumps(problems))):  # noqa: S301 - our own bytes
        assert isinstance(other, ProblemList) and list(other) == list(problems)
        assert (other.limit, other.unlisted, other.unlisted_internal) == (1, problems.unlisted, True)


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("not JSON: Expecting value: line 1 column 1 (char 0)", "not JSON"),
        ("refused: Observation.valueQuantity.value is a string ('x'), expected a number", "refused"),
        (
            "Observation/o7 is also in a.ndjson:3 with different content and no later meta.lastUpdated: which copy "
            "holds cannot be told, so neither is used - keep one copy",
            "… is also in … with different content and no later meta.lastUpdated",
        ),
        ("subject 'Group/g1' is not a Patient", "subject … is not a Patient"),
    ],
)
def test_a_kind_names_the_problem_without_where(message, kind):
    assert problem_kind(message) == kind


def test_past_the_limit_the_kinds_beyond_twenty_are_other():
    problems = ProblemList(limit=0)
    for i in range(25):
        problems.append(_problem(i, f"kind number {chr(97 + i)}: detail"))
    assert len(problems.unlisted) == 21 and problems.unlisted["other"] == 5


def _broken_feed(folder: Path, bad: int) -> None:
    lines = [json.dumps({"resourceType": "Patient", "id": "p"})]
    for i in range(bad):
        lines.append("{not json" if i % 3 else json.dumps({"resourceType": "Observation", "id": f"o{i}", "status": 7}))
    # a duplicate with other content, detected after reading: its problem belongs early in the list
    lines += [json.dumps({"resourceType": "Patient", "id": "p", "gender": "male"})]
    (folder / "feed.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("bad", [3, 40])
def test_both_readers_list_and_count_the_same_problems(tmp_path, monkeypatch, bad):
    monkeypatch.setattr(read, "MAX_LISTED_PROBLEMS", 5)
    _broken_feed(tmp_path, bad)
    source = assert_same_as_read_paths([tmp_path])  # one process and two: the same repr of errors
    problems = read_paths([tmp_path]).errors
    if bad + 1 <= 5:
        assert len(problems) == bad + 1 and all(p.source != "input" for p in problems)
    else:
        assert len(problems) == 6 and problems[-1].source == "input"
        assert problems[-1].message.startswith(f"{bad + 1 - 5} more input problem(s) not listed (the first 5 are): ")
        assert "not JSON (" in problems[-1].message and "refused (" in problems[-1].message
    # the two copies of Patient/p differ with no later version: neither is used, and nothing else is p's
    assert source.patients() == []


def test_a_million_broken_lines_list_a_thousand(tmp_path):
    (tmp_path / "garbage.ndjson").write_bytes(b"{x\n" * 1_000_000)
    (tmp_path / "p.ndjson").write_text(json.dumps({"resourceType": "Patient", "id": "p"}) + "\n")
    problems = read_paths([tmp_path]).errors
    assert len(problems) == read.MAX_LISTED_PROBLEMS + 1
    assert problems[-1].message.startswith("999,000 more input problem(s) not listed (the first 1,000 are): not JSON")


def test_a_patient_left_out_for_the_limit_is_named_past_the_listed_problems(tmp_path, monkeypatch):
    # found by a held-out differential probe (probe28): past 1,000 input problems, a patient not
    # evaluated for --max-resources-per-patient disappeared into the anonymous count
    monkeypatch.setattr(read, "MAX_LISTED_PROBLEMS", 5)
    lines = [
        json.dumps({"resourceType": "Patient", "id": "big"}),
        json.dumps({"resourceType": "Patient", "id": "small"}),
    ]
    lines += [
        json.dumps({"resourceType": "Condition", "id": f"c{i}", "subject": {"reference": "Patient/big"}})
        for i in range(4)
    ]
    lines += [f"{{not json {i}" for i in range(20)]
    (tmp_path / "in.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = read_paths([tmp_path], max_per_patient=3)
    assert [r.patient for r in result.records] == ["Patient/small"]
    named = [p for p in result.errors if p.resource == "Patient/big"]
    assert [p.message[:60] for p in named] == ["4 resources for this patient, more than the limit of 3; pati"]
    assert result.errors[-1].message.startswith("15 more input problem(s) not listed")  # the count stays last
    assert_same_as_read_paths([tmp_path], max_per_patient=3)
