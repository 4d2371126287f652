"""Geometry every interface task shares: gaps, registry shifts, separation images, NEB bands, the
interface split into film and substrate. Pure ASE/numpy: no calculator, no I/O.

These lived in ``jobs/`` before; they are here so that ``mlp/`` (sampling plans) and ``jobs/`` use one
copy without ``mlp`` importing ``jobs``.
"""

import numpy as np
from ase import Atoms
from ase.constraints import FixAtoms


def interface_gap_A(atoms: Atoms, film_idx: list[int], sub_idx: list[int]) -> float:
    """Smallest film z minus largest substrate z, Å (film above substrate)."""
    z = atoms.positions[:, 2]
    return float(z[list(film_idx)].min() - z[list(sub_idx)].max())


def registry_shifts(n: int) -> list[tuple[float, float]]:
    """Fractional in-plane shifts (i/n, j/n), i, j = 0 … n−1, of the interface cell."""
    return [(i / n, j / n) for i in range(n) for j in range(n)]


def shifted(atoms: Atoms, film_idx: list[int], shift_frac: tuple[float, float]) -> Atoms:
    """Copy of ``atoms`` with the film translated by ``shift_frac`` of the in-plane cell vectors."""
    out = atoms.copy()
    cell = np.array(atoms.cell)
    out.positions[list(film_idx)] += shift_frac[0] * cell[0] + shift_frac[1] * cell[1]
    return out


def interface_normal(atoms: Atoms) -> np.ndarray:
    """Unit normal of the a–b plane of the cell."""
    cell = np.array(atoms.cell)
    n = np.cross(cell[0], cell[1])
    return n / np.linalg.norm(n)


def separation_images(atoms: Atoms, film_idx: list[int], gaps_A) -> tuple[list[Atoms], Atoms]:
    """Configurations with the film moved rigidly along the normal to each gap.

    The cell's c vector is lengthened by the largest opening so that the vacuum above the film never
    shrinks; the returned base cell (same for all images) is the one free slabs must use too.

    Returns
    -------
    (images, base)
        ``base`` is ``atoms`` in the lengthened cell at its original gap.
    """
    sub_idx = [i for i in range(len(atoms)) if i not in set(film_idx)]
    g0 = interface_gap_A(atoms, film_idx, sub_idx)
    cell = np.array(atoms.cell)
    normal = interface_normal(atoms)
    extra = max(0.0, float(np.max(gaps_A)) - g0)
    base = atoms.copy()
    base.set_constraint()
    base.set_cell(np.vstack([cell[0], cell[1], cell[2] + extra * normal]), scale_atoms=False)
    images = []
    for g in gaps_A:
        a = base.copy()
        a.positions[list(film_idx)] += (float(g) - g0) * normal
        images.append(a)
    return images, base


def bottom_layer_indices(z: np.ndarray, indices: list[int], thickness_A: float) -> list[int]:
    """Indices (from ``indices``) whose z lies within ``thickness_A`` of the lowest of them."""
    zz = z[indices]
    zmin = zz.min()
    return [i for i, zi in zip(indices, zz) if zi - zmin <= thickness_A]


def split_atoms(atoms: Atoms, film_idx: list[int], sub_idx: list[int], fix_bottom_A: float) -> tuple[Atoms, Atoms, Atoms]:
    """Interface, film-only and substrate-only Atoms in the same cell.

    The substrate's bottom ``fix_bottom_A`` Å are fixed (``FixAtoms``) in the interface and in the
    substrate slab; the free film keeps no constraint.
    """
    atoms = atoms.copy()
    atoms.set_constraint()
    film_idx, sub_idx = list(film_idx), list(sub_idx)
    fixed = bottom_layer_indices(atoms.positions[:, 2], sub_idx, fix_bottom_A) if fix_bottom_A > 0 else []
    film, sub = atoms[film_idx], atoms[sub_idx]
    if fixed:
        atoms.set_constraint(FixAtoms(indices=fixed))
        pos_in_sub = {j: k for k, j in enumerate(sub_idx)}
        sub.set_constraint(FixAtoms(indices=[pos_in_sub[i] for i in fixed]))
    return atoms, film, sub


def interpolate_band(initial: Atoms, final: Atoms, n_images: int, method: str = "idpp") -> list[Atoms]:
    """``n_images`` interior images between the endpoints (IDPP or linear, minimum image); constraints
    of the initial endpoint are copied to every image.

    Raises
    ------
    ValueError
        For ``n_images < 1`` or an unknown method.
    """
    from ase.mep import NEB

    if n_images < 1:
        raise ValueError(f"n_images must be ≥ 1 (interior images), got {n_images}")
    if method not in ("idpp", "linear"):
        raise ValueError(f"unknown interpolation {method!r}; valid: idpp, linear")
    images = [initial.copy()] + [initial.copy() for _ in range(n_images)] + [final.copy()]
    NEB(images, method="improvedtangent").interpolate(method=method, mic=True, apply_constraint=False)
    return images


def parabola_minimum(x, y) -> tuple[float, float]:
    """Minimum of the parabola through the lowest point of ``(x, y)`` and its two neighbours.

    Returns ``(x_min, y_min)``; at an end of the range (or for a non-convex triple) the lowest
    sampled point itself.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    order = np.argsort(x)
    x, y = x[order], y[order]
    i = int(np.argmin(y))
    if i == 0 or i == len(x) - 1:
        return float(x[i]), float(y[i])
    c2, c1, c0 = np.polyfit(x[i - 1:i + 2], y[i - 1:i + 2], 2)
    if c2 <= 0:
        return float(x[i]), float(y[i])
    xm = float(np.clip(-c1 / (2 * c2), x[i - 1], x[i + 1]))
    return xm, float(np.polyval([c2, c1, c0], xm))
