"""The state's remembered inputs (schema 4): what each in-scope patient's last evaluation read, for
discovery to re-evaluate the patient a changed, moved or deleted resource left (probe73 D4, D8)."""

from __future__ import annotations

import sqlite3

from poems_fhir.sync.state import APPLICATION_ID, SCHEMA_VERSION, StateStore

#: the schema of poems-fhir before this change (schema 3), as such a file holds it
SCHEMA_3 = """
CREATE TABLE checkpoint (
    server TEXT PRIMARY KEY, since TEXT NOT NULL, updated_at TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '');
CREATE TABLE patient (
    server TEXT NOT NULL, patient TEXT NOT NULL, input_hash TEXT NOT NULL,
    written TEXT NOT NULL, status TEXT NOT NULL, updated_at TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '', attempts INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (server, patient));
CREATE TABLE pending (
    server TEXT NOT NULL, patient TEXT NOT NULL, hashes TEXT NOT NULL,
    PRIMARY KEY (server, patient));
CREATE TABLE run (
    id INTEGER PRIMARY KEY AUTOINCREMENT, server TEXT NOT NULL, started_at TEXT NOT NULL,
    finished_at TEXT, outcome TEXT, summary TEXT);
CREATE TABLE takeover (
    server TEXT NOT NULL, patient TEXT NOT NULL, ref TEXT NOT NULL, key TEXT NOT NULL,
    status TEXT NOT NULL, reported_at TEXT NOT NULL, PRIMARY KEY (server, patient, ref));
"""


def schema_3_file(path):
    db = sqlite3.connect(path)
    db.executescript(SCHEMA_3)
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.execute("PRAGMA user_version = 3")
    db.execute("INSERT INTO checkpoint VALUES ('srv', '2026-11-27T10:00:00.000Z', 't', 'fingerprint')")
    db.execute("INSERT INTO patient VALUES ('srv', 'Patient/1', 'h', '{}', 'written', 't', '', 0)")
    db.commit()
    db.close()


def test_a_schema_3_file_is_upgraded_and_reads_every_patient_once(tmp_path):
    path = tmp_path / "state.sqlite"
    schema_3_file(path)
    store = StateStore(path)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    assert store.patient("srv", "Patient/1").status == "written"
    assert store.checkpoint("srv") == "2026-11-27T10:00:00.000Z"
    # no patient's inputs are known yet: the settings no longer match, so the next run reads every patient
    # once (job.SyncJob: run.settings_changed) and remembers the inputs of those in scope
    assert store.checkpoint_settings("srv") == ""
    assert store.remembered("srv").types() == set()
    store.remember_inputs("srv", "Patient/1", {"Observation/a": "1"}, {"Observation/a"})
    store.close()
    again = StateStore(path)  # the upgrade happens once: a later open keeps the new fingerprint
    again.set_checkpoint("srv", "2026-11-27T11:00:00.000Z", "t", "fingerprint")
    again.close()
    third = StateStore(path)
    assert third.checkpoint_settings("srv") == "fingerprint"
    assert third.remembered("srv").patients_of(["Observation/a"]) == {"Patient/1"}
    third.close()


def test_a_dry_run_reads_a_schema_3_file_without_changing_it(tmp_path):
    path = tmp_path / "state.sqlite"
    schema_3_file(path)
    before = path.read_bytes()
    dry = StateStore(path, readonly=True)
    remembered = dry.remembered("srv")
    assert remembered.types() == set() and remembered.patients_of(["Observation/a"]) == set()
    dry.close()
    assert path.read_bytes() == before


def test_inputs_are_replaced_per_patient_and_looked_up_by_reference(tmp_path):
    store = StateStore(tmp_path / "state.sqlite")
    store.remember_inputs(
        "srv",
        "Patient/1",
        {"Observation/ife": "v1", "Observation/plt": "", "Condition/mgus": "v3", "Specimen/s": "v1"},
        {"Observation/ife", "Condition/mgus"},
    )
    store.remember_inputs("srv", "Patient/2", {"Observation/ife": "v2", "Medication/m": "v1"}, {"Observation/ife"})
    store.remember_inputs("other", "Patient/9", {"Observation/ife": "v9"}, {"Observation/ife"})
    remembered = store.remembered("srv")
    assert remembered.types() == {"Observation", "Condition", "Specimen", "Medication"}
    assert remembered.patients_of(["Observation/ife"]) == {"Patient/1", "Patient/2"}
    assert remembered.patients_of(["Specimen/s", "Observation/none"]) == {"Patient/1"}
    # cited only, per type, with every version remembered (two patients read it at two versions)
    assert remembered.cited("Observation") == {"ife": {"v1", "v2"}}
    assert remembered.cited("Condition") == {"mgus": {"v3"}}
    assert remembered.cited("Medication") == {}
    # a patient's next evaluation replaces what it read
    store.remember_inputs("srv", "Patient/1", {"Observation/new": "v1"}, {"Observation/new"})
    assert remembered.patients_of(["Observation/ife"]) == {"Patient/2"}
    assert store.inputs_of("srv", "Patient/1") == {"Observation/new": ("v1", True)}
    store.forget_inputs("srv", "Patient/2")
    assert not store.has_inputs("srv", "Patient/2")
    assert store.forget("Patient/1") >= 1 and not store.has_inputs("srv", "Patient/1")
    assert store.has_inputs("other", "Patient/9")  # another server's
    # many references at once: looked up in bounded chunks
    refs = [f"Observation/x{i}" for i in range(1200)]
    store.remember_inputs("srv", "Patient/3", dict.fromkeys(refs, "v"), refs)
    assert remembered.patients_of(refs + ["Observation/ife"]) == {"Patient/3"}
    store.close()
