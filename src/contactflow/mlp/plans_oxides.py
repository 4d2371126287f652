"""Sampling plans for the oxide/carbon chemistries of issue 16, drawn from the shipped recipes.

``snoc`` (Sn, O, C, N, Li): the contacts of ``sno2_graphene`` (rutile SnO2(110) on graphene),
``sn_cluster_graphene`` and ``sn_cluster_n_graphene`` (Sn clusters on graphene / pyridinic N-graphene),
with Li at interface sites. ``feoc`` (Fe, O, C, H, Li): the pieces of ``fe3o4_rgo`` and its ``coupled`` /
``non_aligned`` variants — magnetite (bulk and the recipe's (111) film), rGO with hydroxyl + epoxy at the
recipes' O/C, Fe–O–C bonds (methoxy on Fe3O4(111); an Fe3O4 fragment on rGO in the coupled and the
non-aligned registry, as :func:`contactflow.structures.registry_shift` places the recipes' films) and Li.

Cells are sized for CP2K on 2 cores (≤ 55 atoms). ``cp2k:pbe-d3`` k-grids: Γ for the 4×4 (9.9 Å) sheets,
1×2×1 for the SnO2(110)/graphene cell (12.3 × 6.4 Å) and its film alone, 2×2×3 for bulk rutile; every Fe
cell is Γ (≥ 8 Å; CP2K 2023.1 has no DFT+U with k-points). The recipes' own matched interfaces (SnO2(110)/graphene: 308 atoms; the
smallest Fe3O4(111)/graphene coincidence within 5 % strain: √3×√3 Fe3O4 on 4×4 graphene, 74+ atoms) are
for the queue; here the contact is cut to the smallest cell that keeps its bonds:

- SnO2(110)/graphene: one stoichiometric O–Sn2O2–O trilayer, surface cell [[4,0],[2,1]] (12.75 × 6.70 Å),
  on graphene [[5,0],[1,3]]; the film takes the graphene cell (strain −3.4 % / −4.5 %, the recipe's
  convention: the film is strained, the substrate is not): 24 + 30 = 54 atoms.
- Sn4 (the recipe ``sn_cluster_n_graphene``'s cluster; ``cluster_from_bulk``) on 4×4 graphene (36 atoms)
  and on 4×4 graphene with one pyridinic N3 vacancy (35 atoms, N/(C+N) = 0.097; the recipe's 6×6 sheet has
  0.04 — the same defect in a smaller cell).
- rGO = 4×4 graphene at O/C 0.1 (hydroxyl + epoxy on the contact side, seed 1 as in the recipes: C32 H2 O3)
  and an Fe3O4 formula-unit fragment cut from magnetite (Fe(A)O4 + 2 Fe(B)) on it (44 atoms), coupled and
  non-aligned; the fragment over pristine graphene and alone. Spin-polarised PBE+U runs at Γ only with
  CP2K 2023.1, so no Fe cell is smaller than 8 Å: magnetite's own 14-atom cells (primitive, (111) 1×1) are
  out; conventional bulk, 2×2 Fe3O4(111) and methoxy on it (Fe–O–C) are in ``feoc(large=True)`` (queue).

Every Fe atom carries magnetite's ferrimagnetic start (:func:`contactflow.structures.magnetism.magnetite_moments`:
Fe(A) −4, Fe(B) +4 μB) as ``initial_magmoms``; CP2K then runs UKS + U and rejects collapsed orders.
Per-cell cost measured with ``cp2k:pbe-d3``, 1 thread: see ``potentials/mlp/<name>/NOTES.md``.
"""

from collections.abc import Sequence

import numpy as np
from ase import Atoms
from pymatgen.core import Lattice, Structure
from pymatgen.io.ase import AseAtomsAdaptor

from contactflow.mlp import sampling

