"""Which records a merge retired and which record survives each (probe79 D1)."""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.fhir.merges import find_merges


def _link(kind: str, other: str) -> dict[str, Any]:
    return {"type": kind, "other": {"reference": other}}


def _merges(links: dict[str, list[dict[str, Any]]], present: set[str] | None = None) -> Any:
    """find_merges over Patients given as key -> links; every key (and every other named) is present."""
    named = {link["other"]["reference"] for ls in links.values() for link in ls}
    return find_merges(links.items(), present if present is not None else set(links) | named, lambda r: r)


@pytest.mark.parametrize(
    "links",
    [
        {"Patient/old": [_link("replaced-by", "Patient/new")]},  # the retired record says so
        {"Patient/new": [_link("replaces", "Patient/old")]},  # only the survivor says so
        {"Patient/old": [_link("replaced-by", "Patient/new")], "Patient/new": [_link("replaces", "Patient/old")]},
    ],
)
def test_either_side_of_a_merge_retires_the_old_record(links: dict[str, list[dict[str, Any]]]) -> None:
    merges = _merges(links)
    assert merges.into == {"Patient/old": "Patient/new"} and merges.problems == []
    assert merges.survivor("Patient/old") == "Patient/new" and merges.survivor("Patient/x") == "Patient/x"
    assert merges.replaced() == {"Patient/new": ("Patient/old",)}


def test_a_chain_ends_at_the_last_record() -> None:
    merges = _merges(
        {"Patient/a": [_link("replaced-by", "Patient/b")], "Patient/b": [_link("replaced-by", "Patient/c")]}
    )
    assert merges.into == {"Patient/a": "Patient/c", "Patient/b": "Patient/c"}
    assert merges.replaced() == {"Patient/c": ("Patient/a", "Patient/b")}


@pytest.mark.parametrize(
    "links, shown",
    [
        ({"Patient/a": [_link("replaced-by", "Patient/a")]}, "Patient/a -> Patient/a"),
        (
            {"Patient/b": [_link("replaced-by", "Patient/a")], "Patient/a": [_link("replaced-by", "Patient/b")]},
            "Patient/a -> Patient/b -> Patient/a",
        ),
        (
            {  # a record that leads into the ring is not merged either; the ring is said once
                "Patient/x": [_link("replaced-by", "Patient/b")],
                "Patient/b": [_link("replaced-by", "Patient/c")],
                "Patient/c": [_link("replaced-by", "Patient/b")],
            },
            "Patient/b -> Patient/c -> Patient/b",
        ),
        ({"Patient/a": [_link("replaces", "Patient/b")], "Patient/b": [_link("replaces", "Patient/a")]}, None),
    ],
)
def test_links_that_go_round_merge_nothing_and_are_reported_once(links: dict[str, Any], shown: str | None) -> None:
    merges = _merges(links)
    assert merges.into == {}
    assert len(merges.problems) == 1
    record, why = merges.problems[0]
    assert record == min(record for record, _ in merges.problems) and why.startswith("Patient.link goes round (")
    assert shown is None or f"({shown})" in why
    assert "each is evaluated with its own resources" in why


@pytest.mark.parametrize("kind", ["seealso", "refer"])
def test_links_that_are_no_merge_move_nothing(kind: str) -> None:
    merges = _merges({"Patient/a": [_link(kind, "Patient/b")], "Patient/b": [_link(kind, "Patient/a")]})
    assert merges.into == {} and merges.problems == []


def test_a_survivor_the_input_does_not_hold_takes_nothing() -> None:
    # evaluating a record we did not read on a part of its data would write a report to it
    merges = _merges({"Patient/a": [_link("replaced-by", "Patient/b")]}, present={"Patient/a"})
    assert merges.into == {} and merges.problems == []
    chain = {"Patient/a": [_link("replaced-by", "Patient/b")], "Patient/b": [_link("replaced-by", "Patient/c")]}
    assert _merges(chain, present={"Patient/a", "Patient/b"}).into == {}


