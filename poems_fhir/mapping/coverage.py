# SPDX-License-Identifier: Apache-2.0
"""`poems-fhir mappings coverage`: what a site's data holds that the mapping does not read.

The onboarding report for a new site. It runs the normal extraction over every patient and
lists, with counts and example references:

- codes and texts that look relevant (``coverage_keywords`` of the mapping files, plus the
  observation synonyms) but map to nothing;
- values and units that were rejected, and valid results a rule could not use;
- display-text fallback matches (lower confidence), codes read as their ICD-10 parent and codes typed
  with lookalike letters of another script;
- a site-mapping skeleton (``add_codes`` for the matched local codes) to start the site file from.

Knows FHIR JSON shapes and the mapping; no HTTP (the CLI fetches server data through the sync
client and hands PatientRecords in).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..fhir.read import PatientRecord
from ..criteria.response import UNDATED_RESPONSE_RESULTS
from .extract import _is_pathology, _modality, _STANDARD_SYSTEMS, extract
from .rules import CompiledMapping, fold_code_lookalikes
from .values import UnitRejected, codings, concept_text
from ..wellformed import well_formed

EXAMPLES = 3
_UNDATED_DETAIL = "no effective[x] and no issued: left out of the response, named in its caveats"
_CODED = {
    "Observation": ("code",),
    "Condition": ("code",),
    "Procedure": ("code",),
    "DiagnosticReport": ("code", "conclusionCode"),
    "MedicationRequest": ("medicationCodeableConcept",),
    "MedicationAdministration": ("medicationCodeableConcept",),
    "MedicationStatement": ("medicationCodeableConcept",),
}


@dataclass
class Entry:
    """One line of the report: what, how often, where to look."""

    key: tuple[str, ...]
    count: int = 0
    examples: list[str] = field(default_factory=list)
    suggestion: str | None = None

    def add(self, reference: str) -> None:
        self.count += 1
        if reference not in self.examples and len(self.examples) < EXAMPLES:
            self.examples.append(reference)


@dataclass
class Coverage:
    patients: int = 0
    resources: int = 0
    unmapped_relevant: dict[tuple[str, ...], Entry] = field(default_factory=dict)
    unmapped_other: int = 0
    rejected_units: dict[tuple[str, ...], Entry] = field(default_factory=dict)
    rejected_values: dict[tuple[str, ...], Entry] = field(default_factory=dict)
    notes: dict[str, dict[tuple[str, ...], Entry]] = field(default_factory=dict)
    #: unknown systems whose codes would map as ICD-10, or read as ICD-10 by their name only
    #: (UNVERIFIED): a national ICD-10 identifier to declare
    icd_like_systems: dict[tuple[str, ...], Entry] = field(default_factory=dict)

    @staticmethod
    def _bump(table: dict[tuple[str, ...], Entry], key: tuple[str, ...], reference: str) -> Entry:
        entry = table.setdefault(key, Entry(key))
        entry.add(reference)
        return entry


def _relevant(text: str, mapping: CompiledMapping) -> bool:
    if mapping.coverage_keywords is not None and mapping.coverage_keywords.search(text):
        return True
    return any(p.search(text) for p, _ in mapping.observation_text)


def _suggest_rule(text: str, rtype: str, mapping: CompiledMapping) -> str | None:
    if rtype != "Observation":
        return None
    hits = {r.spec.id for r in mapping.observation_rules_by_text(text)}  # not_synonyms heeded (probe123 D3)
    return hits.pop() if len(hits) == 1 else None


def _suggest_condition(text: str, mapping: CompiledMapping) -> str | None:
    """The condition rule a diagnosis name states, read by the text engine ("Splenomegaly", "Enlarged
    spleen", "Спленомегалия"): one target stated present, else none (a denial or two findings)."""
    from .text.engine import TextEngineError

    try:
        assertions = mapping.text.assert_texts([text])[0]
    except TextEngineError:
        return None
    targets = {a.target for a in assertions if a.label == "present"}
    return targets.pop() if len(targets) == 1 else None


def _mapped(concept: Any, rtype: str, data: dict[str, Any], mapping: CompiledMapping) -> bool:
    for system, code, _ in codings(concept):
        if mapping.rules_for(system, code) or mapping.broader_rules_for(system, code):
            return True
    if rtype == "DiagnosticReport":
        return _modality(data, mapping) is not None or _is_pathology(data)
    if rtype.startswith("Medication"):
        text = concept_text(concept)
        return any(p.search(text) for p, _ in mapping.medication_text)
    return False


_DIGITS = re.compile(r"\d+(?:[.,]\d+)?")


def collect(records: Iterable[PatientRecord], mapping: CompiledMapping) -> Coverage:
    cov = Coverage()
    for record in records:
        cov.patients += 1
        extraction = extract(record, mapping)
        for reference, exc in extraction.rejected:
            if isinstance(exc, UnitRejected):
                cov._bump(cov.rejected_units, (exc.unit,), reference)
            else:
                # group messages that differ only in their numbers
                cov._bump(cov.rejected_values, (_DIGITS.sub("#", str(exc)),), reference)
        for note in extraction.notes:
            table = cov.notes.setdefault(note.kind, {})
            detail = (
                note.detail
                if note.kind
                in (
                    "text_fallback",
                    "broader_code",
                    "lookalike_code",
                    "unknown_modality",
                    "replaced",
                    "duplicate",
                    "date_in_words",
                    "undated_treatment",
                )
                else _DIGITS.sub("#", note.detail)
            )
            cov._bump(table, (note.rule or "", detail), note.reference)
        # probe83 D6: a result the response would read, on no day (no effective[x], no issued)
        for m in extraction.measurements:
            if m.effective is None and m.analyte in UNDATED_RESPONSE_RESULTS:
                cov._bump(cov.notes.setdefault("undated_result", {}), (m.analyte, _UNDATED_DETAIL), m.reference)
        fallback_refs = {n.reference for n in extraction.notes if n.kind == "text_fallback"}
        for raw in record.resources:
            cov.resources += 1
            rtype = raw.data.get("resourceType", "")
            reference = raw.ref or raw.origin
            for element in _CODED.get(rtype, ()):
                concepts = raw.data.get(element)
                for concept in concepts if isinstance(concepts, list) else [concepts]:
                    if not isinstance(concept, dict):
                        continue
                    _check_concept(cov, concept, rtype, raw.data, reference, mapping, fallback_refs)
            for comp in (raw.data.get("component") or []) if rtype == "Observation" else []:
                if isinstance(comp, dict) and isinstance(comp.get("code"), dict):
                    _check_concept(cov, comp["code"], rtype, raw.data, reference, mapping, fallback_refs)
    return cov


_ICD_CODE = re.compile(r"^[A-Za-z]\d{2}(?:\.?[0-9A-Za-z]{1,4})?$")
_ICD = ("http://hl7.org/fhir/sid/icd-10", "http://hl7.org/fhir/sid/icd-10-cm")


def _check_concept(
    cov: Coverage,
    concept: dict[str, Any],
    rtype: str,
    data: dict[str, Any],
    reference: str,
    mapping: CompiledMapping,
    fallback_refs: set[str],
) -> None:
    for system, _, _ in codings(concept):
        # read through a name pattern only (UNVERIFIED): the site should declare the identifier
        if isinstance(system, str) and system and (named := mapping.recognised_by_name(system)):
            cov._bump(cov.icd_like_systems, (system,), reference).suggestion = named
    if _mapped(concept, rtype, data, mapping) or (rtype == "Observation" and reference in fallback_refs):
        return
    for system, code, _ in codings(concept):
        if (
            isinstance(system, str)
            and system
            and isinstance(code, str)
            and _ICD_CODE.match(fold_code_lookalikes(code.strip().upper()))  # «С90.0» too (probe123 D5)
            and mapping.canonical(system, code)[0] not in _ICD
        ):
            target = next(
                (icd for icd in _ICD if mapping.rules_for(icd, code) or mapping.broader_rules_for(icd, code)), None
            )
            if target:
                entry = cov._bump(cov.icd_like_systems, (system,), reference)
                entry.suggestion = target
    text = concept_text(concept)
    if not text or not _relevant(text, mapping):
        cov.unmapped_other += 1
        return
    coded = codings(concept)
    system, code, display = next(((s or "", c or "", d or "") for s, c, d in coded), ("", "", ""))
    label = concept.get("text") or display or text
    entry = cov._bump(cov.unmapped_relevant, (rtype, system, code, str(label)), reference)
    if entry.suggestion is None:
        rule = _suggest_rule(text, rtype, mapping)
        if rule:
            why = (
                "a standard code the table does not hold: check it means the same test"
                if system in _STANDARD_SYSTEMS
                else "name matches its synonyms"
            )
            entry.suggestion = f"observations.{rule} ({why})"
        elif rtype == "Condition" and (target := _suggest_condition(text, mapping)):
            entry.suggestion = f"conditions.{target} (its name states it: check it means the same finding)"


# ---------------------------------------------------------------- output


def to_dict(cov: Coverage) -> dict[str, Any]:
    def rows(table: dict[tuple[str, ...], Entry], names: tuple[str, ...]) -> list[dict[str, Any]]:
        out = []
        for entry in sorted(table.values(), key=lambda e: (-e.count, e.key)):
            row: dict[str, Any] = dict(zip(names, entry.key, strict=False))
            row["count"] = entry.count
            row["examples"] = entry.examples
            if entry.suggestion:
                row["suggested_rule"] = entry.suggestion
            out.append(row)
        return out

    return {
        "patients": cov.patients,
        "resources": cov.resources,
        "unmapped_relevant": rows(cov.unmapped_relevant, ("resourceType", "system", "code", "text")),
        "unmapped_other_count": cov.unmapped_other,
        "rejected_units": rows(cov.rejected_units, ("unit",)),
        "rejected_values": rows(cov.rejected_values, ("message",)),
        "text_fallback_matches": rows(cov.notes.get("text_fallback", {}), ("rule", "text")),
        "broader_codes": rows(cov.notes.get("broader_code", {}), ("rule", "code")),
        # probe123 D5: «С90.0» typed with a Cyrillic С, read as C90.0
        "codes_typed_with_lookalike_letters": rows(cov.notes.get("lookalike_code", {}), ("rule", "code")),
        "icd10_like_systems": rows(cov.icd_like_systems, ("system",)),
        "unitless_values_used": rows(cov.notes.get("unitless", {}), ("rule", "detail")),
        "qualitative_values_used": rows(cov.notes.get("qualitative", {}), ("rule", "detail")),
        "values_not_used": rows(cov.notes.get("unused", {}), ("rule", "detail")),
        "medications_given_locally": rows(cov.notes.get("local_route", {}), ("rule", "detail")),
        "treatments_for_another_disease": rows(cov.notes.get("other_indication", {}), ("rule", "detail")),
        "corticosteroids_alone": rows(cov.notes.get("companion_alone", {}), ("rule", "detail")),
        "imaging_of_unrecognised_modality": rows(cov.notes.get("unknown_modality", {}), ("rule", "detail")),
        "results_replaced_by_a_later_version": rows(cov.notes.get("replaced", {}), ("rule", "detail")),
        # a DocumentReference whose attachment a report (or an earlier document) carries: read there, once
        "documents_read_elsewhere": rows(cov.notes.get("duplicate", {}), ("rule", "detail")),
        # probe79 D8: a treatment dated in words, read or not
        "treatments_without_a_readable_date": rows(cov.notes.get("undated_treatment", {}), ("rule", "detail")),
        "treatment_dates_read_from_words": rows(cov.notes.get("date_in_words", {}), ("rule", "detail")),
        "response_results_without_a_date": rows(cov.notes.get("undated_result", {}), ("rule", "detail")),
        "site_mapping_skeleton": skeleton(cov),
    }


_LOCAL_CODE = re.compile(r"^'(?P<text>.*)' \((?P<system>[^|()]+)\|(?P<code>[^()]+)\)$")


def skeleton(cov: Coverage) -> str:
    """A site mapping file to start from: add_codes for every local code matched by its name, or
    whose name matches one rule's synonyms; stubs for rejected units. Review before use."""
    adds: dict[tuple[str, str], list[str]] = {}  # (section, rule) -> code lines
    for entry in cov.notes.get("text_fallback", {}).values():
        rule, detail = entry.key
        m = _LOCAL_CODE.match(detail)
        if m:
            adds.setdefault(("observations", rule), []).append(_code_line(m["system"], m["code"], m["text"]))
    for entry in cov.unmapped_relevant.values():
        rtype, system, code, text = entry.key
        if entry.suggestion and system and code:
            section, rule = entry.suggestion.split(" ", 1)[0].split(".", 1)
            adds.setdefault((section, rule), []).append(_code_line(system, code, text))
    lines = ["format: poems-fhir-mapping/1", "name: my-site", 'version: "0.1"']
    if cov.icd_like_systems:
        lines.append("system_equivalents:  # systems whose codes look like ICD-10: confirm, then keep")
        by_target: dict[str, list[Entry]] = {}
        for entry in cov.icd_like_systems.values():
            by_target.setdefault(entry.suggestion or "", []).append(entry)
        for target, entries in sorted(by_target.items()):
            lines.append(f"  {_yaml_str(target)}:")
            for entry in entries:
                lines.append(f"    - {{uri: {_yaml_str(entry.key[0])}, verification: LOCAL}}  # {entry.count}x")
    if cov.rejected_units:
        lines.append("unit_aliases:  # map each to the UCUM unit it means, or delete the line")
        for entry in cov.rejected_units.values():
            lines.append(f"  {_yaml_str(entry.key[0])}: TODO  # {entry.count}x, e.g. {_comment(entry.examples[0])}")
    for section in ("observations", "conditions"):
        rules = sorted((rule, codes) for (sec, rule), codes in adds.items() if sec == section)
        if rules:
            lines.append(f"{section}:")
        for rule, codes in rules:
            lines.append(f"  - id: {rule}")
            lines.append("    add_codes:")
            lines.extend(sorted(set(codes)))
    return "\n".join(lines) + "\n"


def _yaml_str(text: str) -> str:
    """A YAML double-quoted scalar: a JSON string is one (YAML 1.2), with every control character
    escaped - a code holding a line break stays one line and the same code (probe22)."""
    return json.dumps(well_formed(text), ensure_ascii=False)


def _comment(text: str) -> str:
    """``text`` fit for a YAML comment: one line, no control characters."""
    return _CONTROL.sub(" ", well_formed(str(text)))


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _code_line(system: str, code: str, display: str) -> str:
    return (
        f"      - {{system: {_yaml_str(system)}, code: {_yaml_str(code)}, display: {_yaml_str(display)}, "
        "verification: LOCAL}"
    )


def render_text(cov: Coverage) -> str:
    d = to_dict(cov)
    out = [f"mapping coverage: {d['patients']} patient(s), {d['resources']} resources"]

    def section(title: str, items: list[dict[str, Any]], fmt: Any, fix: str | None = "add_codes to {}") -> None:
        out.append("")
        out.append(f"{title} ({len(items)})")
        if not items:
            out.append("  none")
        for item in items:
            out.append(f"  {item['count']:>5}x  {fmt(item)}")
            out.append(f"          e.g. {', '.join(item['examples'])}")
            if item.get("suggested_rule") and fix:
                out.append(f"          suggestion: {fix.format(item['suggested_rule'])}")

    section(
        "Relevant-looking codes and texts that map to nothing",
        d["unmapped_relevant"],
        lambda i: f"{i['resourceType']} {i['system'] or '(no system)'}|{i['code'] or '(no code)'} {i['text']!r}",
    )
    out.append(f"  ({d['unmapped_other_count']} other unmapped codings did not look relevant)")
    section("Rejected units", d["rejected_units"], lambda i: repr(i["unit"]))
    section("Rejected values", d["rejected_values"], lambda i: i["message"])
    section(
        "Display-text fallback matches (lower confidence)",
        d["text_fallback_matches"],
        lambda i: f"{i['rule']} <- {i['text']}",
    )
    section("Codes read as their ICD-10 parent", d["broader_codes"], lambda i: f"{i['rule']} <- {i['code']}")
    section(
        "Codes typed with lookalike letters (read as Latin)",
        d["codes_typed_with_lookalike_letters"],
        lambda i: f"{i['rule']} <- {i['code']}",
    )
    section(
        "Unknown code systems whose codes would map as ICD-10 (declare under system_equivalents)",
        d["icd10_like_systems"],
        lambda i: f"{i['system']} -> {i.get('suggested_rule')}",
        # a system to declare, not codes to add (probe49 D10: "add_codes to http://hl7.org/fhir/sid/icd-10")
        "system_equivalents: list it under the code system {}",
    )
    section("Values without a unit used (presence / own range only)", d["unitless_values_used"], lambda i: i["detail"])
    section("Qualitative results used", d["qualitative_values_used"], lambda i: i["detail"])
    section("Valid results a rule cannot use", d["values_not_used"], lambda i: i["detail"])
    section(
        "Medications not read as treatment: given where they do not reach the clone (local_routes)",
        d["medications_given_locally"],
        lambda i: f"{i['rule']}: {i['detail']}",
    )
    section(
        "Treatments not read as treatment of the clone: every stated reason names another disease",
        d["treatments_for_another_disease"],
        lambda i: f"{i['rule']}: {i['detail']}",
    )
    section(
        "Corticosteroids given before any other treatment of the clone (start no treatment)",
        d["corticosteroids_alone"],
        lambda i: f"{i['rule']}: {i['detail']}",
    )
    section(
        "Imaging reports of an unrecognised modality (read with low-grade negatives; add keywords under modalities)",
        d["imaging_of_unrecognised_modality"],
        lambda i: i["detail"],
    )
    section(
        "Results not read: a later version (same identifier, or a correction of the same test) replaces them",
        d["results_replaced_by_a_later_version"],
        lambda i: i["detail"],
    )
    section(
        "Treatments on no readable day (not placed on the timeline; the response does not start from them)",
        d["treatments_without_a_readable_date"],
        lambda i: f"{i['rule']}: {i['detail']}",
    )
    section(
        "Treatment dates read from words (performedString naming one month or day)",
        d["treatment_dates_read_from_words"],
        lambda i: f"{i['rule']}: {i['detail']}",
    )
    section(
        "Response results on no day (no effective[x], no issued): not placed in time, named in the response",
        d["response_results_without_a_date"],
        lambda i: f"{i['rule']}: {i['detail']}",
    )
    out.append("")
    out.append("Site mapping skeleton (review every line before use):")
    out.extend("  " + line for line in d["site_mapping_skeleton"].splitlines())
    return "\n".join(out)
