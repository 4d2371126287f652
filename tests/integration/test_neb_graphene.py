"""Li on graphene: hollow → bridge → hollow, from deliberately unrelaxed endpoints; and a NEB that runs
out of steps is stored as failed, never as a barrier."""

import numpy as np
import pytest
from jobflow import Flow
from pymatgen.core import Lattice, Structure

from contactflow.dispatch import run_flow_locally
from contactflow.jobs.neb import LiMigrationNEBMaker
from contactflow.structures.li_sites import find_adsorption_sites, insert_li

pytestmark = pytest.mark.slow


def graphene(n: int = 3) -> Structure:
    return Structure(Lattice.hexagonal(2.46, 15.0), ["C", "C"], [[0, 0, 0.5], [1 / 3, 2 / 3, 0.5]]) * (n, n, 1)


@pytest.fixture(scope="module")
def unrelaxed_hop():
    """Two neighbouring hollow sites 2.46 Å apart; Li 2.3 Å high (equilibrium ~1.7 Å), C rattled."""
    g = graphene()
    hollow = next(s for s in find_adsorption_sites(g, height_A=2.3) if s.kind == "hollow")
    shift = g.lattice.get_fractional_coords([2.46, 0.0, 0.0])
    ini, fin = insert_li(g, hollow), insert_li(g, hollow.frac_coords + shift)
    rng = np.random.default_rng(7)
    for s in (ini, fin):
        for i in range(len(g)):
            s.translate_sites([i], rng.normal(0, 0.04, 3), frac_coords=False)
    return ini, fin


def test_unrelaxed_endpoints_converge_to_a_symmetric_profile(unrelaxed_hop, store):
    ini, fin = unrelaxed_hop
    job = LiMigrationNEBMaker(n_images=3, fmax=0.05).make(ini, fin, label="graphene hollow-hollow", region="surface")
    run_flow_locally(Flow([job]), store)
    (d,) = store.find("barriers", {"label": "graphene hollow-hollow"})
    assert d["state"] == "successful" and d["converged"] and d["endpoints_converged"]
    assert d["climbing_image_max_force_eV_per_A"] < d["fmax_eV_per_A"]
    # a single model's barrier carries the validation error of Li-on-C hops (or says it is unvalidated)
    u = d["uncertainty"]
    assert u["unit"] == "eV" and (u["source"] == "unvalidated") == (u["value"] is None)
    if u["source"] == "validation":
        assert "li_graphene_hop" in u["cases"] and u["value"] > 0
    # equivalent hollows: symmetric profile with the saddle (bridge) in the middle
    assert d["barrier_forward_eV"] == pytest.approx(d["barrier_reverse_eV"], abs=0.02)
    assert d["saddle_index"] == 2
    assert d["barrier_forward_eV"] > 0.05
    # the relaxed endpoints moved the Li down towards the sheet (it started 2.3 Å high)
    s = Structure.from_dict(d["saddle_structure"])
    z_c = np.mean([site.coords[2] for site in s if site.species_string == "C"])
    assert s[-1].coords[2] - z_c < 2.3
    # saddle over the C–C bond: Li above the midpoint of its two nearest C
    # in-plane distances with periodic images (the saddle may sit at the cell edge)
    li = s[-1].frac_coords
    flat = np.array([[*site.frac_coords[:2], li[2]] for site in s if site.species_string == "C"])
    dist = sorted(s.lattice.get_all_distances([li], flat)[0])
    assert dist[1] - dist[0] < 0.1


def test_neb_out_of_steps_is_stored_failed_without_barrier(unrelaxed_hop, store):
    ini, fin = unrelaxed_hop
    maker = LiMigrationNEBMaker(n_images=3, fmax=0.01, max_steps=3, relax_endpoints=False)
    run_flow_locally(Flow([maker.make(ini, fin, label="graphene short budget")]), store)
    (d,) = store.find("barriers", {"label": "graphene short budget"})
    assert d["state"] == "failed" and d["converged"] is False
    assert "did not converge in 3 steps" in d["failure_reason"]
    assert d["barrier_forward_eV"] is None and d["barrier_reverse_eV"] is None and d["energies_eV"] == []
    assert d["max_force_eV_per_A"] > 0.01
    # what it cost: 2 endpoints + 3 moving images × (start + 3 steps), energy and forces only; an
    # estimate made before it started (2 + 3 × 3 + 2 evaluations at most) stored next to the wall time
    prov = d["provenance"]
    assert prov["computed_properties"] == ["energy", "forces"] and prov["n_evaluations"] == 14
    assert prov["estimated_wall_time_s"] > 0 and prov["wall_time_s"] > 0


def test_plot_neb_writes_the_profile_and_refuses_a_failed_band(unrelaxed_hop, store, tmp_path):
    from typer.testing import CliRunner

    from contactflow.cli import app
    from contactflow.errors import ContactflowError

    ini, fin = unrelaxed_hop
    ok = LiMigrationNEBMaker(n_images=1, fmax=0.1, relax_endpoints=False, max_steps=200).make(ini, fin, label="g-plot")
    bad = LiMigrationNEBMaker(n_images=1, fmax=0.001, max_steps=2, relax_endpoints=False).make(ini, fin, label="g-bad")
    run_flow_locally(Flow([ok, bad]), store)
    (good,) = store.find("barriers", {"label": "g-plot"})
    (failed,) = store.find("barriers", {"label": "g-bad"})
    assert good["state"] == "successful"
    out = tmp_path / "neb.png"
    res = CliRunner().invoke(app, ["plot", "neb", good["doc_key"][:10], "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 5000
    res = CliRunner().invoke(app, ["plot", "neb", failed["doc_key"], "--out", str(tmp_path / "x.png")])
    assert isinstance(res.exception, ContactflowError) and "no converged profile" in str(res.exception)
    assert not (tmp_path / "x.png").exists()
    res = CliRunner().invoke(app, ["plot", "neb", "nb-doesnotexist", "--out", str(out)])
    assert isinstance(res.exception, ContactflowError) and "no barrier document" in str(res.exception)
