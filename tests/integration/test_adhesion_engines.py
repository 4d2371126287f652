"""The same interface with several engines: DFT (CP2K PBE-D3(BJ)) vs MLP (CHGNet + D3) on the AB
graphene bilayer, and ReaxFF (Fe/O/C/H) on the Fe3O4/rGO recipe.

Reference for the graphite interlayer: the cleavage (exfoliation) energy of graphite measured directly,
0.37 ± 0.01 J/m² (W. Wang et al., "Measurement of the cleavage energy of graphite", Nat. Commun. 6,
7853 (2015)); thermal desorption gives 52 ± 5 meV/atom ≈ 0.32 J/m² (Zacharia, Ulbricht, Hertel,
Phys. Rev. B 69, 155406 (2004)). Window used here: 0.32–0.44 J/m² (experiments and RPA-level theory).
A bilayer binds slightly less than graphite cleaves (no second-neighbour layers), so its W_sep sits in
the lower part of that window.
"""

import shutil

import pytest
from jobflow import Flow

from contactflow.jobs.adhesion import AdhesionMaker
from contactflow.structures.carbon import ab_bilayer_interface as ab_bilayer
from contactflow.store.queries import compare_engines
from contactflow.dispatch import run_flow_locally

GRAPHITE_WINDOW_J_PER_M2 = (0.32, 0.44)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("cp2k_shell.psmp") is None, reason="Debian cp2k not installed (setup.sh)")
def test_graphite_bilayer_dft_reaches_the_reference_and_the_mlp_deviation_is_measured(store):
    iface = ab_bilayer()
    jobs = [
        AdhesionMaker(engine=eng, device="cpu", relax=False, strain_correction=False).make(iface, "if-ab-bilayer", "ab_bilayer")
        for eng in ("cp2k:pbe-d3", "chgnet+d3")
    ]
    run_flow_locally(Flow(jobs), store)
    docs = {d["engine"]: d for d in store.find("adhesion", {"interface_id": "if-ab-bilayer"})}
    assert set(docs) == {"cp2k:pbe-d3", "chgnet+d3"}  # one document per engine
    dft = docs["cp2k:pbe-d3"]
    assert dft["state"] == "successful" and dft["provenance"]["code_versions"]["cp2k"].startswith("20")
    lo, hi = GRAPHITE_WINDOW_J_PER_M2
    assert lo <= dft["w_sep_J_per_m2"] <= hi  # PBE-D3(BJ), loose preset: measured 0.353 J/m²
    # query compares them; DFT is the reference by default
    cmp = compare_engines(store, "adhesion")
    assert cmp["reference"] == "cp2k:pbe-d3"
    (row,) = cmp["rows"]
    dev = row["diff"]["chgnet+d3"]
    assert dev == pytest.approx(docs["chgnet+d3"]["w_sep_J_per_m2"] - dft["w_sep_J_per_m2"])
    # measured here: chgnet+d3 0.440 J/m² vs CP2K 0.353 J/m² → +0.09 J/m² (+25 %); CHGNet (trained on
    # PBE/PBE+U data without dispersion, yet not dispersion-free) plus D3 over-binds graphite layers.
    # This asserts the known bias, it does not excuse it.
    assert dev > 0.03


@pytest.mark.slow
def test_reaxff_fe3o4_rgo_single_points_and_short_relaxation(store):
    from contactflow.recipes import load_recipe
    from contactflow.schemas import InterfaceDoc

    rec = load_recipe("fe3o4_rgo")
    (cand,) = rec.build()[:1]
    store.upsert(InterfaceDoc.from_candidate(cand, rec.name, rec.recipe_hash))
    rigid = AdhesionMaker(engine="reaxff:Fe_O_C_H", relax=False)
    short = AdhesionMaker(engine="reaxff:Fe_O_C_H", relax=True, max_steps=40, fmax=0.05, strain_correction=False)
    jobs = [m.make(cand.interface, cand.interface_id, rec.name) for m in (rigid, short)]
    run_flow_locally(Flow(jobs), store)
    docs = store.find("adhesion", {"interface_id": cand.interface_id}, sort=[("relaxed", 1)])
    assert [d["engine"] for d in docs] == ["reaxff:Fe_O_C_H"] * 2
    sp, rx = docs
    assert sp["state"] == "successful" and sp["w_sep_J_per_m2"] > 0  # Fe–O–C contact binds
    assert sp["film_strain_energy_J_per_m2"] is not None and sp["provenance"]["model_hash"].startswith("sha256:")
    # 40 FIRE steps do not relax 188 atoms to 0.05 eV/Å: stored as failed with the reason, no W_sep …
    assert rx["state"] == "failed" and "did not reach fmax=0.05" in rx["failure_reason"]
    assert rx["w_sep_J_per_m2"] is None and rx["w_sep_rigid_J_per_m2"] == pytest.approx(sp["w_sep_rigid_J_per_m2"])
    # … but the relaxation ran: the interface energy went down
    assert rx["e_interface_eV"] < sp["e_interface_eV"] - 1.0
    assert rx["relax_steps"]["interface"] == 40  # every one of max_steps taken, none more
