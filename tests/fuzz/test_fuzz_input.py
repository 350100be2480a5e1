"""Property-based fuzzing of the input side (issue #9).

Realistic resources from sample_bundles/ (Observation, Condition, DiagnosticReport, Procedure,
Medication*, Specimen, Patient) are moved to a second patient and mutated: any element replaced
by a value of another JSON type, several at once, bytes broken, nesting deepened. The invariant:

- nothing raises, and nothing is an internal error (exit code 4 would be a bug);
- the good patient beside the bad input gets exactly the result it gets alone;
- every resource read is either used or listed in the errors with its file and line/entry;
- the JSON output parses with a strict parser (no bare NaN/Infinity).

Profiles: see tests/fuzz/conftest.py (`POEMS_FUZZ_PROFILE=long` for a longer run by hand).
"""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st

from poems_fhir.cli import _json, main
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.fhir.read import RELEVANT_TYPES, SourceError, read_paths
from poems_fhir.pipeline import iter_evaluations
from poems_fhir.report.json_report import patient_to_dict
from tests.conftest import SAMPLES
from poems_fhir.mapping.extract import observation_pruner
from tests.fhir.test_spool import assert_same_as_read_paths

GOOD = SAMPLES / "classic-poems.json"
GOOD_PATIENT = "Patient/classic-poems"
FUZZED_TYPES = (
    "Observation",
    "Condition",
    "DiagnosticReport",
    "Procedure",
    "MedicationStatement",
    "MedicationRequest",
    "MedicationAdministration",
    "Medication",
    "Specimen",
    "Patient",
)


def _templates() -> list[dict[str, Any]]:
    out = []
    for path in sorted(SAMPLES.rglob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        out += [e["resource"] for e in doc.get("entry", []) if e["resource"]["resourceType"] in FUZZED_TYPES]
    # the samples have MedicationStatements only: derive the other medication shapes from them
    for statement in [r for r in out if r["resourceType"] == "MedicationStatement"][:2]:
        request = {
            **copy.deepcopy(statement),
            "resourceType": "MedicationRequest",
            "intent": "order",
            "authoredOn": "2019-03-01",
            "dispenseRequest": {"validityPeriod": {"start": "2019-03-01"}},
        }
        request.pop("effectivePeriod", None)
        out.append(request)
        out.append({**copy.deepcopy(statement), "resourceType": "MedicationAdministration"})
        out.append({"resourceType": "Medication", "id": "med", "code": statement["medicationCodeableConcept"]})
        by_ref = {**copy.deepcopy(statement), "medicationReference": {"reference": "Medication/bad-med"}}
        by_ref.pop("medicationCodeableConcept")
        out.append(by_ref)
    assert {r["resourceType"] for r in out} == set(FUZZED_TYPES)
    return out


TEMPLATES = _templates()


def _move_to_bad_patient(resource: dict[str, Any]) -> dict[str, Any]:
    """A copy that belongs to Patient/bad and clashes with no id of the good patient."""
    bad = copy.deepcopy(resource)
    bad["id"] = "bad" if bad["resourceType"] == "Patient" else f"bad-{bad.get('id', 'x')}"
    for name in ("subject", "patient"):
        if isinstance(bad.get(name), dict):
            bad[name] = {"reference": "Patient/bad"}
    return bad


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path] if path else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, path + (i,))
    return out


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


#: values of every JSON type, by type: a mutation draws one of another type than the value it replaces
#: (choosing among the other types, not filtering: a filter that rejects a third of the draws trips
#: Hypothesis' filter_too_much health check now and then)
_WRONG_BY_TYPE: dict[str, st.SearchStrategy[Any]] = {
    "null": st.none(),
    "bool": st.booleans(),
    "number": st.one_of(st.integers(), st.just(10**400), st.just(float("nan")), st.just(float("inf")), st.floats()),
    "str": st.one_of(st.text(max_size=12), st.sampled_from(["2019-1-5", "", "NaN", "Patient/x", "#x", "\u2028"])),
    "list": st.one_of(
        st.lists(st.one_of(st.integers(), st.text(max_size=3), st.none()), max_size=3), st.just([{"coding": 7}])
    ),
    "dict": st.one_of(
        st.dictionaries(st.text(max_size=4), st.one_of(st.integers(), st.text(max_size=3)), max_size=2),
        st.just({"coding": [{"code": 7}]}),
        st.just({"reference": 7}),
    ),
}


def wrong_value(old: Any) -> st.SearchStrategy[Any]:
    """A value whose JSON type differs from ``old``'s."""
    return st.one_of(*[s for t, s in _WRONG_BY_TYPE.items() if t != _json_type(old)])