VACUUM_A = 15.0
SNO2_FILM_SUPERCELL = ((4, 0), (2, 1))  # SnO2(110) surface cell multiples (a = [001] 3.19 Å, b = [1-10] 6.70 Å)
GRAPHENE_UNDER_SNO2 = ((5, 0), (1, 3))  # graphene primitive-cell multiples of the same cell


def _atoms(s: Structure, magnetic: bool = False) -> Atoms:
    """Plain ASE Atoms (no site-property arrays) of a Structure; magnetite moments on Fe if ``magnetic``."""
    from contactflow.structures.magnetism import magnetite_moments

    a = Atoms([str(sp) for sp in s.species], positions=s.cart_coords, cell=s.lattice.matrix, pbc=True)
    if magnetic and "Fe" in a.get_chemical_symbols():
        a.set_initial_magnetic_moments(magnetite_moments(a))
    return a


def _stack(substrate: Structure, film: Structure, gap_A: float, shift=None,
           shift_frac: Sequence[float] | None = None) -> tuple[Atoms, list[int]]:
    """``film`` ``gap_A`` above ``substrate``, shifted in-plane by ``shift`` (Cartesian, Å) or ``shift_frac``
    (fractions of the substrate's a, b); Atoms and the film's indices."""
    from contactflow.structures import stack_interface

    if shift_frac is not None:
        shift = substrate.lattice.get_cartesian_coords([shift_frac[0], shift_frac[1], 0.0])
    iface = stack_interface(substrate, film, gap_A=gap_A, vacuum_A=VACUUM_A, in_plane_shift=shift, min_cross_A=1.5)
    film_idx = [i for i, lab in enumerate(iface.site_properties["interface_label"]) if lab == "film"]
    return _atoms(iface, magnetic=True), film_idx


def _others(n: int, idx: Sequence[int]) -> list[int]:
    """Indices 0 … n−1 not in ``idx`` (the substrate of a stacked cell, given the film's)."""
    skip = set(idx)
    return [i for i in range(n) if i not in skip]


def onto_lattice(film: Structure, matrix, substrate: Structure) -> Structure:
    """``film`` in the in-plane supercell ``matrix`` ((m00, m01), (m10, m11)), given the substrate's in-plane
    lattice with fractional coordinates kept: the film takes the strain (the recipes' convention)."""
    (m00, m01), (m10, m11) = matrix
    f = film.copy()
    f.make_supercell([[m00, m01, 0], [m10, m11, 0], [0, 0, 1]])
    g = substrate.lattice.matrix
    return Structure(Lattice(np.array([g[0], g[1], f.lattice.matrix[2]])), f.species, f.frac_coords)


def _with_film_magmoms(atoms: Atoms) -> Atoms:
    from contactflow.structures.magnetism import magnetite_moments

    if "Fe" in atoms.get_chemical_symbols():
        atoms.set_initial_magnetic_moments(magnetite_moments(atoms))
    return atoms


# ---------------------------------------------------------------- builders (pure)

def graphene_4x4() -> Structure:
    from contactflow.structures import graphene_sheet

    return graphene_sheet((4, 4))


def n_graphene_4x4(seed: int = 0) -> Structure:
    """4×4 graphene with one pyridinic N3 vacancy (the recipe's doping kind; C28 N3)."""
    from contactflow.structures import n_dope

    return n_dope(graphene_4x4(), 0.04, "pyridinic", seed=seed)


def rgo_4x4(o_to_c: float = 0.10, seed: int = 1) -> Structure:
    """4×4 rGO with hydroxyl + epoxy on the contact (top) side at the recipes' O/C and seed (C32 O3 H1)."""
    from contactflow.structures import functionalise_rgo

    return functionalise_rgo(graphene_4x4(), o_to_c, ("epoxy", "hydroxyl"), side="top", seed=seed)


def sno2_110_film() -> Structure:
    """One stoichiometric SnO2(110) trilayer (bridging O on both faces) strained onto the graphene cell."""
    from contactflow.structures import load_bulk, make_slabs

    slab = next(m.slab for m in make_slabs(load_bulk("SnO2"), (1, 1, 0), layers=1, vacuum_A=VACUUM_A)
                if m.termination.split("_")[1] == "O2")
    return onto_lattice(slab, SNO2_FILM_SUPERCELL, graphene_under_sno2())


