"""Carbon builders: graphene, AB graphite, N-doped graphene, reduced graphene oxide, amorphous carbon.

Every builder is a pure function of its arguments and ``seed`` (``numpy.random.default_rng``): the same
call gives the same structure. Sheets lie in the xy plane (normal +z); "top" is +z. Functional groups
and dopants are placed on an existing sheet (:func:`functionalise_rgo`, :func:`n_dope`) so they can
decorate a graphene layer that came out of lattice matching, or a fresh :func:`graphene_sheet`.

Geometry of the groups (placed rigidly; a relaxation adjusts them): hydroxyl C–O 1.43 Å, O–H 0.97 Å,
C–O–H 108°; epoxy O 1.27 Å above the middle of a C–C bond (C–O 1.46 Å); carboxyl C–C 1.52 Å, C=O 1.21 Å,
C–OH 1.34 Å, O–H 0.97 Å, in a plane containing the sheet normal. Groups on the same side never sit on
neighbouring carbons, and no new atom is placed closer than 1.5 Å to any other atom.
"""

import numpy as np
from pymatgen.core import Lattice, Structure

from contactflow.errors import RecipeError
from contactflow.structures.geometry import distances_to_points

#: Graphene lattice constant (Å), as in the shipped graphite CIF.
GRAPHENE_A = 2.464
#: Graphite interlayer spacing (Å).
GRAPHITE_INTERLAYER_A = 3.35
#: Functional groups of rGO: O atoms and extra C atoms each adds.
GROUPS = {"hydroxyl": {"O": 1, "C": 0}, "epoxy": {"O": 1, "C": 0}, "carboxyl": {"O": 2, "C": 1}}
#: Largest O/C ratio accepted (graphene oxide itself is ~0.5).
MAX_O_TO_C = 0.5
#: Tolerance of the O/C ratio actually placed.
O_TO_C_TOL = 0.02
N_DOPING_KINDS = ("graphitic", "pyridinic")
SIDES = ("top", "bottom", "both")
_CC = GRAPHENE_A / np.sqrt(3)
_MIN_NEW_A = 1.5


def graphene_sheet(supercell=(1, 1), a_A: float = GRAPHENE_A, c_A: float = 20.0) -> Structure:
    """A flat graphene sheet at z = c/2.

    Parameters
    ----------
    supercell
        ``(n, m)`` repetitions of the hexagonal primitive cell, or a 2×2 integer matrix.
    a_A
        Lattice constant, Å.
    c_A
        Cell height (vacuum included), Å.
    """
    m = np.array(supercell, dtype=int)
    m = np.diag(m) if m.shape == (2,) else m
    if m.shape != (2, 2) or round(abs(np.linalg.det(m))) < 1:
        raise RecipeError(f"supercell: must be [n, m] with n, m >= 1 or a 2x2 integer matrix, got {supercell!r}")
    lat = Lattice([[a_A, 0, 0], [a_A / 2, a_A * np.sqrt(3) / 2, 0], [0, 0, c_A]])
    s = Structure(lat, ["C", "C"], [[1 / 3, 1 / 3, 0.5], [2 / 3, 2 / 3, 0.5]])
    s.make_supercell([[int(m[0, 0]), int(m[0, 1]), 0], [int(m[1, 0]), int(m[1, 1]), 0], [0, 0, 1]])
    return s


def _bond_vector(sheet: Structure) -> np.ndarray:
    """Cartesian vector from the first C to one of its in-plane nearest neighbours."""
    nb = min(sheet.get_neighbors(sheet[0], _CC * 1.2), key=lambda n: n.nn_distance)
    return nb.coords - sheet[0].coords


