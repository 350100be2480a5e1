"""The clinical-text sample bundles (sample_bundles/text-encodings): what the engine must conclude."""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import Classification, State
from poems_fhir.criteria.profiles import PROFILES, get_profile
from poems_fhir.pipeline import evaluate_paths
from tests.conftest import SAMPLES

TEXT = SAMPLES / "text-encodings"


@pytest.fixture(scope="module")
def results(mapping):
    out = {}
    for profile in PROFILES:
        run = evaluate_paths([TEXT], mapping, get_profile(profile))
        assert run.errors == []
        out[profile] = {r.record.patient: r for r in run.results}
    return out


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_clone_free_mimic_with_negated_text_is_never_met(results, profile):
    result = results[profile]["Patient/text-mimic-cidp"]
    a = result.assessment
    assert a.classification is not Classification.MET
    criteria = a.criteria
    assert criteria["monoclonal_plasma_cell_disorder"].state is State.ABSENT
    assert criteria["castleman_disease"].state is State.ABSENT
    assert criteria["sclerotic_bone_lesions"].state is State.ABSENT
    # nothing the reports deny, ask or tell about a relative became a present finding
    present_from_text = {f.source_rule for f in result.extraction.findings if f.from_text and f.state is State.PRESENT}
    assert present_from_text == {"polyneuropathy", "cidp"}  # what the nerve-conduction report says
    assert not [f for f in result.extraction.findings if f.topic == "multiple_myeloma"]


def test_clone_free_mimic_text_evidence_says_where_it_came_from(results):
    a = results["mayo"]["Patient/text-mimic-cidp"].assessment
    castleman = a.criteria["castleman_disease"]
    (ev,) = castleman.evidence
    assert ev.reference == "DiagnosticReport/tm-node" and "from report text" in ev.summary


def test_poems_documented_in_russian_text_is_met(results):
    result = results["mayo"]["Patient/text-poems-ru"]
    a = result.assessment
    assert a.classification is Classification.MET
    criteria = a.criteria
    for name in (
        "polyneuropathy",
        "monoclonal_plasma_cell_disorder",
        "sclerotic_bone_lesions",
        "vegf_elevation",
        "organomegaly",
        "skin_changes",
        "extravascular_volume_overload",
    ):
        assert criteria[name].state is State.PRESENT, name
    sclerotic = criteria["sclerotic_bone_lesions"].evidence
    assert [e.reference for e in sclerotic] == ["DiagnosticReport/tr-ct"]
    assert "presentedForm[0]" in sclerotic[0].summary
    assert criteria["papilledema"].state is State.ABSENT  # Kazakh "Папиллоэдема жоқ"