def graphene_under_sno2() -> Structure:
    from contactflow.structures import graphene_sheet

    return graphene_sheet(np.array(GRAPHENE_UNDER_SNO2))


def sno2_graphene(gap_A: float = 3.0, shift_frac: Sequence[float] = (0.0, 0.0)) -> tuple[Atoms, list[int]]:
    """SnO2(110) trilayer on graphene (54 atoms), film ``gap_A`` above the sheet, shifted by ``shift_frac``."""
    return _stack(graphene_under_sno2(), sno2_110_film(), gap_A, shift_frac=shift_frac)


def sn_cluster(n: int = 4):
    from contactflow.structures import cluster_from_bulk, load_bulk

    return cluster_from_bulk(load_bulk("Sn"), n)


def cluster_on_sheet(sheet: Structure, n_sn: int = 4, gap_A: float = 2.5,
                     shift_A: Sequence[float] = (0.0, 0.0)) -> tuple[Atoms, list[int]]:
    """Sn_n cluster (``cluster_from_bulk``) over the sheet's centre, ``gap_A`` above it, shifted in-plane."""
    from contactflow.structures import place_on_support

    placed = place_on_support(sn_cluster(n_sn), sheet, gap_A)
    sheet_atoms = _atoms(sheet)
    sheet_atoms.positions[:, 2] -= sheet_atoms.positions[:, 2].min() - VACUUM_A / 2
    cl = _atoms(placed)
    cl.positions[:, 2] += sheet_atoms.positions[:, 2].max() + gap_A - cl.positions[:, 2].min()
    cl.positions[:, :2] += np.asarray(shift_A)[:2]
    out = sheet_atoms + cl
    out.cell[2] = [0, 0, out.positions[:, 2].max() + VACUUM_A / 2]
    out.wrap()
    return out, list(range(len(sheet_atoms), len(out)))


def fe3o4_primitive() -> Atoms:
    from contactflow.structures import load_bulk

    return _atoms(load_bulk("Fe3O4").get_primitive_structure(), magnetic=True)


def fe3o4_111_film(termination: int = 1) -> Structure:
    """The recipes' Fe3O4(111) film: one layer, termination 1 (14 atoms)."""
    from contactflow.structures import load_bulk, make_slabs

    return make_slabs(load_bulk("Fe3O4"), (1, 1, 1), layers=1, vacuum_A=VACUUM_A, termination=termination)[0].slab


def fe3o4_111_slab(termination: int = 1) -> Atoms:
    return _atoms(fe3o4_111_film(termination), magnetic=True)


def methoxy_on_fe3o4(termination: int = 1, height_A: float = 1.95, supercell=(1, 1)) -> Atoms:
    """CH3O bound through O on top of the highest Fe of the Fe3O4(111) film (Fe–O–C; 19 atoms in 1×1)."""
    film = fe3o4_111_film(termination)
    film.make_supercell([supercell[0], supercell[1], 1])
    at = _atoms(film, magnetic=True)
    fe = [i for i, s in enumerate(at.get_chemical_symbols()) if s == "Fe"]
    top = max(fe, key=lambda i: at.positions[i, 2])
    o = at.positions[top] + [0, 0, height_A]
    c = o + [0, 0, 1.42]
    hs = [c + 1.09 * np.array([np.sin(np.radians(109.5)) * np.cos(t), np.sin(np.radians(109.5)) * np.sin(t),
                              -np.cos(np.radians(109.5))]) * [1, 1, -1] for t in np.radians([0, 120, 240])]
    mag = list(at.get_initial_magnetic_moments()) + [0.0] * 5
    out = at + Atoms("OCH3", positions=[o, c, *hs])
    out.set_initial_magnetic_moments(mag)
    if out.positions[:, 2].max() + VACUUM_A / 2 > out.cell[2, 2]:
        out.cell[2, 2] = out.positions[:, 2].max() + VACUUM_A / 2
    return out


