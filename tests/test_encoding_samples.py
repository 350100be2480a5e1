"""Sample bundles of real-world encodings (sample_bundles/encodings, issue #8): their conclusions."""

from __future__ import annotations

import json

import pytest
import yaml
import responses
from click.testing import CliRunner

from poems_fhir.cli import main
from poems_fhir.criteria.model import Classification, State
from poems_fhir.criteria.profiles import get_profile
from poems_fhir.pipeline import evaluate_paths
from tests.conftest import SAMPLES
from tests.fhir.transcripts import BASE

ENC = SAMPLES / "encodings"


def results(mapping):
    run = evaluate_paths([ENC], mapping, get_profile("mayo"))
    assert run.errors == []
    return {r.record.patient: r for r in run.results}


def test_russian_hospital_record(mapping):
    a = results(mapping)["Patient/enc-ru-1"].assessment
    states = {k: v.state for k, v in a.criteria.items()}
    assert a.classification is Classification.MET
    assert states["polyneuropathy"] is State.PRESENT  # MKB-10 under the NSI OID
    assert states["vegf_elevation"] is State.PRESENT  # "1 640 пг/мл", serum from the Russian test name
    assert "(serum)" in a.criteria["vegf_elevation"].evidence[0].summary
    # liver refuted, spleen enlarged: parts combine
    assert states["organomegaly"] is State.PRESENT
    assert states["endocrinopathy"] is State.PRESENT  # testosterone "снижен"
    assert states["thrombocytosis_polycythemia"] is State.PRESENT  # 467 х10^9/л


def test_abstracted_letter_record(mapping):
    a = results(mapping)["Patient/enc-letter-1"].assessment
    states = {k: v.state for k, v in a.criteria.items()}
    # VEGF "High" without a number and a refutation on plain X-ray decide nothing
    assert a.classification is Classification.INDETERMINATE
    assert states["vegf_elevation"] is State.INDETERMINATE
    assert states["sclerotic_bone_lesions"] is State.INDETERMINATE
    assert states["organomegaly"] is State.PRESENT
    assert states["thrombocytosis_polycythemia"] is State.PRESENT  # flag H = above the lab's ULN
    assert a.criteria["endocrinopathy"].caveat == "diabetes_only"
    assert "differential_diabetic_polyneuropathy" in {f.code for f in a.flags}