def stack_layers(sheet: Structure, n_layers: int, interlayer_A: float = GRAPHITE_INTERLAYER_A) -> Structure:
    """AB (Bernal) stack of ``n_layers`` copies of a graphene sheet, added below it.

    The given sheet stays on top (it is the contact layer); layer k lies ``k * interlayer_A`` below and
    is shifted in-plane by one C–C bond vector when k is odd (A→B). The cell is made tall enough.
    """
    if n_layers < 1:
        raise RecipeError(f"layers: must be >= 1, got {n_layers}")
    if n_layers == 1:
        return sheet.copy()
    shift = _bond_vector(sheet)
    z_top = sheet.cart_coords[:, 2].max()
    height = (n_layers - 1) * interlayer_A
    c = max(sheet.lattice.c, height + 20.0)
    lat = Lattice(np.vstack([sheet.lattice.matrix[:2], [0, 0, c]]))
    species, coords = [], []
    base = sheet.cart_coords - np.array([0, 0, z_top]) + np.array([0, 0, c / 2 + height / 2])
    for k in range(n_layers):
        off = np.array([shift[0] * (k % 2), shift[1] * (k % 2), -k * interlayer_A])
        species += [sp for sp in sheet.species]
        coords.append(base + off)
    return Structure(lat, species, np.vstack(coords), coords_are_cartesian=True, to_unit_cell=True)


def _carbon_neighbours(pos: np.ndarray, lattice: Lattice, cutoff: float = _CC * 1.2) -> list[list[int]]:
    frac = lattice.get_fractional_coords(pos)
    d = lattice.get_all_distances(frac, frac)
    np.fill_diagonal(d, np.inf)
    return [list(np.nonzero(row < cutoff)[0]) for row in d]


def _check_sheet(sheet: Structure, what: str) -> None:
    z = sheet.cart_coords[:, 2]
    if sheet.composition.elements != [sheet.composition.elements[0]] or str(sheet.composition.elements[0]) != "C":
        raise RecipeError(f"{what}: needs a pristine carbon sheet, got {sheet.composition.formula}")
    if np.ptp(z) > 0.5:
        raise RecipeError(f"{what}: needs a single flat carbon layer (z spread {np.ptp(z):.2f} Å)")


def plan_groups(n_carbon: int, o_to_c: float, groups, weights=None, tol: float = O_TO_C_TOL) -> dict[str, int]:
    """How many of each group give the O/C ratio closest to ``o_to_c`` on ``n_carbon`` sheet carbons.

    Carboxyl adds one C per group, so the ratio is n_O / (n_carbon + n_carboxyl). For each total number
    of groups the split follows ``weights`` (largest remainder), or trades one group for another when
    that lands closer to the target (small sheets); the closest ratio wins, then the split closest to
    the weights, then the fewest groups.

    Raises
    ------
    RecipeError
        Unknown group, O/C out of range, or a target that the sheet is too small to reach within ``tol``.
    """
    groups = list(groups)
    bad = [g for g in groups if g not in GROUPS]
    if bad or not groups:
        raise RecipeError(f"groups: unknown functional group(s) {bad or groups}; valid: {', '.join(GROUPS)}")
    if not 0.0 <= o_to_c <= MAX_O_TO_C:
        raise RecipeError(f"o_to_c: {o_to_c} is out of range; valid 0 <= o_to_c <= {MAX_O_TO_C} "
                          "(rGO is typically 0.08-0.12, graphene oxide ~0.5)")
    w = np.ones(len(groups)) if weights is None else np.array([float(weights.get(g, 0.0)) for g in groups])
    if np.any(w < 0) or w.sum() <= 0:
        raise RecipeError(f"group_weights: must be non-negative with a positive sum, got {weights}")
    w = w / w.sum()
    import itertools

    best, best_key = {g: 0 for g in groups}, (abs(o_to_c), 0.0)
    deltas = [d for d in itertools.product((-1, 0, 1), repeat=len(groups)) if sum(d) == 0]
    for total in range(1, n_carbon + 1):
        raw = w * total
        base = np.floor(raw).astype(int)
        for i in np.argsort(-(raw - base), kind="stable")[: total - base.sum()]:
            base[i] += 1
        # the proportional split, or one group traded for another when that gets closer to the target
        for d in deltas:
            counts = base + np.array(d)
            if np.any(counts < 0):
                continue
            plan = dict(zip(groups, (int(c) for c in counts)))
            n_o = sum(GROUPS[g]["O"] * k for g, k in plan.items())
            n_c = n_carbon + sum(GROUPS[g]["C"] * k for g, k in plan.items())
            key = (round(abs(n_o / n_c - o_to_c), 12), float(np.abs(counts - raw).sum()))
            if key < best_key:
                best, best_key = plan, key
        if sum(GROUPS[g]["O"] * k for g, k in zip(groups, base)) / n_carbon > o_to_c + 2 * tol:
            break
    best_err = best_key[0]
    if best_err > tol:
        raise RecipeError(
            f"o_to_c: {o_to_c} cannot be reached within ±{tol} with groups {groups} on a sheet of {n_carbon} "
            "C atoms; use a larger supercell"
        )
    return best


