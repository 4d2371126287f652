"""AdhesionMaker: registry scan, far-apart slabs, strain correction, failures, convergence helper."""

import numpy as np
import pytest
from conftest import graphene_bilayer, run_job

from contactflow.engines import UnsupportedElementsError
from contactflow.jobs.adhesion import AdhesionMaker, converge_adhesion, registry_shifts

GRAPHITE_RECIPE = """\
name: graphite_graphite_test
description: AB graphite(0001) film (2 layers) on graphite(0001) (2 layers), 8 atoms
film: {structure: graphite, miller: [0, 0, 1], layers: 1}
substrate: {structure: graphite, miller: [0, 0, 1], layers: 1}
match: {max_strain_pct: 1.0, max_area_A2: 20, max_candidates: 1}
gap_A: 3.35
vacuum_A: 15
engine: chgnet+d3
tasks: [adhesion]
"""


def rigid(**kw) -> AdhesionMaker:
    return AdhesionMaker(engine="chgnet+d3", device="cpu", relax=False, **kw)


@pytest.mark.slow
def test_registry_scan_reports_best_stacking_and_spread(store):
    doc = run_job(rigid(registry_grid=3, registry_use_best=False).make(graphene_bilayer(), "if-ab", "bilayer"), store)
    assert doc.state == "successful" and doc.registry_grid == 3
    w = dict(zip(map(tuple, doc.registry_shifts_frac), doc.registry_w_sep_J_per_m2))
    assert len(w) == 9 and all(x > 0 for x in w.values())  # every stacking of two graphene sheets binds
    # shift (1/3, 2/3) turns AB into BA stacking, a mirror image: same energy
    assert w[(0.0, 0.0)] == pytest.approx(w[(1 / 3, 2 / 3)], abs=1e-4)
    # the scan and the single-point path agree at the built stacking
    assert w[(0.0, 0.0)] == pytest.approx(doc.w_sep_rigid_J_per_m2, abs=1e-3)
    assert doc.registry_w_sep_max_J_per_m2 == max(w.values()) == w[tuple(doc.registry_best_shift_frac)]
    assert doc.registry_spread_J_per_m2 == pytest.approx(max(w.values()) - min(w.values()))
    assert doc.registry_spread_J_per_m2 > 0
    assert doc.evaluation_mode in ("energy-only", "batched") or doc.evaluation_mode.startswith("auto:")
    (stored,) = store.find("adhesion", {"interface_id": "if-ab"})
    assert stored["registry_best_shift_frac"] == doc.registry_best_shift_frac


def test_registry_shifts_grid():
    s = registry_shifts(3)
    assert len(s) == 9 and (0.0, 0.0) in s and all(0 <= a < 1 and 0 <= b < 1 for a, b in s)


@pytest.mark.slow
def test_bound_layers_bind_and_far_apart_slabs_do_not(store):
    near = rigid().compute(graphene_bilayer(gap_A=3.35), "if-near", "bilayer")
    far = rigid().compute(graphene_bilayer(gap_A=12.0, vacuum_A=20.0), "if-far", "bilayer")
    assert near.w_sep_J_per_m2 > 0.1
    assert abs(far.w_sep_J_per_m2) < 0.01


@pytest.mark.slow
def test_strain_energy_of_the_film_is_separated_out(store):
    """A bilayer cell 2 % smaller than graphene: the film's own lattice (a = 2.46 Å) is compressed."""
    from conftest import A_GRAPHENE

    iface = graphene_bilayer(a=A_GRAPHENE / 1.02)
    cell = np.array(iface.lattice.matrix)
    iface.interface_properties["film_sl_vectors"] = cell[:2] * 1.02  # the film's unstrained superlattice
    doc = rigid().compute(iface, "if-strained", "bilayer")
    assert doc.state == "successful"
    es = doc.film_strain_energy_J_per_m2
    # continuum estimate: biaxial strain energy per (strained) area = Y2D/(1 − ν) ε² (1 + ε)² with
    # graphene's Y2D = 340 N/m, ν = 0.17 (Lee et al., Science 321, 385 (2008)), ε = 2 % → 0.17 J/m²;
    # a rigid (unrelaxed) film and the MLP's own elastic constants allow a factor of two
    est = 340 / (1 - 0.17) * 0.02**2 * 1.02**2
    assert est / 2 < es < est * 2
    assert doc.w_sep_strain_corrected_J_per_m2 == pytest.approx(doc.w_sep_J_per_m2 - es)
    # no strain: the correction vanishes
    iface.interface_properties["film_sl_vectors"] = cell[:2]
    doc0 = rigid().compute(iface, "if-unstrained", "bilayer")
    assert abs(doc0.film_strain_energy_J_per_m2) < 1e-5


