# SPDX-License-Identifier: Apache-2.0
"""Load messages point at the mistake, in the file where it was written (probe39 M6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from poems_fhir.mapping.rules import MappingError, load_mapping

HEAD = 'format: poems-fhir-mapping/1\nname: site\nversion: "1"\n'


def problems_of(tmp_path: Path, body: str) -> list:
    site = tmp_path / "site.yaml"
    site.write_text(HEAD + body, encoding="utf-8")
    with pytest.raises(MappingError) as caught:
        load_mapping([site])
    return caught.value.problems


def test_a_system_alias_that_is_no_uri_is_reported_where_it_is_declared(tmp_path):
    (p,) = problems_of(
        tmp_path,
        'systems:\n  gkblab: "лаборатория-ГКБ7"\nobservations:\n  - id: platelets\n'
        '    add_codes: [{system: gkblab, code: "0102", verification: LOCAL}]\n',
    )
    assert (Path(p.file).name, p.line, p.key) == ("site.yaml", 5, "systems.gkblab")
    assert "'лаборатория-ГКБ7' is not a URI" in p.message


def test_a_typoed_rule_id_says_which_rule_was_meant(tmp_path):
    (p,) = problems_of(
        tmp_path,
        "observations:\n  - id: plateletes\n"
        '    add_codes: [{system: "https://lis.example.org/cs", code: "0102", verification: LOCAL}]\n',
    )
    assert p.key == "observations.plateletes.id" and "did you mean 'platelets'?" in p.hint
    (other,) = problems_of(tmp_path, "observations:\n  - id: zzzqqq\n    codes: [{system: loinc, code: 1-8}]\n")
    assert other.key == "observations.zzzqqq.role" and other.message == "no role"


def test_a_site_thresholds_unit_is_reported_at_the_site_file(tmp_path):
    found = problems_of(tmp_path, 'thresholds:\n  platelets_high: {value: 400, unit: "g/L", verification: LOCAL}\n')
    assert found and all(Path(p.file).name == "site.yaml" and p.line == 5 for p in found)
    assert all(p.key == "thresholds.platelets_high.unit" and "'platelets'" in p.message for p in found)


def test_a_refused_threshold_is_reported_once_not_again_by_each_rule_using_it(tmp_path):
    (p,) = problems_of(tmp_path, 'thresholds:\n  platelets_high: {value: .inf, unit: "10*9/L", verification: LOCAL}\n')
    assert p.key == "thresholds.platelets_high.(threshold)" and "finite" in p.message
