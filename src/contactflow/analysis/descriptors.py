"""Interface descriptors from one structure: the review's contact numbers, as pure functions.

Every function takes ASE ``Atoms`` (or a pymatgen ``Structure``/``Interface``) and the indices of the
film (upper side) and substrate (lower side); :func:`split_sides` finds them from pymatgen's
``interface_label`` site property or, for any other structure, from the widest gap in z.

- :func:`cross_interface_bonds`: bonds with one atom on each side, counted by element pair, with a
  cutoff per pair (sum of covalent radii × ``bond_scale`` unless given).
- :func:`cross_coordination`: mean number of cross-interface bonds per contact-layer atom, per side and
  element.
- :func:`contact_area_fraction`: fraction of the in-plane area where the film's lower surface lies
  within ``contact_distance_A`` of the substrate's upper surface (surfaces sampled on a grid).
- :func:`density_profiles` / :func:`interphase_thickness_A`: number-density profiles along z of each
  side; the interphase is where both sides exceed a fraction of their own bulk density.
- :func:`interface_voids`: empty volume between the two contact layers (grid points farther than
  atom radius + probe radius from every atom).

Periodicity: the in-plane directions are periodic (images replicated); z is not (slabs in vacuum).
"""

from collections import defaultdict

import numpy as np
from ase import Atoms
from ase.data import atomic_numbers, covalent_radii
from ase.neighborlist import neighbor_list
from scipy.spatial import cKDTree

from contactflow.errors import ContactflowError


class DescriptorInputError(ContactflowError, ValueError):
    """A structure or a side assignment that the descriptors cannot use."""


def as_atoms(structure) -> Atoms:
    """ASE Atoms from Atoms or a pymatgen Structure (site properties dropped)."""
    if isinstance(structure, Atoms):
        return structure
    from pymatgen.io.ase import AseAtomsAdaptor

    plain = structure.copy()
    for key in list(plain.site_properties):
        plain.remove_site_property(key)
    return AseAtomsAdaptor.get_atoms(plain)


def split_sides(structure) -> tuple[list[int], list[int]]:
    """Film (upper) and substrate (lower) atom indices.

    Uses the ``interface_label`` site property of a pymatgen ``Interface`` when present; otherwise
    splits at the widest gap between consecutive atomic heights (z).

    Raises
    ------
    DescriptorInputError
        If the structure has fewer than two atoms or the labels name no film or no substrate.
    """
    labels = None
    if not isinstance(structure, Atoms):
        labels = structure.site_properties.get("interface_label")
    if labels is not None:
        film = [i for i, lab in enumerate(labels) if lab == "film"]
        sub = [i for i, lab in enumerate(labels) if lab == "substrate"]
        if not film or not sub:
            raise DescriptorInputError("interface_label marks no film or no substrate atoms; expected "
                                       "'film' and 'substrate' labels")
        return film, sub
    z = as_atoms(structure).positions[:, 2]
    if len(z) < 2:
        raise DescriptorInputError("an interface needs at least two atoms")
    order = np.argsort(z)
    k = int(np.argmax(np.diff(z[order])))
    return sorted(order[k + 1:].tolist()), sorted(order[: k + 1].tolist())


def _check_sides(atoms: Atoms, film: list[int], sub: list[int]) -> tuple[np.ndarray, np.ndarray]:
    f, s = np.asarray(film, int), np.asarray(sub, int)
    if len(f) == 0 or len(s) == 0:
        raise DescriptorInputError("film and substrate must each have at least one atom")
    if len(set(f.tolist()) & set(s.tolist())):
        raise DescriptorInputError("an atom cannot be on both the film and the substrate side")
    if f.max() >= len(atoms) or s.max() >= len(atoms) or min(f.min(), s.min()) < 0:
        raise DescriptorInputError(f"side indices out of range for a structure of {len(atoms)} atoms")
    return f, s


def pair_cutoff_A(a: str, b: str, bond_scale: float = 1.2, cutoffs: dict | None = None) -> float:
    """Bond cutoff for an element pair: ``cutoffs['A-B']`` (either order) or the sum of ASE's covalent
    radii × ``bond_scale``."""
    if cutoffs:
        for key in (f"{a}-{b}", f"{b}-{a}"):
            if key in cutoffs:
                return float(cutoffs[key])
    return float((covalent_radii[atomic_numbers[a]] + covalent_radii[atomic_numbers[b]]) * bond_scale)


