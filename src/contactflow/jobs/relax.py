"""Fixed-cell relaxation through atomate2's ``AseRelaxer`` (FixAtoms constraints respected)."""

import logging
from dataclasses import dataclass

from ase import Atoms

log = logging.getLogger(__name__)


@dataclass
class RelaxOutcome:
    """Final atoms, energy and whether forces reached ``fmax``."""

    atoms: Atoms
    energy_eV: float
    converged: bool
    steps: int
    max_force_eV_per_A: float | None = None


def single_point_energy(atoms: Atoms, calculator) -> float:
    """Potential energy of ``atoms`` as they are, eV (no optimizer, no convergence claim)."""
    work = atoms.copy()
    work.calc = calculator
    return float(work.get_potential_energy())


def max_free_force(atoms: Atoms, forces) -> float:
    """Largest force norm on an atom that no ``FixAtoms`` constraint holds, eV/Å."""
    import numpy as np

    f = np.asarray(forces, dtype=float)
    fixed = set()
    for c in atoms.constraints:
        fixed.update(int(i) for i in getattr(c, "index", []))
    free = [i for i in range(len(atoms)) if i not in fixed]
    return float(np.linalg.norm(f[free], axis=1).max()) if free else 0.0


def relax_fixed_cell(atoms: Atoms, calculator, fmax: float, steps: int, optimizer: str = "FIRE") -> RelaxOutcome:
    """Relax positions at fixed cell; ``converged`` is measured from the final forces, never assumed.

    Parameters
    ----------
    atoms
        Structure with optional ``FixAtoms`` constraints (kept).
    calculator
        ASE calculator.
    fmax
        Force criterion, eV/Å (on unconstrained atoms).
    steps
        Largest number of optimizer steps (≥ 1; use :func:`single_point_energy` for a single point).
    optimizer
        ASE optimizer name known to atomate2 (``FIRE``, ``BFGS``, ``LBFGS`` …).
    """
    from atomate2.ase.utils import AseRelaxer

    if steps < 1:
        raise ValueError(f"a relaxation needs steps ≥ 1, got {steps}")
    work = atoms.copy()
    relaxer = AseRelaxer(calculator=calculator, optimizer=optimizer, relax_cell=False)
    res = relaxer.relax(work, fmax=fmax, steps=steps, final_atoms_object_file=None, use_emmet_models=False)
    traj = res.trajectory
    final = work.copy()  # the optimizer moved ``work`` in place
    energy = float(traj.frame_properties[-1]["energy"])
    fmax_now = max_free_force(work, traj.frame_properties[-1]["forces"])
    out = RelaxOutcome(final, energy, bool(fmax_now <= fmax), len(traj) - 1, fmax_now)
    log.info("relaxed %s (%d atoms): %d steps, E = %.4f eV, %s", atoms.get_chemical_formula(), len(atoms),
             out.steps, energy, "converged" if out.converged else f"NOT converged to fmax={fmax} eV/Å")
    return out


def relax_or_evaluate(atoms: Atoms, calculator, fmax: float, steps: int, optimizer: str = "FIRE") -> RelaxOutcome:
    """:func:`relax_fixed_cell` for ``steps ≥ 1``; ``steps == 0`` is a single point (``steps`` 0 in the
    outcome, no measured force: callers that report it must say the structure was not relaxed)."""
    if steps >= 1:
        return relax_fixed_cell(atoms, calculator, fmax, steps, optimizer)
    return RelaxOutcome(atoms.copy(), single_point_energy(atoms, calculator), True, 0)
