"""What the write-back cites (found by an independent write-back probe): every conclusion names the
input resources it rests on, and the Provenance lists exactly those the result rests on - nothing
dated after --as-of, id-less evidence included - and the report states one data cut-off."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from poems_fhir.cli import main
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.criteria.response import HematologicResponse, ResponseAssessment, VegfResponse
from poems_fhir.fhir.write import WriteContext
from poems_fhir.i18n import translator
from poems_fhir.pipeline import evaluate_paths, html_for, transaction_for
from poems_fhir.report.wording import response_line
from tests.conftest import SAMPLES, diagnostic_report

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.timezone.utc)
VER = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"


def _bundle_of(mapping: Any, path: Path, as_of: dt.date | None = None) -> tuple[Any, dict[str, Any]]:
    run = evaluate_paths([path], mapping, MAYO, as_of)
    (result,) = [r for r in run.results if r.scope.in_scope]
    ctx = WriteContext(NOW, mapping.identity, result.inputs)
    return result, transaction_for(result, ctx, html_for(result, mapping, generated=NOW))


def _of(bundle: dict[str, Any], rtype: str, code: str | None = None) -> dict[str, Any]:
    (found,) = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == rtype
        and (code is None or e["resource"]["code"]["coding"][0]["code"] == code)
    ]
    return found


def _entities(bundle: dict[str, Any]) -> list[str]:
    what = [x["what"] for x in _of(bundle, "Provenance").get("entity", [])]
    return [w.get("reference", w.get("display", "")).split("/_history/")[0] for w in what]


def _cited(resource: dict[str, Any]) -> set[str]:
    """Every Reference or display-only Reference inside ``resource`` that is not our own."""
    found: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            if "reference" in v and not v["reference"].startswith(("#", "urn:uuid:", "Patient/")):
                found.add(v["reference"])
            elif set(v) == {"display"}:
                found.add(v["display"])
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(resource)
    return found


def test_the_provenance_lists_nothing_dated_after_as_of(mapping):
    """seed_case at diagnosis (2019-02-28): the transplant of 2019-08-30 and the day +100 results
    were not known then, so they are no source of that report."""
    _, at_diagnosis = _bundle_of(mapping, SAMPLES / "origin-case", dt.date(2019, 2, 28))
    _, at_day_100 = _bundle_of(mapping, SAMPLES / "origin-case", dt.date(2019, 12, 31))
    early, late = set(_entities(at_diagnosis)), set(_entities(at_day_100))
    assert early < late
    later = late - early
    assert any(r.startswith("Procedure/") for r in later)  # the transplant
    cited = set().union(
        *(_cited(e["resource"]) for e in at_diagnosis["entry"] if e["resource"]["resourceType"] != "Provenance")
    )
    assert cited <= early  # and every cited resource is a source


def test_a_complete_response_cites_both_immunofixations(mapping):
    """criteria.md §8.1: CR needs serum and urine immunofixation negative; both are cited."""
    result, bundle = _bundle_of(mapping, SAMPLES / "origin-case", dt.date(2019, 12, 31))
    h = result.response.hematologic
    assert h.category == "CR" and h.provisional
    report = _of(bundle, "DiagnosticReport", "poems-response-assessment")
    (amyloid,) = [o for o in report["contained"] if o["id"] == "hematologic-amyloid"]
    cited = {d["reference"] for d in amyloid["derivedFrom"]}
    urine = [m.reference for m in result.extraction.measurements if m.analyte == "urine_ife"]
    serum = [m.reference for m in result.extraction.measurements if m.analyte == "serum_ife"]
    assert urine and urine[-1] in cited and serum[-1] in cited


def test_an_imwg_complete_response_without_marrow_is_called_provisional():
    """seed_case.md T3: a CR lacking the marrow is "CR (provisional)" in every framework."""
    cr = HematologicResponse("amyloid", "CR", "serum and urine immunofixation negative", provisional=True)
    imwg = HematologicResponse("imwg", "CR", "serum and urine immunofixation negative", provisional=True)
    r = ResponseAssessment(None, dt.date(2019, 1, 1), dt.date(2019, 2, 1), cr, imwg, VegfResponse("none", "-"), {})
    line = response_line(translator("en"), r)
    assert "Complete response (provisional) (amyloidosis criteria)" in line
    assert "Complete response (provisional) (IMWG criteria)" in line
    firm = ResponseAssessment(
        None,
        dt.date(2019, 1, 1),
        dt.date(2019, 2, 1),
        cr,
        HematologicResponse("imwg", "CR", "x"),
        VegfResponse("none", "-"),
        {},
    )
    assert "Complete response (IMWG criteria)" in response_line(translator("en"), firm)


def test_a_vegf_older_than_the_restaging_says_when_it_was_measured():
    """probe64 D3: "VEGF: VEGF normalised" at a restaging 18 months after the last VEGF read as current,
    beside a CarePlan saying that VEGF was overdue."""
    from poems_fhir.criteria.response import Point

    h = HematologicResponse("amyloid", "PD", "x")
    last = Point(120.0, "pg/mL", dt.date(2021, 5, 15), "Observation/vegf")
    vegf = VegfResponse("complete", "-", "plasma", latest=last)
    r = ResponseAssessment(None, dt.date(2021, 1, 1), dt.date(2021, 2, 1), h, h, vegf, {})
    assert "VEGF: VEGF normalised (120 pg/mL on May 15, 2021);" in response_line(
        translator("en"), r, dt.date(2022, 11, 10)
    )
    # measured at the restaging itself (or no restaging date known): no date repeated
    assert "VEGF: VEGF normalised;" in response_line(translator("en"), r, dt.date(2021, 5, 15))
    assert "VEGF: VEGF normalised;" in response_line(translator("en"), r)


def test_the_report_a_refuted_condition_rests_on_is_cited(mapping, tmp_path):
    """A refuted sclerotic-lesion Condition resting on a plain radiograph is a low-grade negative
    (criteria.md §6): the radiograph decides the state written, so it is cited and a source."""
    entries = [
        {"resourceType": "Patient", "id": "p1", "gender": "male"},
        {
            "resourceType": "Condition",
            "id": "pnp",
            "code": {"coding": [{"system": ICD10CM, "code": "G62.9"}]},
            "verificationStatus": {"coding": [{"system": VER, "code": "confirmed"}]},
            "subject": {"reference": "Patient/p1"},
            "recordedDate": "2024-01-01",
        },
        diagnostic_report("xr", "Skeletal survey (X-ray)"),
        {
            "resourceType": "Condition",
            "id": "scl",
            "code": {"coding": [{"system": ICD10CM, "code": "M85.80"}]},
            "verificationStatus": {"coding": [{"system": VER, "code": "refuted"}]},
            "subject": {"reference": "Patient/p1"},
            "recordedDate": "2024-01-02",
            "evidence": [{"detail": [{"reference": "DiagnosticReport/xr"}]}],
        },
    ]
    path = tmp_path / "in.json"
    path.write_text(
        json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [{"resource": e} for e in entries]})
    )
    result, bundle = _bundle_of(mapping, path)
    assert result.assessment.criteria["sclerotic_bone_lesions"].state.value == "indeterminate"
    report = _of(bundle, "DiagnosticReport", "poems-criteria-assessment")
    (obs,) = [o for o in report["contained"] if o["id"] == "criterion-sclerotic-bone-lesions"]
    assert {"Condition/scl", "DiagnosticReport/xr"} <= _cited(obs)
    assert "DiagnosticReport/xr" in _entities(bundle)


def _without_ids(tmp_path: Path) -> tuple[Path, Path]:
    """classic-poems with ids stripped but the Patient's: NDJSON (FILE:LINE) and a Bundle (urn:uuid)."""
    bundle = json.loads((SAMPLES / "classic-poems.json").read_text())
    lines = []
    for i, e in enumerate(bundle["entry"]):
        if e["resource"]["resourceType"] != "Patient":
            e["resource"].pop("id", None)
            e["fullUrl"] = f"urn:uuid:00000000-0000-4000-8000-{i:012d}"
        lines.append(json.dumps(e["resource"]))
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "all.ndjson").write_text("\n".join(lines) + "\n")
    (tmp_path / "b.json").write_text(json.dumps(bundle))
    return tmp_path / "export" / "all.ndjson", tmp_path / "b.json"


