"""probe99 D2: ``boundary.unknown_modifier`` - a modifierExtension on the resource or inside an element the
mapping reads is found, with its path and url; one on an element nobody reads is not looked at."""

from __future__ import annotations

from poems_fhir.fhir.boundary import unknown_modifier

URL = "https://ehr.example.org/fhir/StructureDefinition/negated"
MOD = [{"url": URL, "valueBoolean": True}]


def test_on_the_resource():
    condition = {"resourceType": "Condition", "id": "c", "modifierExtension": MOD}
    assert unknown_modifier(condition).startswith(f"Condition.modifierExtension[0] {URL!r} is not understood")
    assert unknown_modifier(condition, frozenset([URL])) is None


def test_inside_read_elements_at_any_depth():
    condition = {
        "resourceType": "Condition",
        "evidence": [{"detail": [{"reference": "X/1"}], "modifierExtension": MOD}],
    }
    assert unknown_modifier(condition).startswith(f"Condition.evidence[0].modifierExtension[0] {URL!r}")
    request = {
        "resourceType": "MedicationRequest",
        "dosageInstruction": [{"timing": {"repeat": {}, "modifierExtension": MOD}}],
    }
    assert unknown_modifier(request).startswith("MedicationRequest.dosageInstruction[0].timing.modifierExtension[0]")


def test_not_on_elements_the_mapping_does_not_read():
    procedure = {"resourceType": "Procedure", "performer": [{"actor": {"reference": "P/1"}, "modifierExtension": MOD}]}
    assert unknown_modifier(procedure) is None
    assert unknown_modifier({"resourceType": "Observation", "contained": [{"modifierExtension": MOD}]}) is None


def test_a_malformed_modifier_list_is_named():
    assert unknown_modifier({"resourceType": "Observation", "modifierExtension": {"url": URL}}) == (
        "Observation.modifierExtension is an object, expected an array: a modifier extension cannot be read; not read"
    )
    assert "has no url" in unknown_modifier({"resourceType": "Observation", "modifierExtension": [{"url": 3}]})
