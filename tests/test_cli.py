"""The CLI contract: text and JSON output, exit codes."""

from __future__ import annotations

import json

from click.testing import CliRunner

from poems_fhir.cli import main
from tests.conftest import SAMPLES

SITE = [
    "--mappings",
    str(SAMPLES / "site-local" / "site-mapping.yaml"),
    "--mappings",
    str(SAMPLES / "site-local" / "problems-conceptmap.json"),
]


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_help_teaches_with_examples():
    result = invoke("evaluate", "--help")
    assert result.exit_code == 0
    assert "Examples:" in result.output and "--as-of" in result.output


def test_text_output_for_the_classic_case():
    result = invoke("evaluate", str(SAMPLES / "classic-poems.json"))
    assert result.exit_code == 0, result.output
    assert "Classification: MET" in result.output
    assert "VEGF 624 pg/mL (plasma)" in result.output
    assert "Observation/cp-vegf" in result.output


def test_json_contract():
    result = invoke("evaluate", str(SAMPLES), "--format", "json", *SITE)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert set(doc) >= {"patients", "errors"}
    by_patient = {p["patient"]: p for p in doc["patients"]}
    origin = by_patient["Patient/poems-origin"]
    assert set(origin) >= {"patient", "as_of", "profile", "classification", "criteria", "missing", "flags"}
    assert origin["criteria"]["polyneuropathy"]["state"] == "present"
    assert origin["criteria"]["polyneuropathy"]["evidence"][0]["reference"] == "Condition/oc-pnp"
    assert by_patient["Patient/classic-poems"]["classification"] == "met"
    assert by_patient["Patient/site-local-1"]["classification"] == "met"
    # mimics are never labelled POEMS
    for pid in ("mimic-cidp", "mimic-myeloma", "mimic-al", "mimic-castleman"):
        assert by_patient[f"Patient/{pid}"]["classification"] != "met"


def test_site_codes_without_the_site_mapping_are_read_by_their_names_only():
    # the local problem code is no code the tables know: its name is read as text, and says so
    doc = json.loads(invoke("evaluate", str(SAMPLES / "site-local"), "--format", "json").output)
    neuropathy = doc["patients"][0]["criteria"]["polyneuropathy"]
    assert neuropathy["state"] == "present"
    assert "(from text, the name of local code https://hospital.example.org/fhir/CodeSystem/" in neuropathy["reason"]


