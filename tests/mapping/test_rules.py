"""Mapping files: the default loads, site overrides merge, problems are located, ConceptMaps."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from poems_fhir.mapping.rules import MappingError, default_mapping_path, load_mapping

SITE_HEADER = "format: poems-fhir-mapping/1\nname: site\nversion: '1'\n"


def write(tmp_path: Path, text: str, name: str = "site.yaml") -> Path:
    """Write SITE_HEADER + body; the body may be indented (it is dedented)."""
    header, body = ("", text)
    if text.startswith(SITE_HEADER):
        header, body = SITE_HEADER, text[len(SITE_HEADER) :]
    p = tmp_path / name
    p.write_text(header + textwrap.dedent(body), encoding="utf-8")
    return p


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_default_mapping_marks_every_code_and_threshold():
    text = default_mapping_path().read_text(encoding="utf-8")
    for block in re.findall(r"\{system:[^}]*\}", text):
        assert "verification:" in block, block
    mapping = load_mapping()
    assert mapping.thresholds["vegf_serum"].verification == "UNVERIFIED"
    assert mapping.thresholds["vegf_plasma"].value == 200


def test_site_file_adds_codes_and_overrides_thresholds(tmp_path):
    site = write(
        tmp_path,
        SITE_HEADER
        + """
        thresholds:
          platelets_high: {value: 400, verification: LOCAL}
        observations:
          - id: vegf
            add_codes: [{system: "https://h.example/lab", code: V1, verification: LOCAL}]
    """,
    )
    mapping = load_mapping([site])
    assert mapping.thresholds["platelets_high"].value == 400
    assert mapping.thresholds["platelets_high"].unit == "10*9/L"  # kept from the default
    assert [r.spec.id for r in mapping.rules_for("https://h.example/lab", "V1")] == ["vegf"]
    assert mapping.rules_for("http://loinc.org", "75628-8")  # default codes kept
    assert mapping.fingerprint != load_mapping().fingerprint


def test_one_site_file_may_be_given_alone_as_a_path_or_a_string(tmp_path):
    # a string was iterated as a list of one-letter paths: 21 "cannot read" problems for "mappings/default.yaml"
    site = write(tmp_path, SITE_HEADER + "thresholds:\n  platelets_high: {value: 400, verification: LOCAL}\n")
    for given in (site, str(site)):
        assert load_mapping(given).thresholds["platelets_high"].value == 400


def test_problems_name_file_line_key_and_fix(tmp_path):
    site = write(
        tmp_path,
        SITE_HEADER
        + """
        observations:
          - id: vegf
            unitt: pg/mL
          - id: new_rule
            role: threshold
            topic: not_a_criterion
            unit: furlongs
            codes: [{system: nowhere, code: X}]
    """,
    )
    with pytest.raises(MappingError) as exc:
        load_mapping([site])
    messages = [str(p) for p in exc.value.problems]
    line = line_of(site, "unitt")
    assert any(f"{site}:{line}" in m and "unitt" in m and "fix:" in m for m in messages), messages


def test_cross_reference_problems_after_merge(tmp_path):
    site = write(
        tmp_path,
        SITE_HEADER
        + """
        observations:
          - id: new_rule
            role: threshold
            topic: not_a_criterion
            unit: furlongs
            high: missing_threshold
            codes: [{system: nowhere, code: X}]
    """,
    )
    with pytest.raises(MappingError) as exc:
        load_mapping([site])
    keys = {p.key for p in exc.value.problems}
    assert {
        "observations.new_rule.topic",
        "observations.new_rule.unit",
        "observations.new_rule.codes",
        "observations.new_rule.high/low",
    } <= keys
    assert all(
        p.line == line_of(site, "- id: new_rule")
        for p in exc.value.problems
        if p.key.startswith("observations.new_rule")
    )


def test_yaml_syntax_error_has_a_line(tmp_path):
    site = write(tmp_path, SITE_HEADER + "observations: [\n  {id: x\n")
    with pytest.raises(MappingError) as exc:
        load_mapping([site])
    assert exc.value.problems[0].line is not None and "invalid YAML" in exc.value.problems[0].message


def test_wrong_format_marker(tmp_path):
    site = write(tmp_path, "format: other/2\nname: s\nversion: '1'\n")
    with pytest.raises(MappingError) as exc:
        load_mapping([site])
    assert "poems-fhir-mapping/1" in exc.value.problems[0].hint


def concept_map(elements):
    return {
        "resourceType": "ConceptMap",
        "status": "active",
        "name": "Local",
        "group": [{"source": "https://h.example/problems", "target": "http://snomed.info/sct", "element": elements}],
    }


def test_concept_map_translates_only_safe_equivalences(tmp_path):
    cm = tmp_path / "cm.json"
    cm.write_text(
        json.dumps(
            concept_map(
                [
                    {"code": "PNP", "target": [{"code": "42345000", "equivalence": "wider"}]},
                    {"code": "PNP?", "target": [{"code": "42345000", "equivalence": "narrower"}]},
                ]
            )
        )
    )
    mapping = load_mapping([cm])
    assert [r.spec.id for r in mapping.rules_for("https://h.example/problems", "PNP")] == ["polyneuropathy"]
    assert mapping.rules_for("https://h.example/problems", "PNP?") == []
    assert any(i["file"] == "cm.json" for i in mapping.identity)


def test_invalid_concept_map_is_reported(tmp_path):
    cm = tmp_path / "cm.json"
    cm.write_text(json.dumps({"resourceType": "ConceptMap", "status": "bogus-but-accepted", "group": "x"}))
    with pytest.raises(MappingError):
        load_mapping([cm])


def test_the_wheel_ships_the_default_mapping():
    import tomllib

    from tests.conftest import ROOT

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["package-dir"]["poems_fhir.default_mappings"] == "mappings"
    assert "*.yaml" in config["package-data"]["poems_fhir.default_mappings"]
    assert (ROOT / config["package-dir"]["poems_fhir.default_mappings"] / "default.yaml").exists()


@pytest.mark.parametrize("section", ["procedures", "medications"])
def test_a_bad_name_pattern_is_a_problem_naming_the_rule(tmp_path, section):
    site = write(
        tmp_path,
        SITE_HEADER
        + f"""
        {section}:
          - id: my_rule
            event: treatment
            text: ["autolog(ous"]
            codes: [{{system: "https://h.example/x", code: X1, verification: LOCAL}}]
    """,
    )
    with pytest.raises(MappingError) as err:
        load_mapping([site])
    assert f"{section}" in str(err.value) and "my_rule" in str(err.value)
    assert "invalid regular expression" in str(err.value)


def test_an_integer_python_cannot_read_is_a_mapping_problem_not_a_crash(tmp_path):
    # int() refuses more than 4,300 digits: "mappings check" crashed with an internal error (fuzzer)
    site = write(tmp_path, SITE_HEADER + "thresholds:\n  platelets_high: {value: " + "9" * 5000 + "}\n")
    with pytest.raises(MappingError) as exc:
        load_mapping([site])
    assert "a value YAML cannot read" in exc.value.problems[0].message
    assert exc.value.problems[0].hint == "write a number of a few digits"


def test_json_nulls_in_a_concept_map_are_absent_not_a_crash(tmp_path):
    """fhir.resources accepts "target": null (FHIR: null is absent); the loader iterated it (fuzzer)."""
    cm = tmp_path / "cm.json"
    cm.write_text(
        json.dumps(
            concept_map(
                [
                    {"code": "VEGFX", "display": "VEGF", "target": None},
                    {"code": "PNP", "target": [{"code": "42345000", "equivalence": "wider"}]},
                ]
            )
        )
    )
    mapping = load_mapping([cm])
    assert mapping.rules_for("https://h.example/problems", "VEGFX") == []
    assert [r.spec.id for r in mapping.rules_for("https://h.example/problems", "PNP")] == ["polyneuropathy"]
    nulls = json.loads(cm.read_text())
    nulls["group"][0]["element"] = None
    cm.write_text(json.dumps(nulls))
    with pytest.raises(MappingError, match="element"):  # here fhir.resources refuses: a problem, not a crash
        load_mapping([cm])


def test_a_long_icd10_code_is_no_code_and_costs_no_parent_search(mapping, monkeypatch):
    """The parent of "G62.88" is "G62.8"; a 60 kB "code" was trimmed one character at a time, a
    quadratic search (minutes for 2 MB, found by a black-box fuzzer). Counted, not timed."""
    icd = "http://hl7.org/fhir/sid/icd-10"
    assert [r.spec.id for r in mapping.broader_rules_for(icd, "G62.88")] == ["polyneuropathy"]
    looked_up: list[object] = []
    real = mapping.by_code.get
    monkeypatch.setattr(
        mapping, "by_code", type("D", (dict,), {"get": lambda self, k: looked_up.append(k) or real(k)})(mapping.by_code)
    )
    assert mapping.broader_rules_for(icd, "G62" + "8" * 60_000) == []
    assert looked_up == []


def test_one_round_reports_problems_of_every_stage_each_with_its_line(tmp_path):
    # a value of the wrong type (found while reading the file) and two problems only the checks across
    # files find: all three at once, each at its own line (fuzzprobe2 D10: they came one fix at a time)
    site = write(
        tmp_path,
        SITE_HEADER
        + """
        observations:
          - id: vegf
            add_codes:
              - {system: lab, code: "5", verification: LOCAL}
        thresholds:
          platelets_high: {value: abc}
        unit_aliases:
          "/nL": lots
    """,
    )
    with pytest.raises(MappingError) as exc:
        load_mapping([site])
    located = {(p.key, p.file, p.line) for p in exc.value.problems}
    assert located == {
        ("thresholds.platelets_high.value", str(site), line_of(site, "platelets_high")),
        ("unit_aliases./nL", str(site), line_of(site, '"/nL"')),
        ("observations.vegf.codes", str(site), line_of(site, "- id: vegf")),
    }


def test_an_entry_taken_out_for_its_own_problem_is_not_reported_again_as_missing(tmp_path):
    site = write(
        tmp_path,
        SITE_HEADER
        + """
        observations:
          - id: vegf
            high: site_vegf_high
        thresholds:
          site_vegf_high: {value: abc, unit: pg/mL, verification: LOCAL}
    """,
    )
    with pytest.raises(MappingError) as exc:
        load_mapping([site])
    assert [p.key for p in exc.value.problems] == ["thresholds.site_vegf_high.value"]


def test_a_problem_outside_any_entry_stops_before_the_checks_across_files(tmp_path):
    # the format line is wrong: the rest of the file cannot be trusted to mean what it says
    site = write(tmp_path, "format: other/2\nname: s\nversion: '1'\nunit_aliases:\n  x: lots\n")
    with pytest.raises(MappingError) as exc:
        load_mapping([site])
    assert [p.key for p in exc.value.problems] == ["format"]


def test_a_problem_is_one_line_and_quotes_at_most_a_few_hundred_characters(tmp_path):
    alias = "a\\r\\nb\\u001b[31m" + "x" * 5000  # an undeclared system alias, quoted in the message
    site = write(
        tmp_path,
        SITE_HEADER + f'observations:\n  - id: vegf\n    add_codes:\n      - {{system: "{alias}", code: "5"}}\n',
    )
    with pytest.raises(MappingError) as exc:
        load_mapping([site])
    text = str(exc.value.problems[0])
    assert "\n" not in text and "\r" not in text and "\x1b" not in text
    assert "\\r\\n" in text and "\\x1b" in text
    assert len(text) < 1000 and "characters)" in text


def test_concept_map_problems_carry_their_line(tmp_path):
    cm = tmp_path / "cm.json"
    data = concept_map(
        [
            {"code": "PNP", "target": [{"code": "42345000", "equivalence": "wider"}]},
            {"code": 5, "target": [{"code": "42345000", "equivalence": "equivalent"}]},
        ]
    )
    cm.write_text(json.dumps(data, indent=2))
    with pytest.raises(MappingError) as exc:
        load_mapping([cm])
    (problem,) = exc.value.problems
    assert problem.key == "group.0.element.1.code"
    assert problem.line == line_of(cm, '"code": 5')


def test_skipped_concept_map_elements_carry_their_line(tmp_path):
    from poems_fhir.mapping.conceptmap import load_concept_map

    cm = tmp_path / "cm.json"
    data = concept_map(
        [
            {"code": "PNP", "target": [{"code": "42345000", "equivalence": "wider"}]},
            {"code": "PNP?", "target": [{"code": "42345001", "equivalence": "narrower"}]},
        ]
    )
    cm.write_text(json.dumps(data, indent=2))
    (skipped,) = load_concept_map(cm).skipped
    assert skipped.line == line_of(cm, '"42345001"') - 1  # the target object opens on the line above its code


def test_an_unknown_section_is_reported_at_its_own_line_not_its_first_item(tmp_path):
    # probe15 M03: "observation:" on its line, its list below; the line of the key was off by one
    site = write(tmp_path, SITE_HEADER + "observation:\n  - id: vegf\n    unit: pg/mL\n")
    with pytest.raises(MappingError) as exc:
        load_mapping([site])
    (problem,) = exc.value.problems
    assert (problem.line, problem.key) == (line_of(site, "observation:"), "observation")


def test_a_code_in_two_observation_rules_is_a_problem(tmp_path):
    # probe15 M13: a local code added to VEGF and listed under a platelet rule too was read as platelets
    # (the VEGF refused as a platelet count) while `mappings check` said ok
    site = write(
        tmp_path,
        SITE_HEADER
        + """
        systems: {hlab: "https://hospital.example.org/lab"}
        observations:
          - id: vegf
            add_codes: [{system: hlab, code: VEGF-PL, verification: LOCAL}]
          - id: site_platelets
            role: threshold
            topic: thrombocytosis_polycythemia
            component: thrombocytosis
            unit: 10*9/L
            high: platelets_high
            codes: [{system: hlab, code: VEGF-PL, verification: LOCAL}]
    """,
    )
    with pytest.raises(MappingError) as exc:
        load_mapping([site])
    (problem,) = exc.value.problems
    assert problem.key == "observations.site_platelets.codes"
    assert "hlab|VEGF-PL is also in observation rule 'vegf'" in problem.message
    assert problem.line == line_of(site, "- id: site_platelets")
    # the same code twice in one rule, or in two condition rules (one local code naming two findings,
    # each judged on its own: test_reports_mutants2), is no conflict
    site = write(
        tmp_path,
        SITE_HEADER
        + """
        systems: {hlab: "https://hospital.example.org/lab"}
        observations:
          - id: vegf
            add_codes: [{system: hlab, code: V1, verification: LOCAL}, {system: hlab, code: V1, verification: LOCAL}]
        conditions:
          - id: splenomegaly
            add_codes: [{system: hlab, code: D1, verification: LOCAL}]
          - id: hepatomegaly
            add_codes: [{system: hlab, code: D1, verification: LOCAL}]
    """,
    )
    load_mapping([site])


def test_a_phrase_with_unbalanced_brackets_is_a_problem(tmp_path):
    # probe15 T06: "[enlarged liver" compiled to the words "[enlarged" and "liver" and never matched
    site = write(tmp_path, SITE_HEADER + "text:\n  targets:\n    hepatomegaly: {phrases: ['[enlarged liver']}\n")
    with pytest.raises(MappingError, match="unbalanced brackets"):
        load_mapping([site])


@pytest.mark.parametrize("pattern", ["", ".*", "(?:VEGF)?", "\\\\s*"])
def test_a_synonym_that_matches_an_empty_name_is_refused(tmp_path, pattern):
    # probe39: synonyms [""] or [".*"] passed `mappings check`; every unmapped result then became VEGF
    # (an albumin of 35 g/L read as VEGF 3.5e10 pg/mL: "met")
    site = write(
        tmp_path,
        SITE_HEADER
        + f"""
        observations:
          - id: vegf
            synonyms: ["{pattern}"]
    """,
    )
    with pytest.raises(MappingError) as err:
        load_mapping([site])
    assert "observations.vegf.synonyms" in str(err.value) and "matches an empty name" in str(err.value)


@pytest.mark.parametrize("value", [".nan", ".inf", "-5"])
def test_a_threshold_that_is_not_a_finite_non_negative_number_is_refused(tmp_path, value):
    # probe39: a NaN VEGF cut-off made a VEGF of 640 pg/mL absent; an infinite one is never reached
    site = write(
        tmp_path,
        SITE_HEADER
        + f"""
        thresholds:
          vegf_plasma: {{value: {value}, unit: pg/mL, operator: ">=", verification: LOCAL}}
    """,
    )
    with pytest.raises(MappingError) as err:
        load_mapping([site])
    assert "thresholds.vegf_plasma" in str(err.value)


def test_a_bad_not_if_text_pattern_is_refused_at_load(tmp_path):
    site = write(
        tmp_path,
        SITE_HEADER
        + """
        conditions:
          - id: hemangioma
            not_if_text: ["liver("]
    """,
    )
    with pytest.raises(MappingError) as err:
        load_mapping([site])
    assert "not_if_text" in str(err.value) and "invalid regular expression" in str(err.value)


def test_an_unquoted_code_with_a_leading_zero_keeps_its_text(tmp_path):
    # probe39: YAML 1.1 reads `code: 0101` as the octal number 65; the lab's "0101" then matched nothing
    site = write(
        tmp_path,
        SITE_HEADER
        + """
        observations:
          - id: platelets
            add_codes:
              - {system: "https://lis.example.kz/lab", code: 0101, verification: LOCAL}
              - {system: "https://lis.example.kz/lab", code: 42345000, verification: LOCAL}
    """,
    )
    mapping = load_mapping([site])
    assert [r.spec.id for r in mapping.rules_for("https://lis.example.kz/lab", "0101")] == ["platelets"]
    assert [r.spec.id for r in mapping.rules_for("https://lis.example.kz/lab", "42345000")] == ["platelets"]
    assert mapping.rules_for("https://lis.example.kz/lab", "65") == []


@pytest.mark.parametrize(
    ("equivalents", "message"),
    [
        # probe39: both passed the check, and the site's data was then silently dropped
        (
            '"http://hl7.org/fhir/sid/icd-10-typo": [{uri: "urn:oid:1.2.398.7.1.9.1.1", verification: LOCAL}]',
            "is no system any rule is written in",
        ),
        ('icd10: [{uri: "http://loinc.org", verification: LOCAL}]', "is itself the system of rules (loinc)"),
    ],
)
def test_a_system_equivalent_that_cannot_be_right_is_refused(tmp_path, equivalents, message):
    site = write(tmp_path, SITE_HEADER + f"\n        system_equivalents:\n          {equivalents}\n    ")
    with pytest.raises(MappingError) as err:
        load_mapping([site])
    assert message in str(err.value) and "site.yaml" in str(err.value)


def test_a_national_system_declared_as_icd10_is_accepted(tmp_path):
    site = write(
        tmp_path,
        SITE_HEADER
        + '\n        system_equivalents:\n          icd10: [{uri: "urn:oid:1.2.398.7.1.9.1.1", verification: LOCAL}]\n    ',
    )
    mapping = load_mapping([site])
    assert mapping.rules_for("urn:oid:1.2.398.7.1.9.1.1", "G61.8")


def test_a_problem_after_an_entry_taken_out_is_reported_at_its_own_line(tmp_path):
    """probe59 D4: with the first observation taken out for its own problem, the duplicated code of the
    next one was reported at the line of the entry taken out, sending the operator to the wrong rule."""
    site = write(
        tmp_path,
        SITE_HEADER
        + """
        observations:
          - id: first_bad
            role: measurement
            unit: g/L
            colour: blue
            codes: [{system: "https://x.example/cs", code: A1, verification: LOCAL}]
          - id: dup_vegf
            role: vegf
            unit: pg/mL
            codes: [{system: "http://loinc.org", code: 75628-8, verification: LOCAL}]
    """,
    )
    with pytest.raises(MappingError) as exc:
        load_mapping([site])
    lines = {p.key: p.line for p in exc.value.problems}
    assert lines == {
        "observations[0].colour": line_of(site, "colour: blue"),
        "observations.dup_vegf.codes": line_of(site, "- id: dup_vegf"),
    }