def test_us_vendor_record(mapping):
    r = results(mapping)["Patient/enc-us-1"]
    a = r.assessment
    assert a.classification is Classification.MET
    assert "lower confidence" in a.criteria["monoclonal_plasma_cell_disorder"].evidence[0].summary
    assert ">2000" in a.criteria["vegf_elevation"].evidence[0].summary
    flc = [m for m in r.extraction.measurements if m.analyte == "flc_kappa"]
    assert [m.value for m in flc] == [19.0]  # mg/dl -> mg/L


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_coverage_lists_fallbacks_rejections_and_unmapped(tmp_path):
    site = json.loads((ENC / "us-vendor-units.json").read_text(encoding="utf-8"))
    site["entry"].append(
        {
            "resource": {
                "resourceType": "Observation",
                "id": "us-ncs",
                "status": "final",
                "code": {
                    "coding": [
                        {
                            "system": "https://lab.example-health.org/codes",
                            "code": "NCS1",
                            "display": "Nerve conduction study summary",
                        }
                    ]
                },
                "subject": {"reference": "Patient/enc-us-1"},
                "effectiveDateTime": "2024-02-10",
                "valueString": "demyelinating",
            }
        }
    )
    site["entry"].append(
        {
            "resource": {
                "resourceType": "Observation",
                "id": "us-plt2",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "777-3"}]},
                "subject": {"reference": "Patient/enc-us-1"},
                "effectiveDateTime": "2024-03-10",
                "valueQuantity": {"value": 300, "unit": "cells per field"},
            }
        }
    )
    path = tmp_path / "site.json"
    path.write_text(json.dumps(site), encoding="utf-8")
    result = invoke("mappings", "coverage", str(path), "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    unmapped = {(u["code"], u["text"]) for u in doc["unmapped_relevant"]}
    assert ("NCS1", "Nerve conduction study summary") in unmapped
    assert [u["unit"] for u in doc["rejected_units"]] == ["cells per field"]
    assert doc["rejected_units"][0]["examples"] == ["Observation/us-plt2"]
    fallback = {f["rule"] for f in doc["text_fallback_matches"]}
    assert fallback == {"serum_ife"}
    assert '"cells per field": TODO' in doc["site_mapping_skeleton"]
    text = invoke("mappings", "coverage", str(ENC)).output
    assert "Display-text fallback matches" in text and "observations:" in text
    assert "- id: vegf" in text  # the Russian LIS VEGF code, to add as a site code


def test_coverage_needs_input():
    assert invoke("mappings", "coverage").exit_code == 2


@responses.activate
def test_coverage_reads_whole_records_from_a_server():

    def bundle(*resources):
        return {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"fullUrl": f"{BASE}/{r['resourceType']}/{r['id']}", "resource": r} for r in resources],
        }

    vegf = {
        "resourceType": "Observation",
        "id": "v1",
        "status": "final",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": "urn:lab", "code": "V", "display": "VEGF-A, serum (send-out)"}]},
        "effectiveDateTime": "2024-01-01",
        "valueQuantity": {"value": 1500, "unit": "pg/mL"},
    }
    ncs = {
        "resourceType": "Observation",
        "id": "n1",
        "status": "final",
        "subject": {"reference": "Patient/p1"},
        "code": {"text": "Nerve conduction study"},
        "effectiveDateTime": "2024-01-01",
        "valueString": "abnormal",
    }
    responses.add("GET", f"{BASE}/Patient/p1", json={"resourceType": "Patient", "id": "p1"})
    responses.add("GET", f"{BASE}/Observation", json=bundle(vegf, ncs))
    for rtype in ("Condition", "Procedure", "DiagnosticReport", "MedicationRequest", "MedicationStatement"):
        responses.add("GET", f"{BASE}/{rtype}", json=bundle())
    result = invoke("mappings", "coverage", "--server", BASE, "--patient", "p1", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["patients"] == 1
    assert [f["rule"] for f in doc["text_fallback_matches"]] == ["vegf"]
    assert [u["text"] for u in doc["unmapped_relevant"]] == ["Nerve conduction study"]
    # the Observation search is not restricted to mapped codes: unmapped ones are the point
    obs_calls = [c.request.url for c in responses.calls if "/Observation" in c.request.url]
    assert obs_calls and all("code=" not in url for url in obs_calls)


def test_coverage_server_needs_patients():
    assert invoke("mappings", "coverage", "--server", "https://fhir.example.org").exit_code == 2


def test_coverage_finds_a_national_icd10_system_to_declare(tmp_path):
    kz = "https://example.kz/fhir/CodeSystem/mkb-10"  # read by its name only: the site should declare it
    doc = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": {"resourceType": "Patient", "id": "kz1"}},
            {
                "resource": {
                    "resourceType": "Condition",
                    "id": "c1",
                    "subject": {"reference": "Patient/kz1"},
                    "code": {"coding": [{"system": kz, "code": "G62.9", "display": "Полинейропатия"}]},
                }
            },
        ],
    }
    path = tmp_path / "kz.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    out = json.loads(invoke("mappings", "coverage", str(path), "--format", "json").output)
    assert [(r["system"], r["suggested_rule"]) for r in out["icd10_like_systems"]] == [
        (kz, "http://hl7.org/fhir/sid/icd-10")
    ]
    skeleton = out["site_mapping_skeleton"]
    assert f'- {{uri: "{kz}", verification: LOCAL}}' in skeleton
    # the skeleton is a valid site mapping file that makes the code map
    site = tmp_path / "site.yaml"
    site.write_text(skeleton, encoding="utf-8")
    result = json.loads(invoke("evaluate", str(path), "--mappings", str(site), "--format", "json").output)
    assert result["patients"][0]["criteria"]["polyneuropathy"]["state"] == "present"
    # the text output gives the same fix as its heading and the skeleton (probe49 D10: "add_codes to …")
    text = invoke("mappings", "coverage", str(path)).output
    section = text.split("Unknown code systems", 1)[1].split("\n\n", 1)[0]
    assert "suggestion: system_equivalents" in section and "add_codes" not in section