def test_a_record_two_others_claim_stays_itself_and_is_reported() -> None:
    merges = _merges({"Patient/b": [_link("replaces", "Patient/a")], "Patient/c": [_link("replaces", "Patient/a")]})
    assert merges.into == {}
    assert merges.problems == [
        (
            "Patient/a",
            "2 records say they replace Patient/a (Patient.link 'replaces' in Patient/b, Patient/c): which one holds "
            "its resources cannot be told, so they stay with Patient/a; correct the links",
        )
    ]


def test_the_retired_records_own_link_decides_over_another_records_claim() -> None:
    merges = _merges({"Patient/a": [_link("replaced-by", "Patient/b")], "Patient/c": [_link("replaces", "Patient/a")]})
    assert merges.into == {"Patient/a": "Patient/b"} and merges.problems == []


def test_a_link_naming_no_patient_moves_nothing() -> None:
    merges = find_merges(
        [("Patient/a", [{"type": "replaced-by", "other": {"display": "the new record"}}])],
        {"Patient/a"},
        lambda r: r,
    )
    assert merges.into == {} and merges.problems == []


@pytest.mark.parametrize(
    "links",
    [
        # probe82 D9: the old record says both, of its survivor (who says nothing)
        {"Patient/old": [_link("replaced-by", "Patient/new"), _link("replaces", "Patient/new")]},
        # ... or of the record at the end of its own chain
        {
            "Patient/old": [_link("replaced-by", "Patient/mid"), _link("replaces", "Patient/new")],
            "Patient/mid": [_link("replaced-by", "Patient/new")],
        },
    ],
)
def test_a_record_claiming_to_replace_its_own_successor_is_merged_by_its_replaced_by(links: dict[str, Any]) -> None:
    merges = _merges(links)
    assert merges.survivor("Patient/old") == "Patient/new" and merges.going_round == frozenset()
    ((record, why),) = merges.problems
    assert record == "Patient/old" and "goes round" not in why
    assert why.startswith("Patient/old says it is replaced by ") and "a record cannot replace its own successor" in why


def test_every_record_whose_links_go_round_is_known_also_one_leading_into_the_ring() -> None:
    # read.surviving_record asks this: a record the reader did not merge is not skipped as merged either
    merges = _merges(
        {
            "Patient/a": [_link("replaced-by", "Patient/b")],
            "Patient/b": [_link("replaced-by", "Patient/c")],
            "Patient/c": [_link("replaced-by", "Patient/b")],
            "Patient/w": [_link("replaced-by", "Patient/a")],  # into a record that leads into the ring
            "Patient/m": [_link("replaced-by", "Patient/n")],  # an ordinary merge beside it
        }
    )
    assert merges.into == {"Patient/m": "Patient/n"}
    assert merges.going_round == {"Patient/a", "Patient/b", "Patient/c", "Patient/w"}
    assert [why[:25] for _, why in merges.problems] == ["Patient.link goes round ("]


# --- fix141a (probe140 D9): the link type read as a code -----------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new"), [("Replaced_By", "Replaces"), (" REPLACED-BY ", "replaces"), ("replaced by", "")]
)
def test_a_link_type_in_a_senders_spelling_is_the_code(old: str, new: str) -> None:
    links = {"Patient/old": [_link(old, "Patient/new")]}
    if new:
        links = {"Patient/new": [_link(new, "Patient/old")]} | links
    merges = _merges(links)
    assert merges.into == {"Patient/old": "Patient/new"} and merges.problems == []


@pytest.mark.parametrize("kind", ["", "   ", "replaced", "merged"])
def test_a_blank_or_unknown_link_type_is_listed_and_merges_nothing(kind: str) -> None:
    merges = _merges(
        {"Patient/old": [_link(kind, "Patient/new")], "Patient/x": [{"other": {"reference": "Patient/y"}}]}
    )
    assert merges.into == {}
    assert [(record, why.split(", which")[0]) for record, why in merges.problems] == [
        ("Patient/old", f"Patient/old has a Patient.link of type {kind!r} to Patient/new"),
        ("Patient/x", "Patient/x has a Patient.link of type '' to Patient/y"),
    ]
