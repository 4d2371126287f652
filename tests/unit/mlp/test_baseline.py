"""The D3 baseline: why it exists (dispersion past the model cutoff), and that the engine adds it back.

The physics test reads the shipped CP2K labels of the graphene bilayer: total PBE-D3 energies still
change between 5 and 7 Å openings (beyond a 5 Å MACE cutoff, so unlearnable), DFT − D3 does not.
"""

import json
import shutil

import numpy as np
import pytest
import torch
from ase.build import bulk

from contactflow.engines import get_calculator
from contactflow.engines.calculators import BASELINE_FILE, _d3_calculator, _mace_model, committee_spread, engine_info
from contactflow.engines.mace_io import make_tiny_mace_model
from contactflow.errors import EngineSpecError, TrainingInputError
from contactflow.mlp.baseline import subtract_baseline, write_baseline_file
from contactflow.mlp.data import read_extxyz
from contactflow.paths import POTENTIALS_DIR


def _opening(frames, gap):
    """The unrattled 4-atom AB bilayer of the traction scan at this opening (a = 2.46 Å)."""
    for a in frames:
        if (len(a) == 4 and a.info.get("source") == "traction" and abs(a.cell.lengths()[0] - 2.46) < 1e-3
                and abs(np.ptp(a.positions[:, 2]) - gap) < 1e-3):
            return a
    raise LookupError(gap)


def test_dispersion_beyond_the_cutoff_is_in_the_labels_and_gone_after_the_d3_baseline():
    frames = read_extxyz(POTENTIALS_DIR / "mlp" / "lisic" / "data" / "train.extxyz")
    near, far = _opening(frames, 5.0), _opening(frames, 6.0)
    e = lambda a: a.calc.results["energy"] / len(a) * 1000  # noqa: E731  meV/atom
    # PBE-D3: still 4.5 meV/atom of binding between 5 and 6 Å, which a 5 Å model cannot see
    assert e(far) - e(near) > 3.0
    rn, rf = subtract_baseline([near, far], "d3")
    assert abs(e(rf) - e(rn)) < 1.0  # DFT − D3 is flat there: learnable inside the cutoff
    # forces come off too, and adding D3 back restores the labels exactly
    w = near.copy()
    w.calc = _d3_calculator("cpu")
    assert rn.calc.results["energy"] + w.get_potential_energy() == pytest.approx(near.calc.results["energy"], abs=1e-9)
    assert np.allclose(rn.calc.results["forces"] + w.get_forces(), near.calc.results["forces"], atol=1e-9)
    assert subtract_baseline([near], None)[0] is near
    with pytest.raises(TrainingInputError, match="unknown baseline 'd4'"):
        subtract_baseline([near], "d4")


@pytest.fixture()
def committee(tmp_path):
    for i in range(3):
        torch.save(make_tiny_mace_model(["Si"], r_max=4.0, seed=i), tmp_path / f"member_{i}.model")
    _mace_model.cache_clear()
    return tmp_path


def test_engine_adds_the_baseline_back_and_refuses_a_second_d3(committee):
    a = bulk("Si", "diamond", 5.43, cubic=True)
    a.positions += np.random.default_rng(0).normal(0, 0.05, a.positions.shape)
    bare = get_calculator(f"mace:{committee}", "cpu")
    e_bare, f_bare = bare.get_potential_energy(a), bare.get_forces(a)
    d3 = _d3_calculator("cpu")
    e_d3, f_d3 = d3.get_potential_energy(a), d3.get_forces(a)
    write_baseline_file(committee, "d3")
    assert json.loads((committee / BASELINE_FILE).read_text())["name"] == "d3"
    full = get_calculator(f"mace:{committee}", "cpu")
    assert full.get_potential_energy(a) == pytest.approx(e_bare + e_d3, abs=1e-8)
    assert np.allclose(full.get_forces(a), f_bare + f_d3, atol=1e-8)
    assert committee_spread(full) is not None  # the spread is still the MACE members'
    assert "torch-dftd" in engine_info(f"mace:{committee}").versions
    with pytest.raises(EngineSpecError, match="adds D3 itself.*drop '\\+d3'"):
        get_calculator(f"mace:{committee}+d3", "cpu")
    (committee / BASELINE_FILE).write_text(json.dumps({"name": "d9"}))
    with pytest.raises(EngineSpecError, match="baseline 'd9'; known baselines: d3"):
        get_calculator(f"mace:{committee}", "cpu")
    write_baseline_file(committee, None)
    assert not (committee / BASELINE_FILE).exists()
    assert get_calculator(f"mace:{committee}", "cpu").get_potential_energy(a) == pytest.approx(e_bare, abs=1e-10)
