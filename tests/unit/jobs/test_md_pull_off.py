"""Pull-off sanity on the ASE backend with ASE's EMT potential (real and fast): a cell not equilibrated
before pulling, or numbers out of proportion to W_sep, give a ``suspect`` document with the figures; a
failed preparation gives a failed one without compute; through jobflow the pull-off and its MD runs land in
their collections and the trajectory is read back from GridFS through the JobStore."""

import numpy as np
import pytest
from ase.build import fcc100
from ase.calculators.emt import EMT
from pymatgen.core.interface import Interface
from pymatgen.io.ase import AseAtomsAdaptor

from contactflow.jobs.md import MDMaker, load_trajectory
from contactflow.jobs.md_backends import AseBackend
from contactflow.jobs.pull_off import PullOffMaker, equilibration_check, proportion_check
from contactflow.schemas.prepared import PreparedInterfaceDoc
from contactflow.structures.interfaces import interface_area

CALLS = []


@pytest.fixture
def emt(monkeypatch, tmp_path):
    """MD with EMT instead of the engine's calculator (the rest of the Maker is the real one)."""
    monkeypatch.chdir(tmp_path)  # checkpoints
    CALLS.clear()

    def factory(self, config, chunk, calculator=None):
        CALLS.append(config)
        return lambda a, v, s: AseBackend(a, EMT(), config, v)

    monkeypatch.setattr(MDMaker, "backend_factory", factory)
    monkeypatch.setattr("contactflow.engines.checks.check_elements", lambda *a, **k: None)


def cu_interface() -> Interface:
    """Cu(001), 2×2×4 (16 atoms): the top two layers are the film."""
    slab = fcc100("Cu", (2, 2, 4), vacuum=8.0, a=3.61)
    st = AseAtomsAdaptor.get_structure(slab)
    z = st.cart_coords[:, 2]
    labels = ["film" if zz > np.median(z) else "substrate" for zz in z]
    return Interface(st.lattice, st.species, st.frac_coords, site_properties={"interface_label": labels})


def prepared(w_sep: float | None, state: str = "successful") -> PreparedInterfaceDoc:
    itf = cu_interface()
    return PreparedInterfaceDoc(doc_key="prep-cu", interface_id="cu001", recipe_name="cu", engine="emt",
                                state=state, failure_reason=None if state == "successful" else "relaxation blew up",
                                n_atoms=len(itf), area_A2=interface_area(itf), as_built_gap_A=1.8, gap_A=1.8,
                                w_sep_rigid_J_per_m2=w_sep, structure=itf)


def maker(**kw) -> PullOffMaker:
    base = dict(engine="chgnet", device="cpu", temperature_K=50.0, pull_velocity_A_per_ps=20.0, max_opening_A=3.0,
                relax_steps=0, equilibrate_steps=200, fix_bottom_A=0.5, pull_top_A=0.5, block=3,
                compare_static=False, md_kwargs={"timestep_fs": 2.0, "check_interval": 5})
    return PullOffMaker(**{**base, **kw})


def test_equilibration_check_on_thermo_series():
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, 40)
    flat = {"time_ps": t, "temperature_K": 300 + 20 * rng.standard_normal(40),
            "potential_eV": -100 + 0.05 * rng.standard_normal(40)}
    ok = equilibration_check(flat, 300.0, 32, 24)
    assert ok["equilibrated"] and ok["reason"] is None and abs(ok["mean_temperature_K"] - 300) < 20
    relaxing = {**flat, "potential_eV": -100 - 3.0 * t}  # still releasing 1.5 eV (0.05 eV/atom) in the last half
    bad = equilibration_check(relaxing, 300.0, 32, 24)
    assert not bad["equilibrated"] and "potential energy still drifting by -0.04" in bad["reason"]
    hot = equilibration_check({**flat, "temperature_K": 600 + 0 * t}, 300.0, 32, 24)
    assert not hot["equilibrated"] and "⟨T⟩ 600.0 K" in hot["reason"]
    assert not equilibration_check({k: v[:4] for k, v in flat.items()}, 300.0, 32, 24)["equilibrated"]


def test_proportion_bounds():
    # W_sep 0.3 J/m²: G bound 5·0.3 + 1 = 2.5 J/m²; peak bound 0.3/(e·0.3 Å)·10 + 1 = 4.68 GPa
    assert proportion_check(0.4, 2.0, 0.3) == []
    (g,) = proportion_check(17.0, 2.0, 0.3)
    assert "fracture energy 17.000 J/m² exceeds 5·|W_sep| + 1 = 2.500 J/m²" in g
    (s,) = proportion_check(0.4, 25.5, 0.3)
    assert "peak traction 25.500 GPa exceeds the UBER bound" in s and "4.679 GPa" in s
    assert len(proportion_check(17.0, 25.5, -0.2)) == 2  # an unbound interface is judged by |W_sep|


def test_pull_off_without_equilibration_is_suspect(emt):
    doc = maker(equilibrate_steps=0).execute(cu_interface(), "cu001")
    assert doc.state == "suspect" and doc.equilibrated is False
    assert "not equilibrated before pulling (equilibrate_steps = 0)" in doc.failure_reason
    assert doc.peak_traction_GPa > 1.0 and doc.md is not None and doc.md.trajectory["npz_base64"]


