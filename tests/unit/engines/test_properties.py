"""Property calculators compute only what the job asks for and give the full calculator's numbers.

Real engines on small cells: CHGNet (and +D3) on a 9-atom Li-in-Si cell, a tiny random MACE committee
(real mace-torch architecture) on SiC.
"""

import numpy as np
import pytest
import torch
from ase.build import bulk
from ase.calculators.calculator import PropertyNotImplementedError

from contactflow.engines import get_calculator
from contactflow.engines.calculators import committee_spread
from contactflow.engines.mace_io import make_tiny_mace_model
from contactflow.engines.properties import (
    ENERGY, ENERGY_FORCES, ENERGY_FORCES_STRESS, PropertyCalculator, evaluation_record, job_properties,
)
from contactflow.errors import EngineSpecError


def li_in_si(seed: int = 1):
    a = bulk("Si", "diamond", a=5.431, cubic=True)
    a.append("Li")
    a.positions[-1] = [1.36, 1.36, 1.36]
    a.rattle(0.05, seed=seed)
    return a


def full_results(atoms, calc):
    w = atoms.copy()
    w.calc = calc
    return w.get_potential_energy(), w.get_forces(), w.get_stress()


def test_job_property_sets():
    assert job_properties(forces=False) == ENERGY
    assert job_properties() == ENERGY_FORCES
    assert job_properties(stress=True) == ENERGY_FORCES_STRESS
    assert job_properties(magmoms=True)[-1] == "magmoms"
    with pytest.raises(EngineSpecError, match="unknown properties"):
        get_calculator("chgnet", "cpu", ("energy", "dipole"))


@pytest.mark.slow
def test_chgnet_energy_forces_equal_the_full_calculator_and_skip_stress():
    atoms = li_in_si()
    e_ref, f_ref, s_ref = full_results(atoms, get_calculator("chgnet", "cpu"))
    calc = get_calculator("chgnet", "cpu", ENERGY_FORCES)
    assert isinstance(calc, PropertyCalculator) and "stress" not in calc.implemented_properties
    w = atoms.copy()
    w.calc = calc
    assert w.get_potential_energy() == e_ref  # bitwise: the same forward pass without the stress graph
    assert np.array_equal(w.get_forces(), f_ref)
    with pytest.raises(PropertyNotImplementedError):
        w.get_stress()
    assert calc.n_evaluations == 1  # forces after the energy were a cache hit, not a second model call
    assert calc.record()["computed_properties"] == ["energy", "forces"]
    # variable-cell work asks for the stress and gets the full calculator's
    s = get_calculator("chgnet", "cpu", ENERGY_FORCES_STRESS)
    w.calc = s
    assert np.abs(w.get_stress() - s_ref).max() < 1e-9
    # energy only: the same energy from a forward pass without any gradient
    w.calc = get_calculator("chgnet", "cpu", ENERGY)
    assert w.get_potential_energy() == e_ref
    with pytest.raises(PropertyNotImplementedError):
        w.get_forces()


@pytest.mark.slow
def test_chgnet_d3_parts_add_up_and_batch_equals_one_by_one():
    images = [li_in_si(s) for s in (1, 2, 3)]
    full = get_calculator("chgnet+d3", "cpu")
    calc = get_calculator("chgnet+d3", "cpu", ENERGY_FORCES)
    assert [p.name for p in calc.parts] == ["chgnet", "d3"] and calc.supports_batch
    one = calc.evaluate(images)
    many = calc.evaluate(images, batched=True)
    for a, r1, rb in zip(images, one, many):
        e_ref, f_ref, _ = full_results(a, full)
        # the SumCalculator adds in float32 (CHGNet's dtype); the parts add in float64
        assert r1["energy"] == pytest.approx(e_ref, abs=2e-5)
        assert np.abs(r1["forces"] - f_ref).max() < 1e-5
        assert rb["energy"] == pytest.approx(r1["energy"], abs=1e-4)
        assert np.abs(rb["forces"] - r1["forces"]).max() < 1e-4
    assert calc.n_evaluations == 6
    assert evaluation_record(calc, None)["n_evaluations"] == 6


@pytest.fixture(scope="module")
def committee(tmp_path_factory):
    d = tmp_path_factory.mktemp("committee")
    for i in range(2):
        torch.save(make_tiny_mace_model(["Si", "C"], r_max=4.0, seed=i), d / f"member_{i}.model")
    return f"mace:{d}"


def sic(seed: int = 0):
    a = bulk("SiC", "zincblende", a=4.36, cubic=True)
    a.rattle(0.05, seed=seed)
    return a


def test_mace_committee_without_stress_equals_the_mace_calculator(committee):
    atoms = sic()
    full = get_calculator(committee, "cpu")
    e_ref, f_ref, _ = full_results(atoms, full)
    spread_ref = committee_spread(full)
    calc = get_calculator(committee, "cpu", ENERGY_FORCES)
    w = atoms.copy()
    w.calc = calc
    assert w.get_potential_energy() == pytest.approx(e_ref, abs=1e-9)
    assert np.abs(w.get_forces() - f_ref).max() < 1e-9
    with pytest.raises(PropertyNotImplementedError):
        w.get_stress()
    spread = committee_spread(calc)  # the committee's disagreement is still there for uncertainties
    assert spread["energies_eV"] == pytest.approx(spread_ref["energies_eV"], abs=1e-9)
    assert spread["forces_std_eV_per_A"] == pytest.approx(spread_ref["forces_std_eV_per_A"], abs=1e-9)
    # the two members differ: a committee that always agreed would hide extrapolation
    assert spread["energy_std_eV"] > 0
    w.calc = get_calculator(committee, "cpu", ENERGY)
    assert w.get_potential_energy() == pytest.approx(e_ref, abs=1e-9)


def test_engines_that_cannot_skip_keep_their_calculator():
    from contactflow.engines.reaxff import ReaxFFCalculator

    calc = get_calculator("reaxff:cho", "cpu", ENERGY_FORCES)
    assert isinstance(calc, ReaxFFCalculator)
    w = bulk("C", "diamond", a=3.57, cubic=True)
    w.calc = calc
    w.get_forces()
    rec = evaluation_record(calc)
    assert {"energy", "forces"} <= set(rec["computed_properties"]) and rec["n_evaluations"] is None