def _unit(v):
    return v / np.linalg.norm(v)


def functionalise_rgo(
    sheet: Structure,
    o_to_c: float,
    groups=("hydroxyl", "epoxy"),
    *,
    vacancies: int = 0,
    side: str = "both",
    seed: int = 0,
    group_weights: dict | None = None,
    tol: float = O_TO_C_TOL,
) -> Structure:
    """Reduced graphene oxide from a flat carbon sheet.

    Parameters
    ----------
    sheet
        A single flat carbon layer (normal +z).
    o_to_c
        Target O/C atom ratio (rGO: C/O ≈ 8–12, i.e. 0.08–0.12), reached within ``tol``.
    groups
        Any of ``hydroxyl``, ``epoxy``, ``carboxyl``.
    vacancies
        Carbon atoms removed before functionalisation; carboxyl groups go to the carbons next to
        vacancies first (edge sites), then to basal carbons.
    side
        ``top`` (+z, the contact side of a substrate), ``bottom`` or ``both`` (random per group).
    seed
        Random seed: same seed ⇒ same structure.
    group_weights
        Relative share of each group (default equal).
    tol
        Allowed |O/C − target|.

    Returns
    -------
    Structure
        The sheet with groups; site property ``group`` names the group of every added atom
        (``""`` for sheet carbons).

    Raises
    ------
    RecipeError
        Unknown group or side, O/C out of range or unreachable on this sheet, more vacancies than
        the sheet can take, or no room left for a group.
    """
    if side not in SIDES:
        raise RecipeError(f"side: {side!r} is not valid; valid: {', '.join(SIDES)}")
    _check_sheet(sheet, "rgo")
    n0 = len(sheet)
    if not 0 <= vacancies <= n0 // 4:
        raise RecipeError(f"vacancies: {vacancies} is out of range for a {n0}-atom sheet; valid 0..{n0 // 4}")
    rng = np.random.default_rng(seed)
    lat = sheet.lattice
    pos = sheet.cart_coords.copy()
    nbrs = _carbon_neighbours(pos, lat)
    # vacancies: non-adjacent random carbons
    removed: set[int] = set()
    for i in rng.permutation(n0):
        if len(removed) == vacancies:
            break
        if not removed.intersection(nbrs[i]):
            removed.add(int(i))
    if len(removed) < vacancies:
        raise RecipeError(f"vacancies: cannot place {vacancies} separated vacancies on a {n0}-atom sheet")
    keep = [i for i in range(n0) if i not in removed]
    edge = {j for i in removed for j in nbrs[i]} - removed
    plan = plan_groups(len(keep), o_to_c, groups, group_weights, tol)

    species: list[str] = ["C"] * len(keep)
    coords: list[np.ndarray] = [pos[i] for i in keep]
    labels: list[str] = [""] * len(keep)
    used = {+1: set(), -1: set()}  # carbons bonded to a group, per side
    for i in removed:
        used[+1].add(i)
        used[-1].add(i)

    def free(i, s):
        return i not in used[s] and not used[s].intersection(nbrs[i])

    slot = {orig: k for k, orig in enumerate(keep)}

    def far_enough(new, hosts):
        others = [c for k, c in enumerate(coords) if k not in {slot[h] for h in hosts}]
        fr = lat.get_fractional_coords(np.array(new))
        return bool(np.all(distances_to_points(lat, fr, lat.get_fractional_coords(np.array(others))) >= _MIN_NEW_A - 1e-9))

    def pick_side():
        return {"top": 1, "bottom": -1}.get(side) or int(rng.choice([1, -1]))

    def try_place(kind):
        s = pick_side()
        order = list(rng.permutation(keep))
        if kind == "carboxyl":
            order = [i for i in order if i in edge] + [i for i in order if i not in edge]
        for i in order:
            i = int(i)
            if not free(i, s):
                continue
            c0 = pos[i]
            n = np.array([0.0, 0.0, float(s)])
            if kind == "epoxy":
                partners = [int(j) for j in rng.permutation(nbrs[i]) if j not in removed and free(int(j), s)]
                for j in partners:
                    mid = c0 + 0.5 * _minimage(pos[j] - c0, lat)
                    new = [mid + 1.27 * n]
                    if far_enough(new, (i, j)):
                        used[s].update((i, j))
                        return [("O", new[0])]
                continue
            for _ in range(6):
                phi = rng.uniform(0, 2 * np.pi)
                t = np.array([np.cos(phi), np.sin(phi), 0.0])
                if kind == "hydroxyl":
                    o = c0 + 1.43 * n
                    h = o + 0.97 * (np.cos(np.radians(72)) * n + np.sin(np.radians(72)) * t)
                    atoms = [("O", o), ("H", h)]
                else:  # carboxyl: C' above, C=O and C-O-H at ±120° in the (n, t) plane
                    c1 = c0 + 1.52 * n
                    d1 = _unit(np.cos(np.radians(60)) * n + np.sin(np.radians(60)) * t)
                    d2 = _unit(np.cos(np.radians(60)) * n - np.sin(np.radians(60)) * t)
                    o1, o2 = c1 + 1.21 * d1, c1 + 1.34 * d2
                    h = o2 + 0.97 * _unit(n * 0.35 - t)
                    atoms = [("C", c1), ("O", o1), ("O", o2), ("H", h)]
                if far_enough([a[1] for a in atoms], (i,)):
                    used[s].add(i)
                    return atoms
        return None

    for kind in ("carboxyl", "epoxy", "hydroxyl"):
        for _ in range(plan.get(kind, 0)):
            atoms = try_place(kind)
            if atoms is None:
                raise RecipeError(
                    f"o_to_c: no room left for another {kind} group on a {n0}-atom sheet at o_to_c={o_to_c}; "
                    "use a larger supercell, side: both, or a lower o_to_c"
                )
            for el, xyz in atoms:
                species.append(el)
                coords.append(xyz)
                labels.append(kind)
    out = Structure(lat, species, np.array(coords), coords_are_cartesian=True, to_unit_cell=True,
                    site_properties={"group": labels})
    out.properties.update(o_to_c_target=o_to_c, groups=plan, vacancies=vacancies, seed=seed, side=side)
    return out


