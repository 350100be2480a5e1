# SPDX-License-Identifier: Apache-2.0
"""The shipped UCUM answers (mapping/ucum_table.json) are the library's, current, and used."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from poems_fhir.mapping import ucum_table, units
from poems_fhir.mapping.units import UnitError, conversion_factor, library_factor, validate_unit


@pytest.fixture()
def fresh_tables() -> Iterator[None]:
    """Forget the memoised table and answers before and after a test that swaps the table."""

    def clear() -> None:
        ucum_table.table.cache_clear()
        units.conversion_factor.cache_clear()

    clear()
    yield
    clear()


def test_the_shipped_table_is_what_the_library_answers_for_the_default_mapping() -> None:
    # fails when the mapping names a unit the table lacks, or ucumvert changed its answers:
    # run `python -m poems_fhir.mapping.ucum_table` and commit the file
    shipped = json.loads(ucum_table.TABLE_PATH.read_text(encoding="utf-8"))
    assert shipped == ucum_table.build(*ucum_table.questions_of_default_mapping())


def test_every_factor_of_the_table_agrees_with_the_library() -> None:
    table = ucum_table.table()
    assert len(table.factors) > 500  # the table is in use for this ucumvert
    for (a, b, mm), factor in table.factors.items():
        if factor is None:
            with pytest.raises(UnitError, match="dimensions differ"):
                library_factor(a, b, mm)
        elif a != b:
            assert library_factor(a, b, mm) == factor, (a, b, mm)


def test_known_answers_from_the_table() -> None:
    assert conversion_factor("g/dL", "g/L") == pytest.approx(10.0)
    assert conversion_factor("10*3/uL", "10*9/L") == pytest.approx(1.0)
    assert conversion_factor("ng/L", "pg/mL") == pytest.approx(1.0)
    assert conversion_factor("mg/dL", "mmol/L", 180.16) == pytest.approx(10 / 180.16)
    with pytest.raises(UnitError, match="cannot convert 'kg' to 'pg/mL': the dimensions differ"):
        conversion_factor("kg", "pg/mL")


def test_a_table_from_another_ucumvert_version_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_tables: None
) -> None:
    wrong = tmp_path / "ucum_table.json"
    # a deliberately wrong factor: if this table were used, g/dL -> g/L would be 3
    key = json.dumps(["g/dL", "g/L", None])
    wrong.write_text(json.dumps({"ucumvert": "0.0.1", "valid": ["g/dL"], "factors": {key: 3.0}}), encoding="utf-8")
    monkeypatch.setattr(ucum_table, "TABLE_PATH", wrong)
    assert ucum_table.table().factors == {}
    assert conversion_factor("g/dL", "g/L") == pytest.approx(10.0)


def test_a_pair_the_table_lacks_is_asked_of_the_library(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_tables: None
) -> None:
    empty = tmp_path / "ucum_table.json"
    empty.write_text(json.dumps({"ucumvert": ucum_table.ucumvert_version(), "valid": [], "factors": {}}))
    monkeypatch.setattr(ucum_table, "TABLE_PATH", empty)
    assert conversion_factor("[lb_av]", "kg") == pytest.approx(0.45359237)
    with pytest.raises(UnitError, match="not a valid UCUM unit"):
        validate_unit("furlongs per fortnight")


def test_an_unreadable_table_means_the_library(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_tables: None
) -> None:
    broken = tmp_path / "ucum_table.json"
    broken.write_text("{not json", encoding="utf-8")
    monkeypatch.setattr(ucum_table, "TABLE_PATH", broken)
    assert ucum_table.table().valid == frozenset()
    assert conversion_factor("mg/dL", "g/L") == pytest.approx(0.01)


def test_loading_the_default_mapping_does_not_build_the_library_registry() -> None:
    # the point of the table: ~1 s of start-up (pint's registry) saved on every run
    code = (
        "import sys\nfrom poems_fhir.mapping.rules import load_mapping\nload_mapping()\nprint('pint' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_librarys_own_message_names_both_units() -> None:
    with pytest.raises(UnitError, match="cannot convert 'kg' to 'pg/mL': the dimensions differ"):
        library_factor("kg", "pg/mL")
