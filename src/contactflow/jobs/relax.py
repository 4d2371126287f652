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


def relax_fixed_cell(atoms: Atoms, calculator, fmax: float, steps: int, optimizer: str = "FIRE") -> RelaxOutcome:
    """Relax positions at fixed cell; ``steps <= 1`` is a single point.

    Parameters
    ----------
    atoms
        Structure with optional ``FixAtoms`` constraints (kept).
    calculator
        ASE calculator.
    fmax
        Force criterion, eV/Å (on unconstrained atoms).
    steps
        Largest number of optimizer steps.
    optimizer
        ASE optimizer name known to atomate2 (``FIRE``, ``BFGS``, ``LBFGS`` …).
    """
    from atomate2.ase.utils import AseRelaxer

    work = atoms.copy()
    if steps <= 1:
        work.calc = calculator
        e = float(work.get_potential_energy())
        return RelaxOutcome(work, e, True, 0)
    relaxer = AseRelaxer(calculator=calculator, optimizer=optimizer, relax_cell=False)
    res = relaxer.relax(work, fmax=fmax, steps=steps, final_atoms_object_file=None, use_emmet_models=False)
    traj = res.trajectory
    final = work.copy()  # the optimizer moved ``work`` in place
    energy = float(traj.frame_properties[-1]["energy"])
    out = RelaxOutcome(final, energy, bool(res.is_force_converged), len(traj) - 1)
    log.info("relaxed %s (%d atoms): %d steps, E = %.4f eV, %s", atoms.get_chemical_formula(), len(atoms),
             out.steps, energy, "converged" if out.converged else f"NOT converged to fmax={fmax} eV/Å")
    return out