def _minimage(v: np.ndarray, lat: Lattice) -> np.ndarray:
    f = lat.get_fractional_coords(v)
    f[:2] -= np.round(f[:2])
    return lat.get_cartesian_coords(f)


def n_dope(sheet: Structure, n_fraction: float, kind: str = "graphitic", *, seed: int = 0) -> Structure:
    """N-doped graphene from a flat carbon sheet.

    Parameters
    ----------
    sheet
        A single flat carbon layer.
    n_fraction
        Target N/(C+N) atom fraction (0 < f <= 0.15); at least one N (graphitic) or one pyridinic
        defect is made.
    kind
        ``graphitic``: substitute C by N at non-neighbouring sites. ``pyridinic``: remove a carbon and
        turn its three neighbours into N (the pyridinic N3 vacancy), defects not sharing atoms.
    seed
        Random seed.

    Returns
    -------
    Structure
        Site property ``group`` is ``"N-graphitic"``/``"N-pyridinic"`` on the N atoms.
    """
    if kind not in N_DOPING_KINDS:
        raise RecipeError(f"kind: {kind!r} is not a known N doping; valid: {', '.join(N_DOPING_KINDS)}")
    if not 0.0 < n_fraction <= 0.15:
        raise RecipeError(f"n_fraction: {n_fraction} is out of range; valid 0 < n_fraction <= 0.15")
    _check_sheet(sheet, "n_graphene")
    rng = np.random.default_rng(seed)
    n0 = len(sheet)
    nbrs = _carbon_neighbours(sheet.cart_coords, sheet.lattice)
    species = ["C"] * n0
    labels = [""] * n0
    blocked: set[int] = set()
    removed: set[int] = set()
    if kind == "graphitic":
        target = max(1, round(n_fraction * n0))
        placed = 0
        for i in rng.permutation(n0):
            if placed == target:
                break
            if i in blocked:
                continue
            species[i], labels[i] = "N", "N-graphitic"
            blocked.update([int(i), *nbrs[i]])
            placed += 1
    else:
        target = max(1, round(n_fraction * n0 / 3))
        placed = 0
        for v in rng.permutation(n0):
            if placed == target:
                break
            shell = {int(v), *nbrs[v]}
            second = {j for i in nbrs[v] for j in nbrs[i]}
            if shell & blocked or second & removed:
                continue
            removed.add(int(v))
            for j in nbrs[v]:
                species[j], labels[j] = "N", "N-pyridinic"
            blocked.update(shell | second)
            placed += 1
    if placed < target:
        raise RecipeError(f"n_fraction: only {placed} of {target} {kind} N sites fit on a {n0}-atom sheet; "
                          "use a larger supercell or a lower n_fraction")
    keep = [i for i in range(n0) if i not in removed]
    out = Structure(sheet.lattice, [species[i] for i in keep], sheet.frac_coords[keep],
                    site_properties={"group": [labels[i] for i in keep]})
    out.properties.update(n_fraction_target=n_fraction, kind=kind, seed=seed)
    return out


