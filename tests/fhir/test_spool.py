"""The disk spool (fhir/spool.py) reads exactly what read_paths reads: same patients, same resources
per record in the same order, same references resolved, same errors in the same order, same counts.
And it holds one patient at a time: memory does not grow with the input."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import sys
import tracemalloc
from pathlib import Path
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from poems_fhir.fhir import spool_parallel
from poems_fhir.fhir.read import InputError, PatientRecord, iter_input_files, read_paths, surviving_record
from poems_fhir.fhir.spool import SpoolSource, iter_records, open_paths
from tests.conftest import SAMPLES

SYNTHEA = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpora" / "synthea"
BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _references(node: Any) -> list[str]:
    out: list[str] = []
    stack = [node]
    while stack:
        x = stack.pop()
        if isinstance(x, dict):
            if isinstance(x.get("reference"), str):
                out.append(x["reference"])
            stack.extend(x.values())
        elif isinstance(x, list):
            stack.extend(x)
    return out


def _snapshot(record: PatientRecord) -> tuple[Any, ...]:
    resolved = [(ref, record.resolve(ref, raw.data)) for raw in record.resources for ref in _references(raw.data)]
    return (
        record.patient,
        [(r.ref, r.origin, r.data) for r in record.resources],
        record.patient_resource,
        resolved,
    )


def assert_same_as_read_paths(paths: list[Path], **kw: Any) -> SpoolSource:
    """The spool reads what read_paths reads - with one process, and with two (fhir/spool_parallel.py,
    its units made small enough that every NDJSON file of the input is cut into several)."""
    expected = read_paths(paths, **kw)
    want = [repr(_snapshot(r)) for r in expected.records]
    size = sum(f.stat().st_size for f in iter_input_files(paths) if f.is_file())
    for workers, unit_bytes in ((1, spool_parallel.UNIT_BYTES), (2, max(64, size // 6))):
        with _units_of(unit_bytes), open_paths(paths, workers=workers, **kw) as source:
            assert source.patients() == [r.patient for r in expected.records]
            # repr: also the order of elements and int/float, and NaN (which is not equal to itself)
            got = [repr(_snapshot(r)) for r in iter_records(source)]
            assert got == want
            assert repr(source.errors) == repr(expected.errors)
            counts = (source.files, source.resources, source.skipped_types)
            assert counts == (expected.files, expected.resources, expected.skipped_types)
            if workers == 2:  # read by two processes whenever the input has two units
                assert source.readers == min(2, len(spool_parallel.plan(paths)[0]))
    return source


@contextlib.contextmanager
def _units_of(unit_bytes: int) -> Iterator[None]:
    saved, spool_parallel.UNIT_BYTES = spool_parallel.UNIT_BYTES, unit_bytes
    try:
        yield
    finally:
        spool_parallel.UNIT_BYTES = saved


@pytest.mark.parametrize(
    "path",
    [SAMPLES] + sorted(p for p in SAMPLES.rglob("*") if p.suffix in (".json", ".ndjson") or p.is_dir()),
    ids=lambda p: str(p.relative_to(SAMPLES.parent)),
)
def test_every_sample_reads_the_same(path: Path) -> None:
    assert_same_as_read_paths([path])


@pytest.mark.skipif(not SYNTHEA.is_dir(), reason="the shared Synthea corpus is not here")
def test_the_synthea_corpus_reads_the_same() -> None:
    assert_same_as_read_paths([SYNTHEA])


def test_the_benchmark_data_reads_the_same(tmp_path: Path) -> None:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from evaluate_throughput import generate
    finally:
        sys.path.remove(str(BENCHMARKS))
    generate(tmp_path, 120)
    assert_same_as_read_paths([tmp_path])
    assert_same_as_read_paths([tmp_path], max_per_patient=25)  # every patient over the limit


def _patient(pid: str, **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": pid, "gender": "female", **extra}


def _obs(oid: str | None, subject: str | None, value: Any = 700, **extra: Any) -> dict[str, Any]:
    o: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "75628-8"}]},
        "effectiveDateTime": "2019-02-01",
        "valueQuantity": {"value": value, "unit": "pg/mL"},
        **extra,
    }
    if oid:
        o["id"] = oid
    if subject:
        o["subject"] = {"reference": subject}
    return o


def _lines(*resources: Any) -> bytes:
    return b"\n".join(r if isinstance(r, bytes) else json.dumps(r, ensure_ascii=False).encode() for r in resources)


def _bundle(*entries: dict[str, Any], btype: str = "transaction") -> str:
    return json.dumps({"resourceType": "Bundle", "type": btype, "entry": list(entries)})


def test_a_subject_may_name_a_patient_read_after_it(tmp_path: Path) -> None:
    # bulk exports come one file per type, and Observation.ndjson sorts before Patient.ndjson
    (tmp_path / "Observation.ndjson").write_bytes(
        _lines(_obs("o1", "Patient?identifier=urn:mrn|42"), _obs("o2", "Patient?identifier=43"))
    )
    (tmp_path / "Patient.ndjson").write_bytes(
        _lines(
            _patient("p", identifier=[{"system": "urn:mrn", "value": "42"}]),
            _patient("q", identifier=[{"system": "urn:other", "value": "43"}]),
        )
    )
    (tmp_path / "z.json").write_text(
        _bundle(
            {"fullUrl": "urn:uuid:o3", "resource": _obs(None, "urn:uuid:anon")},  # before its Patient
            {"fullUrl": "urn:uuid:anon", "resource": {"resourceType": "Patient"}},
        )
    )
    read = read_paths([tmp_path])
    assert read.errors == []
    grouped = {r.patient: sorted(str(raw.data.get("id")) for raw in r.resources) for r in read.records}
    assert grouped == {"Patient/p": ["o1"], "Patient/q": ["o2"], "urn:uuid:anon": ["None"]}
    assert_same_as_read_paths([tmp_path])


def test_every_reading_rule_holds_on_hostile_input(tmp_path: Path) -> None:
    stamp = {"meta": {"lastUpdated": "2019-03-01T00:00:00Z"}}
    older = {"meta": {"lastUpdated": "2019-01-01T00:00:00Z"}}
    own = {"identifier": [{"system": "https://poems-fhir.org/fhir/identifier/report", "value": "x"}]}
    (tmp_path / "a.ndjson").write_bytes(
        b"\xef\xbb\xbf"
        + _lines(
            _patient("p", identifier=[{"system": "urn:mrn", "value": "42"}]),
            _obs("o1", "Patient/p"),
            _obs("o1", "Patient/p"),  # identical copy
            _obs("o2", "Patient/p", 1, **older),
            _obs("o2", "Patient/p", 2, **stamp),  # a later version replaces it, in its place
            _obs("o2", "Patient/p", 3, **older),  # an earlier one is dropped silently
            _obs("o3", "Patient/p", 5),
            _obs("o3", "Patient/p", 6),  # same stamp, other content: reported, skipped
            _obs("o4", "Patient/q", 7),
            _obs(None, "Patient/p", 8),  # no id: kept, cannot be deduplicated
            _obs("o5", "Patient?identifier=urn:mrn|42"),  # conditional, resolved
            _obs("o6", "Patient?identifier=urn:mrn|99"),  # conditional, matching no Patient: listed, skipped
            _obs("o7", "Group/g"),  # not a Patient
            _obs("o8", None),  # no subject
            {"resourceType": "Medication", "id": "m1", "code": {"text": "melphalan"}},
            {"resourceType": "Medication", "code": {"text": "anonymous"}},
            {"resourceType": "Specimen", "id": "s1"},
            {"resourceType": "Specimen"},
            {"resourceType": "Claim", "id": "c1", "patient": {"reference": "Patient/p"}},
            {"resourceType": "claim!", "id": "c2"},
            {**_obs("o9", "Patient/p"), **own},
            _obs("o10", "Patient/p", status=7),  # refused at the boundary
            b"{not json",
            b"",
            b"   ",
            b'{"resourceType": "Observation", "id": "x\xff"}',
            b'{"resourceType": "Observation", "id": "nan", "subject": {"reference": "Patient/p"}, "extension": NaN}',
            b'{"resourceType": "Observation", "id": "big", "subject": {"reference": "Patient/p"}, '
            b'"valueInteger": 123456789012345678901234567890}',
            b'{"resourceType": "Observation", "id": "big2", "subject": {"reference": "Patient/p"}, '
            b'"extension": [{"valueInteger": 123456789012345678901}]}',
            b'{"resourceType":\x1f"Claim", "id": "c3"}',
            "\ufeff".encode() + b'{"resourceType": "Patient", "id": "bom"}',
            _lines(_obs("ua", "Patient/p", valueString="a\u2028b\u0085c\rd")),
            [1, 2],
            {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": _obs("o11", "Patient/q")}]},
            _patient("q"),
            {
                "resourceType": "MedicationStatement",
                "id": "ms",
                "subject": {"reference": "Patient/p"},
                "medicationReference": {"reference": "Medication/m1"},
                "status": "active",
                "contained": [{"resourceType": "Medication", "id": "c", "code": {"text": "x"}}],
            },
        )
        + b"\r\n"
    )
    (tmp_path / "b.ndjson").write_bytes(_lines(_obs("o4", "Patient/other", 9), _obs("o1", "Patient/p")))
    (tmp_path / "c.json").write_text(
        _bundle(
            {"fullUrl": "urn:uuid:early", "resource": _obs(None, "urn:uuid:anon-p")},  # before its Patient
            {"fullUrl": "urn:uuid:anon-p", "resource": {"resourceType": "Patient"}},
            {"fullUrl": "urn:uuid:o", "resource": _obs(None, "urn:uuid:anon-p")},
            {"fullUrl": "urn:uuid:pp", "resource": _patient("pp")},
            {"fullUrl": "urn:uuid:x1", "resource": _obs("x1", "urn:uuid:pp")},
            {"fullUrl": "urn:uuid:x2", "resource": _obs("x2", "urn:uuid:nowhere")},
            {
                "fullUrl": "urn:uuid:dr",
                "resource": {
                    "resourceType": "DiagnosticReport",
                    "id": "dr",
                    "status": "final",
                    "subject": {"reference": "urn:uuid:pp"},
                    "result": [{"reference": "urn:uuid:x1"}, {"reference": "Observation/o4"}],
                },
            },
            {"resource": {"resourceType": "Patient"}},  # no id, no fullUrl
            {"request": {"method": "DELETE", "url": "Observation/o1"}},
            {"resource": 7},
            "entry",
        )
    )
    (tmp_path / "d.json").write_text("<html>502</html>")
    (tmp_path / "e.json").write_bytes(json.dumps(_patient("u16")).encode("utf-16"))
    (tmp_path / "f.json").write_text(_bundle(btype="nonsense"))
    (tmp_path / "g.ndjson").write_text('{"a":' * 3000 + "1" + "}" * 3000 + "\n", encoding="utf-8")
    source = assert_same_as_read_paths([tmp_path])
    assert len(source.errors) > 15  # the rules above were exercised, not silently skipped
    assert_same_as_read_paths([tmp_path], max_per_patient=3)


_IDS = st.sampled_from(["a", "b", "c"])
_SUBJECTS = st.sampled_from(
    ["Patient/p1", "Patient/p2", "urn:uuid:u1", "Patient?identifier=s|1", "Group/x", "", "http://h/Patient/p1"]
)
_STAMPS = st.sampled_from([None, "2019-01-01", "2020-01-01"])


@st.composite
def _resource(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["Observation", "Patient", "Medication", "Specimen"]))
    r: dict[str, Any] = {"resourceType": kind}
    if draw(st.booleans()):
        r["id"] = draw(st.sampled_from(["p1", "p2", "a", "b"])) if kind == "Patient" else draw(_IDS)
    if kind == "Patient":
        if draw(st.booleans()):
            r["identifier"] = [{"system": "s", "value": draw(st.sampled_from(["1", "2"]))}]
    elif draw(st.integers(0, 3)):
        r["subject"] = {"reference": draw(_SUBJECTS)}
    if kind == "Observation" and draw(st.booleans()):  # a code a rule knows, or one it does not (prune)
        r["code"] = {"coding": [{"system": "http://loinc.org", "code": draw(st.sampled_from(["75628-8", "8867-4"]))}]}
    stamp = draw(_STAMPS)
    if stamp:
        r["meta"] = {"lastUpdated": stamp}
    if draw(st.booleans()):
        r["status"] = draw(st.sampled_from(["final", "amended", 7]))
    return r


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    files=st.lists(
        st.tuples(
            st.booleans(),
            st.lists(st.tuples(_resource(), st.sampled_from([None, "urn:uuid:u1", "urn:uuid:u2"])), max_size=8),
        ),
        min_size=1,
        max_size=3,
    )
)
# found by this test: a Medication given the Patient's urn fullUrl was the patient's "own" resource
@example(
    files=[
        (
            False,
            [
                ({"resourceType": "Observation"}, None),
                ({"resourceType": "Medication"}, "urn:uuid:u1"),
                ({"resourceType": "Patient", "meta": {"lastUpdated": "2019-01-01"}}, "urn:uuid:u1"),
                ({"resourceType": "Patient"}, None),
                ({"resourceType": "Observation", "subject": {"reference": "urn:uuid:u1"}}, None),
            ],
        )
    ]
)
def test_any_mix_of_duplicates_and_references_reads_the_same(tmp_path_factory: Any, files: Any) -> None:
    folder = tmp_path_factory.mktemp("mix")
    for i, (ndjson, resources) in enumerate(files):
        if ndjson:
            (folder / f"{i}.ndjson").write_bytes(_lines(*[r for r, _ in resources]))
        else:
            entries = [{"resource": r, **({"fullUrl": u} if u else {})} for r, u in resources]
            (folder / f"{i}.json").write_text(_bundle(*entries), encoding="utf-8")
    assert_same_as_read_paths([folder])
    assert_same_as_read_paths([folder], max_per_patient=1)


def test_no_input_files_is_an_input_error_and_leaves_no_spool(tmp_path: Path) -> None:
    spools = tmp_path / "spools"
    spools.mkdir()
    with pytest.raises(InputError, match="no .json"):
        open_paths([tmp_path / "spools"], workdir=spools)
    with pytest.raises(InputError, match="no such file"):
        open_paths([tmp_path / "nope"], workdir=spools)
    assert list(spools.iterdir()) == []


def test_the_spool_lives_in_workdir_until_closed(tmp_path: Path) -> None:
    source = open_paths([SAMPLES / "classic-poems.json"], workdir=tmp_path)
    (folder,) = tmp_path.iterdir()
    assert (folder / "spool.sqlite").is_file()
    assert source.record("Patient/nobody") is None
    source.close()
    assert list(tmp_path.iterdir()) == []


def _child(source: SpoolSource, conn: Any) -> None:
    worker = source.for_worker()
    conn.send([(p, len(worker.record(p).resources)) for p in worker.patients()])  # type: ignore[union-attr]
    worker.close()
    conn.close()


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_a_forked_worker_reads_through_its_own_connection(tmp_path: Path) -> None:
    with open_paths([SAMPLES], workdir=tmp_path) as source:
        source.record(source.patients()[0])  # the parent's connection is open before the fork
        ctx = multiprocessing.get_context("fork")
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_child, args=(source, child))
        proc.start()
        got = parent.recv()
        proc.join(30)
        assert proc.exitcode == 0
        assert got == [(p, len(source.record(p).resources)) for p in source.patients()]  # type: ignore[union-attr]
        assert len(list(tmp_path.iterdir())) == 1  # the worker did not remove the spool
        assert os.getpid() == source._pid
    assert list(tmp_path.iterdir()) == []


def _tiny_patients(path: Path, patients: int) -> None:
    with path.open("w", encoding="utf-8") as f:
        for i in range(patients):
            f.write(json.dumps(_patient(f"p{i}")) + "\n")
            f.write(json.dumps(_obs(f"o{i}", f"Patient/p{i}")) + "\n")
            f.write(json.dumps(_obs(f"v{i}", f"Patient/p{i}", 80)) + "\n")


def _peak_traced(path: Path, tmp: Path) -> int:
    tracemalloc.start()
    try:
        with open_paths([path], workdir=tmp) as source:
            resources = 0
            for record in iter_records(source):
                resources += len(record.resources)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_input(tmp_path: Path) -> None:
    small, large = tmp_path / "small.ndjson", tmp_path / "large.ndjson"
    _tiny_patients(small, 2_000)
    _tiny_patients(large, 20_000)
    peak_small = _peak_traced(small, tmp_path)
    peak_large = _peak_traced(large, tmp_path)
    # read_paths holds every resource (~3 KB each): 54,000 more resources would be ~150 MB more.
    # The spool holds one record at a time; what grows is the sorted list of patient keys
    # (~0.1 KB per patient) - a bound well under the input.
    assert peak_large - peak_small < 6 * 1024 * 1024, (peak_small, peak_large)


def test_a_pickled_source_reads_the_same_records_and_owns_nothing(tmp_path: Path) -> None:
    import pickle

    with open_paths([SAMPLES / "origin-case"], workdir=tmp_path) as source:
        patient = source.patients()[0]
        copy = pickle.loads(pickle.dumps(source))  # noqa: S301 - our own object
        assert copy.patients() == source.patients()
        assert repr(_snapshot(copy.record(patient))) == repr(_snapshot(source.record(patient)))  # type: ignore[arg-type]
        copy.close()
        assert len(list(tmp_path.iterdir())) == 1
    assert list(tmp_path.iterdir()) == []


# --- the cheap depth check of large texts (spool._parse_cleared) ---------------------------------

_TRICKY_STRINGS = st.text(alphabet='[]{}"\\ab0 \u00e9\n', max_size=12)


def _nested(depth: int, inner: Any) -> Any:
    for i in range(depth):
        inner = [inner] if i % 2 else {"k": inner}
    return inner


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    depth=st.integers(min_value=240, max_value=270),
    strings=st.lists(_TRICKY_STRINGS, min_size=1, max_size=8),
)
def test_large_texts_are_judged_as_the_exact_check_judges_them(depth: int, strings: list[str]) -> None:
    # strings full of brackets, quotes and backslashes beside nesting around the limit: the cheap
    # check (quotes and brackets only) must give json.loads' result or the exact "nested too deeply"
    from poems_fhir.fhir import spool
    from poems_fhir.fhir.read import nested_too_deeply

    text = json.dumps({"pad": strings, "deep": _nested(depth, strings), "tail": strings[::-1]})
    for data in (text, text.encode("utf-8")):
        if nested_too_deeply(data):
            with pytest.raises(ValueError, match="nested too deeply"):
                spool._parse(data)
        else:
            assert spool._parse(data) == json.loads(text)


def test_the_cheap_check_leaves_long_numbers_and_deep_texts_to_the_exact_one() -> None:
    from poems_fhir.fhir import spool

    pad = ",".join(["[]"] * 300)
    long_number = '{"n": 12345678901234567890, "pad": [' + pad + "]}"
    assert spool._parse_cleared(long_number) is spool._UNCLEARED
    assert spool._parse(long_number)["n"] == 12345678901234567890  # an int, as json.loads reads it
    deep = '{"a":' + "[" * 300 + "]" * 300 + "}"
    assert spool._parse_cleared(deep) is spool._UNCLEARED
    with pytest.raises(ValueError, match="nested too deeply"):
        spool._parse(deep)
    # a 19-digit run inside a string (Synthea's "Person seed: -3091817699288253127") is text, not a number
    seeded = '{"div": "Person seed: -3091817699288253127", "n": [1.5, -2, 3e5], "pad": [' + pad + "]}"
    assert spool._parse_cleared(seeded) == json.loads(seeded)
    # brackets inside a string, escaped quotes and backslashes do not nest
    shallow = '{"a": "' + "[" * 300 + '\\\\", "b": "\\"' + "{" * 300 + '", "c": [' + pad + "]}"
    assert spool._parse_cleared(shallow) == json.loads(shallow)


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("2024-01-01T22:00:00Z", "2024-01-01T18:10:00-05:00"),  # 23:10Z: later, though it sorts first as text
        ("2024-01-01T10:00:00Z", "2024-01-01T10:00:00.500Z"),  # mixed precision
        ("2024-01-01T10:00:00.5+01:00", "2024-01-01T09:30:00Z"),
        # the calendar's ends, whose UTC instant leaves datetime's range (probe43: OverflowError, run lost)
        ("0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00Z"),
        ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59-12:00"),
        ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"),
    ],
)
def test_the_later_version_is_the_later_instant_not_the_later_text(tmp_path: Path, older, newer) -> None:
    # faultprobe4 T08/T26: the older VEGF was used, silently
    (tmp_path / "a.ndjson").write_bytes(
        _lines(
            _patient("p"),
            _obs("o1", "Patient/p", 2210, meta={"lastUpdated": older}),
            _obs("o1", "Patient/p", 150, meta={"lastUpdated": newer}),
            _obs("o2", "Patient/p", 150, meta={"lastUpdated": newer}),
            _obs("o2", "Patient/p", 2210, meta={"lastUpdated": older}),
        )
    )
    read = read_paths([tmp_path])
    assert read.errors == []
    values = {r.data["id"]: r.data["valueQuantity"]["value"] for r in read.records[0].resources}
    assert values == {"o1": 150, "o2": 150}
    assert_same_as_read_paths([tmp_path])


def test_the_same_instant_written_two_ways_is_the_same_version(tmp_path: Path) -> None:
    (tmp_path / "a.ndjson").write_bytes(
        _lines(
            _patient("p"),
            _obs("o1", "Patient/p", 1, meta={"lastUpdated": "2024-01-01T10:00:00Z"}),
            _obs("o1", "Patient/p", 2, meta={"lastUpdated": "2024-01-01T11:00:00.000+01:00"}),
        )
    )
    read = read_paths([tmp_path])
    assert "no later meta.lastUpdated: which copy holds cannot be told, so neither is used" in read.errors[0].message
    assert_same_as_read_paths([tmp_path])


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_ndjson_file_is_one_problem_with_what_to_do_in_every_reader(tmp_path: Path, encoding: str) -> None:
    # it was one "not UTF-8 (byte 0xff …)" and one "not JSON" per line, naming no cause
    lines = "".join(json.dumps(_patient(f"u{i}")) + "\n" for i in range(40))
    (tmp_path / "a.ndjson").write_bytes(lines.encode(encoding))
    (tmp_path / "b.ndjson").write_text(json.dumps(_patient("ok")) + "\n", encoding="utf-8")
    source = assert_same_as_read_paths([tmp_path])
    (problem,) = source.errors
    assert problem.source == str(tmp_path / "a.ndjson")
    assert problem.message == "cannot read file: UTF-16 text; FHIR NDJSON is UTF-8 - convert the file"
    assert source.patients() == ["Patient/ok"]


# --- a fullUrl that names two resources (probe43: Alice's neuropathy became Bob's evidence) --------------

URN = "urn:uuid:11111111-1111-1111-1111-111111111111"


def _bundle_file(path: Path, *entries: tuple[str, dict[str, Any]]) -> None:
    path.write_text(
        json.dumps(
            {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"fullUrl": u, "resource": r} for u, r in entries],
            }
        ),
        encoding="utf-8",
    )


def _pnp(rid: str, subject: str) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": rid,
        "subject": {"reference": subject},
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "G62.9"}]},
    }


def test_a_fullurl_naming_two_patients_is_followed_for_neither(tmp_path: Path) -> None:
    _bundle_file(tmp_path / "a.json", (URN, _patient("alice")), ("urn:uuid:a2", _pnp("alice-pnp", URN)))
    _bundle_file(tmp_path / "b.json", (URN, _patient("bob")), ("urn:uuid:b2", _pnp("bob-pnp", "Patient/bob")))
    read = read_paths([tmp_path])
    owners = {r.patient: sorted(x.ref for x in r.resources) for r in read.records}
    assert owners == {"Patient/alice": [], "Patient/bob": ["Condition/bob-pnp"]}  # never Alice's under Bob
    first, second = read.errors
    assert first.source.endswith("b.json#entry[0]") and f"fullUrl {URN} names Patient/bob here and Patient/alice" in (
        first.message
    )
    assert second.resource == "Condition/alice-pnp"  # reported, not attributed to anybody
    assert_same_as_read_paths([tmp_path])


def test_a_fullurl_read_again_for_the_same_resource_is_no_clash(tmp_path: Path) -> None:
    _bundle_file(tmp_path / "a.json", (URN, _patient("alice")), ("urn:uuid:a2", _pnp("alice-pnp", URN)))
    _bundle_file(tmp_path / "b.json", (URN, _patient("alice")))  # the same Patient in another export
    read = read_paths([tmp_path])
    assert read.errors == []
    assert [x.ref for x in read.records[0].resources] == ["Condition/alice-pnp"]
    assert_same_as_read_paths([tmp_path])


def test_a_third_resource_under_a_clashing_fullurl_is_not_reported_again(tmp_path: Path) -> None:
    _bundle_file(tmp_path / "a.json", (URN, _patient("alice")))
    _bundle_file(tmp_path / "b.json", (URN, _patient("bob")))
    _bundle_file(tmp_path / "c.json", (URN, _patient("carol")), (URN, _patient("alice")))
    read = read_paths([tmp_path])
    assert len(read.errors) == 1
    assert_same_as_read_paths([tmp_path])


# --- bounded reading (probe43: a 2 GB line or file ran the process out of memory, the run lost) ------


def test_a_line_past_the_limit_is_listed_and_never_read_whole(tmp_path: Path, monkeypatch) -> None:
    from poems_fhir.fhir import read as read_module

    monkeypatch.setattr(read_module, "MAX_LINE_BYTES", 400)
    long_line = json.dumps(_obs("big", "Patient/p", 1, note=[{"text": "x" * 2000}]))
    (tmp_path / "a.ndjson").write_text(
        "\n".join([json.dumps(_patient("p")), long_line, json.dumps(_obs("o1", "Patient/p", 150))]) + "\n",
        encoding="utf-8",
    )
    read = read_paths([tmp_path])
    (problem,) = read.errors
    assert problem.source.endswith("a.ndjson:2") and "longer than" in problem.message
    assert [r.ref for r in read.records[0].resources] == ["Observation/o1"]  # the next line is still read
    assert_same_as_read_paths([tmp_path])


def test_a_bundle_file_past_the_limit_is_refused_before_it_is_read(tmp_path: Path, monkeypatch) -> None:
    from poems_fhir.fhir import read as read_module

    monkeypatch.setattr(read_module, "MAX_BUNDLE_FILE_BYTES", 1000)
    _bundle_file(
        tmp_path / "big.json",
        (URN, _patient("big")),
        ("urn:uuid:n", _pnp("n", URN)),
        *[(f"urn:uuid:{i}", _pnp(f"c{i}", URN)) for i in range(20)],
    )
    _bundle_file(tmp_path / "small.json", ("urn:uuid:s", _patient("small")))
    read = read_paths([tmp_path])
    (problem,) = read.errors
    assert problem.source.endswith("big.json") and "send such an export as NDJSON" in problem.message
    assert [r.patient for r in read.records] == ["Patient/small"]
    assert_same_as_read_paths([tmp_path])


def test_contested_copies_are_used_for_neither_in_every_reader(tmp_path: Path) -> None:
    """Two copies of one resource, different content, the same version time: neither is used (probe47 D5,
    probe54), whatever comes after - a copy of one of them, a third copy, another patient's copy, a later
    version (which replaces them), a shared Medication."""
    later = {"lastUpdated": "2030-01-01T00:00:00Z"}
    med = {"resourceType": "Medication", "id": "m", "code": {"text": "lenalidomide"}}
    (tmp_path / "a.ndjson").write_bytes(
        _lines(
            _patient("p"),
            _patient("q"),
            _obs("o1", "Patient/p", 700),
            _obs("o2", "Patient/p", 1),
            _obs("o3", "Patient/p", 10),
            med,
            _obs("o9", "Patient/p", 3),
        )
    )
    (tmp_path / "b.ndjson").write_bytes(
        _lines(
            _obs("o1", "Patient/p", 5),  # contested
            _obs("o2", "Patient/p", 2),  # contested
            _obs("o3", "Patient/p", 20),  # contested
            {**med, "code": {"text": "thalidomide"}},  # contested, and nobody's
        )
    )
    (tmp_path / "c.ndjson").write_bytes(
        _lines(
            _obs("o1", "Patient/p", 700),  # a copy of one of the two: nothing new
            _obs("o2", "Patient/p", 640, meta=later),  # a later version replaces them
            _obs("o3", "Patient/p", 30),  # a third contested copy
            _obs("o3", "Patient/q", 4),  # another patient's copy: used for q
        )
    )
    read = read_paths([tmp_path])
    kept = {
        r.patient: sorted((x.data["id"], x.data.get("valueQuantity", {}).get("value")) for x in r.resources)
        for r in read.records
    }
    assert kept == {
        "Patient/p": [("o2", 640), ("o9", 3)],
        "Patient/q": [("o3", 4)],
    }
    assert sorted(e.resource for e in read.errors if "neither is used" in e.message) == [
        "Medication/m",
        "Observation/o1",
        "Observation/o2",
        "Observation/o3",
        "Observation/o3",
    ]
    assert_same_as_read_paths([tmp_path])


def test_a_retired_records_resources_are_read_as_its_survivors(tmp_path: Path) -> None:
    """probe79 D1: a merge left a result under the old record; it was evaluated as another patient's.
    Chains end at the last record, links that go round are reported and merge nothing, a seealso moves
    nothing, and a survivor's 'replaces' alone takes a record whose Patient is not in the input."""

    def link(kind: str, other: str) -> dict[str, Any]:
        return {"link": [{"type": kind, "other": {"reference": other}}]}

    (tmp_path / "Observation.ndjson").write_bytes(
        _lines(*(_obs(f"o-{p}", f"Patient/{p}") for p in ("a", "b", "c", "x", "y", "s1", "s2", "gone", "kept")))
    )
    (tmp_path / "Patient.ndjson").write_bytes(
        _lines(
            _patient("a", **link("replaced-by", "Patient/b")),
            _patient("b", **link("replaced-by", "http://ehr.example/fhir/Patient/c")),  # absolute: the same record
            _patient("c"),
            _patient("x", **link("replaced-by", "Patient/y")),
            _patient("y", **link("replaced-by", "Patient/x")),
            _patient("s1", **link("seealso", "Patient/s2")),
            _patient("s2"),
            _patient("kept", **link("replaces", "Patient/gone")),
        )
    )
    read = read_paths([tmp_path])
    grouped = {r.patient: sorted(raw.ref or "" for raw in r.resources) for r in read.records}
    assert grouped == {
        "Patient/a": [],
        "Patient/b": [],
        "Patient/c": ["Observation/o-a", "Observation/o-b", "Observation/o-c"],
        "Patient/kept": ["Observation/o-gone", "Observation/o-kept"],
        "Patient/s1": ["Observation/o-s1"],
        "Patient/s2": ["Observation/o-s2"],
        "Patient/x": ["Observation/o-x"],
        "Patient/y": ["Observation/o-y"],
    }
    merged = {r.patient: (r.merged_into, r.merged_from) for r in read.records if r.merged_into or r.merged_from}
    assert merged == {
        "Patient/a": ("Patient/c", ()),
        "Patient/b": ("Patient/c", ()),
        "Patient/c": (None, ("Patient/a", "Patient/b")),
        "Patient/kept": (None, ("Patient/gone",)),
    }
    assert [(e.source, e.message) for e in read.errors] == [
        (
            "Patient/x",
            "Patient.link goes round (Patient/x -> Patient/y -> Patient/x): no record of these survives a merge, "
            "so each is evaluated with its own resources; correct the links",
        )
    ]
    assert_same_as_read_paths([tmp_path])
    for workers in (1, 2):
        with _units_of(64), open_paths([tmp_path], workers=workers) as source:
            assert {
                r.patient: (r.merged_into, r.merged_from)
                for r in iter_records(source)
                if r.merged_into or r.merged_from
            } == merged