def test_coverage_skeleton_is_a_valid_site_file(tmp_path):
    out = json.loads(invoke("mappings", "coverage", str(ENC), "--format", "json").output)
    site = tmp_path / "site.yaml"
    site.write_text(out["site_mapping_skeleton"], encoding="utf-8")
    assert invoke("mappings", "check", str(site)).exit_code == 0
    # with it, the local codes map by code; only tests known by code.text alone (no code to add) remain
    again = json.loads(invoke("mappings", "coverage", str(ENC), "--mappings", str(site), "--format", "json").output)
    assert again["text_fallback_matches"]
    assert all("code.text only" in m["text"] for m in again["text_fallback_matches"])


@pytest.mark.parametrize("option", [["--patient", "p1?_format=xml"], ["--patient", "p1/../x"], ["--group", "g/x"]])
def test_coverage_server_ids_are_checked_as_sync_checks_them(option):
    # nothing is requested: the id would have gone into a request path
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        result = invoke("mappings", "coverage", "--server", BASE, *option)
        assert not mock.calls
    assert result.exit_code == 2 and "not a" in result.output and "Traceback" not in result.output, result.output


@responses.activate
def test_coverage_group_members_that_are_not_patient_ids_are_skipped():
    responses.add(
        "GET",
        f"{BASE}/Group/g",
        json={"resourceType": "Group", "member": [{"entity": {"reference": "Patient/p1?x=1"}}, {"entity": {}}]},
    )
    result = invoke("mappings", "coverage", "--server", BASE, "--group", "g", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["patients"] == 0 and len(responses.calls) == 1
    assert "Group/g: 1 Patient member reference(s) are not Patient/<id>: skipped" in result.stderr


@responses.activate
def test_coverage_server_errors_keep_their_exit_codes():
    responses.add("GET", f"{BASE}/Group/g", status=404, json={"resourceType": "OperationOutcome"})
    result = invoke("mappings", "coverage", "--server", BASE, "--group", "g")
    assert result.exit_code == 3 and "poems-fhir: error:" in result.output, result.output
    responses.add("GET", f"{BASE}/Group/h", status=401, json={"resourceType": "OperationOutcome"})
    assert invoke("mappings", "coverage", "--server", BASE, "--group", "h").exit_code == 4


def test_coverage_lists_the_input_it_could_not_read(tmp_path):
    """Refused lines and resources were dropped silently: a site saw exit 0 and no trace of data the
    mapping never got to see (found by a black-box fuzzer). The report stays the result (exit 0)."""
    folder = tmp_path / "export"
    folder.mkdir()
    good = {
        "resourceType": "Condition",
        "id": "c1",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "42345000"}]},
    }
    bad_date = {**good, "id": "c2", "recordedDate": "2019-02-30"}
    (folder / "Condition.ndjson").write_text(json.dumps(good) + "\n{not json\n" + json.dumps(bad_date) + "\n")
    result = CliRunner().invoke(main, ["mappings", "coverage", str(folder), "--format", "json"])
    assert result.exit_code == 0, result.output
    unreadable = json.loads(result.output)["unreadable_input"]
    assert [(u["source"].rsplit("/", 1)[-1], u["resource"]) for u in unreadable] == [
        ("Condition.ndjson:2", None),
        ("Condition.ndjson:3", "Condition/c2"),
    ]
    assert "not JSON" in unreadable[0]["message"] and "not a day of the calendar" in unreadable[1]["message"]
    text = CliRunner().invoke(main, ["mappings", "coverage", str(folder)]).output
    assert "Unreadable input (2; each skipped, the rest was read):" in text and "Condition.ndjson:3" in text


def test_coverage_suggests_the_condition_rule_a_local_diagnosis_name_states(tmp_path):
    # probe15 V04: a local Condition code displayed "Splenomegaly" was listed without a suggestion; its
    # name, read by the text engine, states one finding: add_codes to that condition rule
    def condition(cid: str, code: str, display: str) -> dict:
        system = "https://hospital.example.org/dx"
        return {"resourceType": "Condition", "id": cid, "subject": {"reference": "Patient/p1"},
                "code": {"coding": [{"system": system, "code": code, "display": display}]}}  # fmt: skip

    data = tmp_path / "in.ndjson"
    rows = [
        {"resourceType": "Patient", "id": "p1"},
        condition("c1", "MILZ", "Splenomegaly"),
        condition("c2", "NOSPL", "No splenomegaly"),  # a denial names no rule to add the code to
    ]
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    out = json.loads(invoke("mappings", "coverage", str(data), "--format", "json").output)
    suggested = {r["code"]: r.get("suggested_rule") for r in out["unmapped_relevant"]}
    assert suggested["MILZ"].startswith("conditions.splenomegaly ")
    assert suggested.get("NOSPL") is None
    site = tmp_path / "site.yaml"
    site.write_text(out["site_mapping_skeleton"], encoding="utf-8")
    assert invoke("mappings", "check", str(site)).exit_code == 0
    got = json.loads(invoke("evaluate", str(data), "--mappings", str(site), "--format", "json").output)
    spleen = [e for e in got["patients"][0]["criteria"]["organomegaly"]["evidence"] if "Condition/c1" in json.dumps(e)]
    assert spleen, got["patients"][0]["criteria"]["organomegaly"]


