"""DFT labelling, MACE committee training and one active-learning round, with real CP2K and mace-torch.

Cells are graphene mono/bilayers (2–4 atoms, CP2K PBE-D3(BJ) loose preset, 4×4 k-points: ~2 s each on
2 cores); models are tiny (8 channels, L = 0) so training takes seconds. What is asserted is behaviour
that could fail: labels equal a direct CP2K run, a non-converged SCF is stored as failed and never
trained on, the loss goes down, the same seed gives the same model, wrong elements are named, the
committee's most disputed configurations get labelled and the data set grows.
"""

import shutil

import numpy as np
import pytest
from jobflow import Flow, run_locally

from contactflow.jobs.label import DFTLabelMaker, exact_key, to_configs
from contactflow.jobs.train import TrainMaker, load_labels
from contactflow.mlp import sampling
from contactflow.mlp.plans import graphene_bilayer

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("cp2k_shell.psmp") is None, reason="Debian cp2k not installed (setup.sh)")]

TINY = {"num_channels": 8, "max_L": 0, "num_interactions": 1, "batch_size": 2, "valid_fraction": 0.2,
        "ema": False, "swa": False, "energy_weight": 1.0, "forces_weight": 10.0}


def _graphene_configs():
    mono = graphene_bilayer(layers=1)
    out = sampling.strained_cells(mono, (-3.0, -1.0, 1.0, 3.0), (), system="C bilayer", axes=(0, 1))[::3]
    out += sampling.traction_scan(graphene_bilayer(), [2, 3], [3.0, 3.35, 3.8, 4.5, 6.0], system="C bilayer")
    out += sampling.registry_scan(graphene_bilayer(), [2, 3], n=2, system="C bilayer")[1:]
    return out


@pytest.fixture(scope="module")
def graphene_docs():
    """CP2K labels of the graphene configurations, computed once per module (~1 min)."""
    return DFTLabelMaker(dataset="graphene", store_result=False).compute(_graphene_configs(), existing=[])


@pytest.fixture
def labelled(graphene_docs, store):
    store.upsert_many(graphene_docs)
    return graphene_docs


def test_labels_equal_a_direct_cp2k_run_and_failures_are_kept_out(graphene_docs, store, tmp_path):
    from contactflow.engines.cp2k import ContactflowCP2K
    from contactflow.mlp.data import write_extxyz

    assert all(d.state == "successful" and d.engine == "cp2k:pbe-d3" for d in graphene_docs)
    # symmetric cells carry no force: a strained perfect graphene sheet and the bilayers' in-plane forces
    # (a shifted 4×4 grid gave 0.75 eV/Å here; the Γ-centred grid leaves the real-space-grid floor)
    mono = [d for d in graphene_docs if d.n_atoms == 2]
    assert mono and max(np.abs(d.forces_eV_per_A).max() for d in mono) < 0.05
    assert all(d.dft_settings["kpoint_gamma_centred"] for d in graphene_docs)
    # the job path: labels land in the store through jobflow
    configs = _graphene_configs()[4:6]  # the bilayer opened to 3.0 and 3.35 Å
    job = DFTLabelMaker(dataset="graphene").make(to_configs(configs))
    run_locally(Flow([job]), store=store.jobstore(), ensure_success=True, log=False)
    docs = load_labels("graphene", store=store)
    assert len(docs) == 2 and {d["source"] for d in docs} == {"traction"}
    probe = configs[1]
    (doc,) = [d for d in docs if d["doc_key"] == exact_key("graphene", "cp2k:pbe-d3", probe)]
    direct = probe.copy()
    direct.calc = ContactflowCP2K("pbe-d3")
    try:
        e, f = direct.get_potential_energy(), direct.get_forces()
    finally:
        direct.calc.close()
    assert doc["energy_eV"] == pytest.approx(e, abs=1e-6)
    assert np.allclose(doc["forces_eV_per_A"], f, atol=1e-5)
    assert np.abs(f[:, 2]).max() > 1e-3  # a real interlayer force was parsed, not zeros
    assert doc["dft_settings"]["kpoint_grid"] == [4, 4, 1] and doc["dft_settings"]["cutoff_Ry"] == 250.0
    # an SCF capped at 2 steps cannot converge: stored failed with its reason, never a number
    bad = sampling.rattled(graphene_bilayer(layers=1), 0.1, 1, seed=5, system="C bilayer")
    (fdoc,) = DFTLabelMaker(dataset="graphene", calculator_kwargs={"overrides": {"max_scf": 2}}).compute(bad)
    assert fdoc.state == "failed" and "did not converge" in fdoc.failure_reason and fdoc.energy_eV is None
    assert len(store.find("labels", {"dataset": "graphene", "state": "failed"})) == 1
    assert len(load_labels("graphene", store=store)) == 2  # excluded from training data
    assert write_extxyz(store.find("labels", {"dataset": "graphene"}), tmp_path / "all.extxyz") == 2
    # labelling the same configurations again adds nothing (deduplicated by fingerprint)
    assert DFTLabelMaker(dataset="graphene").compute(configs) == []