def _cross_pairs(atoms: Atoms, film, sub, bond_scale: float, cutoffs: dict | None):
    """(film index, substrate index, distance) of every cross-interface bond (minimum image)."""
    f, s = _check_sides(atoms, film, sub)
    sym = atoms.get_chemical_symbols()
    elems = sorted(set(sym))
    rmax = max(pair_cutoff_A(a, b, bond_scale, cutoffs) for a in elems for b in elems)
    a = atoms.copy()
    a.pbc = [True, True, bool(atoms.pbc[2])]
    i, j, d = neighbor_list("ijd", a, rmax)
    side = np.zeros(len(atoms), int)
    side[f], side[s] = 1, 2
    keep = (side[i] == 1) & (side[j] == 2)
    out = []
    for ii, jj, dd in zip(i[keep], j[keep], d[keep]):
        if dd <= pair_cutoff_A(sym[ii], sym[jj], bond_scale, cutoffs):
            out.append((int(ii), int(jj), float(dd)))
    return out


def cross_interface_bonds(atoms, film, sub, bond_scale: float = 1.2, cutoffs: dict | None = None) -> dict[str, int]:
    """Number of bonds across the interface by element pair, keyed ``'<film element>-<substrate element>'``.

    Parameters
    ----------
    atoms
        Structure (ASE Atoms or pymatgen).
    film, sub
        Atom indices of the film and the substrate.
    bond_scale
        Multiplier on the sum of covalent radii when no explicit cutoff is given.
    cutoffs
        Explicit cutoffs in Å, e.g. ``{"Fe-O": 2.3}`` (either element order).

    Returns
    -------
    dict
        Counts per pair; each bond (one film atom, one substrate atom, one periodic image) counts once.
    """
    atoms = as_atoms(atoms)
    sym = atoms.get_chemical_symbols()
    counts: dict[str, int] = defaultdict(int)
    for i, j, _ in _cross_pairs(atoms, film, sub, bond_scale, cutoffs):
        counts[f"{sym[i]}-{sym[j]}"] += 1
    return dict(sorted(counts.items()))


def contact_layers(atoms, film, sub, depth_A: float = 2.0) -> tuple[list[int], list[int]]:
    """Film atoms within ``depth_A`` of the film's lowest atom and substrate atoms within ``depth_A`` of
    the substrate's highest atom (the two layers that face each other)."""
    atoms = as_atoms(atoms)
    f, s = _check_sides(atoms, film, sub)
    z = atoms.positions[:, 2]
    return (sorted(f[z[f] <= z[f].min() + depth_A].tolist()), sorted(s[z[s] >= z[s].max() - depth_A].tolist()))


def cross_coordination(atoms, film, sub, depth_A: float = 2.0, bond_scale: float = 1.2,
                       cutoffs: dict | None = None) -> dict[str, float]:
    """Mean number of cross-interface bonds per atom of each contact layer, keyed ``'film:Fe'``,
    ``'substrate:C'``."""
    atoms = as_atoms(atoms)
    sym = atoms.get_chemical_symbols()
    n = np.zeros(len(atoms))
    for i, j, _ in _cross_pairs(atoms, film, sub, bond_scale, cutoffs):
        n[i] += 1
        n[j] += 1
    lf, ls = contact_layers(atoms, film, sub, depth_A)
    out = {}
    for side, idx in (("film", lf), ("substrate", ls)):
        for el in sorted({sym[k] for k in idx}):
            members = [k for k in idx if sym[k] == el]
            out[f"{side}:{el}"] = float(np.mean(n[members]))
    return out


def _inplane_images(atoms: Atoms, reach_A: float) -> tuple[np.ndarray, np.ndarray]:
    """Positions of all atoms and their in-plane periodic images within ``reach_A`` of the cell, with the
    index of the original atom."""
    cell = np.asarray(atoms.cell)
    a, b = cell[0], cell[1]
    # how many images are needed: heights of the in-plane parallelogram
    area = np.linalg.norm(np.cross(a, b))
    na = int(np.ceil(reach_A / (area / np.linalg.norm(b)))) + 1
    nb = int(np.ceil(reach_A / (area / np.linalg.norm(a)))) + 1
    pos, idx = [], []
    frac = atoms.cell.scaled_positions(atoms.positions)
    frac[:, :2] %= 1.0  # wrap in-plane only (MD frames are unwrapped)
    base = frac @ cell
    for i in range(-na, na + 1):
        for j in range(-nb, nb + 1):
            pos.append(base + i * a + j * b)
            idx.append(np.arange(len(atoms)))
    return np.vstack(pos), np.concatenate(idx)


