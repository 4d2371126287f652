"""Stack a film on a substrate that share an in-plane cell into a pymatgen ``Interface``.

Used for every interface contactflow builds: after Zur–McGill matching (the film is already strained onto
the substrate cell), after decorating a matched graphene layer (rGO, N-doping, AB stacks), and for
non-crystalline sides (amorphous blocks, clusters) that adopt the partner's cell.

Convention: the substrate is at the bottom, its lowest atom ``vacuum_A / 2`` above z = 0; the film's
lowest atom is ``gap_A`` above the substrate's highest atom; ``vacuum_A`` of vacuum in total separates
the film top from the periodic image of the substrate bottom. If any film atom is then closer than
``min_cross_A`` to a substrate atom (possible when groups stick out between film atoms), the film is
raised until none is. Site properties: ``interface_label`` (``film``/``substrate``), ``fixed`` (bottom
substrate atoms), ``group`` (decorations: ``hydroxyl``, ``OH``, ``N-graphitic``, ``Li`` …, else ``""``).
"""

import numpy as np
from pymatgen.core import Lattice, Structure
from pymatgen.core.interface import Interface

from contactflow.structures.geometry import check_planar_cell, cross_min_distance_A

REGISTRY_MODES = ("as_built", "coupled", "non_aligned")


def _same_plane(a: Lattice, b: Lattice) -> bool:
    return np.allclose(a.matrix[:2, :2], b.matrix[:2, :2], atol=1e-3)


def contact_layer(xyz: np.ndarray, which: str, depth_A: float = 1.0) -> np.ndarray:
    """Indices of atoms within ``depth_A`` of the lowest (``"bottom"``) or highest (``"top"``) z."""
    z = xyz[:, 2]
    return np.nonzero(z - z.min() <= depth_A)[0] if which == "bottom" else np.nonzero(z.max() - z <= depth_A)[0]


def registry_shift(substrate: Structure, film: Structure, mode: str, *, film_species=None,
                   substrate_species=("O",), grid: int = 12) -> np.ndarray:
    """In-plane Cartesian shift of the film for a chosen registry.

    ``coupled``: the lowest film cation (``film_species``, default: every non-O/F/H element) is put directly
    above the highest substrate atom of ``substrate_species`` (e.g. Fe over an rGO oxygen, so Fe–O–C bonds
    can form). ``non_aligned``: the shift (on a ``grid`` × ``grid`` mesh of the cell) that maximises the
    smallest lateral distance between the film's contact-layer atoms and those substrate atoms.
    ``as_built``: no shift.
    """
    if mode == "as_built":
        return np.zeros(3)
    if mode not in REGISTRY_MODES:
        raise ValueError(f"registry: {mode!r} is not valid; valid: {', '.join(REGISTRY_MODES)}")
    sub_idx = [i for i, s in enumerate(substrate) if s.species_string in substrate_species]
    if not sub_idx:
        return np.zeros(3)
    sxyz = substrate.cart_coords[sub_idx]
    fxyz = film.cart_coords
    anions = {"O", "F", "H", "N", "Cl"}
    fsp = [s.species_string for s in film]
    cat = [i for i, e in enumerate(fsp) if (e in film_species if film_species else e not in anions)] or list(range(len(film)))
    if mode == "coupled":
        i = min(cat, key=lambda k: (fxyz[k, 2], k))
        j = int(np.argmax(sxyz[:, 2]))
        v = sxyz[j] - fxyz[i]
        return np.array([v[0], v[1], 0.0])
    layer = contact_layer(fxyz, "bottom")
    lat = substrate.lattice
    best, best_d = np.zeros(3), -1.0
    for u in range(grid):
        for w in range(grid):
            t = lat.get_cartesian_coords([u / grid, w / grid, 0.0])
            p = fxyz[layer] + t
            p2 = p.copy()
            p2[:, 2] = 0
            s2 = sxyz.copy()
            s2[:, 2] = 0
            d = lat.get_all_distances(lat.get_fractional_coords(p2), lat.get_fractional_coords(s2)).min()
            if d > best_d + 1e-9:
                best, best_d = t, d
    return np.array([best[0], best[1], 0.0])


def stack_interface(
    substrate: Structure,
    film: Structure,
    *,
    gap_A: float = 3.0,
    vacuum_A: float = 15.0,
    in_plane_shift: np.ndarray | None = None,
    fix_bottom_A: float = 1.0,
    min_cross_A: float = 1.0,
    interface_properties: dict | None = None,
) -> Interface:
    """Stack ``film`` above ``substrate`` (same in-plane cell; see the module convention).

    Parameters
    ----------
    substrate, film
        Structures whose a, b vectors lie in the xy plane and agree (the film is already strained).
        Cartesian in-plane positions are kept; z is re-set.
    gap_A
        Film bottom to substrate top, Å.
    vacuum_A
        Total vacuum along z, Å.
    in_plane_shift
        Cartesian in-plane shift of the film (see :func:`registry_shift`).
    fix_bottom_A
        Substrate atoms within this distance of the substrate bottom get ``fixed=True``.
    min_cross_A
        Smallest allowed film–substrate distance, Å (the film is raised until it holds).
    interface_properties
        Stored on the ``Interface``.

    Raises
    ------
    ValueError
        If the in-plane cells differ.
    """
    check_planar_cell(substrate.lattice, "substrate cell")
    check_planar_cell(film.lattice, "film cell")
    if not _same_plane(substrate.lattice, film.lattice):
        raise ValueError("film and substrate must share the in-plane cell: "
                         f"{film.lattice.matrix[:2].round(3).tolist()} vs {substrate.lattice.matrix[:2].round(3).tolist()}")
    sxyz = substrate.cart_coords.copy()
    fxyz = film.cart_coords.copy()
    if in_plane_shift is not None:
        fxyz[:, :2] += np.asarray(in_plane_shift)[:2]
    sxyz[:, 2] += vacuum_A / 2 - sxyz[:, 2].min()
    fxyz[:, 2] += sxyz[:, 2].max() + gap_A - fxyz[:, 2].min()
    a, b = substrate.lattice.matrix[:2]
    species = list(substrate.species) + list(film.species)
    labels = ["substrate"] * len(substrate) + ["film"] * len(film)
    z_sub = sxyz[:, 2] - sxyz[:, 2].min()
    fixed = [bool(fix_bottom_A > 0 and zz <= fix_bottom_A + 1e-6) for zz in z_sub] + [False] * len(film)
    groups = list(substrate.site_properties.get("group", [""] * len(substrate))) + \
        list(film.site_properties.get("group", [""] * len(film)))
    sub_idx = list(range(len(substrate)))
    film_idx = list(range(len(substrate), len(species)))
    gap = gap_A
    for _ in range(50):
        c = fxyz[:, 2].max() + vacuum_A / 2
        lat = Lattice(np.array([a, b, [0.0, 0.0, c]]))
        s = Structure(lat, species, np.vstack([sxyz, fxyz]), coords_are_cartesian=True)
        d = cross_min_distance_A(s, film_idx, sub_idx)
        if d >= min_cross_A - 1e-9:
            break
        step = min_cross_A - d + 0.05
        fxyz[:, 2] += step
        gap += step
    props = dict(interface_properties or {})
    props.setdefault("gap_A", gap)
    frac = s.frac_coords
    frac[:, :2] %= 1.0  # wrap in-plane (shifts and decorations may leave the cell)
    iface = Interface(
        lat, species, frac,
        site_properties={"interface_label": labels, "fixed": fixed, "group": [g or "" for g in groups]},
        gap=gap, vacuum_over_film=vacuum_A, interface_properties=props,
    )
    return iface
