"""Active-learning pieces: committee disagreement of candidate configurations and the pick for DFT."""

from collections.abc import Callable
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


# --------------------------------------------------------------------------------------------------
# workflows an active-learning campaign can drive with the committee (name → configurations)
# --------------------------------------------------------------------------------------------------
def si_td_hop_neb(engine: str, device: str = "cpu") -> list[Atoms]:
    """Every configuration the Li Td–Hex–Td NEB in Si visits with ``engine``: the endpoint relaxations'
    frames and each band evaluation (the NEB workflow's own steps: relax, IDPP band, climbing image)."""
    from contactflow.engines import get_calculator
    from contactflow.engines.batch import BatchChooser, ImageEvaluator
    from contactflow.jobs.neb import interpolate_band, run_climbing_neb
    from contactflow.jobs.relax import relax_fixed_cell
    from contactflow.mlp import sampling
    from contactflow.mlp.plans import si_td_hop

    seen: list[Atoms] = []

    class Recorder(ImageEvaluator):
        def _evaluate_one(self, atoms):
            seen.append(atoms.copy())
            return super()._evaluate_one(atoms)

    calc = get_calculator(engine, device)
    _, a, b = si_td_hop()
    ends = [relax_fixed_cell(x, calc, 0.05, 100, "BFGS").atoms for x in (a, b)]
    seen += ends
    run_climbing_neb(interpolate_band(*ends, 3), Recorder(calc), BatchChooser("sequential", device), 0.05, 150, "BFGS")
    return [sampling._tag(x, "active_learning", "Li-Si") for x in seen]


def bilayer_traction(engine: str, device: str = "cpu") -> list[Atoms]:
    """The graphene-bilayer traction–separation openings (2.6–9 Å) the W_sep comparison uses."""
    from contactflow.mlp import sampling
    from contactflow.mlp.plans import graphene_bilayer

    return sampling.traction_scan(graphene_bilayer(), [2, 3], np.linspace(2.6, 9.0, 17), system="C bilayer")


WORKFLOWS: dict[str, Callable[..., list[Atoms]]] = {"si_td_hop_neb": si_td_hop_neb, "bilayer_traction": bilayer_traction}


def workflow(name: str) -> Callable[..., list[Atoms]]:
    """An active-learning workflow by name (``ValueError`` naming the valid ones)."""
    if name not in WORKFLOWS:
        raise TrainingInputError(f"unknown active-learning workflow {name!r}; valid: {', '.join(WORKFLOWS)}")
    return WORKFLOWS[name]
