"""``validate --write-record`` updates the cases it ran and keeps the rest of the shipped record."""

import json

from contactflow.validation.run import write_record


def _doc(engine, case, err, status="pass"):
    return {"engine": engine, "case_id": case, "status": status, "value": 1.0 + err, "signed_error": err,
            "relative_error": err, "tolerance": 0.1, "unit": "J/m2", "committee_std": None, "chemistry": ["C"],
            "task": "adhesion", "system": "C/C", "reason": None, "reference_value": 1.0}


def test_a_partial_run_keeps_other_engines_and_cases(tmp_path):
    path = tmp_path / "record.json"
    write_record([_doc("chgnet+d3", "a", 0.05), _doc("chgnet+d3", "b", 0.3, "fail"), _doc("chgnet", "a", 0.2, "fail")],
                 path, speed={"chgnet": 0.01})
    rec = write_record([_doc("chgnet+d3", "b", 0.02), _doc("cp2k:pbe-d3", "a", 0.0)], path, speed={"cp2k:pbe-d3": 5.0})
    assert rec == json.loads(path.read_text())
    e = rec["engines"]
    assert sorted(e) == ["chgnet", "chgnet+d3", "cp2k:pbe-d3"]
    assert e["chgnet+d3"]["cases"]["b"]["signed_error"] == 0.02 and e["chgnet+d3"]["n_pass"] == 2  # b re-run, a kept
    assert e["chgnet"]["n_pass"] == 0 and e["chgnet"]["n_cases"] == 1
    assert rec["speed_s_per_atom"] == {"chgnet": 0.01, "cp2k:pbe-d3": 5.0}
