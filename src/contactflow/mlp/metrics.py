"""Errors of a model against DFT labels, per system, and how informative its committee spread is."""

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from ase import Atoms


@dataclass
class Prediction:
    """Model vs DFT for one configuration."""

    system: str
    n_atoms: int
    energy_ref_eV: float
    energy_eV: float
    forces_ref: np.ndarray
    forces: np.ndarray
    energy_std_eV: float | None = None
    forces_std: np.ndarray | None = None  # per atom, eV/Å


def predict(calc, configs: list[Atoms]) -> list[Prediction]:
    """Evaluate ``calc`` on labelled configurations (labels in a SinglePointCalculator)."""
    from contactflow.engines.calculators import committee_spread

    out = []
    for at in configs:
        ref_e = float(at.calc.results["energy"])
        ref_f = np.array(at.calc.results["forces"])
        work = Atoms(at.get_chemical_symbols(), positions=at.positions, cell=at.cell, pbc=at.pbc)
        work.calc = calc
        e = float(work.get_potential_energy())
        f = np.array(work.get_forces())
        spread = committee_spread(calc)
        out.append(Prediction(at.info.get("system", at.get_chemical_formula()), len(at), ref_e, e, ref_f, f,
                              spread["energy_std_eV"] if spread else None,
                              np.array(spread["forces_std_eV_per_A"]) if spread else None))
    return out


def spearman(x, y) -> float:
    """Spearman rank correlation (NaN when either side is constant)."""
    from scipy.stats import spearmanr

    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(spearmanr(x, y).statistic)


def error_summary(preds: list[Prediction]) -> dict:
    """Energy (meV/atom) and force-component (eV/Å) MAE/RMSE, plus the uncertainty–error rank correlation.

    The correlation is between each atom's committee force spread and the norm of its true force error.
    """
    de = np.array([(p.energy_eV - p.energy_ref_eV) / p.n_atoms * 1000.0 for p in preds])
    df = np.concatenate([(p.forces - p.forces_ref).ravel() for p in preds]) if preds else np.zeros(0)
    out = {
        "n_configs": len(preds),
        "energy_mae_meV_per_atom": float(np.mean(np.abs(de))) if len(de) else float("nan"),
        "energy_rmse_meV_per_atom": float(np.sqrt(np.mean(de**2))) if len(de) else float("nan"),
        "force_mae_eV_per_A": float(np.mean(np.abs(df))) if df.size else float("nan"),
        "force_rmse_eV_per_A": float(np.sqrt(np.mean(df**2))) if df.size else float("nan"),
        "uncertainty_force_error_spearman": None,
    }
    if preds and all(p.forces_std is not None for p in preds):
        err = np.concatenate([np.linalg.norm(p.forces - p.forces_ref, axis=1) for p in preds])
        std = np.concatenate([p.forces_std for p in preds])
        rho = spearman(std, err)
        out["uncertainty_force_error_spearman"] = None if np.isnan(rho) else rho
    return out


def errors_by_system(preds: list[Prediction]) -> dict[str, dict]:
    """:func:`error_summary` per system label, plus ``"all"``."""
    groups: dict[str, list[Prediction]] = defaultdict(list)
    for p in preds:
        groups[p.system].append(p)
    out = {k: error_summary(v) for k, v in sorted(groups.items())}
    out["all"] = error_summary(preds)
    return out
