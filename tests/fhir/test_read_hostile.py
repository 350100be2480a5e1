"""Reading files as real feeds deliver them (issue #9): encodings, NDJSON line rules, file kinds,
id clashes, limits. One bad line, resource or file never costs the others."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any

import pytest

from poems_fhir.fhir.read import read_paths, records_from_resources
from poems_fhir.fhir.spool import open_paths
from tests.fhir.test_spool import assert_same_as_read_paths


def _patient(pid: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": pid, "gender": "female"}


def _obs(oid: str, pid: str, value: Any = 700, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "subject": {"reference": f"Patient/{pid}"},
        "code": {"coding": [{"system": "http://loinc.org", "code": "75628-8"}]},
        "effectiveDateTime": "2019-02-01",
        "valueQuantity": {"value": value, "unit": "pg/mL"},
        **extra,
    }


def _line(resource: dict[str, Any]) -> bytes:
    return json.dumps(resource, ensure_ascii=False).encode("utf-8")


def _refs(result: Any) -> dict[str, list[str]]:
    return {r.patient: sorted(x.ref for x in r.resources) for r in result.records}


def test_ndjson_splits_on_newline_only_and_keeps_u2028_and_u0085(tmp_path: Path) -> None:
    text = _obs("o1", "p", valueString="a\u2028b\u0085c\rd")
    del text["valueQuantity"]  # one value[x]
    (tmp_path / "a.ndjson").write_bytes(_line(_patient("p")) + b"\n" + _line(text) + b"\r\n")
    result = read_paths([tmp_path])
    assert result.errors == []
    assert _refs(result) == {"Patient/p": ["Observation/o1"]}
    assert result.records[0].resources[0].data["valueString"] == "a\u2028b\u0085c\rd"


def test_a_non_utf8_line_costs_only_itself_with_its_line_number(tmp_path: Path) -> None:
    bad = b'{"resourceType": "Observation", "id": "x\xff", "subject": {"reference": "Patient/p"}}'
    (tmp_path / "a.ndjson").write_bytes(b"\n".join([_line(_patient("p")), bad, _line(_obs("o1", "p"))]))
    result = read_paths([tmp_path])
    assert _refs(result) == {"Patient/p": ["Observation/o1"]}
    [error] = result.errors
    assert error.source.endswith("a.ndjson:2") and "not UTF-8 (byte 0xff" in error.message


def test_every_bad_line_is_listed_with_its_number(tmp_path: Path) -> None:
    lines = [
        _line(_patient("p")),
        b"{not json",
        _line(_obs("o1", "p")),
        b'{"resourceType": "Observation", "id": "o2", "status": 7, "subject": {"reference": "Patient/p"}}',
        b"[1, 2]",
    ]
    (tmp_path / "a.ndjson").write_bytes(b"\n".join(lines))
    result = read_paths([tmp_path])
    assert _refs(result) == {"Patient/p": ["Observation/o1"]}
    assert [e.source.rsplit(":", 1)[1] for e in result.errors] == ["2", "4", "5"]
    assert result.errors[1].resource == "Observation/o2"
    assert "Observation.status is a number" in result.errors[1].message


@pytest.mark.parametrize("suffix", [".json", ".ndjson"])
def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path, suffix: str) -> None:
    doc = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": _patient("p")}]}
    (tmp_path / f"a{suffix}").write_bytes(b"\xef\xbb\xbf" + json.dumps(doc).encode())
    result = read_paths([tmp_path])
    assert result.errors == [] and _refs(result) == {"Patient/p": []}


def test_utf16_is_refused_with_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_bytes(json.dumps(_patient("p")).encode("utf-16"))
    (tmp_path / "b.json").write_text(json.dumps(_patient("q")), encoding="utf-8")
    result = read_paths([tmp_path])
    assert _refs(result) == {"Patient/q": []}
    assert "UTF-16" in result.errors[0].message and "convert" in result.errors[0].message


@pytest.mark.parametrize("encoding", ["utf-32", "utf-32-le", "utf-32-be"])
def test_utf32_is_named_utf32_not_utf16(tmp_path: Path, encoding: str) -> None:
    # probe84 D6: a UTF-32 file was refused as "UTF-16 text" (its little-endian byte-order mark begins with
    # UTF-16's)
    (tmp_path / "a.json").write_bytes(json.dumps(_patient("p")).encode(encoding))
    (tmp_path / "b.ndjson").write_bytes(json.dumps(_patient("r")).encode(encoding) + "\n".encode(encoding))
    (tmp_path / "c.json").write_text(json.dumps(_patient("q")), encoding="utf-8")
    result = read_paths([tmp_path])
    assert _refs(result) == {"Patient/q": []}
    assert sorted(e.message.split(": ", 1)[-1] for e in result.errors) == [
        "UTF-32 text; FHIR JSON is UTF-8 - convert the file",
        "UTF-32 text; FHIR NDJSON is UTF-8 - convert the file",
    ]
    assert_same_as_read_paths([tmp_path])


def test_utf16_without_a_byte_order_mark_is_refused_with_what_to_do(tmp_path: Path) -> None:
    # probe81 L3: a Bundle file in UTF-16-LE without a BOM got "not JSON: Expecting property name..."
    (tmp_path / "a.json").write_bytes(json.dumps(_patient("p")).encode("utf-16-le"))
    (tmp_path / "b.ndjson").write_bytes(json.dumps(_patient("r")).encode("utf-16-be") + b"\n")
    (tmp_path / "c.json").write_text(json.dumps(_patient("q")), encoding="utf-8")
    result = read_paths([tmp_path])
    assert _refs(result) == {"Patient/q": []}
    assert len(result.errors) == 2
    assert all("UTF-16 text; FHIR" in e.message and e.message.endswith("convert the file") for e in result.errors)
    assert_same_as_read_paths([tmp_path])


@pytest.mark.parametrize("name", ["Patient.ndjson.gz", "bundle.json.gz", "named.ndjson", "named.json"])
def test_a_gzip_file_is_refused_as_compressed_also_in_a_folder(tmp_path: Path, name: str) -> None:
    # probe81 L2: a .ndjson.gz in a folder was skipped without a word ("0 input problem(s)"); named
    # directly, or named .ndjson, it got "not UTF-8 (byte 0x8b ...)", nothing said it was gzip
    (tmp_path / name).write_bytes(gzip.compress(json.dumps(_patient("p")).encode() + b"\n"))
    (tmp_path / "c.json").write_text(json.dumps(_patient("q")), encoding="utf-8")
    result = read_paths([tmp_path])
    assert _refs(result) == {"Patient/q": []}
    (error,) = result.errors
    assert error.source.endswith(name) and error.message.endswith(
        "gzip-compressed: decompress it first (input files are read as plain UTF-8 text)"
    )
    assert_same_as_read_paths([tmp_path])


def _compressed(kind: str, data: bytes, inner: str = "Patient.ndjson") -> bytes:
    import bz2
    import io
    import lzma
    import tarfile
    import zipfile

    if kind in ("tar", "tar.gz", "tgz"):
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz" if kind != "tar" else "w") as tar:
            info = tarfile.TarInfo(inner)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        return buffer.getvalue()
    if kind == "zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            z.writestr(inner, data)
        return buffer.getvalue()
    if kind == "zst":  # the zstd frame magic, then anything: the reader looks at the first bytes only
        return b"\x28\xb5\x2f\xfd" + data
    return {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}[kind](data)


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("x.ndjson.bz2", "bzip2-compressed: decompress it first"),
        ("x.json.xz", "xz-compressed: decompress it first"),
        ("x.jsonl.zst", "zstd-compressed: decompress it first"),
        ("export.tar.gz", "a gzip-compressed tar archive: extract its files first"),
        ("export.tgz", "a gzip-compressed tar archive: extract its files first"),
        ("export.tar", "a tar archive: extract its files first"),
        ("export.zip", "a zip archive: extract its files first"),
    ],
)
def test_a_compressed_or_archived_file_in_a_folder_is_one_problem_saying_what_to_do(
    tmp_path: Path, name: str, says: str
) -> None:
    # probe82 D10: a .ndjson.bz2 or a .tar.gz in a folder was skipped without a word (exit 0, 0 problems)
    kind = name.split(".", 1)[1].removeprefix("ndjson.").removeprefix("json.").removeprefix("jsonl.")
    (tmp_path / name).write_bytes(_compressed(kind, _line(_patient("p")) + b"\n"))
    (tmp_path / "c.json").write_text(json.dumps(_patient("q")), encoding="utf-8")
    (tmp_path / "README.txt").write_text("not input: passed over, as documented", encoding="utf-8")
    (tmp_path / "notes.txt.gz").write_bytes(gzip.compress(b"neither"))
    result = read_paths([tmp_path])
    assert _refs(result) == {"Patient/q": []}
    (error,) = result.errors
    assert error.source == str(tmp_path / name)
    assert error.message == f"cannot read file: {says} (input files are read as plain UTF-8 text)"
    assert_same_as_read_paths([tmp_path])
    # named on the command line, and under a plain name (the first bytes tell), it is the same problem
    plain = tmp_path / "plain.ndjson"
    plain.write_bytes((tmp_path / name).read_bytes())
    for path in (tmp_path / name, plain):
        (error,) = read_paths([path]).errors
        assert error.source == str(path) and "cannot read file: " in error.message


@pytest.mark.parametrize("size", [10, 3 << 20])
@pytest.mark.parametrize(("suffix", "encode"), [(".ndjson", "gzip"), (".ndjson", "utf-16"), (".json", "utf-16-le")])
def test_a_refused_file_is_said_the_same_way_naming_it_once_in_every_reader(
    tmp_path: Path, suffix: str, encode: str, size: int
) -> None:
    # probe82 D7: the NDJSON refusal said "cannot read file: UTF-16 text; ..." where a Bundle file's said
    # "cannot read file: PATH: UTF-16 text; ...": the file is the problem's source, its message the same
    lines = "".join(json.dumps(_obs(f"o{i}", "p")) + "\n" for i in range(size // 300 + 1))
    text = lines if suffix == ".ndjson" else json.dumps(_patient("p"))
    data = gzip.compress(text.encode()) if encode == "gzip" else text.encode(encode)
    (tmp_path / f"a{suffix}").write_bytes(data)
    (tmp_path / "b.json").write_text(json.dumps(_patient("q")), encoding="utf-8")
    source = assert_same_as_read_paths([tmp_path])
    (error,) = source.errors
    assert error.source == str(tmp_path / f"a{suffix}")
    reason = (
        "gzip-compressed: decompress it first (input files are read as plain UTF-8 text)"
        if encode == "gzip"
        else f"UTF-16 text; FHIR {suffix[1:].upper()} is UTF-8 - convert the file"
    )
    assert error.message == f"cannot read file: {reason}"


def test_a_named_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_patient("p")), encoding="utf-8")
    result = read_paths([fifo, good])  # blocking here would hang the test run
    assert _refs(result) == {"Patient/p": []}
    assert result.errors[0].source == str(fifo) and "named pipe, not a regular file" in result.errors[0].message


@pytest.mark.parametrize("kind", ["fifo", "dangling-link"])
def test_an_unreadable_entry_inside_a_folder_is_listed_as_when_named(tmp_path: Path, kind: str) -> None:
    # fuzzprobe3 D3: inside a folder, a named pipe or a dangling link named *.json was dropped
    # without a word (exit 0); named on the command line it was refused and listed
    folder = tmp_path / "in"
    folder.mkdir()
    odd = folder / "a.json"
    if kind == "fifo":
        os.mkfifo(odd)
    else:
        odd.symlink_to(tmp_path / "missing.json")
    (folder / "good.json").write_text(json.dumps(_patient("p")), encoding="utf-8")
    (folder / "sub.json").mkdir()  # a folder named like a file: looked into, not reported
    named = [read_paths([odd, folder / "good.json"])] if kind == "fifo" else []  # a missing path named: exit 2
    for result in [read_paths([folder]), *named]:
        assert _refs(result) == {"Patient/p": []}
        assert [e.source for e in result.errors] == [str(odd)]
        assert "cannot read file" in result.errors[0].message


def test_a_folder_past_the_path_length_limit_is_listed_and_the_rest_is_read(tmp_path: Path) -> None:
    # probe32: 30 nested folders of 200 characters aborted every command with exit 70 (ENAMETOOLONG)
    (tmp_path / "good.json").write_text(json.dumps(_patient("p")), encoding="utf-8")
    fd = os.open(tmp_path, os.O_RDONLY)
    for _ in range(30):  # step by step from an open folder: the whole path is past PATH_MAX
        os.mkdir("d" * 200, dir_fd=fd)
        inner = os.open("d" * 200, os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = inner
    os.close(fd)
    for reader in ("read_paths", "open_paths"):  # one process and the spool alike
        refs, errors = _read(reader, tmp_path)
        assert "Patient/p" in refs
        assert [message for _, message in errors] == ["cannot read file: File name too long"]


def test_json_nested_100k_deep_is_a_reported_skip(tmp_path: Path) -> None:
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    (tmp_path / "deep.ndjson").write_text(
        _line(_patient("p")).decode() + "\n" + '{"a":' * 100_000 + "1" + "}" * 100_000 + "\n", encoding="utf-8"
    )
    result = read_paths([tmp_path])
    assert _refs(result) == {"Patient/p": []}
    assert {e.message for e in result.errors} == {"not JSON: nested too deeply"}


def test_a_resource_nested_past_the_limit_is_refused(tmp_path: Path) -> None:
    deep: Any = 1
    for _ in range(200):
        deep = {"x": deep}
    (tmp_path / "a.ndjson").write_bytes(_line(_patient("p")) + b"\n" + _line(_obs("o1", "p", extension=[deep])))
    result = read_paths([tmp_path])
    assert _refs(result) == {"Patient/p": []}
    assert "nested more than 64 levels" in result.errors[0].message


def test_a_400_digit_integer_is_refused_as_a_value(tmp_path: Path) -> None:
    line = _line(_obs("o1", "p")).replace(b"700", b"9" * 400)
    (tmp_path / "a.ndjson").write_bytes(_line(_patient("p")) + b"\n" + line)
    result = read_paths([tmp_path])
    assert "valueQuantity.value is not a finite number" in result.errors[0].message


def test_a_duplicate_id_with_other_content_and_subject_keeps_both_patients_whole(tmp_path: Path) -> None:
    (tmp_path / "a.ndjson").write_bytes(_line(_patient("good")) + b"\n" + _line(_obs("o1", "good")))
    (tmp_path / "b.ndjson").write_bytes(_line(_patient("other")) + b"\n" + _line(_obs("o1", "other", 5)))
    result = read_paths([tmp_path])
    assert _refs(result) == {"Patient/good": ["Observation/o1"], "Patient/other": ["Observation/o1"]}
    by_patient = {r.patient: r.resources[0].data["valueQuantity"]["value"] for r in result.records}
    assert by_patient == {"Patient/good": 700, "Patient/other": 5}
    [error] = result.errors
    assert error.resource == "Observation/o1" and "also in" in error.message and "a.ndjson:2" in error.message


def test_a_duplicate_id_of_the_same_patient_and_version_is_reported_and_neither_copy_used(tmp_path: Path) -> None:
    # probe47 D5, probe54: the first copy in path order was used, so a stray file read first (VEGF 50
    # beside the real 624) decided the criterion; which copy holds cannot be told
    (tmp_path / "a.ndjson").write_bytes(_line(_patient("p")) + b"\n" + _line(_obs("o1", "p", 700)))
    (tmp_path / "b.ndjson").write_bytes(_line(_obs("o1", "p", 5)))
    (tmp_path / "c.ndjson").write_bytes(_line(_obs("o1", "p", 5)) + b"\n" + _line(_obs("o2", "p", 9)))
    for order in (
        [tmp_path / "a.ndjson", tmp_path / "b.ndjson", tmp_path / "c.ndjson"],
        [tmp_path / "c.ndjson", tmp_path / "b.ndjson", tmp_path / "a.ndjson"],
    ):
        result = read_paths(order)
        assert [r.data["id"] for r in result.records[0].resources if r.data["resourceType"] == "Observation"] == ["o2"]
        [error] = result.errors  # the third copy repeats one of the two: nothing new
        assert error.resource == "Observation/o1" and "neither is used" in error.message
    # a later version than both replaces them
    newer = _obs("o1", "p", 640, meta={"lastUpdated": "2030-01-01T00:00:00Z"})
    (tmp_path / "d.ndjson").write_bytes(_line(newer))
    result = read_paths([tmp_path])
    values = {
        r.data["id"]: r.data["valueQuantity"]["value"] for r in result.records[0].resources if "valueQuantity" in r.data
    }
    assert values == {"o1": 640, "o2": 9}


def test_a_later_version_replaces_an_earlier_one_silently(tmp_path: Path) -> None:
    old = _obs("o1", "p", 700, meta={"lastUpdated": "2019-01-01T00:00:00Z"})
    new = _obs("o1", "p", 800, meta={"lastUpdated": "2019-03-01T00:00:00Z"})
    (tmp_path / "a.ndjson").write_bytes(_line(_patient("p")) + b"\n" + _line(new) + b"\n" + _line(old))
    result = read_paths([tmp_path])
    assert result.errors == [] and result.records[0].resources[0].data["valueQuantity"]["value"] == 800


def test_an_identical_copy_is_not_a_problem(tmp_path: Path) -> None:
    (tmp_path / "a.ndjson").write_bytes(_line(_patient("p")) + b"\n" + _line(_obs("o1", "p")))
    (tmp_path / "b.ndjson").write_bytes(_line(_obs("o1", "p")))
    assert read_paths([tmp_path]).errors == []


def test_the_per_patient_limit_skips_the_patient_with_a_clear_message(tmp_path: Path) -> None:
    lines = [_line(_patient("big")), _line(_patient("small")), _line(_obs("s1", "small"))]
    lines += [_line(_obs(f"b{i}", "big")) for i in range(5)]
    (tmp_path / "a.ndjson").write_bytes(b"\n".join(lines))
    result = read_paths([tmp_path], max_per_patient=3)
    assert _refs(result) == {"Patient/small": ["Observation/s1"]}
    assert "5 resources for this patient, more than the limit of 3" in result.errors[0].message
    assert "--max-resources-per-patient" in result.errors[0].message


def test_server_resources_pass_the_same_boundary() -> None:
    records, errors = records_from_resources(
        [
            (_patient("p"), "search#0"),
            (_obs("o1", "p"), "search#1"),
            (_obs("o2", "p", "5"), "search#2"),
            ("not a resource", "search#3"),  # type: ignore[list-item]
        ]
    )
    assert [x.ref for x in records[0].resources] == ["Observation/o1"]
    assert [e.source for e in errors] == ["search#2", "search#3"]


def test_an_undecodable_file_name_is_printable_in_the_errors(tmp_path: Path) -> None:
    folder = os.fsencode(tmp_path) + b"/in\xff"
    os.makedirs(folder)
    with open(folder + b"/bad\xff.ndjson", "wb") as f:
        f.write(b"{not json\n")
    (tmp_path / "good.json").write_text(json.dumps(_patient("p")), encoding="utf-8")
    result = read_paths([tmp_path])
    assert _refs(result) == {"Patient/p": []}
    [error] = result.errors
    assert error.source.endswith("/in\ufffd/bad\ufffd.ndjson:1")
    error.source.encode("utf-8")  # printable


@pytest.mark.parametrize(
    "element, value",
    [
        ("type", ["collection"]),
        ("type", 7),
        ("entry", {"resource": 1}),
        ("entry", [7]),
        ("entry", [{"fullUrl": 7, "resource": None}]),
        ("entry", [{"request": 7, "search": 7, "resource": "x"}]),
    ],
)
def test_a_broken_bundle_costs_only_itself(tmp_path: Path, element: str, value: Any) -> None:
    (tmp_path / "bad.json").write_text(
        json.dumps({"resourceType": "Bundle", "type": "collection", element: value}), encoding="utf-8"
    )
    (tmp_path / "good.json").write_text(json.dumps(_patient("p")), encoding="utf-8")
    result = read_paths([tmp_path])
    assert _refs(result) == {"Patient/p": []}


def _nested_patient(pid: str, depth: int) -> bytes:
    """A Patient whose extension nests ``depth`` arrays, and whose text has brackets that do not nest."""
    head = json.dumps({**_patient(pid), "name": [{"text": "[[[{{{" * 200}]})[:-1].encode()
    return head + b', "extension": ' + b"[" * depth + b"]" * depth + b"}"


def _at_stack_depth(frames: int, call: Any) -> Any:
    return call() if frames == 0 else _at_stack_depth(frames - 1, call)


@pytest.mark.parametrize("depth", [254, 255, 256, 400, 990])
def test_the_verdict_on_deep_nesting_does_not_depend_on_the_call_stack(tmp_path: Path, depth: int) -> None:
    # json.loads' limit is Python's recursion limit minus the caller's stack: a line nested ~990 deep
    # was parsed (then refused at the boundary) by one reader and "not JSON" in another (found by
    # the fuzz suite under mutmut, whose trampolines deepen the stack)
    from tests.fhir.test_spool import assert_same_as_read_paths

    from poems_fhir.fhir.read import MAX_PARSE_DEPTH

    (tmp_path / "a.ndjson").write_bytes(_line(_patient("p")) + b"\n" + _nested_patient("deep", depth) + b"\n")
    (tmp_path / "b.json").write_bytes(_nested_patient("deep2", depth))
    results = [read_paths([tmp_path]), _at_stack_depth(600, lambda: read_paths([tmp_path]))]
    for result in results:
        assert _refs(result) == {"Patient/p": []}
        if depth + 1 > MAX_PARSE_DEPTH:  # the Patient object itself is the first level
            assert [e.message for e in result.errors] == ["not JSON: nested too deeply"] * 2
        else:  # parsed, and refused by the boundary's own limit, naming the resource
            assert [(e.resource, e.message) for e in result.errors] == [
                ("Patient/deep", "refused: nested more than 64 levels deep"),
                ("Patient/deep2", "refused: nested more than 64 levels deep"),
            ]
    assert repr(results[0].errors) == repr(results[1].errors)
    assert_same_as_read_paths([tmp_path])
    _at_stack_depth(600, lambda: assert_same_as_read_paths([tmp_path]))


def test_brackets_inside_strings_do_not_nest() -> None:
    from poems_fhir.fhir.read import MAX_PARSE_DEPTH, nested_too_deeply

    text = json.dumps({"a": "[" * 5000, "b": '\\"[{' * 3000, "c": [[[1]]]})
    assert not nested_too_deeply(text) and not nested_too_deeply(text.encode())
    deep = "[" * (MAX_PARSE_DEPTH + 1) + "]" * (MAX_PARSE_DEPTH + 1)
    assert nested_too_deeply(deep) and nested_too_deeply(deep.encode())
    # closing brackets count too: many arrays side by side are not deep
    wide = "[" + ",".join(["[]"] * 5000) + "]"
    assert not nested_too_deeply(wide) and not nested_too_deeply(wide.encode())


def _bundle_with(btype: str, entries: list[Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": btype, "entry": [{"resource": _patient("p")}, *entries]}


@pytest.mark.parametrize("reader", ["read_paths", "spool"])
@pytest.mark.parametrize(
    "entry",
    [{"fullUrl": "urn:uuid:0a1b", "resource": None}, {}, {"fullUrl": "urn:uuid:0a1b"}, {"search": {"mode": "match"}}],
)
def test_an_entry_of_a_collection_without_resource_is_listed(tmp_path: Path, reader: str, entry: Any) -> None:
    """fuzzprobe4 entry-junk: a resource lost on the way (null, or an empty entry) was dropped unlisted."""
    (tmp_path / "b.json").write_text(json.dumps(_bundle_with("collection", [entry])), encoding="utf-8")
    result = _read(reader, tmp_path)
    assert result[0] == {"Patient/p": []}
    assert result[1] == [(f"{tmp_path / 'b.json'}#entry[1]", "entry without a resource: nothing to read; skipped")]


@pytest.mark.parametrize("reader", ["read_paths", "spool"])
@pytest.mark.parametrize(
    "btype, entry",
    [
        ("transaction-response", {"response": {"status": "201 Created"}}),
        ("batch-response", {"response": {"status": "404 Not Found"}}),
        ("history", {"request": {"method": "DELETE", "url": "Observation/o1"}, "response": {"status": "204"}}),
        ("history", {"response": {"status": "410 Gone"}}),
        ("batch", {"request": {"method": "GET", "url": "Patient/p"}}),
    ],
)
def test_entries_that_may_carry_no_resource_are_not_problems(
    tmp_path: Path, reader: str, btype: str, entry: Any
) -> None:
    (tmp_path / "b.json").write_text(json.dumps(_bundle_with(btype, [entry])), encoding="utf-8")
    assert _read(reader, tmp_path) == ({"Patient/p": []}, [])


def _read(reader: str, path: Path) -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
    if reader == "read_paths":
        result = read_paths([path])
        return _refs(result), [(e.source, e.message) for e in result.errors]
    with open_paths([path]) as source:
        refs = {p: sorted(x.ref for x in source.record(p).resources) for p in source.patients()}  # type: ignore[union-attr]
        return refs, [(e.source, e.message) for e in source.errors]


@pytest.mark.parametrize("reader", ["read_paths", "open_paths"])
def test_a_misspelt_resource_type_is_listed_a_type_not_read_is_skipped_quietly(tmp_path: Path, reader: str) -> None:
    # probe32: "Observaton", "OBSERVATION", "DiagnosticReports" were skipped like an Encounter, without a
    # word, and a met patient came out indeterminate
    lines = [
        _patient("p"),
        {**_obs("o1", "p"), "resourceType": "Observaton"},
        {**_obs("o2", "p"), "resourceType": "OBSERVATION"},
        {"resourceType": "Encounter", "id": "e1", "subject": {"reference": "Patient/p"}},
        {"resourceType": "SubscriptionStatus", "id": "s1"},  # R4B: a resource, not read
    ]
    path = tmp_path / "in.ndjson"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    refs, errors = _read(reader, path)
    assert refs == {"Patient/p": []}  # the Patient resource itself is kept aside, as for every record
    assert [message for _, message in errors] == [
        "not a FHIR resource: resourceType 'Observaton' is no FHIR R4 resource type - did you mean Observation?; not read",
        "not a FHIR resource: resourceType 'OBSERVATION' is no FHIR R4 resource type - did you mean Observation?; not read",
    ]


def test_a_problem_message_quoting_a_huge_value_is_bounded_keeping_what_to_do() -> None:
    # probe43: a 1 MB Observation.status was echoed whole into every output (JSON, text, sync summary)
    from poems_fhir.fhir.read import MAX_MESSAGE_CHARS, SourceError

    long = SourceError(
        "a.ndjson:1", "status '" + "x" * 1_000_000 + "' is not a FHIR status: fix the status", "Observation/o"
    )
    assert len(long.message) < MAX_MESSAGE_CHARS + 100
    assert long.message.startswith("status 'xxx") and long.message.endswith("fix the status")
    assert "characters not shown" in long.message
    short = SourceError("a.ndjson:1", "status 'bogus' is not a FHIR status")
    assert short.message == "status 'bogus' is not a FHIR status"


def test_a_json_file_holding_null_is_listed_like_any_other_non_resource(tmp_path: Path) -> None:
    # probe67 D8: a .json file of `null` was accepted without a word (a string, number or array file,
    # or a `null` NDJSON line, was listed)
    (tmp_path / "a.json").write_text("null\n", encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps(_patient("p")), encoding="utf-8")
    result = read_paths([tmp_path])
    [error] = result.errors
    assert error.source.endswith("a.json") and error.message == "not a FHIR resource: the file holds JSON null"
    assert [r.patient for r in result.records] == ["Patient/p"]


def test_an_ndjson_null_line_and_an_array_file_are_named_as_such(tmp_path: Path) -> None:
    # probe70 D15: both said "no resourceType"
    (tmp_path / "a.ndjson").write_bytes(_line(_patient("p")) + b"\nnull\n")
    (tmp_path / "b.json").write_text("[]", encoding="utf-8")
    result = read_paths([tmp_path])
    assert sorted((e.source.rsplit("/", 1)[-1], e.message) for e in result.errors) == [
        ("a.ndjson:2", "not a FHIR resource: JSON null"),
        ("b.json", "not a FHIR resource: a JSON array"),
    ]
