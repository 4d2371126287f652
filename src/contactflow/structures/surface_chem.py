"""Surface chemistry on slabs: hydroxylation of oxide surfaces and Li insertion (lithiation).

Hydroxylation (:func:`hydroxylate`): every surface cation with fewer O neighbours than in the bulk gets
one OH per missing bond (M–O 1.63 Å for Si, O–H 0.97 Å), pointing away from its remaining bonds; every
surface O bonded to a single cation gets an H (0.97 Å, M–O–H ≈ 120°). For a stoichiometric oxide slab
each broken M–O bond leaves one cation and one O dangling, so the result is the slab plus k H2O
(n_H = 2 (n_O − 2 n_Si) for SiO2): the check the tests make.

Lithiation (:func:`lithiate`): Li atoms are inserted at the emptiest interstitial points of the slab
(a 0.3 Å grid, points at least ``min_host_A`` from every host atom and ``min_li_A`` from every Li), chosen
one at a time at random among the admissible points (seeded). For crystalline Si this fills tetrahedral
sites (2.35 Å from Si); at high Li content use an amorphous LixSi film instead.
"""

import numpy as np
from pymatgen.core import Structure

from contactflow.errors import RecipeError
from contactflow.structures.geometry import distances_to_points

#: Cation → (bulk O coordination, M–O bond length Å)
OXIDE_CATIONS = {"Si": (4, 1.63), "Sn": (6, 2.05), "Fe": (6, 2.0), "Al": (6, 1.9), "Ti": (6, 1.95)}
PASSIVATIONS = ("OH",)


def _surface_mask(z: np.ndarray, side: str, depth_A: float) -> np.ndarray:
    if side == "bottom":
        return z - z.min() <= depth_A
    if side == "top":
        return z.max() - z <= depth_A
    return (z - z.min() <= depth_A) | (z.max() - z <= depth_A)


def _tilted(axis: np.ndarray, k: int, rng_angle: float) -> list[np.ndarray]:
    """k unit vectors spread tetrahedrally around ``axis``."""
    axis = axis / np.linalg.norm(axis)
    if k == 1:
        return [axis]
    perp = np.cross(axis, [1.0, 0, 0] if abs(axis[0]) < 0.9 else [0, 1.0, 0])
    perp /= np.linalg.norm(perp)
    perp2 = np.cross(axis, perp)
    tilt = np.radians(54.75)
    out = []
    for j in range(k):
        phi = rng_angle + 2 * np.pi * j / k
        out.append(np.cos(tilt) * axis + np.sin(tilt) * (np.cos(phi) * perp + np.sin(phi) * perp2))
    return out


def hydroxylate(slab: Structure, side: str = "both", *, depth_A: float = 3.0, min_new_A: float = 1.4) -> Structure:
    """Fully hydroxylate the surface(s) of an oxide slab (see the module procedure).

    Parameters
    ----------
    slab
        Oxide slab, surfaces normal to z.
    side
        ``top`` (+z), ``bottom`` or ``both``.
    depth_A
        Sites within this depth of a surface are examined.
    min_new_A
        New atoms must be at least this far from atoms other than their partner.

    Returns
    -------
    Structure
        With site property ``group`` = ``"OH"`` on the added O and H atoms.
    """
    if side not in ("top", "bottom", "both"):
        raise RecipeError(f"side: {side!r} is not valid; valid: top, bottom, both")
    cations = [str(e) for e in slab.composition.elements if str(e) in OXIDE_CATIONS]
    if "O" not in {str(e) for e in slab.composition.elements} or not cations:
        raise RecipeError(f"passivation: OH needs an oxide of {', '.join(OXIDE_CATIONS)}, got "
                          f"{slab.composition.reduced_formula}")
    lat = slab.lattice
    xyz = slab.cart_coords
    surf = _surface_mask(xyz[:, 2], side, depth_A)
    centre_z = xyz[:, 2].mean()
    new_species: list[str] = []
    new_xyz: list[np.ndarray] = []

    def ok(points, exclude) -> bool:
        """All ``points`` at least ``min_new_A`` from every atom except those at ``exclude``."""
        allp = np.vstack([xyz, *new_xyz]) if new_xyz else xyz
        keep = np.ones(len(allp), bool)
        for e in np.atleast_2d(exclude):
            keep &= np.linalg.norm(allp - e, axis=1) > 1e-3
        d = distances_to_points(lat, lat.get_fractional_coords(np.array(points)),
                                lat.get_fractional_coords(allp[keep]))
        return bool(np.all(d >= min_new_A))

    for i, site in enumerate(slab):
        if not surf[i]:
            continue
        el = site.species_string
        if el in OXIDE_CATIONS:
            coord, bond = OXIDE_CATIONS[el]
            nbrs = [n for n in slab.get_neighbors(site, bond + 0.45) if n.species_string == "O"]
            missing = coord - len(nbrs)
            if missing <= 0:
                continue
            out = -np.sum([n.coords - site.coords for n in nbrs], axis=0) if nbrs else np.zeros(3)
            outward = np.array([0, 0, 1.0 if site.coords[2] > centre_z else -1.0])
            axis = out / np.linalg.norm(out) if np.linalg.norm(out) > 0.3 else outward
            if np.dot(axis, outward) < 0.2:
                axis = (axis + outward) / np.linalg.norm(axis + outward)
            placed = False
            for rot in np.linspace(0, 2 * np.pi, 12, endpoint=False):
                dirs = _tilted(axis, missing, rot)
                pts = []
                for dvec in dirs:
                    o = site.coords + bond * dvec
                    side_v = np.cross(dvec, [0, 0, 1.0])
                    side_v = side_v / np.linalg.norm(side_v) if np.linalg.norm(side_v) > 1e-6 else np.array([1.0, 0, 0])
                    h = o + 0.97 * (np.cos(np.radians(60)) * dvec + np.sin(np.radians(60)) * side_v)
                    pts += [o, h]
                if ok(pts[0::2], site.coords) and ok(pts[1::2], np.array(pts[0::2])):
                    for k in range(0, len(pts), 2):
                        new_species += ["O", "H"]
                        new_xyz += [pts[k], pts[k + 1]]
                    placed = True
                    break
            if not placed:
                raise RecipeError(f"passivation: no room to hydroxylate surface {el} at {np.round(site.coords, 2)}")
        elif el == "O":
            nbrs = [n for n in slab.get_neighbors(site, 2.5) if n.species_string in OXIDE_CATIONS]
            if len(nbrs) != 1:
                continue
            bond_dir = site.coords - nbrs[0].coords
            bond_dir /= np.linalg.norm(bond_dir)
            outward = np.array([0, 0, 1.0 if site.coords[2] > centre_z else -1.0])
            for rot in np.linspace(0, 2 * np.pi, 12, endpoint=False):
                dvec = _tilted(bond_dir, 3, rot)[0]  # 54.75° off the M–O axis: M–O–H ≈ 125°
                if np.dot(dvec, outward) < 0:
                    continue
                h = site.coords + 0.97 * dvec
                if ok([h], site.coords):
                    new_species.append("H")
                    new_xyz.append(h)
                    break
            else:
                raise RecipeError(f"passivation: no room for H on surface O at {np.round(site.coords, 2)}")
    labels = list(slab.site_properties.get("group", [""] * len(slab))) + ["OH"] * len(new_species)
    props = {k: list(v) for k, v in slab.site_properties.items() if k != "group"}
    species = [s.species_string for s in slab] + new_species
    coords = np.vstack([xyz, *new_xyz]) if new_xyz else xyz
    out = Structure(lat, species, coords, coords_are_cartesian=True,
                    site_properties={"group": labels})
    for k, v in props.items():  # added atoms inherit "not fixed"/default values
        fill = False if isinstance(v[0], (bool, np.bool_)) else None
        out.add_site_property(k, v + [fill] * len(new_species))
    return out


