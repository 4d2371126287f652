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