def test_equilibrated_pull_off_in_proportion_is_successful(emt, caplog):
    # EMT Cu(001): rigid W_sep 2.27 J/m² (measured in test_md_driver); G ≈ 2.4 J/m² at 20 Å/ps
    import logging

    with caplog.at_level(logging.INFO, logger="contactflow"):
        doc = maker().execute(prepared(2.27))
    # the whole job's estimate is shown before it starts and stored next to the measured time
    msgs = [r.getMessage() for r in caplog.records]
    first = next(i for i, m in enumerate(msgs) if m.startswith("pull_off Cu16: estimated"))
    assert "equilibration 201" in msgs[first] and "pull 76" in msgs[first]  # 200 steps; 3 Å at 20 Å/ps, 2 fs
    assert any("stage pull starts" in m and "left in the job" in m for m in msgs[first:])
    assert any(m.startswith("pull_off Cu16: finished in") and "estimated" in m for m in msgs)
    assert doc.provenance.estimated_wall_time_s > 0 and doc.provenance.wall_time_s > 0
    assert doc.equilibrated, doc.failure_reason
    assert doc.state == "successful", doc.failure_reason
    assert doc.prepared_key == "prep-cu" and doc.interface_id == "cu001" and doc.w_sep_reference_J_per_m2 == 2.27
    assert abs(doc.equilibration_mean_temperature_K - 50.0) < 15.0
    assert doc.equilibration_md.task == "pull_off_equilibration" and doc.md.prepared_key == "prep-cu"


def test_pull_off_out_of_proportion_to_w_sep_is_suspect(emt):
    # the same Cu pull judged against a weak-contact W_sep of 0.05 J/m²: G and σ_peak are far above
    doc = maker().execute(prepared(0.05))
    assert doc.state == "suspect"
    assert "fracture energy" in doc.failure_reason and "exceeds 5·|W_sep| + 1 = 1.250 J/m²" in doc.failure_reason
    assert "peak traction" in doc.failure_reason


def test_unbound_prepared_interface_is_pulled_and_noted(emt):
    doc = maker().execute(prepared(-0.1))
    assert doc.peak_traction_GPa is not None  # it ran
    assert any("unbound (rigid W_sep -0.100 J/m² ≤ 0)" in n for n in doc.notes)


def test_failed_preparation_gives_a_failed_document_without_compute(emt):
    doc = maker().execute(prepared(1.0, state="failed"))
    assert doc.state == "failed" and "interface preparation failed: relaxation blew up" in doc.failure_reason
    assert doc.prepared_key == "prep-cu" and doc.peak_traction_GPa is None and CALLS == []


def test_pull_off_through_jobflow_lands_in_its_collections(emt, store):
    from contactflow.dispatch import run_flow_locally
    from contactflow.store.views import view_differences

    job = maker(equilibrate_steps=20).make(prepared(2.27))
    run_flow_locally(job, store)
    (po,) = store.find("pull_off", {})
    assert po["prepared_key"] == "prep-cu" and po["state"] in ("successful", "suspect")
    mds = {d["task"]: d for d in store.find("md", {})}
    assert set(mds) == {"pull_off", "pull_off_equilibration"} and mds["pull_off"]["doc_key"] == po["md_doc_key"]
    md = mds["pull_off"]
    assert set(md["trajectory"]) >= {"blob_uuid", "store"}  # routed to GridFS by the JobStore
    traj = load_trajectory(store, md)
    assert traj["positions_A"].shape == (md["n_frames"], 16, 3) and str(traj["format"]) == "contactflow-npz/1"
    assert view_differences(store) == {}


def test_md_and_lithiation_refuse_a_failed_preparation_without_compute(emt):
    from contactflow.jobs.lithiation import LithiationMaker

    md = MDMaker(engine="chgnet", n_steps=10).run_prepared(prepared(1.0, state="failed"))
    assert md.state == "failed" and md.attempts == 0 and md.prepared_key == "prep-cu" and md.interface_id == "cu001"
    li = LithiationMaker(engine="chgnet", device="cpu").execute(prepared(1.0, state="failed"))
    assert li.state == "failed" and "interface preparation failed" in li.failure_reason and li.steps == []
    assert CALLS == []


def test_diffusion_from_a_prepared_reference_runs_after_the_preparation(emt, store):
    """In a recipe flow the prepared interface is a jobflow reference: the diffusion job resolves it
    when it runs and replaces itself by the MD runs and the fit; every MD document keeps the prepared key."""
    from jobflow import Flow, job

    from contactflow.dispatch import run_flow_locally
    from contactflow.jobs.diffusion import DiffusionMaker

    @job
    def emit(doc):
        return doc

    prep = emit(prepared(2.27))
    dif = DiffusionMaker(engine="chgnet", device="cpu", species="Cu", temperatures_K=(300.0, 900.0), n_steps=20,
                         sample_interval=2, md_kwargs={"timestep_fs": 2.0, "check_interval": 2}).make(prep.output)
    run_flow_locally(Flow([prep, dif]), store)
    (doc,) = store.find("diffusion", {})
    assert doc["prepared_key"] == "prep-cu" and doc["interface_id"] == "cu001" and len(doc["points"]) == 2
    mds = store.find("md", {"task": "diffusion"})
    assert len(mds) == 2 and {m["prepared_key"] for m in mds} == {"prep-cu"}

    failed = emit(prepared(1.0, state="failed"))
    dif = DiffusionMaker(engine="chgnet", device="cpu", species="Cu", temperatures_K=(300.0, 900.0)).make(failed.output)
    run_flow_locally(Flow([failed, dif]), store)
    (bad,) = store.find("diffusion", {"state": "failed"})
    assert "interface preparation failed" in bad["failure_reason"]
