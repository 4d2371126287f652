"""ReaxFF through LAMMPS on a small Fe/O/C/H cell: forces, charges, relaxation, failures."""

import numpy as np
import pytest
from ase import Atoms
from ase.optimize import BFGS

from contactflow.engines import (
    CalculationFailedError,
    UnsupportedElementsError,
    check_elements,
    engine_info,
    get_calculator,
    parse_spec,
)
from contactflow.engines.reaxff import ReaxFFCalculator, ffield_elements, resolve_ffield
from contactflow.errors import EngineSpecError


def fe_o_c_h_cell() -> Atoms:
    """A 2x2 graphene sheet (8 C) with a hydroxyl group and an Fe–O unit above it, 20 Å cell."""
    a = 2.46
    cell = np.array([[2 * a, 0, 0], [-a, a * np.sqrt(3), 0], [0, 0, 16.0]])
    frac = []
    for i in range(2):
        for j in range(2):
            frac += [[i / 2, j / 2], [(i + 1 / 3) / 2, (j + 2 / 3) / 2]]
    pos = [list(np.array(f) @ cell[:2, :2]) + [6.0] for f in frac]
    c0, c5 = np.array(pos[0]), np.array(pos[5])
    extra = [
        ("O", c0 + [0, 0, 1.43]), ("H", c0 + [0.95, 0, 1.75]),  # C–OH
        ("O", c5 + [0, 0, 1.45]), ("Fe", c5 + [0, 0, 3.10]),  # C–O–Fe
    ]
    return Atoms(
        "C8" + "".join(s for s, _ in extra), positions=pos + [p for _, p in extra], cell=cell, pbc=True
    )


def test_shipped_ffield_elements():
    assert ffield_elements(str(resolve_ffield("Fe_O_C_H"))) == ("C", "H", "O", "Fe")
    assert ffield_elements(str(resolve_ffield("cho"))) == ("C", "H", "O")


def test_spec_canonical_and_provenance():
    assert parse_spec("ReaxFF:ffield.reax.Fe_O_C_H").canonical == "reaxff:Fe_O_C_H"
    info = engine_info("reaxff:Fe_O_C_H")
    assert info.device == "cpu" and info.model_hash.startswith("sha256:")
    assert info.versions["lammps"] not in ("", "not installed")
    with pytest.raises(EngineSpecError, match="Fe_O_C_H, cho"):
        parse_spec("reaxff:no_such_file")


def test_missing_element_fails_before_compute_and_names_it():
    with pytest.raises(UnsupportedElementsError, match=r"element\(s\) Li, Si .*covers: H, C, O"):
        check_elements("reaxff:cho", ["C", "Si", "H", "Li"])
    atoms = fe_o_c_h_cell()
    atoms.calc = get_calculator("reaxff:cho")  # no Fe in the C/H/O set
    with pytest.raises(UnsupportedElementsError, match="Fe"):
        atoms.get_potential_energy()


def test_forces_are_the_energy_gradient_and_charges_neutral():
    atoms = fe_o_c_h_cell()
    atoms.calc = ReaxFFCalculator(resolve_ffield("Fe_O_C_H"), settings={"qeq_tolerance": 1e-10})
    f = atoms.get_forces()
    q = atoms.get_charges()
    assert abs(q.sum()) < 1e-6
    sym = atoms.get_chemical_symbols()
    assert all(q[i] < 0 for i, s in enumerate(sym) if s == "O")
    assert all(q[i] > 0 for i, s in enumerate(sym) if s in ("H", "Fe"))
    h = 1e-4
    for i in (8, 11):  # the hydroxyl O and the Fe
        for k in range(3):
            w = atoms.copy()
            w.calc = atoms.calc
            w.positions[i, k] += h
            ep = w.get_potential_energy()
            w.positions[i, k] -= 2 * h
            em = w.get_potential_energy()
            assert -(ep - em) / (2 * h) == pytest.approx(f[i, k], abs=0.02 + 0.01 * abs(f[i, k]))


def test_translation_invariance_in_a_skewed_cell():
    atoms = fe_o_c_h_cell()
    atoms.calc = get_calculator("reaxff:Fe_O_C_H")
    e0 = atoms.get_potential_energy()
    atoms.translate([1.3, -0.7, 2.0])
    assert atoms.get_potential_energy() == pytest.approx(e0, abs=1e-5)


@pytest.mark.slow
def test_short_relaxation_lowers_energy_and_converges():
    atoms = fe_o_c_h_cell()
    atoms.calc = get_calculator("reaxff:Fe_O_C_H")
    e0 = atoms.get_potential_energy()
    opt = BFGS(atoms, logfile=None)
    converged = opt.run(fmax=0.1, steps=300)
    assert converged
    assert atoms.get_potential_energy() < e0 - 0.1
    assert np.abs(atoms.get_forces()).max() < 0.1


def test_unconverged_qeq_is_a_failure_not_a_number():
    atoms = fe_o_c_h_cell()
    atoms.calc = ReaxFFCalculator(resolve_ffield("Fe_O_C_H"), settings={"qeq_maxiter": 2})
    with pytest.raises(CalculationFailedError, match="QEq .* did not converge"):
        atoms.get_potential_energy()
