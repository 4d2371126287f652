"""Initial magnetic moments for magnetic oxides (pure: geometry in, moments out).

Magnetite (inverse spinel Fe3O4) is ferrimagnetic: the tetrahedral Fe(A) sublattice (Fe3+) is antiparallel
to the octahedral Fe(B) sublattice (Fe2.5+ on average), 4 μB per formula unit net. The sites are told apart
by their Fe–O bond length (bulk: Fe(A)–O 1.89 Å, Fe(B)–O 2.06 Å; Fleet 1981), which survives at surfaces and
strains where the coordination number does not (a surface Fe(B) may keep only three O).
"""

import numpy as np
from ase import Atoms
from pymatgen.core import Structure

#: Fe–O mean bond length separating tetrahedral (shorter) from octahedral (longer) Fe, Å.
FE_AB_SPLIT_A = 1.97
#: Starting moments, μB: Fe(A) −, Fe(B) + (high-spin d5 / d5–d6).
MAGNETITE_MOMENTS = {"A": -4.0, "B": 4.0}


def _fe_o_mean_bond(atoms: Atoms, i: int, cutoff_A: float = 2.35) -> float:
    from ase.neighborlist import neighbor_list

    ii, jj, dd = neighbor_list("ijd", atoms, cutoff_A)
    sym = np.array(atoms.get_chemical_symbols())
    d = dd[(ii == i) & (sym[jj] == "O")]
    return float(d.mean()) if d.size else float("inf")


def magnetite_sites(atoms: "Atoms | Structure") -> list[str]:
    """``"A"`` (tetrahedral), ``"B"`` (octahedral) or ``""`` (not Fe / no O neighbour) per atom."""
    from pymatgen.io.ase import AseAtomsAdaptor

    at = AseAtomsAdaptor.get_atoms(atoms) if isinstance(atoms, Structure) else atoms
    out = []
    for i, el in enumerate(at.get_chemical_symbols()):
        if el != "Fe":
            out.append("")
            continue
        d = _fe_o_mean_bond(at, i)
        out.append("" if not np.isfinite(d) else ("A" if d < FE_AB_SPLIT_A else "B"))
    return out


def magnetite_moments(atoms: "Atoms | Structure", isolated_fe_muB: float = 4.0) -> np.ndarray:
    """Initial moments for magnetite's ferrimagnetic order: Fe(A) −4, Fe(B) +4, others 0 μB.

    Fe with no O neighbour (a metallic Fe atom) starts at ``isolated_fe_muB``.
    """
    sites = magnetite_sites(atoms)
    symbols = [str(s.specie) for s in atoms] if isinstance(atoms, Structure) else atoms.get_chemical_symbols()
    return np.array([MAGNETITE_MOMENTS[s] if s else (isolated_fe_muB if el == "Fe" else 0.0)
                     for s, el in zip(sites, symbols)])


def with_magnetite_moments(atoms: Atoms) -> Atoms:
    """A copy of ``atoms`` with :func:`magnetite_moments` as its initial magnetic moments."""
    a = atoms.copy()
    a.set_initial_magnetic_moments(magnetite_moments(a))
    return a
