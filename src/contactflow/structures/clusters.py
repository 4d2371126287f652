"""Metal clusters (Sn_n …) cut from a bulk crystal, for cluster-on-support models.

Procedure (deterministic): start from one atom of a 4×4×4 bulk supercell and grow the cluster one atom
at a time, always adding the candidate with the most neighbours already in the cluster (within 1.15 × the
bulk nearest-neighbour distance), ties broken by the distance to the cluster centroid, then by index.
This gives compact fragments with bulk bond lengths (β-Sn: 3.02/3.18 Å) as starting geometries; the
task's relaxation finds the cluster's own shape.
"""

import numpy as np
from pymatgen.core import Molecule, Structure

from contactflow.errors import RecipeError

MAX_CLUSTER_ATOMS = 60


def cluster_from_bulk(bulk: Structure, n_atoms: int) -> Molecule:
    """A compact ``n_atoms`` cluster cut from ``bulk`` (see the module procedure).

    Raises
    ------
    RecipeError
        ``n_atoms`` outside 1..:data:`MAX_CLUSTER_ATOMS`.
    """
    if not 1 <= n_atoms <= MAX_CLUSTER_ATOMS:
        raise RecipeError(f"n_atoms: {n_atoms} is out of range; valid 1..{MAX_CLUSTER_ATOMS}")
    sc = bulk.copy()
    sc.make_supercell([4, 4, 4])
    xyz = sc.cart_coords
    d_all = sc.distance_matrix
    np.fill_diagonal(d_all, np.inf)
    d_nn = float(d_all.min())
    center = int(np.argmin(np.linalg.norm(xyz - xyz.mean(axis=0), axis=1)))
    # use Cartesian (non-periodic) distances inside the big supercell
    diff = xyz[:, None, :] - xyz[None, :, :]
    dist = np.linalg.norm(diff, axis=-1)
    bonded = dist < 1.15 * d_nn
    chosen = [center]
    while len(chosen) < n_atoms:
        cand = np.setdiff1d(np.nonzero(bonded[chosen].any(axis=0))[0], chosen)
        if len(cand) == 0:
            cand = np.setdiff1d(np.arange(len(sc)), chosen)
        cen = xyz[chosen].mean(axis=0)
        score = [(-int(bonded[c, chosen].sum()), float(np.linalg.norm(xyz[c] - cen)), int(c)) for c in cand]
        chosen.append(min(score)[2])
    mol = Molecule([sc[i].species_string for i in chosen], xyz[chosen])
    return mol.get_centered_molecule()


def place_on_support(cluster: Molecule, support: Structure, gap_A: float = 2.8) -> Structure:
    """The cluster's Cartesian coordinates placed over the centre of ``support``'s cell.

    Returns a Structure in the support's lattice holding only the cluster atoms, with its lowest atom
    ``gap_A`` above the support's highest atom (the cell is made tall enough by the caller).
    """
    xyz = cluster.cart_coords - cluster.cart_coords.mean(axis=0)
    a, b = support.lattice.matrix[:2]
    centre = 0.5 * (a + b)
    xyz[:, :2] += centre[:2]
    xyz[:, 2] += support.cart_coords[:, 2].max() + gap_A - xyz[:, 2].min()
    # clusters wider than the cell would touch their periodic images
    span = np.ptp(cluster.cart_coords[:, :2], axis=0).max()
    width = min(np.linalg.norm(a), np.linalg.norm(b)) * np.sin(np.radians(support.lattice.gamma))
    if span + 4.0 > width:
        raise RecipeError(f"supercell: the support cell (width {width:.1f} Å) is too small for a cluster "
                          f"{span:.1f} Å wide; use a larger substrate supercell")
    return Structure(support.lattice, cluster.species, xyz, coords_are_cartesian=True)