@pytest.mark.slow
def test_unconverged_relaxation_is_stored_as_failed(store):
    maker = AdhesionMaker(engine="chgnet+d3", device="cpu", relax=True, max_steps=2, fmax=0.001)
    doc = run_job(maker.make(graphene_bilayer(gap_A=2.8), "if-unconverged", "bilayer"), store)
    assert doc.state == "failed" and "did not reach fmax=0.001" in doc.failure_reason
    assert doc.w_sep_J_per_m2 is None and doc.relax_converged is False
    (stored,) = store.find("adhesion", {"interface_id": "if-unconverged"})
    assert stored["state"] == "failed" and stored["w_sep_J_per_m2"] is None


def test_engine_without_an_element_fails_before_any_compute(store):
    iface = graphene_bilayer()
    iface.replace(0, "Si")
    with pytest.raises(UnsupportedElementsError, match=r"element\(s\) Si"):
        AdhesionMaker(engine="reaxff:cho").compute(iface, "if-si", "bilayer")
    assert store.count("adhesion") == 0


@pytest.mark.slow
def test_vacuum_convergence_stops_when_w_sep_settles(store, tmp_path):
    from contactflow.recipes import load_recipe

    path = tmp_path / "graphite_graphite_test.yaml"
    path.write_text(GRAPHITE_RECIPE)
    recipe = load_recipe(str(path))
    res = converge_adhesion(recipe, "vacuum_A", [5, 8, 12, 20], rigid(strain_correction=False), tol_J_per_m2=0.02)
    w = [s["w_sep_J_per_m2"] for s in res.steps]
    # 5 Å of vacuum lets the film feel the substrate's periodic image: W_sep is off by > 0.02 J/m²
    assert abs(w[1] - w[0]) > 0.02
    assert res.converged and abs(w[-1] - w[-2]) < 0.02
    assert res.converged_value == res.steps[-1]["value"] and res.w_sep_J_per_m2 == w[-1]
    # the convergence document carries each step's interface and result (the JobStore writes them)
    assert len(res.documents) == len(res.interfaces) == len(res.steps)
    assert [d.doc_key for d in res.documents] == [s["doc_key"] for s in res.steps]


def test_recipe_variants_for_convergence(tmp_path):
    from contactflow.errors import RecipeError
    from contactflow.jobs.adhesion import recipe_variant
    from contactflow.recipes import load_recipe

    path = tmp_path / "graphite_graphite_test.yaml"
    path.write_text(GRAPHITE_RECIPE)
    rec = load_recipe(str(path))
    assert recipe_variant(rec, "layers", 3).film.layers == recipe_variant(rec, "layers", 3).substrate.layers == 3
    v = recipe_variant(rec, "film_layers", 2)
    assert (v.film.layers, v.substrate.layers) == (2, 1)
    assert recipe_variant(rec, "vacuum_A", 20).vacuum_A == 20.0
    assert recipe_variant(rec, "vacuum_A", 20).recipe_hash != rec.recipe_hash  # a different structure
    with pytest.raises(RecipeError, match="valid: film_layers, substrate_layers, layers, vacuum_A, area"):
        recipe_variant(rec, "thickness", 2)
    with pytest.raises(RecipeError, match="at least two values"):
        converge_adhesion(rec, "layers", [1], rigid())
