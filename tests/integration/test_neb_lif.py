"""The lif_graphite recipe with task ``neb``: a Li hop in the LiF/C interface gap and one in bulk LiF
(sites found automatically), both stored, and ``contactflow query barriers`` shows them side by side.

Sized for CI: the recipe's LiF film is cut one slab-generator layer thick (2 LiF planes; 124-atom
interface instead of 172), 12 gap voids are ranked, and only atoms within 5 Å of the hopping Li move.
The full recipe (``contactflow run lif_graphite --task neb``) ran the same way in ~5 min on 2 cores.

Reference (recorded, not asserted): the review quotes ≈0.13 eV for Li⁺ at a LiF/C interface (DFT) vs
≈0.20 eV on LiF; CHGNet+D3 finds a much flatter gap (a few 10 meV, with a deeper site inside the
path): its deviation is stored in ``deviation_from_reference_eV``.
"""

import pytest
from typer.testing import CliRunner

from contactflow.cli import app
from contactflow.dispatch import run_flow_locally
from contactflow.flows.recipe import recipe_flow
from contactflow.recipes import load_recipe
from contactflow.schemas import InterfaceDoc

pytestmark = pytest.mark.slow


@pytest.fixture
def lif_barriers(store):
    rec = load_recipe("lif_graphite")
    rec = rec.model_copy(update={"film": rec.film.model_copy(update={"layers": 1})})
    cand = rec.build()[0]
    settings = {"n_images": 3, "fmax": 0.05, "max_candidates": 12, "relax_radius_A": 5.0}
    # the NEB is the subject here: the preparation only finds the gap (no registry scan, no relaxation),
    # as the hop's endpoints are relaxed locally by the NEB itself (relax_radius_A)
    flow = recipe_flow(rec, [cand], ["neb"], {"neb": settings, "prepare": {"registry_grid": 0, "relax": False}})
    run_flow_locally(flow, store)
    return cand, {d["region"]: d for d in store.find("barriers", {"recipe_name": "lif_graphite"})}


def test_lif_interface_and_bulk_hops(lif_barriers):
    cand, docs = lif_barriers
    assert set(docs) == {"interface", "bulk"}
    inter, bulk = docs["interface"], docs["bulk"]
    assert inter["label"] == "LiF/C interface" and bulk["label"] == "LiF bulk"
    assert inter["interface_id"] == cand.interface_id == bulk["interface_id"]
    for d in (inter, bulk):
        assert d["state"] == "successful" and d["converged"], d.get("failure_reason")
        assert d["engine"] == "chgnet+d3"
        assert d["climbing_image_max_force_eV_per_A"] < d["fmax_eV_per_A"]
        assert d["barrier_forward_eV"] >= 0 and d["barrier_reverse_eV"] >= 0
        assert d["min_approach_A"] > 1.0
    # the interface hop: Li in the gap, substrate bottom held fixed
    assert inter["n_atoms"] == cand.n_atoms + 1 and inter["fixed_indices"]
    assert inter["reference_barrier_eV"] == 0.13
    assert inter["deviation_from_reference_eV"] == pytest.approx(inter["barrier_forward_eV"] - 0.13)
    # the bulk hop joins two symmetry-equivalent voids of rock salt: symmetric profile, saddle mid-way
    assert bulk["barrier_forward_eV"] == pytest.approx(bulk["barrier_reverse_eV"], abs=0.02)
    assert bulk["saddle_index"] == 2
    assert bulk["barrier_forward_eV"] > inter["barrier_forward_eV"]  # the gap is the faster path

    res = CliRunner().invoke(app, ["query", "barriers", "--recipe", "lif_graphite"])
    assert res.exit_code == 0, res.output
    assert "LiF/C interface" in res.output and "LiF bulk" in res.output
    res = CliRunner().invoke(app, ["query", "barriers", "--recipe", "lif_graphite", "--format", "json"])
    assert res.exit_code == 0
    assert f"{inter['barrier_forward_eV']}"[:6] in res.output