def test_evidence_without_an_id_is_cited_and_a_source_however_it_was_read(mapping, tmp_path):
    """Every present criterion cites its evidence, and the Provenance lists it, whether the
    id-less evidence came from an NDJSON line or a urn:uuid entry."""
    for source in _without_ids(tmp_path):
        result, bundle = _bundle_of(mapping, source)
        report = _of(bundle, "DiagnosticReport", "poems-criteria-assessment")
        entities = set(_entities(bundle))
        for obs in report["contained"]:
            cid = obs["id"].removeprefix("criterion-").replace("-", "_")
            if result.assessment.criteria[cid].state.value == "present":
                cited = _cited(obs)
                assert cited, (source.name, cid)
                assert cited <= entities, (source.name, cid, cited - entities)
        assert any(e.startswith("input resource without an id (") for e in entities)


def test_one_data_cut_off_in_the_report_its_narrative_and_its_page(mapping):
    """Without --as-of, data after the last criterion evidence (follow-up results) set the cut-off
    the page states; the report's effectiveDateTime and narrative state the same day."""
    result, bundle = _bundle_of(mapping, SAMPLES / "origin-case")
    report = _of(bundle, "DiagnosticReport", "poems-criteria-assessment")
    newest = max(m.effective for m in result.extraction.measurements if m.effective)
    assert report["effectiveDateTime"] == newest.isoformat()
    page = base64.b64decode(report["presentedForm"][0]["data"]).decode()
    shown = translator("en").date(newest)
    assert f"Data cut-off: {shown}" in report["text"]["div"]
    assert re.search(rf"Data cut-off</dt><dd>{re.escape(shown)}", page)