def _inplane_grid(atoms: Atoms, spacing_A: float) -> np.ndarray:
    """Cartesian (x, y) points of a regular grid over the in-plane cell, shape (n, 2)."""
    cell = np.asarray(atoms.cell)
    na = max(1, int(round(np.linalg.norm(cell[0]) / spacing_A)))
    nb = max(1, int(round(np.linalg.norm(cell[1]) / spacing_A)))
    u, v = np.meshgrid((np.arange(na) + 0.5) / na, (np.arange(nb) + 0.5) / nb, indexing="ij")
    return (u.ravel()[:, None] * cell[0] + v.ravel()[:, None] * cell[1])[:, :2]


def contact_area_fraction(atoms, film, sub, contact_distance_A: float = 4.0, probe_radius_A: float = 2.0,
                          grid_A: float = 0.25) -> float:
    """Real contact-area fraction of an interface.

    The in-plane cell is sampled on a grid. At each point the film's lower surface height is the lowest
    film atom within ``probe_radius_A`` (laterally) and the substrate's upper surface the highest
    substrate atom within it; the point is in contact when both exist and their separation is at most
    ``contact_distance_A``. A flat film fully on a flat substrate at a bonded or van-der-Waals distance
    (≤ 4 Å by default) gives 1; a film with holes, an island or a gap gives less.

    Returns
    -------
    float
        Fraction of grid points in contact, 0–1.
    """
    atoms = as_atoms(atoms)
    f, s = _check_sides(atoms, film, sub)
    grid = _inplane_grid(atoms, grid_A)
    pos, idx = _inplane_images(atoms, probe_radius_A)
    side = np.zeros(len(atoms), int)
    side[f], side[s] = 1, 2
    z = pos[:, 2]
    hits = cKDTree(pos[:, :2]).query_ball_point(grid, probe_radius_A)
    n_contact = 0
    for h in hits:
        h = np.asarray(h, int)
        if len(h) == 0:
            continue
        sf, ss = side[idx[h]] == 1, side[idx[h]] == 2
        if sf.any() and ss.any() and z[h][sf].min() - z[h][ss].max() <= contact_distance_A:
            n_contact += 1
    return n_contact / len(grid)


def density_profiles(atoms, film, sub, bin_A: float = 0.1, smear_A: float = 0.5):
    """Number-density profiles along z of the film and the substrate (Gaussian-smeared atoms).

    Returns
    -------
    tuple
        ``(z_A, film_density_per_A3, substrate_density_per_A3)``.
    """
    atoms = as_atoms(atoms)
    f, s = _check_sides(atoms, film, sub)
    z = atoms.positions[:, 2]
    area = float(np.linalg.norm(np.cross(atoms.cell[0], atoms.cell[1])))
    grid = np.arange(z.min() - 3 * smear_A, z.max() + 3 * smear_A + bin_A, bin_A)
    norm = 1.0 / (np.sqrt(2 * np.pi) * smear_A * area)

    def prof(ix):
        return norm * np.exp(-0.5 * ((grid[:, None] - z[ix][None, :]) / smear_A) ** 2).sum(axis=1)

    return grid, prof(f), prof(s)


def _bulk_density(profile: np.ndarray) -> float:
    """Plateau density of one side: the mean over the part of its profile above half its maximum."""
    top = profile[profile >= 0.5 * profile.max()]
    return float(top.mean())


def interphase_thickness_A(atoms, film, sub, fraction: float = 0.5, bin_A: float = 0.1, smear_A: float = 0.5) -> float:
    """Thickness of the interphase: the extent in z where the film and the substrate densities both
    exceed ``fraction`` of their own bulk (plateau) density. With the default 0.5 each side ends at its
    half-density (Gibbs-like) boundary, half a layer spacing beyond its last atomic layer: a sharp
    interface (bonded or van der Waals) gives 0; an intermixed layer gives the overlap of the two sides
    plus one layer spacing."""
    zg, pf, ps = density_profiles(atoms, film, sub, bin_A, smear_A)
    both = (pf >= fraction * _bulk_density(pf)) & (ps >= fraction * _bulk_density(ps))
    return float(both.sum() * bin_A)


