"""Analytic baselines a model is trained on top of: members learn DFT − baseline, the engine adds it back.

``d3``: DFT-D3(BJ) with PBE parameters, the same torch-dftd calculator the ``+d3`` engine modifier uses
(:func:`contactflow.engines.calculators._d3_calculator`, 10 Å cutoff). Dispersion reaches past a MACE
cutoff (5 Å): measured on the graphene-bilayer labels, CP2K PBE-D3 energies still change by 6.2
meV/atom between 5 and 7 Å openings, while DFT − D3 changes by less than 0.9 meV/atom beyond 3.8 Å. A
model with the D3 baseline therefore only has to learn what lies inside its cutoff.
"""

import json
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator

from contactflow.engines.calculators import BASELINE_FILE, BASELINES, _d3_calculator
from contactflow.errors import TrainingInputError


def check_baseline(name: str | None) -> None:
    """Raise for a baseline name the engine would not know."""
    if name is not None and name not in BASELINES:
        raise TrainingInputError(f"unknown baseline {name!r}; valid: {', '.join(BASELINES)} or None")


def subtract_baseline(frames: list[Atoms], name: str | None, device: str = "cpu") -> list[Atoms]:
    """Copies of labelled ``frames`` whose energy, forces (and stress) have the baseline's taken off."""
    check_baseline(name)
    if name is None:
        return frames
    d3 = _d3_calculator(device)
    out = []
    for at in frames:
        ref = at.calc.results
        work = Atoms(at.get_chemical_symbols(), positions=at.positions, cell=at.cell, pbc=at.pbc)
        work.info.update(at.info)
        work.calc = d3
        res = {"energy": float(ref["energy"]) - float(work.get_potential_energy()),
               "forces": np.asarray(ref["forces"]) - work.get_forces()}
        if "stress" in ref:
            res["stress"] = np.asarray(ref["stress"]) - work.get_stress()
        work.calc = SinglePointCalculator(work, **res)
        out.append(work)
    return out


def write_baseline_file(model_dir: str | Path, name: str | None) -> None:
    """Record (or, for ``None``, remove) the baseline of the committee in ``model_dir``."""
    check_baseline(name)
    f = Path(model_dir) / BASELINE_FILE
    if name is None:
        f.unlink(missing_ok=True)
        return
    from importlib.metadata import version

    f.write_text(json.dumps({"name": name, "kind": "DFT-D3(BJ), PBE parameters, 10 A cutoff",
                             "package": "torch-dftd", "version": version("torch-dftd")}, indent=1))
