"""Validation suite: reference cases with citations, ValidationDocs through the JobStore, engine × case
table, ``engine: auto`` by the validation record, uncertainty blocks, bad input.

``test_fast_subset_runs_and_stores`` is the CI run of the fast subset (chgnet+d3 and the shipped lisic
committee, real calculators, real store); it prints the table and the committee calibration figure
(how often |error| ≤ 2σ on the CP2K-referenced cases), whatever it is.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from contactflow.validation import ReferenceCaseError, all_cases, calibration, select, table
from contactflow.validation.cases import load_case_file

LISIC = "mace:potentials/mlp/lisic"
SICO = "mace:potentials/mlp/sico"


def test_at_least_ten_cases_over_the_products_systems_each_cited():
    cases = all_cases()
    assert len(cases) >= 10
    systems = " ".join(c.system for c in cases.values())
    for s in ("C/C", "Si/C", "SiO2/graphene", "Sn", "Fe3O4/rGO", "LiF/C", "Li in Si", "Li on C"):
        assert s in systems, s
    assert all(c.reference.citation and c.reference.tolerance_why for c in cases.values())
    assert sum(c.reference.source == "cp2k" for c in cases.values()) >= 5  # calibration needs ≥ 5
    assert {"li_si_td_hop_cp2k", "graphite_bilayer_wsep_cp2k", "li_graphene_hop",
            "li_graphene_adsorption"} <= {c.id for c in select()}


def test_missing_citation_is_a_specific_error(tmp_path):
    src = (Path(__file__).parents[2] / "src/contactflow/validation/cases/graphite_cleavage.yaml").read_text()
    bad = "\n".join(l for l in src.splitlines() if not l.strip().startswith("citation:"))
    (tmp_path / "graphite_cleavage.yaml").write_text(bad)
    with pytest.raises(ReferenceCaseError, match="reference.citation is missing"):
        load_case_file(tmp_path / "graphite_cleavage.yaml")
    with pytest.raises(ReferenceCaseError, match="unknown validation case 'nope'"):
        select(["nope"])


def test_cli_unknown_case_is_one_line_exit_2(tmp_path):
    env = {**os.environ, "CONTACTFLOW_HOME": str(tmp_path)}
    p = subprocess.run([sys.executable, "-c", "from contactflow.cli import main; main()", "validate", "--case",
                        "nope"], capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 2
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert lines[-1].startswith("error: unknown validation case 'nope'"), p.stderr


def test_engine_lacking_elements_is_skipped_not_failed():
    from contactflow.validation.maker import ValidationMaker

    doc = ValidationMaker(engine=LISIC).compute(all_cases()["fe3o4_rgo_coupled_binding"])
    assert doc.status == "skipped" and doc.value is None
    assert "Fe" in doc.reason and "not a failure" in doc.reason


def test_fast_subset_runs_and_stores(store):
    from contactflow.validation.run import run_validation

    t0 = time.perf_counter()
    docs = run_validation(["chgnet+d3", LISIC], store=store)
    wall = time.perf_counter() - t0
    n_fast = len(select())
    assert len(docs) == 2 * n_fast
    assert len(store.find("validation", {})) == 2 * n_fast  # derived view = job outputs
    assert all(d["status"] in ("pass", "fail", "skipped") for d in docs), [d.get("reason") for d in docs]
    for d in docs:
        if d["status"] in ("pass", "fail"):
            assert d["signed_error"] == pytest.approx(d["value"] - d["reference_value"])
            assert (abs(d["signed_error"]) <= d["tolerance"]) == (d["status"] == "pass")
            assert d["provenance"]["engine"] == d["engine"]
    lisic = [d for d in docs if d["engine"] == LISIC and d["status"] in ("pass", "fail")]
    assert all(d["committee_std"] is not None for d in lisic)  # the committee reports its spread
    head, rows = table(docs)
    print(f"\nfast subset: {wall:.0f} s\n" + " | ".join(head))
    for r in rows:
        print(" | ".join(r))
    cal = calibration(docs)
    print(f"calibration: |error| ≤ 2σ on {cal['n_within_2sigma']} of {cal['n_cases']} CP2K-referenced cases")
    for c in cal["cases"]:
        print(f"  {c['case']}: error {c['error']:+.4f} {c['unit']}, 2σ {2 * c['sigma']:.4f}")
    assert cal["n_cases"] >= 5


RECORD = {"engines": {
    LISIC: {"cases": {
        "bilayer": {"status": "pass", "signed_error": -0.01, "tolerance": 0.05, "chemistry": ["C"], "task": "adhesion", "unit": "J/m2"},
        "lisi": {"status": "pass", "signed_error": 0.03, "tolerance": 0.05, "chemistry": ["Li", "Si"], "task": "neb", "unit": "eV"},
    }},
    "chgnet+d3": {"cases": {
        "bilayer": {"status": "fail", "signed_error": 0.10, "tolerance": 0.05, "chemistry": ["C"], "task": "adhesion", "unit": "J/m2"},
        "lisi": {"status": "fail", "signed_error": -0.34, "tolerance": 0.05, "chemistry": ["Li", "Si"], "task": "neb", "unit": "eV"},
        "fe": {"status": "fail", "signed_error": 0.8, "tolerance": 0.5, "chemistry": ["Fe", "O", "C", "H"], "task": "adhesion", "unit": "eV/cell"},
    }},
}}


def test_auto_picks_the_committee_for_c_li_si_and_the_universal_model_for_fe_o_c():
    from contactflow.engines.auto import choose

    spec, why = choose({"C", "Li", "Si"}, "adhesion", record=RECORD)
    assert spec == LISIC, why
    for record in (RECORD, None):  # a given record, and the shipped record.json
        spec, why = choose({"Fe", "O", "C"}, "adhesion", record=record)
        assert spec == "chgnet+d3" and why.startswith("auto:"), why


def test_shipped_record_decides_by_the_most_specific_cp2k_cases():
    """The shipped record (CP2K on the recipes' own cells): on Si–O–C only the sico committee is within
    tolerance of CP2K (quartz/graphene W_sep, −0.030 J/m²); on C–Li–Si the most specific case is Li in the
    Si/graphene gap, where CHGNet+D3 is within 0.10 eV and both committees are not (+0.43, +0.12 eV)."""
    from contactflow.engines.auto import choose

    spec, why = choose({"Si", "O", "C"}, "adhesion")
    assert spec == SICO and "sio2_graphene_wsep_2p5_cp2k" in why, why
    spec, why = choose({"C", "Li", "Si"}, "adhesion")
    assert spec == "chgnet+d3" and "li_si_graphene_gap_insertion_cp2k" in why, why
    spec, why = choose({"Li", "Si"}, "neb")
    assert spec == LISIC, why


def test_uncertainty_paths():
    from contactflow.engines.auto import trust, uncertainty

    u = uncertainty("chgnet+d3", {"C"}, "adhesion", "J/m2", record=RECORD)
    assert u["source"] == "validation" and u["value"] == pytest.approx(0.10) and u["cases"] == ["bilayer"]
    u = uncertainty("chgnet+d3", {"Sb", "P"}, "adhesion", "J/m2", record=RECORD)
    assert u["source"] == "unvalidated" and "no validation case" in u["note"]
    result = {}
    assert trust(LISIC, {"Si", "C"}, "adhesion", "J/m2", 0.2, "successful", result) == "extrapolating"
    assert result["uncertainty"]["source"] == "committee"
    assert "contactflow active-learn lisic --model-dir potentials/mlp/lisic" in result["failure_reason"]
    assert trust(LISIC, {"C"}, "adhesion", "J/m2", 0.005, "successful", {}) == "successful"


def test_auto_recipe_records_engine_and_reason(store):
    """``engine: auto`` through the whole pipeline: the document says which engine ran, why, and its
    uncertainty (within its validated chemistry, or which case is missing, or that it extrapolates)."""
    from contactflow import api

    p = api.plan("sio2_graphene", tasks=["adhesion"], engine="auto",
                 sets=["adhesion.relax=false", "adhesion.strain_correction=false", "prepare.registry_grid=0",
                       "prepare.gap_points=3"])
    assert p.engines == {"adhesion": "auto"}
    res = api.run(p, store=store)
    (doc,) = res.documents["adhesion"]
    assert doc["engine_reason"].startswith("auto:"), doc["engine_reason"]
    assert doc["engine"] == SICO  # the only engine within tolerance of CP2K on the quartz/graphene cell
    assert doc["uncertainty"]["source"] in ("committee", "validation", "unvalidated")  # a committee: its spread
    if doc["uncertainty"]["source"] == "unvalidated":
        assert "no validation case" in doc["uncertainty"]["note"]
    (prep,) = res.prepared
    assert prep["engine_reason"] == doc["engine_reason"]


@pytest.mark.slow
@pytest.mark.parametrize("recipe", ["si_graphite", "sio2_graphene"])
def test_shipped_recipe_default_is_auto_and_says_how_far_to_trust_it(store, recipe):
    """The shipped recipes default to ``engine: auto``. Whatever the record picks, the adhesion document
    either lies within a validated tolerance of its chemistry (uncertainty from validation cases that
    passed), or says which case is missing (unvalidated), or that the committee extrapolates (state
    extrapolating, with the active-learning command) — never a bare number."""
    from contactflow import api
    from contactflow.engines.auto import EXTRAPOLATION_THRESHOLD, load_record
    from contactflow.flows.tasks import resolve_auto

    assert api.load_recipe(recipe).engine == "auto"
    p = api.plan(recipe, tasks=["adhesion"], sets=["adhesion.relax=false", "adhesion.strain_correction=false",
                                                    "prepare.registry_grid=0", "prepare.gap_points=3"])
    assert p.engines == {"adhesion": "auto"}
    res = api.run(p, store=store)
    (doc,) = res.documents["adhesion"]
    (iface,) = store.find("interfaces", {"recipe_name": recipe})
    symbols = {s["species"][0]["element"] for s in iface["structure"]["sites"]}
    spec, why = resolve_auto("adhesion", symbols)
    assert doc["engine"] == spec and doc["engine_reason"] == why
    u = doc["uncertainty"]
    if doc["state"] == "extrapolating":
        assert u["source"] == "committee" and u["value"] > EXTRAPOLATION_THRESHOLD["J/m2"]
        assert "contactflow active-learn" in doc["failure_reason"]
    elif u["source"] == "validation":
        cases = load_record()["engines"][spec]["cases"]
        assert u["cases"] and all(set(cases[c]["chemistry"]) <= symbols for c in u["cases"])
        assert u["value"] == pytest.approx(max(abs(cases[c]["signed_error"]) for c in u["cases"]))
    elif u["source"] == "committee":
        assert doc["state"] == "successful" and u["value"] <= EXTRAPOLATION_THRESHOLD["J/m2"]
    else:
        assert u["source"] == "unvalidated" and "no validation case" in u["note"] and u["value"] is None
