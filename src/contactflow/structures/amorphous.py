"""Amorphous phases (a-C, a-Si, lithiated a-LixSi) by a documented, seeded procedure.

Procedure
---------
1. **Random sequential packing** (:func:`random_packing`): the number of atoms follows from the target
   density and the box volume; atoms of the requested composition are inserted one at a time at
   uniformly random positions (``numpy.random.default_rng(seed)``) and kept only if no pair is closer
   than a per-pair minimum distance (≈ 0.85 × the bond length: Si–Si 2.0, Li–Si 2.1, Li–Li 2.1,
   C–C 1.35 Å). In-plane the box is periodic with the partner's lattice; along z it is a slab of the given
   thickness. This is cheap (< 1 s for a few hundred atoms) and deterministic, and gives a disordered
   starting model at the right density whose short-range order is still random.
2. **Melt–quench with an MLP** (optional, ``melt_quench_steps > 0``): the packed periodic box is handed
   to an injected ``quench`` function (this package runs no engine); contactflow's is
   :func:`contactflow.jobs.melt_quench.quencher` — Langevin MD at ``t_melt_K`` for n steps, a linear
   quench to 300 K over n steps (1 fs), then a FIRE relaxation at fixed cell. With CHGNet a 64-atom a-Si
   box and 2 × 150 steps take ~30 s on 2 cores and give a mostly four-fold coordinated network.

Densities: a-Si 2.28 g/cm³ (crystal 2.33); LixSi from the volume per Si,
V(x) = 20.02 + 14.99 x Å³, the line between c-Si (20.02 Å³/Si) and Li15Si4 (76.25 Å³/Si at x = 3.75):
the near-linear volume expansion with Li content measured by Obrovac & Christensen (2004).
"""

from collections.abc import Callable

import numpy as np
from pymatgen.core import Composition, Element, Lattice, Structure

from contactflow.errors import RecipeError

AMU_G = 1.66053906660e-24  # g per amu
#: Minimum distances (Å) used by the packing; other pairs use 0.85 × the sum of atomic radii.
MIN_DISTANCES_A = {("Si", "Si"): 2.0, ("Li", "Si"): 2.1, ("Li", "Li"): 2.1, ("C", "C"): 1.35,
                   ("C", "Si"): 1.6, ("O", "Si"): 1.45, ("O", "O"): 2.2}
A_SI_DENSITY_G_CM3 = 2.28


def lixsi_volume_per_si_A3(x: float) -> float:
    """Volume per Si of LixSi (Å³), linear between c-Si and Li15Si4."""
    return 20.02 + 14.99 * x


def default_density_g_cm3(composition: Composition) -> float:
    """Density for an amorphous composition: a-Si 2.28; LixSi from :func:`lixsi_volume_per_si_A3`; a-C 2.0."""
    el = {str(e) for e in composition.elements}
    if el == {"C"}:
        return 2.0
    if el == {"Si"}:
        return A_SI_DENSITY_G_CM3
    if el == {"Li", "Si"}:
        x = composition["Li"] / composition["Si"]
        mass = (28.0855 + x * 6.94) * AMU_G
        return mass / (lixsi_volume_per_si_A3(x) * 1e-24)
    raise RecipeError(f"density_g_cm3: no default density for {composition.reduced_formula}; give density_g_cm3")


def _pair_min(a: str, b: str, table: dict | None) -> float:
    key = tuple(sorted((a, b)))
    for t in (table or {}, MIN_DISTANCES_A):
        if key in t:
            return t[key]
        if (key[1], key[0]) in t:
            return t[(key[1], key[0])]
    return 0.85 * (Element(a).atomic_radius + Element(b).atomic_radius)


def atom_counts(composition: dict, n_total: int) -> dict[str, int]:
    """Split ``n_total`` atoms over a composition by largest remainder (exact ratios where possible)."""
    comp = Composition(composition)
    fr = {str(e): comp.get_atomic_fraction(e) for e in comp.elements}
    raw = {e: f * n_total for e, f in fr.items()}
    counts = {e: int(np.floor(v)) for e, v in raw.items()}
    for e in sorted(raw, key=lambda e: -(raw[e] - counts[e]))[: n_total - sum(counts.values())]:
        counts[e] += 1
    return counts