def fe3o4_fragment() -> "Structure":
    """An Fe3O4 unit cut from bulk magnetite: one tetrahedral Fe(A) with its four O and the two Fe(B)
    closest to it that share those O (bulk bond lengths; magnetite moments are read from them)."""
    from pymatgen.core import Molecule

    from contactflow.structures import load_bulk
    from contactflow.structures.magnetism import magnetite_sites

    bulk = load_bulk("Fe3O4")
    sites = magnetite_sites(bulk)
    a_idx = sites.index("A")
    centre = bulk[a_idx].coords
    nn = bulk.get_neighbors(bulk[a_idx], 2.2)
    o = sorted([n for n in nn if n.species_string == "O"], key=lambda n: n.nn_distance)[:4]
    fe_b = []
    for n in bulk.get_neighbors(bulk[a_idx], 4.0):
        if n.species_string == "Fe" and sites[n.index] == "B":
            shared = sum(np.linalg.norm(n.coords - x.coords) < 2.2 for x in o)
            fe_b.append((-shared, n.nn_distance, tuple(np.round(n.coords, 3)), n))
    fe_b = [t[-1] for t in sorted(fe_b, key=lambda t: t[:3])[:2]]
    xyz = [centre, *[x.coords for x in o], *[x.coords for x in fe_b]]
    return Molecule(["Fe", "O", "O", "O", "O", "Fe", "Fe"], xyz).get_centered_molecule()


def fragment_on_rgo(registry: str = "coupled", gap_A: float = 2.0) -> tuple[Atoms, list[int]]:
    """The Fe3O4 fragment on 4×4 rGO: ``coupled`` (lowest Fe over the highest rGO O, Fe–O–C) or
    ``non_aligned`` (contact atoms laterally far from the rGO O), as the recipes' ``registry`` places films."""
    from contactflow.structures import registry_shift

    rgo = rgo_4x4()
    frag = fragment_as_structure(rgo.lattice)
    shift = registry_shift(rgo, frag, registry)
    return _stack(rgo, frag, gap_A, shift)


def fragment_as_structure(lattice: Lattice) -> Structure:
    mol = fragment_on_plane()
    xyz = mol.cart_coords.copy()
    xyz[:, :2] += (0.5 * (lattice.matrix[0] + lattice.matrix[1]))[:2]
    xyz[:, 2] += 5.0 - xyz[:, 2].min()
    return Structure(lattice, mol.species, xyz, coords_are_cartesian=True)


def fragment_on_plane():
    """The fragment turned so its two Fe(B) point down (they bind to the support, Fe(A) stays on top)."""
    mol = fe3o4_fragment()
    xyz = mol.cart_coords
    fe_a, fe_b = xyz[0], xyz[5:7].mean(axis=0)
    v = fe_a - fe_b
    v /= np.linalg.norm(v)
    z = np.array([0.0, 0.0, 1.0])
    ax = np.cross(v, z)
    s, c = np.linalg.norm(ax), float(np.dot(v, z))
    if s > 1e-8:
        ax /= s
        k = np.array([[0, -ax[2], ax[1]], [ax[2], 0, -ax[0]], [-ax[1], ax[0], 0]])
        rot = np.eye(3) + s * k + (1 - c) * k @ k
        xyz = xyz @ rot.T
    from pymatgen.core import Molecule

    return Molecule(mol.species, xyz)