def test_skipped_input_exits_1_and_is_listed(tmp_path):
    (tmp_path / "bad.json").write_text("<html>oops</html>")
    (tmp_path / "good.json").write_text((SAMPLES / "classic-poems.json").read_text())
    result = invoke("evaluate", str(tmp_path), "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert doc["errors"][0]["source"].endswith("bad.json")
    assert doc["patients"][0]["classification"] == "met"


def test_usage_errors_exit_2(tmp_path):
    assert invoke("evaluate", str(tmp_path / "missing")).exit_code == 2
    assert invoke("evaluate", str(SAMPLES), "--profile", "nope").exit_code == 2
    assert invoke("evaluate", str(SAMPLES), "--as-of", "yesterday").exit_code == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: poems-fhir-mapping/1\nname: x\nversion: '1'\nobservations: [{id: vegf, bogus: 1}]\n")
    result = invoke("evaluate", str(SAMPLES), "--mappings", str(bad))
    assert result.exit_code == 2 and "bogus" in result.output


def test_patient_filter():
    doc = json.loads(invoke("evaluate", str(SAMPLES / "mimics"), "--patient", "mimic-al", "--format", "json").output)
    assert [p["patient"] for p in doc["patients"]] == ["Patient/mimic-al"]


def test_mappings_check_ok_and_problems(tmp_path):
    ok = invoke("mappings", "check", *SITE[1::2])
    assert ok.exit_code == 0 and "ok:" in ok.output
    assert "PNP-SUSP" in ok.output  # the skipped 'narrower' ConceptMap element is reported
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: poems-fhir-mapping/1\nname: x\nversion: '1'\nthresholds:\n  vegf_plasma: {unit: furlong}\n")
    result = invoke("mappings", "check", str(bad), "--format", "json")
    assert result.exit_code == 2
    problem = json.loads(result.output)["problems"][0]
    assert problem["key"].startswith("thresholds.vegf_plasma") and problem["line"] == 5 and problem["hint"]


def test_every_in_scope_sample_keeps_its_full_output():
    doc = json.loads(invoke("evaluate", str(SAMPLES), "--format", "json", *SITE).output)
    by_patient = {p["patient"]: p for p in doc["patients"]}
    in_scope = {p for p, d in by_patient.items() if d["scope"] == "in_scope"}
    assert in_scope == {
        "Patient/poems-origin",
        "Patient/classic-poems",
        "Patient/site-local-1",
        "Patient/relapse-vegf",
        "Patient/mimic-cidp",
        "Patient/mimic-myeloma",
        "Patient/mimic-al",
        "Patient/txn-patient",
        # sample_bundles/encodings: POEMS cases as other vendors and languages encode them
        "Patient/enc-letter-1",
        "Patient/enc-ru-1",
        "Patient/enc-us-1",
        # sample_bundles/text-encodings: findings only in report text (a CIDP mimic has a neuropathy)
        "Patient/text-poems-ru",
        "Patient/text-mimic-cidp",
    }
    for pid in in_scope:
        p = by_patient[pid]
        assert p["quiet"] is False and len(p["criteria"]) == 11 and p["response"] is not None and p["risk_factors"]
        assert p["scope_detail"]["matched"] and p["scope_detail"]["evidence"]
    assert {f["code"] for f in by_patient["Patient/mimic-cidp"]["flags"]} >= {"atypical_isotype", "differential_cidp"}
    assert by_patient["Patient/poems-origin"]["missing"] == [
        "castleman_disease",
        "sclerotic_bone_lesions",
        "vegf_elevation",
    ]
    # the Castleman mimic has neither mandatory criterion: quiet, its mimic flag not raised
    castleman = by_patient["Patient/mimic-castleman"]
    assert (castleman["scope"], castleman["classification"], castleman["flags"]) == ("out_of_scope", "not_met", [])
    # the screening counts are the patients' own scopes and classifications, counted
    expected: dict[str, dict[str, int]] = {
        s: {"total": 0, "met": 0, "not_met": 0, "indeterminate": 0} for s in ("in_scope", "out_of_scope")
    }
    for d in by_patient.values():
        expected[d["scope"]]["total"] += 1
        expected[d["scope"]][d["classification"]] += 1
    assert doc["screening"] == expected
    assert expected["in_scope"] == {"total": 13, "met": 7, "not_met": 1, "indeterminate": 5}
    assert expected["out_of_scope"] == {"total": 1, "met": 0, "not_met": 1, "indeterminate": 0}
    text = invoke("evaluate", str(SAMPLES), *SITE).output
    assert "Screening: 13 in scope: 7 met, 5 indeterminate, 1 not met; 1 out of scope." in text
    assert (
        text.count("Classification:") == expected["in_scope"]["total"]
        and "  Patient/mimic-castleman: out of scope - " in text
    )


def scopes(*args: str) -> dict[str, str]:
    result = invoke("evaluate", str(SAMPLES / "mimics"), "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return {p["patient"].split("/")[1]: p["scope"] for p in json.loads(result.output)["patients"]}


def test_trigger_options_each_both_sides():
    assert scopes() == {
        "mimic-al": "in_scope",
        "mimic-castleman": "out_of_scope",
        "mimic-cidp": "in_scope",
        "mimic-myeloma": "in_scope",
    }
    # castleman_disease alone: only the Castleman mimic
    assert scopes("--trigger", "castleman_disease") == {
        "mimic-al": "out_of_scope",
        "mimic-castleman": "in_scope",
        "mimic-cidp": "out_of_scope",
        "mimic-myeloma": "out_of_scope",
    }
    # each mandatory criterion alone, and both
    assert set(scopes("--trigger", "polyneuropathy").values()) == set(
        scopes("--trigger", "monoclonal_plasma_cell_disorder").values()
    )
    both = scopes("--trigger", "castleman_disease", "--trigger", "polyneuropathy")
    assert set(both.values()) == {"in_scope"}


def test_a_wrong_trigger_is_a_usage_error():
    result = invoke("evaluate", str(SAMPLES / "mimics"), "--trigger", "vegf")
    assert result.exit_code == 2 and "unknown criterion" in result.output


def test_out_of_scope_patients_are_not_written_back(tmp_path):
    result = invoke("evaluate", str(SAMPLES / "mimics"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "out").iterdir())) == 3
    assert "Not written back: 1 out-of-scope patient(s)." in result.output
    assert (
        invoke(
            "evaluate", str(SAMPLES / "mimics"), "--out", str(tmp_path / "all"), "--trigger", "castleman_disease"
        ).exit_code
        == 0
    )
    assert len(list((tmp_path / "all").iterdir())) == 1


def test_a_merged_record_gets_no_transaction(tmp_path):
    """FHIR R4 Patient.link replaced-by: the record "must no longer be used"; evaluate --out skips it."""
    bundle = json.loads((SAMPLES / "classic-poems.json").read_text())
    patient = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    patient["link"] = [{"other": {"reference": "Patient/classic-poems-2"}, "type": "replaced-by"}]
    (tmp_path / "in.json").write_text(json.dumps(bundle))
    result = invoke("evaluate", str(tmp_path / "in.json"), "--out", str(tmp_path / "out"))
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
    assert "merged into Patient/classic-poems-2" in result.output
    assert result.exit_code == 1  # a reported skip
    patient["link"][0]["type"] = "seealso"
    (tmp_path / "in.json").write_text(json.dumps(bundle))
    result = invoke("evaluate", str(tmp_path / "in.json"), "--out", str(tmp_path / "out2"))
    assert result.exit_code == 0 and len(list((tmp_path / "out2").iterdir())) == 1


MERGE_SPLIT = SAMPLES.parent / "tests" / "fixtures" / "merge" / "merge-split.json"


def test_a_merged_records_resources_are_evaluated_with_its_survivor(tmp_path):
    """probe79 D1: the confirmed polyneuropathy was left under the retired record (Patient.link
    replaced-by / replaces): the survivor was "indeterminate, polyneuropathy: no data" and the old
    record a second patient. One patient, met, citing the old record's Condition; the old one is listed
    as skipped - in a Bundle and in NDJSON read by two processes, with or without --out."""
    bundle = json.loads(MERGE_SPLIT.read_text())
    ndjson = tmp_path / "export"
    ndjson.mkdir()
    for rtype in ("Patient", "Other"):
        lines = [
            e["resource"]
            for e in bundle["entry"]
            if (e["resource"]["resourceType"] == "Patient") == (rtype == "Patient")
        ]
        (ndjson / f"{rtype}.ndjson").write_text("".join(json.dumps(r) + "\n" for r in lines))
    for source, workers in ((MERGE_SPLIT, "1"), (ndjson, "2")):
        result = invoke("evaluate", str(source), "--workers", workers, "--format", "json")
        doc = json.loads(result.output)
        assert [(p["patient"], p["classification"]) for p in doc["patients"]] == [("Patient/m1-new", "met")]
        evidence = doc["patients"][0]["criteria"]["polyneuropathy"]["evidence"]
        assert [e["reference"] for e in evidence] == ["Condition/pn"]
        assert [(e["source"], e["message"]) for e in doc["errors"]] == [
            (
                "Patient/m1-old",
                "Patient/m1-old was merged into Patient/m1-new (Patient.link replaced-by: this record must no longer "
                "be used); nothing is written to it - the surviving record is evaluated under its own id",
            )
        ]
        assert result.exit_code == 1  # a reported skip, as with --out before
    result = invoke("evaluate", str(MERGE_SPLIT), "--out", str(tmp_path / "out"))
    assert "1 patient(s) evaluated" in result.output and "skipped: Patient/m1-old:" in result.output
    (written,) = (tmp_path / "out").iterdir()
    assert "Patient/m1-new" in written.read_text() and "Condition/pn" in written.read_text()  # its Provenance
    pages = invoke("report", str(MERGE_SPLIT), "--html", str(tmp_path / "pages"))
    assert len(list((tmp_path / "pages").iterdir())) == 1 and "skipped: Patient/m1-old:" in pages.output
    # a seealso names another record of the person without retiring either: nothing moves
    for e in bundle["entry"]:
        for link in e["resource"].get("link", []):
            link["type"] = "seealso"
    (tmp_path / "seealso.json").write_text(json.dumps(bundle))
    doc = json.loads(invoke("evaluate", str(tmp_path / "seealso.json"), "--format", "json", "--all").output)
    assert sorted(p["patient"] for p in doc["patients"]) == ["Patient/m1-new", "Patient/m1-old"]
    assert doc["errors"] == []


MERGE_BOTH_LINKS = SAMPLES.parent / "tests" / "fixtures" / "merge" / "merge-both-links-on-old.json"


def test_an_old_record_saying_both_replaced_by_and_replaces_its_survivor_is_merged_in_every_reader(tmp_path):
    """probe82 D9: the old record's links said both 'replaced-by' and 'replaces' its survivor. It was listed
    as "Patient.link goes round ... each is evaluated with its own resources", yet skipped as merged: its
    polyneuropathy was evaluated by nobody, the survivor "polyneuropathy: no data". Its own replaced-by
    decides (a record cannot replace its own successor): one patient, met, citing the old record's
    Condition; the contradictory link and the merge are listed - in every file reader."""
    contradiction = (
        "Patient/m1-old",
        "Patient/m1-old says it is replaced by Patient/m1-new (Patient.link 'replaced-by') and that it replaces "
        "Patient/m1-new, which its 'replaced-by' leads to: a record cannot replace its own successor, so its "
        "'replaces' link is not followed and its 'replaced-by' decides; correct the links",
    )
    merged = (
        "Patient/m1-old",
        "Patient/m1-old was merged into Patient/m1-new (Patient.link replaced-by: this record must no longer "
        "be used); nothing is written to it - the surviving record is evaluated under its own id",
    )
    bundle = json.loads(MERGE_BOTH_LINKS.read_text())
    ndjson = tmp_path / "export"
    ndjson.mkdir()
    (ndjson / "all.ndjson").write_text("".join(json.dumps(e["resource"]) + "\n" for e in bundle["entry"]))
    for source, workers in ((MERGE_BOTH_LINKS, "1"), (ndjson, "2")):
        result = invoke("evaluate", str(source), "--workers", workers, "--format", "json")
        doc = json.loads(result.output)
        assert [(p["patient"], p["classification"]) for p in doc["patients"]] == [("Patient/m1-new", "met")]
        evidence = doc["patients"][0]["criteria"]["polyneuropathy"]["evidence"]
        assert [e["reference"] for e in evidence] == ["Condition/pn"]
        assert [(e["source"], e["message"]) for e in doc["errors"]] == [contradiction, merged]
        assert "goes round" not in result.output and result.exit_code == 1
    pages = invoke("report", str(MERGE_BOTH_LINKS), "--html", str(tmp_path / "pages"))
    (page,) = (tmp_path / "pages").iterdir()
    assert "Condition/pn" in page.read_text() and "skipped: Patient/m1-old:" in pages.output
    synced = invoke(
        "sync", "--source", str(MERGE_BOTH_LINKS), "--out", str(tmp_path / "out"),
        "--state", str(tmp_path / "s.sqlite"),
    )  # fmt: skip
    assert "evaluated=1" in synced.output and "missing=1" in synced.output  # the survivor; the old record merged
    assert ": met" in synced.output and "goes round" not in synced.output


TRANSPLANT_IN_WORDS = SAMPLES.parent / "tests" / "fixtures" / "undated-treatment" / "transplant-in-words.json"


def test_a_treatment_month_read_from_words_is_shown_as_a_month_wherever_a_clinician_reads_it(tmp_path):
    """probe82 D8: "February 2024" was read as the partial date 2024-02, but shown as its first day -
    "Response (baseline 2024-02-01, first treatment 2024-02-01)", "age 58 at transplant on 2024-02-01" -
    as if the day were known. Every output shows the month: text, JSON (FHIR's partial date), the risk
    factors' wording, the page and the written response report."""
    text = invoke("evaluate", str(TRANSPLANT_IN_WORDS)).output
    assert "Response (baseline 2024-02, first treatment 2024-02):" in text and "2024-02-01" not in text
    doc = json.loads(invoke("evaluate", str(TRANSPLANT_IN_WORDS), "--format", "json", "--all").output)
    (patient,) = doc["patients"]
    assert (patient["response"]["baseline_date"], patient["response"]["first_treatment"]) == ("2024-02", "2024-02")
    assert patient["risk_factors"]["age_over_50"]["reason"] == "age 58 at 2024-02"
    assert patient["risk_factors"]["age_50_or_less_at_asct"]["reason"] == "age 58 at transplant in 2024-02"
    assert "2024-02-01" not in json.dumps(doc)
    invoke("report", str(TRANSPLANT_IN_WORDS), "--html", str(tmp_path / "pages"))
    (page,) = (tmp_path / "pages").iterdir()
    assert "first treatment on Feb 2024" in page.read_text() and "Feb 1, 2024" not in page.read_text()
    invoke("evaluate", str(TRANSPLANT_IN_WORDS), "--out", str(tmp_path / "out"))
    (written,) = (tmp_path / "out").iterdir()
    narratives = [
        e["resource"]["text"]["div"] for e in json.loads(written.read_text())["entry"] if "text" in e["resource"]
    ]
    assert any("first treatment on Feb 2024" in div for div in narratives)
    assert not any("Feb 1, 2024" in div or "2024-02-01" in div for div in narratives)


def test_a_treatment_dated_in_words_is_read_or_reported_never_dropped(tmp_path):
    """probe79 D8: a completed transplant dated only by performedString "February 2024", M-protein in
    January and May: "Response: no treatment recorded", "0 input problem(s)", not in the coverage report."""
    result = invoke("evaluate", str(TRANSPLANT_IN_WORDS))
    assert "Response (baseline 2024-02, first treatment 2024-02):" in result.output  # probe82 D8: the month only
    assert "amyloid-style: PR" in result.output and result.exit_code == 0
    coverage = json.loads(invoke("mappings", "coverage", str(TRANSPLANT_IN_WORDS), "--format", "json").output)
    [read] = coverage["treatment_dates_read_from_words"]
    assert read["detail"].startswith("performedString 'February 2024' read as 2024-02 (a partial date")
    bundle = json.loads(TRANSPLANT_IN_WORDS.read_text())
    for e in bundle["entry"]:
        if e["resource"]["resourceType"] == "Procedure":
            e["resource"]["performedString"] = "early 2024"  # no one month: not guessed
    (tmp_path / "vague.json").write_text(json.dumps(bundle))
    result = invoke("evaluate", str(tmp_path / "vague.json"))
    assert "Response: a treatment is recorded without a readable date (Procedure/asct-k06); give --baseline" in (
        result.output
    )
    assert "1 input problem(s)" in result.output and result.exit_code == 1
    assert "a treatment with no readable date: performedString 'early 2024'" in result.output
    coverage = json.loads(invoke("mappings", "coverage", str(tmp_path / "vague.json"), "--format", "json").output)
    assert [i["examples"] for i in coverage["treatments_without_a_readable_date"]] == [["Procedure/asct-k06"]]


TANDEM = SAMPLES.parent / "tests" / "fixtures" / "response" / "tandem-transplant.json"


def test_a_tandem_transplant_is_restaged_from_its_second_day(tmp_path):
    """probe83 D3: transplants on 2022-08-01 and 2022-11-01, an M-protein on 2022-11-15 (day +14 of the
    second) was the first one's day +100 restaging "in progress", and "no CR after ASCT" was decided on it."""
    out = tmp_path / "wb.json"
    result = invoke("evaluate", str(TANDEM), "--as-of", "2022-11-20", "--format", "json", "--out", str(out))
    [patient] = json.loads(result.output)["patients"]
    factor = patient["risk_factors"]["no_hematologic_cr_after_asct"]
    assert factor["state"] == "not_assessed" and "after the transplant on 2022-11-01 (a tandem" in factor["reason"]
    [plan] = [
        e["resource"] for e in json.loads(out.read_text())["entry"] if e["resource"]["resourceType"] == "CarePlan"
    ]
    restaging = {a["id"]: a["detail"] for a in plan["activity"] if a["id"].startswith("restaging-day100")}
    assert list(restaging) == ["restaging-day100"]
    assert restaging["restaging-day100"]["status"] == "not-started"
    assert restaging["restaging-day100"]["scheduledPeriod"] == {"start": "2023-01-30", "end": "2023-02-09"}
    assert "After the transplant on Nov 1, 2022." in restaging["restaging-day100"]["description"]


UNDATED_M = SAMPLES.parent / "tests" / "fixtures" / "response" / "undated-m-protein.json"


def test_an_undated_response_result_is_named_not_dropped_in_silence():
    """probe83 D6: an M-protein of 1 g/L with no effective[x] and no issued was left out of the response
    with no caveat, no input problem and nothing in the coverage report."""
    result = invoke("evaluate", str(UNDATED_M), "--format", "json")
    [patient] = json.loads(result.output)["patients"]
    said = "serum M-protein 1 g/L (Observation/s03-dates-o-287) has no date: not placed in time, not used"
    assert said in patient["response"]["hematologic"]["caveats"]
    assert patient["response"]["undated_results"] == ["Observation/s03-dates-o-287"]
    assert result.exit_code == 0  # read for the criteria (cited "undated"), so no input problem
    assert said in invoke("evaluate", str(UNDATED_M)).output
    coverage = json.loads(invoke("mappings", "coverage", str(UNDATED_M), "--format", "json").output)
    [row] = coverage["response_results_without_a_date"]
    assert (row["rule"], row["examples"]) == ("serum_m_protein", ["Observation/s03-dates-o-287"])


BEFORE_TREATMENT = SAMPLES.parent / "tests" / "fixtures" / "response" / "treatment-after-as-of.json"


def test_before_the_first_treatment_the_response_names_it():
    """probe83 D7: --as-of 2022-01-12 gave "Response: no treatment recorded" beside a lenalidomide recorded
    from 2022-01-15."""
    text = invoke("evaluate", str(BEFORE_TREATMENT), "--as-of", "2022-01-12").output
    assert "Response: no treatment started by 2022-01-12 (the first, lenalidomide, starts 2022-01-15;" in text
    assert "no treatment recorded" not in text
    doc = json.loads(invoke("evaluate", str(BEFORE_TREATMENT), "--as-of", "2022-01-12", "--format", "json").output)
    response = doc["patients"][0]["response"]
    assert response["later_treatment"] == {
        "start": "2022-01-15",
        "agents": ["lenalidomide"],
        "references": ["MedicationStatement/h01-exact50-med-7"],
    }
    assert response["hematologic"]["reason"].startswith("no treatment started by 2022-01-12 (the first, lenalidomide")
