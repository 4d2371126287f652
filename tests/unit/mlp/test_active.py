"""Active-learning selection: the committee's most disputed configuration is picked first.

The committee is deliberately perturbed: three copies of one tiny MACE model, the third with noise added
only to the Li row of its element embedding. Members then agree exactly on Li-free cells and disagree
on every cell holding Li, so the expected pick is known in advance.
"""

import numpy as np
import pytest
import torch
from ase.build import bulk

from contactflow.engines import get_calculator
from contactflow.engines.calculators import _mace_model, committee_spread
from contactflow.engines.mace_io import make_tiny_mace_model
from contactflow.mlp.active import disagreements, select


@pytest.fixture(scope="module")
def committee(tmp_path_factory):
    d = tmp_path_factory.mktemp("committee")
    for i in range(3):
        m = make_tiny_mace_model(["Li", "Si"], r_max=4.0, seed=7)
        if i == 2:
            w = m.node_embedding.linear.weight
            with torch.no_grad():
                rows = w.view(2, -1)  # one row per element (Li, Si), sorted by Z
                rows[0] += 0.5 * torch.randn_like(rows[0], generator=torch.Generator().manual_seed(3))
        torch.save(m, d / f"member_{i}.model")
    _mace_model.cache_clear()
    return d


def _cells():
    rng = np.random.default_rng(0)
    out = []
    for n_li in (0, 0, 1, 0):
        a = bulk("Si", "diamond", 5.43, cubic=True)
        for k in range(n_li):
            a.append("Li")
            a.positions[-1] = [1.36, 1.36, 1.36]  # a tetrahedral void
        a.positions += rng.normal(0, 0.03, a.positions.shape)
        out.append(a)
    return out


def test_perturbed_committee_disputes_li_and_selection_picks_the_most_disputed(committee):
    calc = get_calculator(f"mace:{committee}", "cpu")
    cells = _cells()
    spreads = disagreements(calc, cells)
    f = [d.max_force_std_eV_per_A for d in spreads]
    assert max(f[0], f[1], f[3]) < 1e-10  # Li-free cells: identical members agree exactly
    assert f[2] > 1e-3  # the Li cell is disputed
    assert select(spreads, cells, 1, threshold_eV_per_A=1e-6) == [2]
    assert select(spreads, cells, 5, threshold_eV_per_A=1e-6) == [2]  # below-threshold cells never picked
    # a cell already in the data set is not picked again
    from contactflow.mlp.data import fingerprint

    assert select(spreads, cells, 5, 1e-6, existing=[(cells[2].get_chemical_formula(), fingerprint(cells[2]))]) == []


def test_committee_engine_reports_spread_and_single_models_do_not(committee):
    calc = get_calculator(f"mace:{committee}", "cpu")
    a = _cells()[1]
    a.calc = calc
    e = a.get_potential_energy()
    s = committee_spread(calc)
    assert s is not None and len(s["energies_eV"]) == 3
    assert e == pytest.approx(np.mean(s["energies_eV"]))
    assert len(s["forces_std_eV_per_A"]) == len(a)
    single = get_calculator(f"mace:{committee / 'member_0.model'}", "cpu")
    a.calc = single
    a.get_potential_energy()
    assert committee_spread(single) is None
    with pytest.raises(ValueError, match="committee engine"):
        disagreements(single, [a])


def test_committee_directory_without_members_is_named(tmp_path):
    from contactflow.errors import EngineSpecError

    with pytest.raises(EngineSpecError, match="holds no member_.*model"):
        get_calculator(f"mace:{tmp_path}", "cpu")


def test_campaign_stops_without_retraining_when_every_disputed_cell_is_already_labelled(committee, store):
    from dataclasses import dataclass

    from contactflow.jobs.active_learning import ActiveLearningMaker
    from contactflow.jobs.label import DFTLabelMaker
    from contactflow.jobs.train import TrainMaker
    from contactflow.mlp.data import fingerprint

    cells = _cells()

    @dataclass
    class Labelled(DFTLabelMaker):  # the disputed Li cell is already in the data set
        def _existing(self):
            return [(cells[2].get_chemical_formula(), fingerprint(cells[2]).tolist())]

        def compute(self, *a, **k):
            raise AssertionError("nothing new to label")

    @dataclass
    class NoTraining(TrainMaker):
        def compute(self, *a, **k):
            raise AssertionError("retraining on unchanged data gives the same committee")

    al = ActiveLearningMaker(campaign="stuck", threshold_eV_per_A=1e-6, n_select=2, max_rounds=3,
                             label_maker=Labelled(dataset="stuck"), train_maker=NoTraining(output_dir=str(committee)))
    (doc,) = al.compute(run_workflow=lambda spec, device: _cells())
    assert not doc.converged and doc.selected == 0 and doc.max_force_std_eV_per_A > 1e-3
    assert "already labelled" in doc.stop_reason
    (stored,) = store.find("al_rounds", {"campaign": "stuck"})
    assert stored["stop_reason"] == doc.stop_reason