def test_tiny_committee_trains_reproducibly_and_checks_elements(labelled, store, tmp_path):
    from contactflow.engines import check_elements, get_calculator
    from contactflow.engines.checks import UnsupportedElementsError
    from contactflow.errors import TrainingInputError

    def tiny(name):  # validate on the training targets themselves (DFT − D3): the logged loss is the training loss
        return {**TINY, "valid_file": str(tmp_path / name / "work" / "train_target.extxyz")}

    maker = TrainMaker(model_name="tiny", output_dir=str(tmp_path / "tiny"), n_members=2, epochs=12, seed=4,
                       device="cpu", threads=1, mace_kwargs=tiny("tiny"))
    doc = maker.compute("graphene")
    assert doc.state == "successful" and doc.elements == ["C"] and len(doc.member_files) == 2
    for hist in doc.loss_history:  # the loss goes down (measured: 0.009 → 0.0002 in 12 epochs)
        assert len(hist) == 12 and min(hist[-3:]) < 0.5 * hist[0]
    assert store.find("models", {"name": "tiny"})[0]["doc_key"] == doc.doc_key
    # same seed + same stored data → same member 0
    again = TrainMaker(model_name="tiny2", output_dir=str(tmp_path / "tiny2"), n_members=1, epochs=12, seed=4,
                       device="cpu", threads=1, mace_kwargs=tiny("tiny2")).compute("graphene")
    at = graphene_bilayer()
    e = []
    for d in (tmp_path / "tiny" / "member_0.model", tmp_path / "tiny2" / "member_0.model"):
        at.calc = get_calculator(f"mace:{d}", "cpu")
        e.append(at.get_potential_energy())
    assert e[0] == pytest.approx(e[1], abs=1e-8) and again.data_hash == doc.data_hash
    # a training set missing a requested element, a model lacking an element of the structure
    with pytest.raises(TrainingInputError, match="lacks element.*O"):
        TrainMaker(model_name="x", output_dir=str(tmp_path / "x"), elements=["C", "O"]).compute("graphene")
    with pytest.raises(UnsupportedElementsError, match="Li.*covers: C"):
        check_elements(f"mace:{tmp_path / 'tiny'}", ["C", "Li"])


def test_active_learning_round_labels_the_most_disputed_and_retrains(labelled, store, tmp_path):
    from contactflow.jobs.active_learning import ActiveLearningMaker

    train = TrainMaker(model_name="al", output_dir=str(tmp_path / "al"), n_members=3, epochs=4, seed=0,
                       device="cpu", threads=1, mace_kwargs=TINY)
    train.compute("graphene")
    n0 = len(load_labels("graphene", store=store))
    al = ActiveLearningMaker(campaign="t", workflow="bilayer_traction", threshold_eV_per_A=1e-4, n_select=2,
                             max_rounds=1, label_maker=DFTLabelMaker(dataset="graphene"), train_maker=train)
    (rnd,) = al.compute()
    assert rnd.converged is False and rnd.selected == 2 and rnd.labelled_ok == 2
    assert rnd.selected_force_std_eV_per_A == sorted(rnd.selected_force_std_eV_per_A, reverse=True)
    assert rnd.selected_force_std_eV_per_A[-1] >= rnd.mean_force_std_eV_per_A  # the disputed ones, not random
    new = store.find("labels", {"dataset": "graphene", "source": "active_learning"})
    assert len(new) == 2 and len(load_labels("graphene", store=store)) == n0 + 2
    assert store.find("al_rounds", {"campaign": "t"})[0]["selected"] == 2
    assert len(store.find("models", {"name": "al"})) == 2  # trained, then retrained on the grown data