def test_coverage_skeleton_keeps_codes_with_control_characters_as_they_are(tmp_path):
    # probe22 R-coverage-skeleton-yaml: a local code holding a line break broke the skeleton's YAML
    # (the code folded to "HEP ATO"); a unit with one broke its comment line
    lines = [
        {"resourceType": "Patient", "id": "p1"},
        {
            "resourceType": "Condition",
            "id": "c1",
            "subject": {"reference": "Patient/p1"},
            "code": {"coding": [{"system": "urn:local", "code": "HEP\nATO", "display": "Hepatomegaly"}]},
        },
        {
            "resourceType": "Condition",
            "id": "c2",
            "subject": {"reference": "Patient/p1"},
            "code": {"coding": [{"system": "urn:local", "code": 'SPL"\\\u0000EN', "display": "Splenomegaly"}]},
        },
    ]
    path = tmp_path / "local.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    out = json.loads(invoke("mappings", "coverage", str(path), "--format", "json").output)
    site = yaml.safe_load(out["site_mapping_skeleton"])
    codes = {c["id"]: [a["code"] for a in c["add_codes"]] for c in site["conditions"]}
    assert codes == {"hepatomegaly": ["HEP\nATO"], "splenomegaly": ['SPL"\\\u0000EN']}


def test_coverage_lists_imaging_reports_of_an_unrecognised_modality(tmp_path):
    # probe39: such a report was dropped without a word and coverage listed nothing for it
    report = {
        "resourceType": "DiagnosticReport",
        "id": "tomo",
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD"}]}],
        "code": {"text": "Томография всего тела (низкодозовая)"},
        "subject": {"reference": "Patient/t1"},
        "effectiveDateTime": "2024-02-01",
        "conclusion": "Множественные склеротические очаги в костях таза.",
    }
    (tmp_path / "in.ndjson").write_text(
        json.dumps({"resourceType": "Patient", "id": "t1"}) + "\n" + json.dumps(report) + "\n", encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["mappings", "coverage", str(tmp_path), "--format", "json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)["imaging_of_unrecognised_modality"]
    assert row["detail"].startswith("Томография всего тела (низкодозовая): modality not recognised")
    text = CliRunner().invoke(main, ["mappings", "coverage", str(tmp_path)]).stdout
    assert "Imaging reports of an unrecognised modality" in text and "DiagnosticReport/tomo" in text


@pytest.mark.parametrize(
    "name",
    [
        # probe39: the English names were listed, the Russian ones counted as "did not look relevant"
        "Плазматические клетки в миелограмме",
        "Клональные плазмоциты (проточная цитометрия)",
        "Белок Бенс-Джонса в моче",
        "Электрофорез белков сыворотки",
    ],
)
def test_coverage_lists_russian_names_of_the_clones_tests(tmp_path, name):
    obs = {
        "resourceType": "Observation",
        "id": "o1",
        "status": "final",
        "code": {"coding": [{"system": "https://lis.example.kz/lab", "code": "0701", "display": name}]},
        "subject": {"reference": "Patient/t1"},
        "effectiveDateTime": "2024-02-01",
        "valueQuantity": {"value": 7, "unit": "%"},
    }
    (tmp_path / "in.ndjson").write_text(
        json.dumps({"resourceType": "Patient", "id": "t1"}) + "\n" + json.dumps(obs) + "\n", encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["mappings", "coverage", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert name in result.stdout.split("Relevant-looking codes and texts that map to nothing")[1]
