"""Candidate Li sites: interstitial voids, surface adsorption sites, sites in an interface gap, and
hop pairs between them. Pure geometry (pymatgen/scipy); ranking by energy is a job
(:mod:`contactflow.jobs.li_adsorption`, :mod:`contactflow.jobs.neb`).

Interstitial voids are the Voronoi vertices of the atoms (points equidistant from four atoms, the
local maxima of the distance-to-nearest-atom field), merged when closer than ``merge_tol_A`` and
deduplicated by the host's space-group operations. This is the construction of
pymatgen-analysis-defects' ``VoronoiInterstitialGenerator``; that package is not a dependency here,
and scipy's ``Voronoi`` on a periodic shell of atoms is enough for the small cells NEB uses.
Adsorption sites come from pymatgen's ``AdsorbateSiteFinder`` (on-top, bridge, hollow; symmetry
reduced).
"""

from dataclasses import dataclass, field

import numpy as np
from pymatgen.core import Structure

from contactflow.errors import ContactflowError


class SiteFindingError(ContactflowError, ValueError):
    """No usable Li site (or hop) could be found in the given structure and region."""


@dataclass
class LiSite:
    """One candidate Li position.

    Attributes
    ----------
    frac_coords
        Fractional coordinates in the host cell.
    cart_coords
        Cartesian coordinates, Å.
    kind
        ``interstitial``, ``ontop``, ``bridge``, ``hollow`` or ``interface``.
    min_dist_A
        Distance to the nearest host atom, Å.
    multiplicity
        Number of symmetry-equivalent candidates this site stands for.
    """

    frac_coords: np.ndarray
    cart_coords: np.ndarray
    kind: str
    min_dist_A: float
    multiplicity: int = 1
    label: str = ""
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """JSON-safe summary."""
        return {
            "kind": self.kind, "label": self.label, "frac_coords": [float(x) for x in self.frac_coords],
            "cart_coords_A": [float(x) for x in self.cart_coords], "min_dist_A": float(self.min_dist_A),
            "multiplicity": int(self.multiplicity),
        }


def _periodic_shell(structure: Structure, reach_A: float) -> tuple[np.ndarray, np.ndarray]:
    """Cartesian coordinates of all atoms in the cell and its periodic images within ``reach_A`` of it,
    and the index of the original atom for each."""
    latt = structure.lattice
    pbc = getattr(latt, "pbc", (True, True, True))
    # number of images per direction so that reach_A is covered (inverse heights of the cell)
    heights = latt.volume / np.array([np.linalg.norm(np.cross(latt.matrix[(i + 1) % 3], latt.matrix[(i + 2) % 3]))
                                      for i in range(3)])
    reps = [int(np.ceil(reach_A / h)) if p else 0 for h, p in zip(heights, pbc)]
    frac = structure.frac_coords % 1.0
    shifts = np.array([(i, j, k) for i in range(-reps[0], reps[0] + 1) for j in range(-reps[1], reps[1] + 1)
                       for k in range(-reps[2], reps[2] + 1)])
    all_frac = (frac[None, :, :] + shifts[:, None, :]).reshape(-1, 3)
    owner = np.tile(np.arange(len(structure)), len(shifts))
    return latt.get_cartesian_coords(all_frac), owner


def distance_to_nearest_atom(structure: Structure, cart_points: np.ndarray, exclude: list[int] | None = None) -> np.ndarray:
    """Shortest periodic distance (Å) from each point to any atom of ``structure`` (minus ``exclude``)."""
    from scipy.spatial import cKDTree

    host = structure.copy()
    if exclude:
        host.remove_sites(exclude)
    pts, _ = _periodic_shell(host, 6.0)
    d, _ = cKDTree(pts).query(np.atleast_2d(cart_points))
    return d


_PROBES = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]]
                   + [[i, j, k] for i in (-1, 1) for j in (-1, 1) for k in (-1, 1)], dtype=float)
_PROBES /= np.linalg.norm(_PROBES, axis=1)[:, None]