def interface_voids(atoms, film, sub, probe_radius_A: float = 1.0, grid_A: float = 0.2,
                    radius_scale: float = 1.0, depth_A: float = 2.0) -> dict[str, float]:
    """Empty space between the two contact layers.

    The region runs from the mean height of the substrate's contact layer to the mean height of the
    film's contact layer (see :func:`contact_layers`). A grid point is void when it is farther than
    (covalent radius × ``radius_scale`` + ``probe_radius_A``) from every atom.

    Returns
    -------
    dict
        ``void_volume_A3``, ``void_fraction`` (of the region's volume), ``void_volume_per_area_A``
        (void volume / interface area: an equivalent empty-layer thickness, Å), ``region_height_A``.
    """
    atoms = as_atoms(atoms)
    lf, ls = contact_layers(atoms, film, sub, depth_A)
    z = atoms.positions[:, 2]
    z0, z1 = float(z[ls].mean()), float(z[lf].mean())
    area = float(np.linalg.norm(np.cross(atoms.cell[0], atoms.cell[1])))
    if z1 <= z0:
        return {"void_volume_A3": 0.0, "void_fraction": 0.0, "void_volume_per_area_A": 0.0, "region_height_A": 0.0}
    radii = covalent_radii[atoms.numbers] * radius_scale + probe_radius_A
    reach = float(radii.max())
    pos, idx = _inplane_images(atoms, reach)
    xy = _inplane_grid(atoms, grid_A)
    nz = max(1, int(round((z1 - z0) / grid_A)))
    zs = z0 + (np.arange(nz) + 0.5) * (z1 - z0) / nz
    pts = np.column_stack([np.repeat(xy, nz, axis=0), np.tile(zs, len(xy))])
    tree = cKDTree(pos)
    void = np.ones(len(pts), bool)
    for k, hits in enumerate(tree.query_ball_point(pts, reach)):
        if hits:
            h = np.asarray(hits, int)
            d = np.linalg.norm(pos[h] - pts[k], axis=1)
            void[k] = not np.any(d < radii[idx[h]])
    frac = float(void.mean())
    vol = frac * area * (z1 - z0)
    return {"void_volume_A3": vol, "void_fraction": frac, "void_volume_per_area_A": vol / area,
            "region_height_A": z1 - z0}


def interface_gap_A(atoms, film, sub) -> float:
    """Lowest film atom minus highest substrate atom, Å (negative when the sides interpenetrate)."""
    atoms = as_atoms(atoms)
    f, s = _check_sides(atoms, film, sub)
    z = atoms.positions[:, 2]
    return float(z[f].min() - z[s].max())


def all_descriptors(atoms, film, sub, *, bond_scale: float = 1.2, cutoffs: dict | None = None,
                    contact_distance_A: float = 4.0, depth_A: float = 2.0, probe_radius_A: float = 1.0) -> dict:
    """Every descriptor of one structure in one dict (the fields of ``DescriptorDoc``)."""
    atoms = as_atoms(atoms)
    bonds = cross_interface_bonds(atoms, film, sub, bond_scale, cutoffs)
    area = float(np.linalg.norm(np.cross(atoms.cell[0], atoms.cell[1])))
    voids = interface_voids(atoms, film, sub, probe_radius_A=probe_radius_A, depth_A=depth_A)
    return {
        "contact_area_fraction": contact_area_fraction(atoms, film, sub, contact_distance_A),
        "bonds_by_pair": bonds,
        "n_cross_bonds": int(sum(bonds.values())),
        "cross_bonds_per_nm2": float(sum(bonds.values()) / area * 100.0),
        "cross_coordination": cross_coordination(atoms, film, sub, depth_A, bond_scale, cutoffs),
        "interphase_thickness_A": interphase_thickness_A(atoms, film, sub),
        "interface_gap_A": interface_gap_A(atoms, film, sub),
        "area_A2": area,
        **voids,
    }
