"""Small geometric checks used by the builders and their tests (periodic, minimum-image)."""

import numpy as np
from pymatgen.core import Lattice, Structure


def min_distance_A(structure: Structure) -> float:
    """Smallest interatomic distance of a periodic structure, Å (``inf`` for < 2 atoms)."""
    if len(structure) < 2:
        return float("inf")
    d = structure.distance_matrix.copy()
    np.fill_diagonal(d, np.inf)
    return float(d.min())


def cross_min_distance_A(structure: Structure, idx_a: list[int], idx_b: list[int]) -> float:
    """Smallest distance between a site of ``idx_a`` and a site of ``idx_b``, Å (minimum image)."""
    if not len(idx_a) or not len(idx_b):
        return float("inf")
    fc = structure.frac_coords
    return float(structure.lattice.get_all_distances(fc[list(idx_a)], fc[list(idx_b)]).min())


def distances_to_points(lattice: Lattice, frac_points: np.ndarray, frac_sites: np.ndarray) -> np.ndarray:
    """Minimum-image distance from each point to its nearest site, Å (``inf`` when no sites)."""
    if len(frac_sites) == 0:
        return np.full(len(frac_points), np.inf)
    return lattice.get_all_distances(frac_points, frac_sites).min(axis=1)


def o_to_c_ratio(structure: Structure) -> float:
    """Number of O atoms divided by number of C atoms (0 when there is no C)."""
    comp = structure.composition
    n_c = comp["C"]
    return float(comp["O"] / n_c) if n_c else 0.0


def in_plane_area_A2(lattice: Lattice) -> float:
    """|a × b| of a lattice, Å²."""
    a, b = lattice.matrix[:2]
    return float(np.linalg.norm(np.cross(a, b)))


def check_planar_cell(lattice: Lattice, what: str = "cell") -> None:
    """Raise ``ValueError`` unless a and b lie in the xy plane and c is along z (slab convention)."""
    m = lattice.matrix
    if abs(m[0, 2]) > 1e-6 or abs(m[1, 2]) > 1e-6 or np.linalg.norm(m[2, :2]) > 1e-6:
        raise ValueError(f"{what} must have a, b in the xy plane and c along z, got {m.tolist()}")


def planar_lattice(a_vec: np.ndarray, b_vec: np.ndarray, c_A: float) -> Lattice:
    """Lattice with the given in-plane vectors (z components dropped) and c along z."""
    a = np.array([a_vec[0], a_vec[1], 0.0])
    b = np.array([b_vec[0], b_vec[1], 0.0])
    return Lattice(np.array([a, b, [0.0, 0.0, float(c_A)]]))