def test_a_retired_records_resources_count_towards_its_survivors_limit(tmp_path: Path) -> None:
    (tmp_path / "in.ndjson").write_bytes(
        _lines(
            _patient("old", link=[{"type": "replaced-by", "other": {"reference": "Patient/new"}}]),
            _patient("new"),
            *(_obs(f"o{i}", "Patient/old" if i % 2 else "Patient/new") for i in range(4)),
        )
    )
    read = read_paths([tmp_path], max_per_patient=3)
    assert [r.patient for r in read.records] == ["Patient/old"]  # the survivor holds 4: over the limit
    assert_same_as_read_paths([tmp_path], max_per_patient=3)


def test_a_record_whose_links_go_round_is_evaluated_with_its_own_resources_not_skipped_as_merged(
    tmp_path: Path,
) -> None:
    """probe82 D9: a ring made with a 'replaces' link (a -> b by a's replaced-by, b -> c by c's replaces,
    c -> a by a's replaces) was listed as "each is evaluated with its own resources", while Patient/a was
    still skipped as merged into b by its own replaced-by: its resources were evaluated by nobody."""

    def link(*links: tuple[str, str]) -> dict[str, Any]:
        return {"link": [{"type": kind, "other": {"reference": other}} for kind, other in links]}

    (tmp_path / "in.ndjson").write_bytes(
        _lines(
            _patient("a", **link(("replaced-by", "Patient/b"), ("replaces", "Patient/c"))),
            _patient("b"),
            _patient("c", **link(("replaces", "Patient/b"))),
            *(_obs(f"o-{p}", f"Patient/{p}") for p in ("a", "b", "c")),
        )
    )
    read = read_paths([tmp_path])
    assert {r.patient: [raw.ref for raw in r.resources] for r in read.records} == {
        f"Patient/{p}": [f"Observation/o-{p}"] for p in ("a", "b", "c")
    }
    assert [e.message[:25] for e in read.errors] == ["Patient.link goes round ("]
    assert [surviving_record(r) for r in read.records] == [None, None, None]
    assert_same_as_read_paths([tmp_path])
    for workers in (1, 2):
        with open_paths([tmp_path], workers=workers) as source:
            assert [surviving_record(r) for r in iter_records(source)] == [None, None, None]
