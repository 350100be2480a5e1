"""Reading with ``prune`` (issue #11): Observations no rule can use keep only their identity. The
spool and read_paths still read alike, and what is evaluated does not change: the same patients,
the same conclusions, the same evidence, on the samples, the Synthea corpus and the benchmark data;
a later version that no rule knows still replaces an earlier one that a rule knew."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from poems_fhir.criteria.profiles import MAYO
from poems_fhir.fhir.read import read_paths
from poems_fhir.fhir.spool import iter_records, open_paths
from poems_fhir.mapping.extract import observation_pruner
from poems_fhir.mapping.rules import CompiledMapping
from poems_fhir.pipeline import evaluate_record
from poems_fhir.report.json_report import patient_to_dict
from tests.conftest import SAMPLES, SHARED, missing_prerequisite
from tests.fhir.test_spool import _bundle, _lines, _obs, _patient, _resource, assert_same_as_read_paths

SYNTHEA = SHARED / "corpora" / "synthea"
BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _benchmark_data(folder: Path, patients: int) -> Path:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from evaluate_throughput import generate
    finally:
        sys.path.remove(str(BENCHMARKS))
    generate(folder, patients)
    return folder


def _conclusions(paths: list[Path], mapping: CompiledMapping, pruned: bool) -> list[tuple[str, Any, Any]]:
    out = []
    with open_paths(paths, prune=observation_pruner(mapping) if pruned else None) as source:
        for record in iter_records(source):
            r = evaluate_record(record, mapping, MAYO, None)
            doc = patient_to_dict(r.assessment, r.response, r.risk, r.scope, True)
            out.append(
                (record.patient, json.dumps(doc, sort_keys=True, default=str), sorted(r.extraction.used.items()))
            )
    return out


def _inputs() -> list[Any]:
    return [SAMPLES, *sorted(p for p in SAMPLES.iterdir() if p.is_dir()), SYNTHEA]


@pytest.mark.parametrize("path", _inputs(), ids=lambda p: p.name)
def test_pruning_changes_no_conclusion_and_reads_like_read_paths(path: Path, mapping: CompiledMapping) -> None:
    if not path.is_dir():
        missing_prerequisite(f"{path} is not here")
    assert _conclusions([path], mapping, pruned=True) == _conclusions([path], mapping, pruned=False)
    assert_same_as_read_paths([path], prune=observation_pruner(mapping))


def test_the_benchmark_data_is_mostly_pruned_and_concludes_the_same(tmp_path: Path, mapping: CompiledMapping) -> None:
    folder = _benchmark_data(tmp_path, 60)
    assert _conclusions([folder], mapping, pruned=True) == _conclusions([folder], mapping, pruned=False)
    assert_same_as_read_paths([folder], prune=observation_pruner(mapping))
    full = read_paths([folder])
    slim = read_paths([folder], prune=observation_pruner(mapping))
    kept = sum(len(r.resources) for r in slim.records)
    # 24 vitals of 29 Observations per patient no rule knows; labs and Conditions stay
    assert kept == sum(len(r.resources) for r in full.records) - 24 * 60
    assert [r.patient for r in slim.records] == [r.patient for r in full.records]


@pytest.mark.parametrize("order", ["later version last", "later version first"])
def test_a_later_version_no_rule_knows_still_replaces_the_earlier_one(
    tmp_path: Path, mapping: CompiledMapping, order: str
) -> None:
    vegf = _obs("o1", "Patient/p", 900, meta={"lastUpdated": "2019-03-01T00:00:00Z"})
    recoded = _obs("o1", "Patient/p", 900, meta={"lastUpdated": "2020-03-01T00:00:00Z"})
    recoded["code"] = {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]}  # corrected: not VEGF
    versions = [vegf, recoded] if order == "later version last" else [recoded, vegf]
    (tmp_path / "o.ndjson").write_bytes(_lines(_patient("p"), *versions))
    for prune in (None, observation_pruner(mapping)):
        with open_paths([tmp_path], prune=prune) as source:
            (record,) = list(iter_records(source))
            r = evaluate_record(record, mapping, MAYO, None)
            assert r.extraction.measurements == []  # the VEGF of 2019 was withdrawn by its 2020 version
            assert source.errors == []
    assert_same_as_read_paths([tmp_path], prune=observation_pruner(mapping))


def test_a_stub_counts_towards_the_limit_but_is_not_in_the_record(tmp_path: Path, mapping: CompiledMapping) -> None:
    vital = _obs("v", "Patient/p")
    vital["code"] = {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]}
    (tmp_path / "o.ndjson").write_bytes(_lines(_patient("p"), _obs("o", "Patient/p"), vital))
    prune = observation_pruner(mapping)
    (record,) = read_paths([tmp_path], prune=prune).records
    assert [raw.ref for raw in record.resources] == ["Observation/o"]
    over = read_paths([tmp_path], max_per_patient=1, prune=prune)
    assert over.records == [] and "more than the limit of 1" in over.errors[0].message
    assert_same_as_read_paths([tmp_path], max_per_patient=1, prune=prune)


def test_a_malformed_vital_is_not_looked_at_but_a_malformed_lab_is_refused(
    tmp_path: Path, mapping: CompiledMapping
) -> None:
    # the boundary's rule: elements the mapping never reads are not checked
    vital = _obs("v", "Patient/p", "not a number")
    vital["code"] = {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]}
    (tmp_path / "o.ndjson").write_bytes(_lines(_patient("p"), vital, _obs("o", "Patient/p", "not a number")))
    read = read_paths([tmp_path], prune=observation_pruner(mapping))
    assert [e.resource for e in read.errors] == ["Observation/o"]
    assert [e.resource for e in read_paths([tmp_path]).errors] == ["Observation/v", "Observation/o"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(resources=st.lists(st.tuples(_resource(), st.sampled_from([None, "urn:uuid:u1"])), max_size=10))
def test_any_mix_reads_the_same_when_pruned(tmp_path_factory: Any, mapping: CompiledMapping, resources: Any) -> None:
    folder = tmp_path_factory.mktemp("mix")
    (folder / "a.ndjson").write_bytes(_lines(*[r for r, _ in resources]))
    entries = [{"resource": r, **({"fullUrl": u} if u else {})} for r, u in resources]
    (folder / "b.json").write_text(_bundle(*entries), encoding="utf-8")
    assert_same_as_read_paths([folder], prune=observation_pruner(mapping))
    assert_same_as_read_paths([folder], max_per_patient=1, prune=observation_pruner(mapping))