def _is_local_max(structure: Structure, points: np.ndarray, dist: np.ndarray, step_A: float = 0.1) -> np.ndarray:
    """True where no probe step of ``step_A`` in 14 directions increases the distance to the nearest atom."""
    probes = (points[:, None, :] + step_A * _PROBES[None, :, :]).reshape(-1, 3)
    d = distance_to_nearest_atom(structure, probes).reshape(len(points), len(_PROBES))
    return np.all(d <= dist[:, None] + 1e-3, axis=1)


def _merge(frac: np.ndarray, dist: np.ndarray, structure: Structure, tol_A: float) -> list[int]:
    """Greedy merge: keep the largest-void point, drop others within ``tol_A`` (periodic)."""
    order = np.argsort(-dist)
    kept: list[int] = []
    for i in order:
        if kept:
            d = structure.lattice.get_all_distances(frac[i][None, :], frac[kept])[0]
            if d.min() < tol_A:
                continue
        kept.append(int(i))
    return kept


def _symmetry_reduce(structure: Structure, sites: list[LiSite], symprec: float, tol_A: float) -> list[LiSite]:
    """Group sites related by the host's space-group operations; keep one per orbit with its multiplicity."""
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    try:
        ops = SpacegroupAnalyzer(structure, symprec=symprec).get_symmetry_operations(cartesian=False)
    except Exception:  # spglib can fail on odd cells; then no reduction
        return sites
    latt = structure.lattice
    kept: list[LiSite] = []
    for s in sites:
        match = None
        for k in kept:
            images = np.array([op.operate(k.frac_coords) for op in ops])
            if latt.get_all_distances(s.frac_coords[None, :], images % 1.0)[0].min() < tol_A:
                match = k
                break
        if match is None:
            kept.append(s)
        else:
            match.multiplicity += 1
    return kept


def find_interstitial_sites(
    structure: Structure,
    min_dist_A: float = 1.5,
    max_dist_A: float = 3.5,
    merge_tol_A: float = 0.4,
    symprec: float = 0.1,
    symmetry_reduce: bool = True,
    z_window_A: tuple[float, float] | None = None,
    local_max_only: bool = True,
) -> list[LiSite]:
    """Interstitial voids of ``structure`` as Li candidates, largest void first.

    Parameters
    ----------
    structure
        Host structure (bulk, slab or interface).
    min_dist_A
        Smallest distance a void must keep to every atom, Å.
    max_dist_A
        Largest distance to the nearest atom, Å; excludes vacuum above a slab.
    merge_tol_A
        Voronoi vertices closer than this are one void, Å.
    symprec
        Symmetry tolerance for the space-group reduction, Å.
    symmetry_reduce
        Keep one site per symmetry orbit (its multiplicity counts the others).
    z_window_A
        Only voids with Cartesian z in ``[zlo, zhi]`` (e.g. an interface gap).
    local_max_only
        Drop Voronoi vertices that are saddles of the distance field (e.g. the hexagonal site of
        diamond Si, a ring centre the Li passes through, not a void it rests in).

    Returns
    -------
    list[LiSite]
        Unique voids, sorted by decreasing distance to the nearest atom.
    """
    from scipy.spatial import Voronoi

    if len(structure) < 2:
        raise SiteFindingError("need at least two atoms to find interstitial voids")
    pts, _ = _periodic_shell(structure, max_dist_A + 3.0)
    vor = Voronoi(pts)
    verts = vor.vertices
    frac = structure.lattice.get_fractional_coords(verts)
    inside = np.all((frac >= -1e-6) & (frac < 1 - 1e-6), axis=1)
    verts, frac = verts[inside], frac[inside]
    dist = distance_to_nearest_atom(structure, verts)
    ok = (dist >= min_dist_A) & (dist <= max_dist_A)
    if z_window_A is not None:
        ok &= (verts[:, 2] >= z_window_A[0]) & (verts[:, 2] <= z_window_A[1])
    verts, frac, dist = verts[ok], frac[ok], dist[ok]
    if local_max_only and len(verts):
        keep = _is_local_max(structure, verts, dist)
        verts, frac, dist = verts[keep], frac[keep], dist[keep]
    if not len(verts):
        raise SiteFindingError(
            f"no interstitial void with {min_dist_A} ≤ d(nearest atom) ≤ {max_dist_A} Å"
            + (f" in z window {z_window_A} Å" if z_window_A else "")
            + "; lower min_dist_A or widen the window"
        )
    kept = _merge(frac, dist, structure, merge_tol_A)
    sites = [LiSite(frac[i] % 1.0, verts[i], "interstitial", float(dist[i])) for i in kept]
    if symmetry_reduce:
        sites = _symmetry_reduce(structure, sites, symprec, merge_tol_A)
    for n, s in enumerate(sites):
        s.label = f"void{n}"
    return sites


