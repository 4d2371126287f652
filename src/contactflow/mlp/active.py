"""Active-learning pieces: committee disagreement of candidate configurations and the pick for DFT."""

from dataclasses import dataclass

import numpy as np
from ase import Atoms

from contactflow.mlp.data import dedupe
from contactflow.errors import TrainingInputError


@dataclass
class Disagreement:
    """Committee spread on one configuration."""

    index: int
    max_force_std_eV_per_A: float
    mean_force_std_eV_per_A: float
    energy_std_eV_per_atom: float


def disagreements(calc, configs: list[Atoms]) -> list[Disagreement]:
    """Committee spread of ``calc`` (a committee engine) on each configuration.

    Raises
    ------
    ValueError
        If the engine is not a committee (it reports no spread).
    """
    from contactflow.engines.calculators import committee_spread

    out = []
    for i, at in enumerate(configs):
        work = Atoms(at.get_chemical_symbols(), positions=at.positions, cell=at.cell, pbc=at.pbc)
        work.calc = calc
        work.get_potential_energy()
        work.get_forces()
        s = committee_spread(calc)
        if s is None:
            raise TrainingInputError("active learning needs a committee engine (mace:<directory of member_*.model>); "
                             "the engine reported no spread")
        f = np.asarray(s["forces_std_eV_per_A"])
        out.append(Disagreement(i, float(f.max()), float(f.mean()), s["energy_std_eV"] / len(at)))
    return out


def select(spreads: list[Disagreement], configs: list[Atoms], n: int, threshold_eV_per_A: float,
           existing: list[tuple[str, list[float]]] = (), tol: float = 1.0e-2) -> list[int]:
    """Indices of up to ``n`` configurations to label: largest force spread first, above the threshold,
    none within ``tol`` (fingerprint distance) of another pick or of ``existing`` (formula, fingerprint) data:
    consecutive optimizer steps are one configuration for labelling purposes."""
    order = sorted((d for d in spreads if d.max_force_std_eV_per_A > threshold_eV_per_A),
                   key=lambda d: -d.max_force_std_eV_per_A)
    ranked = [d.index for d in order]
    fresh = dedupe([configs[i] for i in ranked], existing, tol)
    return [ranked[k] for k in fresh][:n]
