"""`poems-fhir distributed` reads a note's text from a Binary the input carries, as `evaluate` does (fhir/binaries.py).

A Binary has no subject: pass 1 gathers which Binaries each patient's url-only notes name (keying.BinaryMap), pass 2
sends each Binary to the partitions of those patients (a join, not a broadcast: an export's Binary.ndjson can be
gigabytes of notes and scans) and the partition reads it into the note with `inline_input_binaries`. Before, every
such note stayed "by url only" in the distributed run while `evaluate` read it: another result from the same export.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from poems_fhir.criteria.model import Criterion
from tests.distributed.test_run import _assert_same_as_evaluate, _outputs, _run, _run_on_a_local_cluster
from tests.mapping.pdf_files import pdf

ORGANS = Criterion.ORGANOMEGALY.value
BONE = Criterion.SCLEROTIC_BONE_LESIONS.value
OVERLOAD = Criterion.EXTRAVASCULAR_VOLUME_OVERLOAD.value
CT_TEXT = "CT chest, abdomen and pelvis. IMPRESSION: Splenomegaly, 16 cm. Multiple sclerotic bone lesions in the spine."
CT_HTML = "<html><body><p>CT chest.</p><p>IMPRESSION: Small bilateral pleural effusions.</p></body></html>"
RU_TEXT = "КТ органов брюшной полости. Заключение: спленомегалия (селезёнка 16 см)."
KK_TEXT = "Құрсақ қуысының КТ. Көкбауыр ұлғайған, 16 см."
URN_X = "urn:uuid:5b0c1d6e-0000-4000-8000-000000000a14"
URN_Y = "urn:uuid:5b0c1d6e-0000-4000-8000-000000000a15"
URN_P6 = "urn:uuid:5b0c1d6e-0000-4000-8000-0000000000f6"


def b64(data: str | bytes) -> str:
    return base64.b64encode(data.encode("utf-8") if isinstance(data, str) else data).decode("ascii")


def note(rid: str, patient: str, url: str, content_type: str | None = "text/plain", **elements: Any) -> dict[str, Any]:
    attachment: dict[str, Any] = {"url": url}
    if content_type:
        attachment["contentType"] = content_type
    return {
        "resourceType": "DocumentReference",
        "id": rid,
        "status": "current",
        "type": {"coding": [{"system": "http://loinc.org", "code": "18748-4", "display": "Diagnostic imaging study"}]},
        "subject": {"reference": patient},
        "date": "2024-03-05T09:30:00Z",
        "description": "CT chest abdomen pelvis",
        "content": [{"attachment": attachment}],
        **elements,
    }


def binary(
    rid: str | None, data: str | bytes | None, content_type: str = "text/plain", **elements: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {"resourceType": "Binary", "contentType": content_type, **elements}
    if rid is not None:
        out["id"] = rid
    if data is not None:
        out["data"] = b64(data)
    return out


def ndjson(path: Path, *resources: dict[str, Any]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in resources), encoding="utf-8")


def patient(pid: str, gender: str = "male", **elements: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": pid, "gender": gender, "birthDate": "1965-04-01", **elements}


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """An export whose notes' text is in Binaries: NDJSON files and a transaction Bundle, every kind of Binary the
    file readers read or list, each Binary in another file than its note (one read before it)."""
    folder = tmp_path / "export"
    folder.mkdir()
    ndjson(
        folder / "1-Patient.ndjson",
        patient("p1"),
        patient("p2", "female"),
        patient("p3"),
        patient("p4", "female"),
        # retired into p1: its note is p1's, and so is the Binary the note names (probe79 D1)
        patient("p5", link=[{"other": {"reference": "Patient/p1"}, "type": "replaced-by"}], active=False),
    )
    # read before the notes that name them (the first file of the folder)
    ndjson(folder / "0-Binary-early.ndjson", binary("b-early", KK_TEXT))
    ndjson(
        folder / "DocumentReference.ndjson",
        note("d1", "Patient/p1", "Binary/b-plain"),
        note("d2", "Patient/p2", "https://ehr.example.org/fhir/Binary/b-html", "text/html"),
        note("d3", "Patient/p3", "Binary/b-pdf", "application/pdf"),
        note("d4", "Patient/p4", "Binary/b-ver/_history/2"),  # the input holds version 1: listed
        note("d5", "Patient/p4", "Binary/b-img", None),  # the Binary says it is a picture: listed
        note("d6", "Patient/p1", "Binary/b-shared"),  # one Binary, two patients' notes
        note("d7", "Patient/p2", "Binary/b-shared"),
        note("d8", "Patient/p2", "Binary/b-refused"),  # refused at the boundary, named by two patients
        note("d9", "Patient/p3", "Binary/b-refused"),
        note("d10", "Patient/p5", "Binary/b-merged"),
        note("d11", "Patient/p4", "Binary/b-early"),
        note("d12", "Patient/p3", "#inner", contained=[binary("inner", "CT. IMPRESSION: Hepatomegaly.")]),
        note("d13", "Patient/p4", "Binary/b-missing"),  # the input has no such Binary: by url only
    )
    report = {
        "resourceType": "DiagnosticReport",
        "id": "r1",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "24627-2", "display": "CT Chest"}]},
        "subject": {"reference": "Patient/p2"},
        "effectiveDateTime": "2024-03-06",
        "presentedForm": [{"contentType": "text/plain", "url": "Binary/b-report"}],
    }
    ndjson(folder / "DiagnosticReport.ndjson", report)
    ndjson(
        folder / "Binary.ndjson",
        binary("b-plain", CT_TEXT),
        binary("b-html", CT_HTML, "text/html"),
        binary("b-pdf", pdf([RU_TEXT]), "application/pdf"),
        binary("b-ver", CT_TEXT, meta={"versionId": "1"}),
        binary("b-img", CT_TEXT, "image/jpeg"),
        binary("b-shared", "CT. IMPRESSION: Hepatomegaly."),
        {"resourceType": "Binary", "id": "b-refused", "contentType": "text/plain", "data": 42},
        binary("b-merged", "CT. IMPRESSION: Ascites."),
        binary("b-report", "CT chest, abdomen and pelvis. IMPRESSION: No sclerotic bone lesions."),
        binary("b-nobody", CT_TEXT),  # named by no note: dropped
        {"resourceType": "Binary", "id": "b-nobody-bad", "contentType": 7},  # named by no note, refused: listed
        binary(None, CT_TEXT),  # no id: nothing can name it, listed
        # a later version of the Bundle's urn:uuid:Y Binary: the one its note reads (`evaluate`'s rule)
        binary("b-y", CT_TEXT, meta={"versionId": "2", "lastUpdated": "2024-04-01T00:00:00Z"}),
    )
    entries = [
        {"fullUrl": URN_P6, "resource": {"resourceType": "Patient", "gender": "male", "birthDate": "1960-01-01"}},
        {"fullUrl": "urn:uuid:5b0c1d6e-0000-4000-8000-0000000000d1", "resource": note("d61", URN_P6, URN_X)},
        {"fullUrl": "urn:uuid:5b0c1d6e-0000-4000-8000-0000000000d2", "resource": note("d62", URN_P6, URN_Y)},
        {"fullUrl": URN_X, "resource": binary(None, RU_TEXT)},  # no id: keyed by its fullUrl
        {
            "fullUrl": URN_Y,
            "resource": binary("b-y", "CT. No splenomegaly.", meta={"lastUpdated": "2024-01-01T00:00:00Z"}),
        },
    ]
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{**e, "request": {"method": "POST", "url": e["resource"]["resourceType"]}} for e in entries],
    }
    (folder / "2-bundle.json").write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    return folder


def _evidence(item: dict[str, Any], criterion: str) -> set[str]:
    return {e["reference"] for e in item["criteria"][criterion]["evidence"]}


@pytest.mark.parametrize(("partitions", "blocksize"), [(3, 300), (1, 2**20)])
def test_the_inputs_binaries_are_read_as_evaluate_reads_them(
    export, tmp_path, mapping, monkeypatch, partitions, blocksize
):
    # 300-byte blocks: the Binaries' lines and their notes' lines in other blocks of other files
    _run([str(export)], tmp_path / "out", mapping, partitions=partitions, blocksize=blocksize)
    expected = _assert_same_as_evaluate([str(export)], tmp_path / "out", monkeypatch)
    items, _, errors = _outputs(tmp_path / "out")
    assert set(items) == {"Patient/p1", "Patient/p2", "Patient/p3", "Patient/p4", URN_P6}
    p1, p2, p3, p4, p6 = (items[p] for p in ("Patient/p1", "Patient/p2", "Patient/p3", "Patient/p4", URN_P6))
    # text/plain, HTML, a Russian PDF, a Kazakh note read from a Binary of an earlier file
    assert p1["criteria"][BONE]["state"] == "present" and "DocumentReference/d1" in _evidence(p1, BONE)
    assert "DocumentReference/d3" in _evidence(p3, ORGANS)
    assert "DocumentReference/d11" in _evidence(p4, ORGANS)
    assert "DocumentReference/d2" in _evidence(p2, OVERLOAD)  # the HTML note
    # one Binary named by two patients: read for both
    assert "DocumentReference/d6" in _evidence(p1, ORGANS) and "DocumentReference/d7" in _evidence(p2, ORGANS)
    # the report's Binary states a denial: read as one, never as the finding
    (cited,) = p2["criteria"][BONE]["evidence"]
    assert p2["criteria"][BONE]["state"] != "present" and cited["reference"] == "DiagnosticReport/r1"
    assert "negated" in cited["summary"]
    # the Bundle's urn:uuid Binaries: one without id, one whose later version is in Binary.ndjson
    assert {"DocumentReference/d61", "DocumentReference/d62"} <= _evidence(p6, ORGANS)
    assert "DocumentReference/d62" in _evidence(p6, BONE)
    messages = [(e["source"].rsplit("/", 1)[-1], e.get("resource"), e["message"]) for e in errors]
    listed = [m for m in messages if "Binary" in m[2] or (m[1] or "").startswith("Binary")]
    assert any("the input holds version '1' of it, not '2'" in m[2] for m in listed)
    assert any("the Binary is image/jpeg" in m[2] for m in listed)
    # a refused Binary is listed once, whether two patients name it or nobody does
    assert sum(m[1] == "Binary/b-refused" and m[2].startswith("refused") for m in listed) == 1
    assert sum(m[1] == "Binary/b-nobody-bad" and m[2].startswith("refused") for m in listed) == 1
    assert sum("Binary without id or fullUrl" in m[2] for m in listed) == 1
    # "by url only", or "by url (the Binary named … is not in the input: …)" where the input lacks it (fix139a)
    unread = sorted(m[1] for m in messages if " by url only" in m[2] or " by url (" in m[2])
    # besides the two above: the refused Binary's notes and the one whose Binary the input lacks
    assert unread == [f"DocumentReference/d{n}" for n in (13, 4, 5, 8, 9)]
    assert len(expected["errors"]) == len(errors)


def test_a_merged_records_note_reads_its_binary_with_the_survivor(export, tmp_path, mapping, monkeypatch):
    from poems_fhir.distributed.keying import bucket_of

    partitions = next(n for n in range(2, 50) if bucket_of("Patient/p5", n) != bucket_of("Patient/p1", n))
    _run([str(export)], tmp_path / "out", mapping, partitions=partitions)
    _assert_same_as_evaluate([str(export)], tmp_path / "out", monkeypatch)
    items, _, _ = _outputs(tmp_path / "out")
    assert "Patient/p5" not in items
    found = json.dumps(items["Patient/p1"])
    assert "DocumentReference/d10" in found  # its ascites, read from b-merged in p1's partition


def test_a_binary_nobody_names_is_not_shuffled(export, tmp_path):
    """Only the Binaries some note names travel, once per patient that names them."""
    from poems_fhir.distributed.keying import BinaryMap, Block, PatientMap, key_block, scan

    blocks = [
        (Block(i, 0, p.name, p.suffix == ".ndjson"), p.read_bytes()) for i, p in enumerate(sorted(export.iterdir()))
    ]
    scans = [scan(b, d) for b, d in blocks]
    pmap = PatientMap.build([p for s in scans for p in s.patients])
    binaries = BinaryMap.build(scans, pmap)
    keyed = [k for b, d in blocks for k in key_block(b, d, 1, pmap, 4, binaries)]
    shipped = sorted(
        (k.patient, json.loads(k.text)["id"] if k.text else k.full_url, k.quiet)
        for k in keyed
        if (k.text is not None and '"Binary"' in k.text[:40])
        or (k.data is not None and k.data["resourceType"] == "Binary")
    )
    assert not any(k.text and "b-nobody" in k.text for k in keyed)
    assert ("Patient/p1", "b-shared", False) in shipped and ("Patient/p2", "b-shared", True) in shipped
    assert ("Patient/p1", "b-merged", False) in shipped  # the survivor's, not p5's
    assert (URN_P6, URN_X, False) in shipped
    assert [s for s in shipped if s[1] == "b-y"] == [(URN_P6, "b-y", False)]  # the Binary.ndjson copy too
    assert sum(s[1] == URN_Y for s in shipped) == 1
    assert len(shipped) == 15


def test_the_inputs_binaries_on_a_local_cluster_of_two_processes(export, tmp_path, monkeypatch):
    """The task shuffle between two worker processes: the Binaries reach their patients' partitions there too."""
    import concurrent.futures
    import multiprocessing

    spawn = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=spawn) as pool:
        patients, workers = pool.submit(_run_on_a_local_cluster, [str(export)], str(tmp_path / "out")).result()
    assert workers == 2 and patients == 5
    _assert_same_as_evaluate([str(export)], tmp_path / "out", monkeypatch)
    items, _, _ = _outputs(tmp_path / "out")
    assert "DocumentReference/d7" in _evidence(items["Patient/p2"], ORGANS)  # the Binary two patients name
