"""An organ's verdict in a dash chain ends at the next organ's dash: "Spleen – enlarged – liver – normal." read the
liver's "normal" back onto the spleen and the spleen came out not enlarged (probe125 G4)."""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import State
from tests.mapping.test_extract import run
from tests.mapping.test_value_not_determined import _ct_report


def organs(mapping, text: str) -> dict[str, State]:
    return {f.component: f.state for f in run(mapping, _ct_report(text)).findings if f.topic == "organomegaly"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Spleen – enlarged – liver – normal.", {"spleen": State.PRESENT, "liver": State.ABSENT}),
        ("Spleen - enlarged - liver - normal.", {"spleen": State.PRESENT, "liver": State.ABSENT}),
        ("Селезенка – увеличена – печень – в норме.", {"spleen": State.PRESENT, "liver": State.ABSENT}),
        ("Spleen – enlarged – liver – not enlarged.", {"spleen": State.PRESENT, "liver": State.ABSENT}),
        ("Spleen – still enlarged – liver – normal.", {"spleen": State.PRESENT, "liver": State.ABSENT}),
        ("Селезенка – по-прежнему увеличена, 16 см.", {"spleen": State.PRESENT}),
        # controls the chain read before
        ("Spleen – not enlarged – liver – enlarged, 19 cm.", {"spleen": State.ABSENT, "liver": State.PRESENT}),
        ("Hepatomegaly – spleen – not enlarged.", {"spleen": State.ABSENT, "liver": State.PRESENT}),
        ("Селезенка – все еще не увеличена.", {"spleen": State.ABSENT}),
    ],
)
def test_each_organ_keeps_its_own_verdict_in_a_dash_chain(mapping, text, expected):
    assert organs(mapping, text) == expected