def li_near(atoms: Atoms, sheet_idx: Sequence[int], anchor_idx: Sequence[int], n: int = 2, height_A: float = 1.8,
            min_dist_A: float = 2.1) -> list[Atoms]:
    """Li above hexagon centres of the sheet (``height_A`` above its plane), the ``n`` hollow sites closest
    (laterally) to the anchor atoms (a cluster or film edge) that keep ≥ ``min_dist_A`` to every atom,
    symmetry-equivalent sites counted once."""
    from ase.geometry import get_distances

    sheet = [i for i in sheet_idx if atoms[i].symbol in ("C", "N")]
    zc = float(np.median(atoms.positions[sheet, 2]))
    pos = atoms.positions[sheet]
    _, d = get_distances(pos, pos, cell=atoms.cell, pbc=atoms.pbc)
    cands = []
    for i in range(len(sheet)):  # hexagon centres: midpoints of para (third-neighbour, 2.84 Å) pairs
        for j in range(i + 1, len(sheet)):
            if 2.7 < d[i, j] < 3.0:
                v, _ = get_distances(pos[i], pos[j], cell=atoms.cell, pbc=atoms.pbc)
                mid = pos[i] + v[0, 0] / 2
                cands.append(mid)
    out, seen = [], []
    anchor = atoms.positions[list(anchor_idx)]
    scored = []
    for mid in cands:
        p = np.array([mid[0], mid[1], zc + height_A])
        _, dall = get_distances(p, atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
        if dall.min() < min_dist_A:
            continue
        v, _ = get_distances(p, anchor, cell=atoms.cell, pbc=atoms.pbc)
        lat = float(np.min(np.linalg.norm(v[0][:, :2], axis=1)))
        scored.append((round(lat, 2), round(float(p[0]), 2), round(float(p[1]), 2), p))
    for lat, _, _, p in sorted(scored, key=lambda t: t[:3]):
        if any(np.linalg.norm(p - q) < 1.0 for q in seen):
            continue
        seen.append(p)
        new = atoms + Atoms("Li", positions=[p])
        m = list(atoms.get_initial_magnetic_moments()) + [0.0]
        new.set_initial_magnetic_moments(m)
        out.append(new)
        if len(out) == 4 * n:
            break
    return _unique(out)[:n]  # symmetry-equivalent hollows give the same fingerprint: one of them


def li_in_gap(atoms: Atoms, film_idx: Sequence[int], n: int = 2, min_dist_A: float = 1.7) -> list[Atoms]:
    """Li at the ``n`` largest voids of the gap between film and substrate (interface sites)."""
    from contactflow.structures.li_sites import find_interstitial_sites

    s = AseAtomsAdaptor.get_structure(Atoms(atoms.get_chemical_symbols(), atoms.positions, cell=atoms.cell, pbc=True))
    sub = _others(len(atoms), film_idx)
    lo, hi = atoms.positions[sub, 2].max() - 0.3, atoms.positions[list(film_idx), 2].min() + 0.3
    sites = find_interstitial_sites(s, min_dist_A=min_dist_A, max_dist_A=3.5, symmetry_reduce=False, z_window_A=(lo, hi))
    out = []
    for st in sites[:n]:
        new = atoms + Atoms("Li", positions=[st.cart_coords])
        new.set_initial_magnetic_moments(list(atoms.get_initial_magnetic_moments()) + [0.0])
        out.append(new)
    return out


# ---------------------------------------------------------------- plans

def _t(atoms: Atoms | Sequence[Atoms], source: str, system: str) -> list[Atoms]:
    """Tag like :func:`sampling._tag` but keep the initial magnetic moments."""
    seq = [atoms] if isinstance(atoms, Atoms) else list(atoms)
    out = []
    for a in seq:
        m = a.get_initial_magnetic_moments()
        b = sampling._tag(a, source, system)
        b.set_initial_magnetic_moments(m)
        out.append(b)
    return out


def _unique(configs: list[Atoms]) -> list[Atoms]:
    """Drop configurations the data set's fingerprint calls duplicates (e.g. a- and b-strains of rutile)."""
    from contactflow.mlp.data import dedupe

    return [configs[i] for i in dedupe(configs)]


def _keep_moments(src: Atoms, derived: list[Atoms]) -> list[Atoms]:
    m = src.get_initial_magnetic_moments()
    for d in derived:
        if len(d) == len(src):
            d.set_initial_magnetic_moments(m)
    return derived


def snoc(split: str = "train", seed: int = 0, md_engine: str = "chgnet", md: bool = True) -> list[Atoms]:
    """Configurations of the ``snoc`` data set (Sn, O, C, N, Li); ``test`` uses other seeds, gaps, shifts."""
    test = split == "test"
    s0 = seed + (1000 if test else 0)
    out: list[Atoms] = []
    # SnO2(110)/graphene (recipe sno2_graphene): openings, registries, strain, rattles, Li in the gap
    sy = "SnO2/graphene"
    gaps = [2.8, 3.3, 4.2] if test else [2.5, 2.75, 3.0, 3.25, 3.5, 4.0, 5.0, 7.0]
    for g in gaps:
        out += _t(sno2_graphene(g)[0], "traction", sy)
    shifts = [(0.35, 0.6), (0.1, 0.3)] if test else [(0.25, 0.0), (0.0, 0.5), (0.5, 0.25), (0.75, 0.75)]
    for sh in shifts:
        out += _t(sno2_graphene(3.0, sh)[0], "registry", sy)
    eq, film = sno2_graphene(3.0)
    out += sampling.strained_cells(eq, (1.5,) if test else (-2.0, 2.0), (), system=sy, axes=(0, 1))[:: 3 if test else 3]
    out += sampling.rattled(eq, 0.05, 1 if test else 3, seed=s0 + 1, system=sy)
    li_gap = sno2_graphene(4.5)
    gap_sites = _unique(li_in_gap(*li_gap, n=6))
    out += _t(gap_sites[-1] if test else gap_sites[0], "li_insertion", sy)
    # SnO2 film alone in the same cell (the W_sep reference) and bulk rutile
    film_only = eq[film]
    out += sampling.rattled(film_only, 0.04, 1 if test else 2, seed=s0 + 2, system=sy)
    from contactflow.structures import load_bulk

    rutile = _atoms(load_bulk("SnO2"))
    out += sampling.rattled(rutile, 0.05, 1 if test else 2, seed=s0 + 3, system="SnO2")
    out += sampling.strained_cells(rutile, (1.0,) if test else (-2.0, 2.0), (), system="SnO2")[:: 4 if test else 2]
    # Sn4 on graphene and on pyridinic N-graphene (recipes sn_cluster_graphene / sn_cluster_n_graphene)
    for sheet, sy in ((graphene_4x4(), "Sn cluster/graphene"), (n_graphene_4x4(), "Sn cluster/N-graphene")):
        gaps = [2.4, 3.4] if test else [2.2, 2.6, 3.0, 4.0, 6.0]
        for g in gaps:
            out += _t(cluster_on_sheet(sheet, 4, g)[0], "traction", sy)
        for sh in ([(0.62, 0.36)] if test else [(1.23, 0.0), (1.23, 0.71), (0.0, 1.42)]):
            out += _t(cluster_on_sheet(sheet, 4, 2.6, sh)[0], "registry", sy)
        base, cl = cluster_on_sheet(sheet, 4, 2.6)
        out += sampling.rattled(base, 0.04, 1 if test else 3, seed=s0 + 10 + len(out) % 7, system=sy)
        if md:
            out += sampling.md_snapshots(base, md_engine, 600.0, n_frames=1 if test else 3, interval=20,
                                         seed=s0 + 20 + len(out) % 7, system=sy)
        sheet_idx = _others(len(base), cl)
        lis = li_near(base, sheet_idx, cl, n=3)
        out += _t(lis[2:3] if test else lis[:2], "li_insertion", sy)
        bare = _atoms(sheet)
        out += sampling.rattled(bare, 0.04, 1 if test else 2, seed=s0 + 30 + len(out) % 7, system=sy)
        out += _t(li_near(bare, range(len(bare)), [0], n=1), "li_insertion", sy) if not test else []
    # the cluster alone in the same cell (binding-energy reference)
    cl_only = cluster_on_sheet(graphene_4x4(), 4, 2.6)[0][-4:]
    out += sampling.rattled(cl_only, 0.05, 1 if test else 2, seed=s0 + 40, system="Sn cluster")
    return _unique(out)


def feoc(split: str = "train", seed: int = 0, md_engine: str = "chgnet", md: bool = True,
         large: bool = False) -> list[Atoms]:
    """Configurations of the ``feoc`` data set (Fe, O, C, H, Li); Fe atoms carry magnetite's moments.

    Spin-polarised PBE+U runs at Γ only in CP2K 2023.1, so every Fe cell here is ≥ 8 Å along each periodic
    axis: the Fe3O4 fragment on (or above) 4×4 rGO / graphene. ``large=True`` adds the magnetite cells that
    need the queue (conventional bulk, 56 atoms; 2×2 Fe3O4(111), 56; methoxy on it, 61).
    """
    test = split == "test"
    s0 = seed + (1000 if test else 0)
    out: list[Atoms] = []
    rgo = _atoms(rgo_4x4())
    out += sampling.rattled(rgo, 0.04, 1 if test else 3, seed=s0 + 6, system="rGO")
    oxy = [i for i, s in enumerate(rgo.get_chemical_symbols()) if s == "O"]
    lis = li_near(rgo, range(len(rgo)), oxy, n=3, min_dist_A=1.9)  # Li–O ≈ 1.9–2.0 Å next to the groups
    out += _t(lis[2:3] if test else lis[:2], "li_insertion", "rGO")
    sy = "Fe3O4/rGO"
    for k, reg in enumerate(("coupled", "non_aligned")):
        gaps = [2.3] if test else [1.8, 2.0, 2.5, 3.5]
        for g in gaps:
            out += _t(fragment_on_rgo(reg, g)[0], "traction", sy)
        base, film = fragment_on_rgo(reg, 2.0)
        out += _keep_moments(base, sampling.rattled(base, 0.04, 1 if test else 2, seed=s0 + 7 + k, system=sy))
        if md and not test:
            out += _keep_moments(base, sampling.md_snapshots(base, md_engine, 600.0, n_frames=2, interval=20,
                                                             seed=s0 + 11 + k, system=sy))
        if not test or reg == "coupled":
            sheet_idx = _others(len(base), film)
            lis = li_near(base, sheet_idx, film, n=2, min_dist_A=1.9)
            out += _t(lis[1:2] if test else lis[:1], "li_insertion", sy)
    # the same fragment over pristine graphene (no Fe–O–C bond: the weak-contact reference)
    bare, film = _stack(graphene_4x4(), fragment_as_structure(graphene_4x4().lattice), 2.4 if test else 2.2)
    out += _t(bare, "traction", "Fe3O4/graphene")
    # the fragment alone in the same cell (binding-energy reference)
    frag = bare[film]
    frag.set_initial_magnetic_moments(bare.get_initial_magnetic_moments()[film])
    out += _keep_moments(frag, sampling.rattled(frag, 0.03, 1 if test else 2, seed=s0 + 20, system="Fe3O4 fragment"))
    if large:
        from contactflow.structures import load_bulk

        conv = _atoms(load_bulk("Fe3O4"), magnetic=True)
        out += _keep_moments(conv, sampling.rattled(conv, 0.04, 1 if test else 2, seed=s0 + 1, system="Fe3O4"))
        slab = _atoms(fe3o4_111_film(1) * (2, 2, 1), magnetic=True)
        out += _keep_moments(slab, sampling.rattled(slab, 0.04, 1, seed=s0 + 2, system="Fe3O4(111)"))
        meo = methoxy_on_fe3o4(1, supercell=(2, 2))
        out += _keep_moments(meo, sampling.rattled(meo, 0.04, 1, seed=s0 + 5, system="Fe-O-C"))
    return _unique(out)


PLANS = {"snoc": snoc, "feoc": feoc}