def find_adsorption_sites(
    slab: Structure,
    height_A: float = 1.8,
    kinds: tuple[str, ...] = ("ontop", "bridge", "hollow"),
    symm_reduce: float = 0.01,
    near_reduce: float = 0.01,
) -> list[LiSite]:
    """Adsorption sites above the top surface of a slab (pymatgen ``AdsorbateSiteFinder``).

    Parameters
    ----------
    slab
        Slab with vacuum along c; sites are placed above its top surface.
    height_A
        Height of the adsorbate above the surface plane, Å.
    kinds
        Site types to return.
    symm_reduce, near_reduce
        ``AdsorbateSiteFinder`` symmetry and proximity reduction thresholds.
    """
    from pymatgen.analysis.adsorption import AdsorbateSiteFinder

    asf = AdsorbateSiteFinder(slab)
    found = asf.find_adsorption_sites(distance=height_A, symm_reduce=symm_reduce, near_reduce=near_reduce,
                                      positions=["ontop", "bridge", "hollow"])
    top = slab.cart_coords[:, 2].max()
    surf = slab.cart_coords[slab.cart_coords[:, 2] > top - 0.7]
    sites = []
    for cart in found.get("all", []):
        cart = np.asarray(cart, dtype=float)
        # classify by how many surface atoms are (equally) closest in the plane: ASF's own labels come
        # from its Delaunay triangulation, which calls the hexagon centre of graphene a "bridge".
        d = np.array([np.linalg.norm(slab.lattice.get_cartesian_coords(
            (lambda f: f - np.round(f))(slab.lattice.get_fractional_coords(p - cart)))[:2]) for p in surf])
        n_near = int(np.sum(d <= d.min() + 0.15))
        if n_near == 1 and d.min() > 0.3:
            continue  # neither above an atom nor between equidistant atoms: not a high-symmetry site
        kind = "ontop" if n_near == 1 else "bridge" if n_near == 2 else "hollow"
        if kind not in kinds:
            continue
        dist = float(distance_to_nearest_atom(slab, cart[None, :])[0])
        sites.append(LiSite(slab.lattice.get_fractional_coords(cart) % 1.0, cart, kind, dist,
                            extra={"n_surface_neighbours": n_near}))
    sites = _symmetry_reduce(slab, sites, 0.1, 0.3)
    for n, st in enumerate(sites):
        st.label = f"{st.kind}{n}"
    if not sites:
        raise SiteFindingError(f"AdsorbateSiteFinder found no {', '.join(kinds)} sites on this slab")
    return sites


def interface_gap_window(structure: Structure, film_indices: list[int], substrate_indices: list[int],
                         margin_A: float = 0.5) -> tuple[float, float]:
    """z range (Å) between the substrate's top atom and the film's bottom atom, widened by ``margin_A``."""
    z = structure.cart_coords[:, 2]
    lo, hi = float(z[substrate_indices].max()), float(z[film_indices].min())
    if hi <= lo:
        raise SiteFindingError(f"film bottom (z={hi:.2f} Å) is not above substrate top (z={lo:.2f} Å)")
    return lo - margin_A, hi + margin_A