def lithiate(slab: Structure, li_per_host: float, *, host: str = "Si", seed: int = 0, min_host_A: float = 2.2,
             min_li_A: float = 2.3, grid_A: float = 0.3) -> Structure:
    """Insert Li into the interstitial voids of a slab (see the module procedure).

    Parameters
    ----------
    slab
        Host slab (surfaces normal to z).
    li_per_host
        Li atoms per ``host`` atom (x in LixSi), 0 < x <= 1.
    host
        Element the ratio refers to.
    seed
        Random seed.
    min_host_A, min_li_A
        Smallest Li–host-atom and Li–Li distances, Å.

    Raises
    ------
    RecipeError
        x out of range, no host atoms, or not enough room for the requested Li.
    """
    if not 0.0 < li_per_host <= 1.0:
        raise RecipeError(f"lithiation.li_per_host: {li_per_host} is out of range; valid 0 < x <= 1 "
                          "(higher Li contents: use an amorphous LixSi film, builder: amorphous)")
    n_host = int(slab.composition[host])
    if n_host == 0:
        raise RecipeError(f"lithiation.host: {host} is not in {slab.composition.reduced_formula}")
    n_li = max(1, int(round(li_per_host * n_host)))
    lat = slab.lattice
    z = slab.cart_coords[:, 2]
    na = max(2, int(np.ceil(lat.a / grid_A)))
    nb = max(2, int(np.ceil(lat.b / grid_A)))
    zs = np.arange(z.min() + 0.5, z.max() - 0.5 + 1e-9, grid_A)
    fa, fb = np.meshgrid(np.arange(na) / na, np.arange(nb) / nb, indexing="ij")
    pts = []
    for zz in zs:
        fz = np.full(fa.size, zz / lat.c)
        pts.append(np.column_stack([fa.ravel(), fb.ravel(), fz]))
    grid = np.vstack(pts) if pts else np.zeros((0, 3))
    d_host = distances_to_points(lat, grid, slab.frac_coords) if len(grid) else np.zeros(0)
    grid = grid[d_host >= min_host_A]
    rng = np.random.default_rng(seed)
    chosen = []
    for _ in range(n_li):
        if len(grid) == 0:
            raise RecipeError(f"lithiation.li_per_host: only {len(chosen)} of {n_li} Li fit into the "
                              f"{slab.composition.reduced_formula} slab; lower li_per_host or use an amorphous "
                              "LixSi film")
        k = int(rng.integers(len(grid)))
        chosen.append(grid[k])
        d = lat.get_all_distances(grid, grid[k][None, :])[:, 0]
        grid = grid[d >= min_li_A]
    species = [s.species_string for s in slab] + ["Li"] * len(chosen)
    frac = np.vstack([slab.frac_coords, np.array(chosen)])
    out = Structure(lat, species, frac)
    for k, v in slab.site_properties.items():
        fill = False if v and isinstance(v[0], (bool, np.bool_)) else ("Li" if k == "group" else None)
        out.add_site_property(k, list(v) + [fill] * len(chosen))
    return out