@st.composite
def mutated(draw: st.DrawFn, mutations: int = 1) -> dict[str, Any]:
    """A realistic resource of Patient/bad with element(s) replaced by a value of another JSON type."""
    resource = _move_to_bad_patient(draw(st.sampled_from(TEMPLATES)))
    for _ in range(mutations):
        paths = _paths(resource)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = resource
        for key in path[:-1]:
            parent = parent[key]
        old = parent[path[-1]]
        # a copy: st.just() hands out one shared object, which a later mutation must not alter
        parent[path[-1]] = copy.deepcopy(draw(wrong_value(old)))
    return resource


def _evaluate(paths: list[Path]) -> tuple[dict[str, Any], list[SourceError], Any]:
    read = read_paths(paths)
    assert_same_as_read_paths(paths)  # the disk spool reads fuzzed input exactly alike (issue #11)
    # pruning decides on raw, unchecked resources: whatever their shape, it raises nothing and both
    # readers still agree
    assert_same_as_read_paths(paths, prune=observation_pruner(_MAPPING))
    failed: list[SourceError] = []
    results = {}
    errors = list(read.errors)
    for r in iter_evaluations(read.records, _MAPPING, MAYO, None, errors=failed):
        results[r.record.patient] = patient_to_dict(r.assessment, r.response, r.risk, r.scope)
        errors += r.extraction.errors
    return results, errors + failed, read


def _strict(text: str) -> Any:
    def refuse(name: str) -> None:
        raise AssertionError(f"bare {name} in JSON output")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module", autouse=True)
def _load(mapping) -> None:
    global _MAPPING, ALONE
    _MAPPING = mapping
    ALONE = _evaluate([GOOD])[0][GOOD_PATIENT]


_MAPPING: Any = None
ALONE: dict[str, Any] = {}


def _irrelevant(resource: Any) -> bool:
    """A resource of a type poems-fhir does not read (skipped and counted, by design)."""
    rtype = resource.get("resourceType") if isinstance(resource, dict) else None
    return isinstance(rtype, str) and rtype not in RELEVANT_TYPES and re.fullmatch("[A-Z][A-Za-z]+", rtype) is not None


def _check(tmp_path: Path, bad_file: Path, origins: list[str], resources: list[Any] | None = None) -> None:
    results, errors, read = _evaluate([GOOD, bad_file])
    assert results[GOOD_PATIENT] == ALONE, "the good patient's result changed"
    internal = [e for e in errors if e.internal]
    assert not internal, internal
    used = {raw.origin for rec in read.records for raw in rec.resources}
    used |= {raw.origin for raw in (read.records[0].index.by_key.values() if read.records else [])}
    listed = {e.source for e in errors}
    # two differing copies of one resource with no later meta.lastUpdated: neither is used, and the error
    # listed under the later copy names the earlier one ("… is also in bad.ndjson:1 with different content")
    named = " ".join(e.message for e in errors)
    for i, origin in enumerate(origins):
        if resources is not None and _irrelevant(resources[i]):
            continue
        reported = origin in listed or any(s.startswith(origin) for s in listed) or f"also in {origin} " in named
        assert origin in used or reported, origin
    _strict(_json({"patients": list(results.values()), "errors": [e.to_dict() for e in errors]}))