def find_interface_sites(interface, min_dist_A: float = 1.5, max_dist_A: float = 3.5, margin_A: float = 0.5) -> list[LiSite]:
    """Voids in the gap between film and substrate of a pymatgen ``Interface`` (no symmetry reduction:
    interface cells are usually P1)."""
    win = interface_gap_window(interface, list(interface.film_indices), list(interface.substrate_indices), margin_A)
    sites = find_interstitial_sites(interface, min_dist_A=min_dist_A, max_dist_A=max_dist_A,
                                    symmetry_reduce=False, z_window_A=win)
    for s in sites:
        s.kind = "interface"
    return sites


def insert_li(structure: Structure, site: LiSite | np.ndarray) -> Structure:
    """A copy of ``structure`` with one Li appended at ``site`` (LiSite or fractional coordinates)."""
    frac = site.frac_coords if isinstance(site, LiSite) else np.asarray(site, dtype=float)
    out = Structure.from_sites(structure)  # a plain Structure even for an Interface/Slab host
    props = {k: ([True, True, True] if k == "selective_dynamics" else None) for k in out.site_properties}
    out.append("Li", frac, properties=props or None)
    return out


def path_min_distance_A(structure: Structure, start_frac: np.ndarray, end_frac: np.ndarray,
                        exclude: list[int] | None = None, n_points: int = 21) -> tuple[float, float]:
    """Closest approach (Å) of the straight (minimum-image) segment start→end to any atom, and the path
    fraction where it happens."""
    start = np.asarray(start_frac, float)
    d = np.asarray(end_frac, float) - start
    d -= np.round(d)
    ts = np.linspace(0.0, 1.0, n_points)
    pts = structure.lattice.get_cartesian_coords(start[None, :] + ts[:, None] * d[None, :])
    dist = distance_to_nearest_atom(structure, pts, exclude=exclude)
    i = int(np.argmin(dist))
    return float(dist[i]), float(ts[i])


def symmetry_classes(structure: Structure, sites: list[LiSite], symprec: float = 0.1, tol_A: float = 0.3) -> list[int]:
    """Orbit label of each site under the host's space-group operations (equal label ⇔ equivalent)."""
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    ops = SpacegroupAnalyzer(structure, symprec=symprec).get_symmetry_operations(cartesian=False)
    frac = np.array([s.frac_coords for s in sites]) % 1.0
    labels = [-1] * len(sites)
    n = 0
    for i in range(len(sites)):
        if labels[i] >= 0:
            continue
        orbit = np.array([op.operate(frac[i]) for op in ops]) % 1.0
        d = structure.lattice.get_all_distances(frac, orbit).min(axis=1)
        for j in np.nonzero(d < tol_A)[0]:
            if labels[j] < 0:
                labels[j] = n
        labels[i] = n
        n += 1
    return labels


def hop_pairs(structure: Structure, sites: list[LiSite], max_hop_A: float = 3.5, min_path_dist_A: float = 1.0,
              equivalent_only: bool = False, symprec: float = 0.1) -> list[tuple[LiSite, LiSite, float]]:
    """Pairs of sites a Li can hop between: ``(a, b, hop distance Å)``, shortest first.

    ``sites`` should be the full (not symmetry-reduced) list so that neighbours exist. A pair is kept if
    the straight path stays at least ``min_path_dist_A`` from every atom. With ``equivalent_only`` only
    pairs related by a symmetry operation of the host are kept (symmetric hops).
    """
    if len(sites) < 2:
        return []
    frac = np.array([s.frac_coords for s in sites]) % 1.0
    dist = structure.lattice.get_all_distances(frac, frac)
    labels = symmetry_classes(structure, sites, symprec) if equivalent_only else None
    out = []
    for i, j in zip(*np.nonzero(np.triu((dist <= max_hop_A) & (dist >= 0.5), k=1))):
        if labels is not None and labels[i] != labels[j]:
            continue
        dmin, _ = path_min_distance_A(structure, sites[i].frac_coords, sites[j].frac_coords)
        if dmin < min_path_dist_A:
            continue
        out.append((sites[i], sites[j], float(dist[i, j])))
    out.sort(key=lambda t: t[2])
    return out