def amorphous_carbon(lattice: Lattice, thickness_A: float, density_g_cm3: float = 2.0, *, seed: int = 0,
                     min_distance_A: float = 1.35) -> Structure:
    """Amorphous carbon slab of a given density by seeded random sequential packing.

    See :func:`contactflow.structures.amorphous.random_packing` (the procedure, its limits, and the
    optional MLP melt–quench that turns the packing into a relaxed network).
    """
    from contactflow.structures.amorphous import random_packing

    if not 1.0 <= density_g_cm3 <= 3.5:
        raise RecipeError(f"density_g_cm3: {density_g_cm3} is out of range for carbon; valid 1.0..3.5 "
                          "(a-C 1.8-2.2, ta-C up to 3.3)")
    return random_packing(lattice, thickness_A, {"C": 1.0}, density_g_cm3, seed=seed,
                          min_distance_A={("C", "C"): min_distance_A})


def ab_bilayer_interface(gap_A: float = 3.35, vacuum_A: float = 15.0):
    """AB graphene bilayer as a pymatgen ``Interface`` (film = top sheet): a = 2.46 Å, ``gap_A`` between
    the sheets (graphite: 3.35 Å), ``vacuum_A`` above. The W_sep reference system of the graphite contact."""
    from pymatgen.core.interface import Interface
    from pymatgen.core.surface import Slab

    def sheet():
        ouc = Structure(Lattice.hexagonal(2.46, 6.7), ["C", "C"], [[0, 0, 0], [1 / 3, 2 / 3, 0]])
        return Slab(Lattice.hexagonal(2.46, 20.0), ["C", "C"], [[0, 0, 0.5], [1 / 3, 2 / 3, 0.5]],
                    miller_index=(0, 0, 1), oriented_unit_cell=ouc, shift=0, scale_factor=np.eye(3, dtype=int))

    iface = Interface.from_slabs(sheet(), sheet(), gap=gap_A, vacuum_over_film=vacuum_A)
    iface.in_plane_offset = (1 / 3, 2 / 3)
    return iface