def test_an_out_file_with_nobody_in_scope_has_no_empty_entry_array(tmp_path):
    """FHIR JSON has no empty arrays."""
    out = tmp_path / "out.json"
    result = CliRunner().invoke(
        main, ["evaluate", str(SAMPLES / "mimics" / "castleman-without-neuropathy.json"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text()) == {"resourceType": "Bundle", "type": "transaction"}


def test_every_reference_is_found_in_document_order_at_any_depth():
    from poems_fhir.fhir.write import _all_refs

    resource = {
        "subject": {"reference": "Patient/p", "identifier": {"assigner": {"reference": "Organization/o"}}},
        "result": [{"reference": "Observation/1"}, {"display": "no reference"}, {"reference": "Observation/2"}],
        "extension": [{"valueReference": {"reference": "#c1"}}, [{"reference": "urn:uuid:x"}]],
        "note": [{"text": "reference"}],
        "reference": 7,  # not a string: not a reference
    }
    assert _all_refs(resource) == ["Patient/p", "Organization/o", "Observation/1", "Observation/2", "#c1", "urn:uuid:x"]


def test_the_provenance_names_the_specimen_a_vegf_result_rests_on(mapping):
    """probe37 D10: plasma or serum decides the VEGF criterion, so the Specimen is a source; its version is
    part of the input hash (a Specimen-only change re-evaluates the patient on a --patient run)."""
    result, bundle = _bundle_of(mapping, SAMPLES / "classic-poems.json")
    assert "Specimen/cp-plasma-1" in result.inputs
    provenance = _of(bundle, "Provenance")
    assert "Specimen/cp-plasma-1" in [e["what"]["reference"] for e in provenance["entity"]]


def test_with_as_of_the_provenance_keeps_the_specimens_of_the_results_it_rests_on(mapping):
    """probe51 D7: with --as-of the Specimens a VEGF result's plasma/serum was read from left the
    Provenance (they have no date of their own); a Specimen counts with the result that names it."""
    path = SAMPLES / "relapse-case.json"
    _, unbounded = _bundle_of(mapping, path)
    specimens = {e for e in _entities(unbounded) if e.startswith("Specimen/")}
    assert specimens  # the sample names its VEGF specimens
    _, bounded = _bundle_of(mapping, path, dt.date(2023, 10, 2))  # the data's cut-off: everything known
    assert {e for e in _entities(bounded) if e.startswith("Specimen/")} == specimens


def test_a_light_chain_response_cites_both_chains_of_each_dflc(mapping):
    """probe98 D7: a dFLC is the involved minus the uninvolved chain of one day; the response cited only the
    lambda results (baseline "dFLC 180" against a lambda Observation of 190), neither kappa."""
    result, bundle = _bundle_of(mapping, FIXTURES / "response" / "dflc-both-chains.json", dt.date(2021, 6, 1))
    h = result.response.hematologic
    assert h.framework == "amyloid" and h.category in {"PR", "VGPR"}
    assert h.baseline.derived_from == ("Observation/d7-l0", "Observation/d7-k0")
    assert h.latest.derived_from == ("Observation/d7-l2", "Observation/d7-k2")
    report = _of(bundle, "DiagnosticReport", "poems-response-assessment")
    (amyloid,) = [o for o in report["contained"] if o["id"] == "hematologic-amyloid"]
    cited = {d["reference"] for d in amyloid["derivedFrom"]}
    assert {"Observation/d7-k0", "Observation/d7-l0", "Observation/d7-k2", "Observation/d7-l2"} <= cited
