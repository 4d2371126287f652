"""Fixed-cell relaxation with an ASE optimizer (FixAtoms constraints respected), with progress lines.

Why not atomate2's ``AseRelaxer`` (used here before): it attaches a ``TrajectoryObserver`` that stores
every frame (and asks the calculator for a stress whenever it implements one, and for magnetic moments)
and builds a pymatgen trajectory the job never reads, and it offers no hook for progress. The optimizer
underneath is the same ASE class with the same settings, so the path and the energies are the same.
The calculator should be built for energy and forces only
(``get_calculator(spec, device, ENERGY_FORCES)``): a fixed cell never needs the stress.
"""

import logging
from dataclasses import dataclass

from ase import Atoms
from ase.calculators.calculator import Calculator

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


def optimizer_class(name: str):
    """The ASE optimizer class called ``name`` (``FIRE``, ``BFGS``, ``LBFGS``, ``MDMin`` …)."""
    import ase.optimize

    cls = getattr(ase.optimize, name, None)
    if not isinstance(cls, type):
        raise ValueError(f"unknown ASE optimizer {name!r}; e.g. FIRE, BFGS, LBFGS, MDMin")
    return cls


def relax_fixed_cell(atoms: Atoms, calculator, fmax: float, steps: int, optimizer: str = "FIRE",
                     label: str | None = None) -> RelaxOutcome:
    """Relax positions at fixed cell; ``converged`` is measured from the final forces, never assumed.

    Parameters
    ----------
    atoms
        Structure with optional ``FixAtoms`` constraints (kept).
    calculator
        ASE calculator (energy and forces are all it is asked for).
    fmax
        Force criterion, eV/Å (on unconstrained atoms).
    steps
        Largest number of optimizer steps (≥ 1; use :func:`single_point_energy` for a single point).
    optimizer
        ASE optimizer name (``FIRE``, ``BFGS``, ``LBFGS`` …).
    label
        Name in the progress lines (default ``relax <formula>``).
    """
    from contactflow.engines.cost import ProgressMeter

    if steps < 1:
        raise ValueError(f"a relaxation needs steps ≥ 1, got {steps}")
    work = atoms.copy()
    work.calc = calculator
    opt = optimizer_class(optimizer)(work, logfile=None)
    meter = ProgressMeter(label or f"relax {atoms.get_chemical_formula()} ({len(atoms)} atoms)", steps, "steps",
                          upper_bound=True, logger=log)
    for _ in opt.irun(fmax=fmax, steps=steps):
        if opt.nsteps and meter.due(opt.nsteps):
            meter.update(opt.nsteps, f"max force {max_free_force(work, work.get_forces()):.3f} eV/Å")
    energy = float(work.get_potential_energy())
    fmax_now = max_free_force(work, work.get_forces(apply_constraint=False))
    final = work.copy()
    final.calc = None
    out = RelaxOutcome(final, energy, bool(fmax_now <= fmax), int(opt.nsteps), fmax_now)
    log.info("relaxed %s (%d atoms): %d steps, E = %.4f eV, %s", atoms.get_chemical_formula(), len(atoms),
             out.steps, energy, "converged" if out.converged else f"NOT converged to fmax={fmax} eV/Å")
    return out


def relax_or_evaluate(atoms: Atoms, calculator, fmax: float, steps: int, optimizer: str = "FIRE") -> RelaxOutcome:
    """:func:`relax_fixed_cell` for ``steps ≥ 1``; ``steps == 0`` is a single point (``steps`` 0 in the
    outcome, no measured force: callers that report it must say the structure was not relaxed)."""
    if steps >= 1:
        return relax_fixed_cell(atoms, calculator, fmax, steps, optimizer)
    return RelaxOutcome(atoms.copy(), single_point_energy(atoms, calculator), True, 0)


def relax_many(images: list[Atoms], evaluator, chooser, fmax: float, steps: int, optimizer: str = "FIRE",
               label: str = "relax batch") -> list[RelaxOutcome]:
    """Relax independent structures at fixed cell in lockstep, evaluating them together each step.

    Every structure has its own ASE optimizer (the same algorithm and state as :func:`relax_fixed_cell`
    alone); at each step the structures not yet converged are evaluated in one call to the engine layer's
    evaluator — one batched forward pass where ``chooser`` decides the batch is faster on this device (a
    GPU), one after another where it is not — and each optimizer then takes its step from its own results.
    Registry scans with relaxation, site screens and other sets of independent structures use it.

    Parameters
    ----------
    images
        Structures (each with its own ``FixAtoms`` constraints); not modified.
    evaluator, chooser
        :func:`contactflow.engines.batch.get_evaluator` and a
        :class:`~contactflow.engines.batch.BatchChooser` (``auto``: the batch on CUDA).
    fmax, steps, optimizer
        As :func:`relax_fixed_cell`, per structure.
    label
        Name in the progress lines.
    """
    from contactflow.engines.cost import ProgressMeter

    if steps < 1:
        raise ValueError(f"a relaxation needs steps ≥ 1, got {steps}")
    works = [a.copy() for a in images]
    for w in works:
        w.calc = _HeldResults()
    opts = [optimizer_class(optimizer)(w, logfile=None) for w in works]
    for opt in opts:
        opt.fmax = fmax
    active = list(range(len(works)))
    meter = ProgressMeter(f"{label} ({len(works)} structures)", steps, "steps", upper_bound=True, logger=log)
    converged = [False] * len(works)
    n = 0
    while active:
        stale = [i for i in active if works[i].calc.stale(works[i])]
        for i, r in zip(stale, chooser.evaluate(evaluator, [works[i] for i in stale])):
            works[i].calc.hold(works[i], r.energy_eV, r.forces)
        still = []
        for i in active:
            converged[i] = bool(opts[i].converged())  # the optimizer's own criterion on its held forces
            if not converged[i] and opts[i].nsteps < steps:
                still.append(i)
        if not still:
            break
        for i in still:  # each optimizer steps from its own held results (no evaluation inside)
            opts[i].step()
            opts[i].nsteps += 1
        n += 1
        meter.update(n, f"{len(still)} not converged")
        active = still
    out = []
    for w, opt, conv in zip(works, opts, converged):
        fmax_now = max_free_force(w, w.get_forces(apply_constraint=False))
        energy = float(w.get_potential_energy())
        final = w.copy()
        out.append(RelaxOutcome(final, energy, bool(fmax_now <= fmax) and conv, int(opt.nsteps), fmax_now))
    log.info("%s: %d structures relaxed in lockstep (%d converged, batch path %s)", label, len(out),
             sum(o.converged for o in out), getattr(chooser, "decided", None))
    return out


class _HeldResults(Calculator):
    """Holds the results the lockstep loop of :func:`relax_many` computed for its structure."""

    implemented_properties = ["energy", "free_energy", "forces"]

    def stale(self, atoms) -> bool:
        """Whether the structure moved since its results were computed."""
        return not self.results or bool(self.check_state(atoms))

    def hold(self, atoms, energy: float, forces) -> None:
        self.atoms = atoms.copy()
        self.results = {"energy": energy, "free_energy": energy, "forces": forces}

    def calculate(self, atoms=None, properties=None, system_changes=None):
        raise RuntimeError("relax_many evaluates every structure before its optimizer steps")
