"""Labelled configurations: structural fingerprints, deduplication, conversion to ASE and extxyz.

The fingerprint is a smeared pair-distance histogram per element pair (per atom), plus the volume per
atom. It is invariant to translation, atom order and the symmetry operations of the cell, so symmetry-
equivalent configurations (the mirror images of a symmetric NEB band, the same site reached by two
samplers) collapse to one, while a 0.05 Å rattle stays distinct.
"""

from collections.abc import Iterable, Sequence
from itertools import combinations_with_replacement
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator

R_MIN_A, R_MAX_A, N_BINS, SMEAR_A = 0.5, 6.0, 56, 0.1
#: Two configurations of the same formula closer than this (RMS over fingerprint entries) are one.
DEDUP_TOL = 2.0e-3


def fingerprint(atoms: Atoms) -> np.ndarray:
    """Pair-distance fingerprint of a periodic (or finite) configuration.

    Parameters
    ----------
    atoms
        Configuration.

    Returns
    -------
    numpy.ndarray
        Concatenated Gaussian-smeared histograms of pair distances R_MIN_A–R_MAX_A for each sorted element
        pair (divided by the number of atoms), then the volume per atom / 100 Å³.
    """
    from ase.neighborlist import neighbor_list

    symbols = np.array(atoms.get_chemical_symbols())
    els = sorted(set(symbols))
    i, j, d = neighbor_list("ijd", atoms, R_MAX_A)
    centres = np.linspace(R_MIN_A, R_MAX_A, N_BINS)
    parts = []
    for a, b in combinations_with_replacement(els, 2):
        m = ((symbols[i] == a) & (symbols[j] == b)) | ((symbols[i] == b) & (symbols[j] == a))
        dd = d[m]
        hist = np.exp(-0.5 * ((dd[:, None] - centres[None, :]) / SMEAR_A) ** 2).sum(axis=0) if dd.size else np.zeros(N_BINS)
        parts.append(hist / len(atoms))
    vol = atoms.get_volume() / len(atoms) / 100.0 if atoms.pbc.all() else 0.0
    return np.concatenate([*parts, [vol]])


def fingerprint_distance(a: Sequence[float], b: Sequence[float]) -> float:
    """RMS difference of two fingerprints (``inf`` when they have different lengths)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape:
        return float("inf")
    return float(np.sqrt(np.mean((a - b) ** 2)))


def dedupe(configs: Sequence[Atoms], existing: Iterable[tuple[str, Sequence[float]]] = (),
           tol: float = DEDUP_TOL) -> list[int]:
    """Indices of ``configs`` that are new: not within ``tol`` of an earlier config or of ``existing``.

    Parameters
    ----------
    configs
        Candidate configurations.
    existing
        (formula, fingerprint) pairs already in the data set.
    tol
        Fingerprint distance below which two configurations of the same formula count as one.
    """
    seen: dict[str, list[np.ndarray]] = {}
    for formula, fp in existing:
        seen.setdefault(formula, []).append(np.asarray(fp, float))
    keep = []
    for k, at in enumerate(configs):
        f = at.get_chemical_formula()
        fp = fingerprint(at)
        if any(fingerprint_distance(fp, o) < tol for o in seen.get(f, [])):
            continue
        seen.setdefault(f, []).append(fp)
        keep.append(k)
    return keep


def doc_to_atoms(doc: dict) -> Atoms:
    """ASE Atoms with the DFT labels of a stored ``LabelledConfigDoc`` attached (SinglePointCalculator).

    Raises
    ------
    ValueError
        If the document is a failed DFT run (it has no labels).
    """
    from pymatgen.core import Structure
    from pymatgen.io.ase import AseAtomsAdaptor

    if doc.get("state") != "successful" or doc.get("energy_eV") is None:
        raise ValueError(f"labelled configuration {doc.get('doc_key')} is a failed DFT run "
                         f"({doc.get('failure_reason')}); it has no labels")
    atoms = AseAtomsAdaptor.get_atoms(Structure.from_dict(doc["structure"]))
    results = {"energy": doc["energy_eV"], "forces": np.array(doc["forces_eV_per_A"])}
    if doc.get("stress_eV_per_A3") is not None:
        results["stress"] = np.array(doc["stress_eV_per_A3"])
    atoms.calc = SinglePointCalculator(atoms, **results)
    atoms.info.update(system=doc["system"], source=doc["source"], doc_key=doc["doc_key"], split=doc.get("split", "train"))
    return atoms


def write_extxyz(docs: Iterable[dict], path: str | Path) -> int:
    """Write successful labelled configurations as extxyz with MACE's default keys.

    Keys: ``REF_energy`` (eV), ``REF_forces`` (eV/Å), ``REF_stress`` (eV/Å³, when present), plus
    ``system``, ``source``, ``doc_key``. Failed runs are skipped.

    Returns
    -------
    int
        Configurations written.
    """
    return write_frames([doc_to_atoms(d) for d in docs if d.get("state") == "successful"], path)


def write_frames(labelled: Iterable[Atoms], path: str | Path) -> int:
    """Write Atoms whose labels are in a SinglePointCalculator as extxyz (keys as :func:`write_extxyz`)."""
    from ase.io import write

    frames = []
    for at in labelled:
        plain = Atoms(at.get_chemical_symbols(), positions=at.positions, cell=at.cell, pbc=at.pbc)
        plain.info.update({k: v for k, v in at.info.items()})
        plain.info["REF_energy"] = float(at.calc.results["energy"])
        plain.arrays["REF_forces"] = np.array(at.calc.results["forces"])
        if "stress" in at.calc.results:
            plain.info["REF_stress"] = np.array(at.calc.results["stress"])
        frames.append(plain)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write(path, frames, format="extxyz")
    return len(frames)


def read_extxyz(path: str | Path) -> list[Atoms]:
    """Read an extxyz written by :func:`write_extxyz`; labels become a SinglePointCalculator."""
    from ase.io import read

    from contactflow.errors import TrainingInputError

    frames = read(path, index=":", format="extxyz")
    out = []
    for k, f in enumerate(frames):
        if "REF_energy" not in f.info or "REF_forces" not in f.arrays:
            raise TrainingInputError(f"{path}: frame {k} has no REF_energy / REF_forces labels; valid input is what "
                                     "'contactflow dataset export' writes (REF_energy, REF_forces, REF_stress)")
        at = Atoms(f.get_chemical_symbols(), positions=f.positions, cell=f.cell, pbc=f.pbc)
        at.info.update({k: v for k, v in f.info.items() if not k.startswith("REF_")})
        res = {"energy": float(f.info["REF_energy"]), "forces": np.array(f.arrays["REF_forces"])}
        if "REF_stress" in f.info:
            res["stress"] = np.array(f.info["REF_stress"])
        at.calc = SinglePointCalculator(at, **res)
        out.append(at)
    return out