def _distinct(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Distinct ids, so that no two drawn resources are identical copies (deduplicated on purpose,
    see tests/fhir/test_read_hostile.py) or clash by id."""
    for i, r in enumerate(resources):
        if isinstance(r.get("id"), str):
            r["id"] = f"{r['id']}-{i}"
    return resources


def _ndjson(tmp_path: Path, resources: list[dict[str, Any]]) -> tuple[Path, list[str]]:
    path = tmp_path / "bad.ndjson"
    # json.dumps writes NaN/Infinity as bare words, as some feeds do; ensure_ascii=False keeps U+2028 raw
    path.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in resources) + "\n", encoding="utf-8", errors="surrogatepass"
    )
    return path, [f"{path}:{i}" for i in range(1, len(resources) + 1)]


# found by the long profile: the drawn resource a second, different copy of Patient/bad (neither copy used)
@example(resource={"resourceType": "Patient", "id": "bad", "gender": None, "birthDate": "1977-03-02"})
@given(resource=mutated())
def test_one_wrong_type_anywhere_costs_only_that_resource(
    tmp_path_factory: pytest.TempPathFactory, resource: dict[str, Any]
) -> None:
    tmp = tmp_path_factory.mktemp("one")
    path, origins = _ndjson(tmp, [{"resourceType": "Patient", "id": "bad"}, resource])
    _check(tmp, path, origins, [{}, resource])


@given(resources=st.lists(mutated(mutations=3), min_size=1, max_size=6))
def test_many_mutations_in_a_bundle(tmp_path_factory: pytest.TempPathFactory, resources: list[dict[str, Any]]) -> None:
    tmp = tmp_path_factory.mktemp("bundle")
    path = tmp / "bad.json"
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in _distinct(resources)]}
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8", errors="surrogatepass")
    _check(tmp, path, [f"{path}#entry[{i}]" for i in range(len(resources))], resources)


@st.composite
def broken_bytes(draw: st.DrawFn) -> bytes:
    """An NDJSON line of a realistic resource, damaged at the byte level."""
    line = json.dumps(_move_to_bad_patient(draw(st.sampled_from(TEMPLATES))), ensure_ascii=False).encode()
    kind = draw(st.sampled_from(["insert", "truncate", "replace", "deepen", "bom", "utf16", "huge-number"]))
    at = draw(st.integers(0, len(line)))
    if kind == "insert":
        return line[:at] + draw(st.binary(min_size=1, max_size=8)) + line[at:]
    if kind == "truncate":
        return line[:at]
    if kind == "replace":
        return (
            line[:at]
            + draw(st.sampled_from([b"\xff", b"\xc3", b"\x00", b"\xe2\x80\xa8", b"\r", b"\xed\xa0\x80"]))
            + line[at + 1 :]
        )
    if kind == "deepen":
        depth = draw(st.integers(50, 3000))
        return line[:-1] + b', "extension": ' + b"[" * depth + b"]" * depth + b"}"
    if kind == "bom":
        return b"\xef\xbb\xbf" + line
    if kind == "utf16":
        return line.decode().encode("utf-16")
    return line[:-1] + b', "valueInteger": ' + b"9" * draw(st.integers(20, 5000)) + b"}"


@given(lines=st.lists(broken_bytes(), min_size=1, max_size=4))
def test_broken_bytes_cost_only_their_line(tmp_path_factory: pytest.TempPathFactory, lines: list[bytes]) -> None:
    tmp = tmp_path_factory.mktemp("bytes")
    path = tmp / "bad.ndjson"
    path.write_bytes(b"\n".join(lines))
    # a damaged line may have become several (an inserted "\n") or none: check what was written
    n = path.read_bytes().count(b"\n") + 1
    _check(tmp, path, [])
    results, errors, read = _evaluate([GOOD, path])
    for e in errors:
        assert e.source.startswith(str(path)) or e.source.startswith("Patient/"), e
        if e.source.startswith(f"{path}:"):
            assert 1 <= int(e.source.rsplit(":", 1)[1].split("#")[0]) <= n


@pytest.mark.parametrize(
    "case",
    [
        "fifo",
        "folder-named-json",
        "empty",
        "broken-symlink",
        "symlink-to-fifo",
        "only-whitespace",
        "html-error-page",
        "binary",
    ],
)
def test_file_system_oddities_cost_only_themselves(tmp_path: Path, case: str) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    target = folder / "odd.json"
    if case == "fifo":
        os.mkfifo(folder / "odd.ndjson")
    elif case == "folder-named-json":
        target.mkdir()
    elif case == "empty":
        target.write_bytes(b"")
    elif case == "broken-symlink":
        target.symlink_to(tmp_path / "missing.json")
    elif case == "symlink-to-fifo":
        os.mkfifo(tmp_path / "fifo")
        target.symlink_to(tmp_path / "fifo")
    elif case == "only-whitespace":
        target.write_bytes(b"  \n\t ")
    elif case == "html-error-page":
        target.write_bytes(b"<html><body>502 Bad Gateway</body></html>")
    else:
        target.write_bytes(bytes(range(256)) * 4)
    results, errors, _ = _evaluate([GOOD, folder])
    assert results == {GOOD_PATIENT: ALONE}
    assert not any(e.internal for e in errors)


# ---------------------------------------------------------------- the command line under fuzz

_CLI_EXAMPLES = max(5, settings.default.max_examples // 8)


@settings(max_examples=_CLI_EXAMPLES)
@given(resources=st.lists(mutated(mutations=2), min_size=1, max_size=4))
def test_cli_evaluate_and_report_under_mutated_input(
    tmp_path_factory: pytest.TempPathFactory, resources: list[dict[str, Any]]
) -> None:
    tmp = tmp_path_factory.mktemp("cli")
    path, _ = _ndjson(tmp, _distinct(resources))
    runner = CliRunner()
    result = runner.invoke(main, ["evaluate", str(GOOD), str(path), "--format", "json"], catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output
    doc = _strict(result.stdout)
    [good] = [p for p in doc["patients"] if p["patient"] == GOOD_PATIENT]
    assert good == ALONE
    page = tmp / "good.html"
    report = runner.invoke(
        main, ["report", str(GOOD), str(path), "--patient", GOOD_PATIENT, "--html", str(page)], catch_exceptions=False
    )
    assert report.exit_code in (0, 1), report.output
    assert "Traceback" not in report.output and page.exists()


SITE_MAPPING = SAMPLES / "site-local" / "site-mapping.yaml"


@settings(max_examples=_CLI_EXAMPLES)
@given(data=st.data())
def test_cli_mappings_check_under_mutated_yaml(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    import yaml

    doc = yaml.safe_load(SITE_MAPPING.read_text(encoding="utf-8"))
    path = data.draw(st.sampled_from(_paths(doc)))
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    old = parent[path[-1]]
    parent[path[-1]] = copy.deepcopy(
        data.draw(wrong_value(old).filter(lambda v: not (isinstance(v, float) and v != v)))
    )
    site = tmp_path_factory.mktemp("yaml") / "site.yaml"
    site.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    result = CliRunner().invoke(main, ["mappings", "check", str(site)], catch_exceptions=False)
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output


# ---------------------------------------------------------------- valid but extreme values

EXTREME_NUMBERS = st.sampled_from([0, -0.0, -1, 1e308, -1e308, 5e-324, 1e-300, 2147483647, -2147483648, 0.1])
EXTREME_DATES = st.sampled_from(
    ["0001-01-01", "9999-12-31", "2019", "2019-02", "0001", "9999-12-31T23:59:60Z", "1900-02-28T00:00:00-14:00"]
)


@st.composite
def extreme(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Realistic resources of Patient/bad whose numbers and dates are replaced by valid extremes."""
    out = []
    for template in draw(st.lists(st.sampled_from(TEMPLATES), min_size=1, max_size=6)):
        resource = _move_to_bad_patient(template)
        for path in _paths(resource):
            parent = resource
            for key in path[:-1]:
                parent = parent[key]
            old = parent[path[-1]]
            if _json_type(old) == "number" and draw(st.booleans()):
                parent[path[-1]] = (
                    draw(EXTREME_NUMBERS)
                    if path[-1] != "valueInteger"
                    else draw(st.sampled_from([0, -1, 2147483647, -2147483648]))
                )
            elif (
                isinstance(old, str)
                and len(old) >= 4
                and old[:4].isdigit()
                and old[4:5] in ("", "-")
                and draw(st.booleans())
            ):
                parent[path[-1]] = draw(EXTREME_DATES)
        out.append(resource)
    return out


@given(resources=extreme())
def test_valid_extreme_numbers_and_dates_are_evaluated_and_rendered(
    tmp_path_factory: pytest.TempPathFactory, resources: list[dict[str, Any]]
) -> None:
    from poems_fhir.pipeline import html_for

    tmp = tmp_path_factory.mktemp("extreme")
    path, origins = _ndjson(tmp, [{"resourceType": "Patient", "id": "bad"}, *_distinct(resources)])
    _check(tmp, path, origins, [{}, *resources])
    read = read_paths([GOOD, path])
    for r in iter_evaluations(read.records, _MAPPING, MAYO, None):  # no guard here: any exception fails
        if r.record.patient == "Patient/bad":
            assert "<html" in html_for(r, _MAPPING)


@given(data=st.data())
def test_mutations_of_the_bundle_itself(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    """Bundle.type, entry, fullUrl, request, search and resource replaced by other JSON types."""
    resources = _distinct(
        [_move_to_bad_patient(r) for r in data.draw(st.lists(st.sampled_from(TEMPLATES), min_size=1, max_size=3))]
    )
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": f"urn:uuid:0000-{i}",
                "resource": r,
                "request": {"method": "POST", "url": r["resourceType"]},
                "search": {"mode": "match"},
            }
            for i, r in enumerate(resources)
        ],
    }
    for _ in range(data.draw(st.integers(1, 3))):
        paths = [p for p in _paths(bundle) if "resource" not in p]  # resources: see the tests above
        path = data.draw(st.sampled_from(paths))
        parent = bundle
        for key in path[:-1]:
            parent = parent[key]
        old = parent[path[-1]]
        parent[path[-1]] = copy.deepcopy(data.draw(wrong_value(old)))
    tmp = tmp_path_factory.mktemp("wrapper")
    path = tmp / "bad.json"
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8", errors="surrogatepass")
    _check(tmp, path, [])
    results, errors, read = _evaluate([GOOD, path])
    index = read.records[0].index.by_key.values() if read.records else []
    used = {raw.origin for rec in read.records for raw in rec.resources} | {raw.origin for raw in index}
    used = {origin for origin in used if origin.startswith(str(path))}
    entries = bundle.get("entry")
    carried = not isinstance(entries, list) or any(
        isinstance(e, dict) and e.get("resource") is not None for e in entries
    )
    assert entries is None or not carried or used or any(e.source.startswith(str(path)) for e in errors), (
        "the bad file vanished without a word"
    )
