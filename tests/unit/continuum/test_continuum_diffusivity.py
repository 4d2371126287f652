"""D(T, strain) tables, Arrhenius fits and the PyBaMM export (loaded into PyBaMM itself)."""

import importlib.util
import json
import math

import pytest

from contactflow.continuum.czm import ExportError
from contactflow.continuum.diffusivity import (
    K_B_EV, arrhenius_fits, diffusivity_points, diffusivity_table, export_diffusivity, load_points,
)

EA = {0.0: 0.35, 2.0: 0.30, -2.0: 0.40}  # eV: tensile strain lowers the barrier in this synthetic set
D0 = 1.0e-8  # m²/s (D(298 K) ~ 1e-15–1e-13 m²/s, the range reported for Li in Si)


def md_docs(replica_noise=(0.97, 1.03)):
    """MD-like documents as the store returns them: D in cm²/s per species, T in K, strain in %."""
    docs = []
    for strain, ea in EA.items():
        for T in (600.0, 800.0, 1000.0, 1200.0):
            for j, f in enumerate(replica_noise):
                d = D0 * math.exp(-ea / (K_B_EV * T)) * f
                docs.append({"doc_key": f"md-{strain}-{T}-{j}", "engine": "chgnet", "system": "Li15Si4",
                             "recipe_name": "li15si4_bulk", "state": "successful", "temperature_K": T,
                             "strain_pct": strain, "diffusivity_cm2_per_s": {"Li": d * 1e4, "Si": d * 1e2}})
    docs.append({"doc_key": "md-failed", "engine": "chgnet", "state": "failed", "temperature_K": 700.0,
                 "failure_reason": "NVT temperature drifted"})
    return docs


def test_table_averages_replicas_and_fit_recovers_the_barrier():
    pts = diffusivity_points(md_docs())
    assert len(pts) == 24  # the failed run is dropped
    assert pts[0]["D_m2_per_s"] == pytest.approx(D0 * math.exp(-EA[0.0] / (K_B_EV * 600)) * 0.97, rel=1e-12)
    rows = diffusivity_table(pts)
    assert len(rows) == 12 and all(r["n_runs"] == 2 for r in rows)
    r = next(r for r in rows if r["temperature_K"] == 800 and r["strain_pct"] == 2.0)
    assert r["D_m2_per_s"] == pytest.approx(D0 * math.exp(-EA[2.0] / (K_B_EV * 800)), rel=1e-12)
    assert r["D_stderr_m2_per_s"] == pytest.approx(0.03 * r["D_m2_per_s"], rel=1e-9)
    fits = {f["strain_pct"]: f for f in arrhenius_fits(rows)}
    for strain, ea in EA.items():
        assert fits[strain]["activation_energy_eV"] == pytest.approx(ea, rel=1e-9)
        assert fits[strain]["D0_m2_per_s"] == pytest.approx(D0, rel=1e-9)


def test_diffusion_documents_and_md_runs_count_once():
    """A D(T, strain) document lists points by their MD run; a run found both ways counts once."""
    md = [d for d in md_docs() if d.get("state") == "successful"]
    diffusion_doc = {
        "doc_key": "diff-1", "engine": "chgnet", "system": "Li15Si4", "recipe_name": "li15si4_bulk",
        "species": "Li", "state": "successful",
        "points": [{"temperature_K": d["temperature_K"], "strain_pct": d["strain_pct"],
                    "diffusivity_m2_per_s": d["diffusivity_cm2_per_s"]["Li"] * 1e-4, "md_doc_key": d["doc_key"],
                    "state": "successful"} for d in md[:10]]
                  + [{"temperature_K": 1400.0, "strain_pct": 0.0, "diffusivity_m2_per_s": 3e-9,
                      "md_doc_key": "md-extra", "state": "successful"}],
    }
    for docs in ([diffusion_doc, *md], [*md, diffusion_doc]):
        pts = diffusivity_points(docs)
        assert len(pts) == 25 and len({p["doc_key"] for p in pts}) == 25
    assert diffusivity_points([diffusion_doc], species="Si") == []


def test_csv_and_json_exports():
    pts = diffusivity_points(md_docs(), species="Si")
    csv_text = export_diffusivity(pts, "csv")
    head, first = csv_text.splitlines()[:2]
    assert head == "system,recipe_name,engine,species,temperature_K,strain_pct,D_m2_per_s,D_stderr_m2_per_s,n_runs"
    assert first.startswith("Li15Si4,li15si4_bulk,chgnet,Si,600.0,-2.0,")
    payload = json.loads(export_diffusivity(pts, "json"))
    assert payload["units"]["D"] == "m^2/s" and len(payload["arrhenius"]) == 3


def test_export_errors():
    pts = diffusivity_points(md_docs())
    with pytest.raises(ExportError, match="valid formats: csv, json, pybamm, pybamm-json"):
        export_diffusivity(pts, "hdf5")
    one_T = [p for p in pts if p["temperature_K"] == 800.0]
    with pytest.raises(ExportError, match="≥ 2 temperatures"):
        export_diffusivity(one_T, "pybamm")
    assert diffusivity_points([{"doc_key": "x", "temperature_K": 300, "msd_A2": [1, 2]}]) == []


def test_store_without_md_kind_names_the_task(store):
    from contactflow.store.queries import QueryError, resolve_kind

    try:
        resolve_kind("md")
    except QueryError:
        with pytest.raises(ExportError, match="run the '.*' task first"):
            load_points(store)
    else:
        with pytest.raises(ExportError, match="task at several temperatures"):
            load_points(store, recipe="no_such_recipe")


@pytest.mark.slow
def test_pybamm_loads_the_exported_set_and_runs_with_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PYBAMM_DISABLE_TELEMETRY", "true")
    pybamm = pytest.importorskip("pybamm")
    pts = diffusivity_points(md_docs())
    path = tmp_path / "contactflow_params.py"
    path.write_text(export_diffusivity(pts, "pybamm", strain_pct=0.0))
    spec = importlib.util.spec_from_file_location("cf_params", path)
    cf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cf)

    def d_at(pv, T):
        return pv.evaluate(pybamm.FunctionParameter(
            "Negative particle diffusivity [m2.s-1]", {"sto": pybamm.Scalar(0.5), "T": pybamm.Scalar(T)}))

    pv = pybamm.ParameterValues("Chen2020")
    pv.update(cf.get_parameter_values())
    for T in (298.15, 330.0):
        assert float(d_at(pv, T)) == pytest.approx(D0 * math.exp(-EA[0.0] / (K_B_EV * T)), rel=1e-6)
    # JSON variant: numbers only, D at the reference temperature
    data = json.loads(export_diffusivity(pts, "pybamm-json"))
    pv_json = pybamm.ParameterValues("Chen2020")
    pv_json.update(data["parameters"])
    assert pv_json["Negative particle diffusivity [m2.s-1]"] == pytest.approx(float(d_at(pv, 298.15)), rel=1e-12)
    # the set drives a model: faster Li diffusion (tensile strain) → less polarisation at the end of a
    # 1C discharge of 20 min
    volts = {}
    for strain in (-2.0, 2.0):
        p = pybamm.ParameterValues("Chen2020")
        p.update({"Negative particle diffusivity [m2.s-1]": cf.diffusivity_at_strain(strain)})
        sol = pybamm.Simulation(pybamm.lithium_ion.SPM(), parameter_values=p).solve([0, 1200])
        volts[strain] = float(sol["Voltage [V]"].entries[-1])
    assert volts[2.0] > volts[-2.0], volts
