"""Fine-tuning route: CHGNet (shipped weights) adapted on a few real CP2K labels lowers its error on them."""

from pathlib import Path

import numpy as np
import pytest

from contactflow.mlp.data import read_extxyz
from contactflow.mlp.finetune import FinetuneSettings, committee_calculator, finetune_committee, predict_per_atom

LISIC = Path(__file__).resolve().parents[3] / "potentials" / "mlp" / "lisic" / "data" / "train.extxyz"


def _tiny():
    frames = read_extxyz(LISIC)
    small = sorted((a for a in frames if a.info.get("system") == "C bilayer"), key=len)[:4]
    lisi = [a for a in frames if a.info.get("system") == "Li-Si"][:2]
    return small + lisi


def _errors(calc, frames):
    from contactflow.mlp.metrics import errors_by_system, predict

    return errors_by_system(predict(calc, frames))["all"]


@pytest.mark.slow
def test_finetuning_lowers_the_error_on_its_training_labels(tmp_path):
    from contactflow.engines import get_calculator

    frames = _tiny()
    before = _errors(get_calculator("chgnet+d3", "cpu"), frames)
    members = finetune_committee(frames, tmp_path / "ft", n_members=2, seed=0,
                                 settings=FinetuneSettings(epochs=2, learning_rate=1e-3, batch_size=2, val_fraction=0.2))
    assert [m.seed for m in members] == [0, 1] and all(m.path.is_file() for m in members)
    assert (tmp_path / "ft" / "baseline.json").is_file() and (tmp_path / "ft" / "finetune.json").is_file()
    after = _errors(committee_calculator(tmp_path / "ft"), frames)
    # re-referencing alone removes CP2K's per-element energy offset (hundreds of eV/atom for raw CHGNet)
    assert after["energy_mae_meV_per_atom"] < 0.1 * before["energy_mae_meV_per_atom"]
    assert after["force_mae_eV_per_A"] < before["force_mae_eV_per_A"]
    # the committee reports a spread (members differ by seed)
    assert after["uncertainty_force_error_spearman"] is not None or np.isfinite(after["force_mae_eV_per_A"])
    for m in members:  # the force error on its own training split went down over the two epochs
        f = m.history["f"]["train"]
        assert len(f) == 2 and f[1] < f[0]