def random_packing(
    lattice: Lattice,
    thickness_A: float,
    composition: dict,
    density_g_cm3: float | None = None,
    *,
    seed: int = 0,
    min_distance_A: dict | None = None,
    vacuum_A: float = 15.0,
    periodic_z: bool = False,
    max_attempts_per_atom: int = 5000,
) -> Structure:
    """Random sequential packing of an amorphous block (step 1 of the module procedure).

    Parameters
    ----------
    lattice
        Only its a and b vectors are used (they must lie in the xy plane).
    thickness_A
        Thickness of the block along z, Å.
    composition
        Element → amount, e.g. ``{"Li": 1, "Si": 1}``.
    density_g_cm3
        Target density; default from :func:`default_density_g_cm3`.
    seed
        Random seed.
    min_distance_A
        Extra/overriding pair minimum distances ``{("Li", "Si"): 2.2}``.
    vacuum_A
        Vacuum added along z (ignored with ``periodic_z``).
    periodic_z
        Make the box periodic along z (c = thickness) — the bulk box a melt–quench starts from.

    Returns
    -------
    Structure
        Composition exactly proportional where the atom count allows (largest remainder).

    Raises
    ------
    RecipeError
        Bad thickness/density, or the packing jammed (density too high for the minimum distances).
    """
    if not 2.0 <= thickness_A <= 60.0:
        raise RecipeError(f"thickness_A: {thickness_A} is out of range; valid 2..60 Å")
    comp = Composition(composition)
    rho = default_density_g_cm3(comp) if density_g_cm3 is None else float(density_g_cm3)
    if not 0.3 <= rho <= 10.0:
        raise RecipeError(f"density_g_cm3: {rho} is out of range; valid 0.3..10")
    a, b = lattice.matrix[:2]
    area = float(np.linalg.norm(np.cross(a, b)))
    volume_cm3 = area * thickness_A * 1e-24
    mass_per_atom = comp.weight / comp.num_atoms * AMU_G
    n_total = max(1, int(round(rho * volume_cm3 / float(mass_per_atom))))
    counts = atom_counts(composition, n_total)
    c = thickness_A if periodic_z else thickness_A + vacuum_A
    lat = Lattice(np.array([[a[0], a[1], 0.0], [b[0], b[1], 0.0], [0.0, 0.0, c]]))
    rng = np.random.default_rng(seed)
    order = [e for e, k in counts.items() for _ in range(k)]
    order = [order[i] for i in rng.permutation(len(order))]
    elements = sorted(counts)
    dmin = {(p, q): _pair_min(p, q, min_distance_A) for p in elements for q in elements}
    z0 = 0.0 if periodic_z else vacuum_A / 2
    fz = thickness_A / c
    placed_f = np.zeros((0, 3))
    placed_el: list[str] = []
    for el in order:
        need = np.array([dmin[(el, q)] for q in placed_el])
        for _ in range(max_attempts_per_atom // 50):
            trial = rng.random((50, 3))
            trial[:, 2] = z0 / c + trial[:, 2] * fz
            if len(placed_el) == 0:
                ok = np.ones(50, bool)
            else:
                d = lat.get_all_distances(trial, placed_f)
                ok = np.all(d >= need[None, :], axis=1)
            if ok.any():
                placed_f = np.vstack([placed_f, trial[int(np.argmax(ok))]])
                placed_el.append(el)
                break
        else:
            raise RecipeError(
                f"density_g_cm3: random packing of {comp.reduced_formula} at {rho:.2f} g/cm³ jammed after "
                f"{len(placed_el)} of {n_total} atoms; lower the density or the minimum distances"
            )
    out = Structure(lat, placed_el, placed_f)
    out.properties.update(procedure="random_packing", density_g_cm3=rho, seed=seed)
    return out


def amorphous_slab(
    lattice: Lattice,
    thickness_A: float,
    composition: dict,
    density_g_cm3: float | None = None,
    *,
    seed: int = 0,
    vacuum_A: float = 15.0,
    melt_quench_steps: int = 0,
    quench: Callable[[Structure], Structure] | None = None,
) -> Structure:
    """An amorphous slab on the in-plane cell of ``lattice`` (the module's procedure, steps 1 and 2).

    With ``melt_quench_steps == 0`` this is the packed model; otherwise a periodic box is packed, given to
    ``quench`` (e.g. ``contactflow.jobs.melt_quench.quencher(engine, melt_quench_steps, seed)``) and
    opened along z with vacuum.

    Raises
    ------
    RecipeError
        ``melt_quench_steps > 0`` without a ``quench`` function.
    """
    if melt_quench_steps <= 0:
        return random_packing(lattice, thickness_A, composition, density_g_cm3, seed=seed, vacuum_A=vacuum_A)
    if quench is None:
        raise RecipeError(
            f"melt_quench_steps = {melt_quench_steps} needs a quench function (structures run no engine): pass "
            "quench=contactflow.jobs.melt_quench.quencher(engine, steps, seed), or set melt_quench_steps: 0")
    box = random_packing(lattice, thickness_A, composition, density_g_cm3, seed=seed, periodic_z=True)
    box = quench(box)
    cart = box.cart_coords.copy()
    frac = box.frac_coords % 1.0
    cart = box.lattice.get_cartesian_coords(frac)
    cart[:, 2] += vacuum_A / 2
    lat = Lattice(np.vstack([box.lattice.matrix[:2], [0, 0, box.lattice.c + vacuum_A]]))
    out = Structure(lat, box.species, cart, coords_are_cartesian=True)
    out.properties.update(box.properties)
    return out
