"""Fixed-cell relaxation: one energy-and-forces evaluation per step, the full calculator's path, fixed atoms
held, progress lines with a bound on the time left."""

import logging

import numpy as np
import pytest
from ase.build import bulk
from ase.constraints import FixAtoms

from contactflow.engines import get_calculator
from contactflow.engines.properties import ENERGY_FORCES
from contactflow.jobs.relax import relax_fixed_cell


def li_in_si():
    a = bulk("Si", "diamond", a=5.431, cubic=True)
    a.append("Li")
    a.positions[-1] = [1.36, 1.36, 1.36]  # the tetrahedral site
    a.rattle(0.05, seed=2)  # everything a little off its minimum: the relaxation has work to do
    a.set_constraint(FixAtoms(indices=[0, 1]))
    return a


@pytest.mark.slow
def test_relaxation_computes_energy_and_forces_once_per_step_and_matches_the_full_calculator(caplog):
    atoms = li_in_si()
    calc = get_calculator("chgnet", "cpu", ENERGY_FORCES)
    with caplog.at_level(logging.INFO, logger="contactflow"):
        out = relax_fixed_cell(atoms, calc, fmax=0.05, steps=100, optimizer="BFGS")
    assert out.converged and out.max_force_eV_per_A <= 0.05 and 0 < out.steps < 100
    # the start plus one evaluation per step; the final energy and forces are cache hits
    assert calc.n_evaluations == out.steps + 1 and calc.record()["computed_properties"] == ["energy", "forces"]
    assert np.allclose(out.atoms.positions[:2], atoms.positions[:2])  # fixed atoms stay where they were
    # the same relaxation with the full calculator (energy, forces, stress, magmoms) takes the same path
    ref = relax_fixed_cell(atoms, get_calculator("chgnet", "cpu"), fmax=0.05, steps=100, optimizer="BFGS")
    assert ref.steps == out.steps and ref.energy_eV == pytest.approx(out.energy_eV, abs=1e-6)
    assert np.abs(ref.atoms.positions - out.atoms.positions).max() < 1e-6
    lines = [r.getMessage() for r in caplog.records if "relax" in r.getMessage()]
    assert any("steps (" in m and "≤ " in m and "max force" in m for m in lines)


@pytest.mark.slow
def test_lockstep_relaxation_of_many_structures_follows_each_alone_and_batches():
    from contactflow.engines.batch import BatchChooser, get_evaluator
    from contactflow.jobs.relax import relax_many

    images = [li_in_si()]
    second = li_in_si()
    second.rattle(0.03, seed=5)
    images.append(second)
    # a fixed number of steps (fmax unreachable): every path does the same amount of work
    alone = [relax_fixed_cell(a, get_calculator("chgnet", "cpu", ENERGY_FORCES), 1e-9, 12, "FIRE") for a in images]
    ev = get_evaluator("chgnet", "cpu")
    seq = relax_many(images, ev, BatchChooser("sequential", "cpu"), 1e-9, 12, "FIRE")
    for a, s in zip(alone, seq):  # one evaluation after another: exactly the path of each alone
        assert s.steps == a.steps == 12
        assert s.energy_eV == a.energy_eV and np.array_equal(s.atoms.positions, a.atoms.positions)
    assert seq[0].energy_eV < single_point(images[0]) - 0.01  # the relaxation went downhill
    bat = relax_many(images, ev, BatchChooser("batched", "cpu"), 1e-9, 12, "FIRE")
    for a, b in zip(alone, bat):  # one forward pass for both: the same path up to float32 batch noise
        assert b.energy_eV == pytest.approx(a.energy_eV, abs=1e-3)
    assert np.allclose(seq[0].atoms.positions[:2], images[0].positions[:2])  # fixed atoms held


def single_point(atoms) -> float:
    w = atoms.copy()
    w.calc = get_calculator("chgnet", "cpu", ("energy",))
    return float(w.get_potential_energy())
