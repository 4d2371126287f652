"""Sampling plan ``sico`` (Si, O, C, Li): the Si/C contacts of issue 16, with SiOx, drawn from the recipes.

``si_graphene`` / ``si_graphite``: the recipes' film (Si(111), 2 layers = 2 bilayers, termination 1, bare)
on graphene and on AB graphite, in the recipes' own matched coincidence cell: Si(111) √3×√3 R30° (6.65 Å,
12 Si) strained −2.0 % onto graphene √7×√7 R19.1° (6.52 Å, 14 C) — the film is strained, the substrate is
not (``build_recipe('si_graphene')`` gives this 26-atom cell; ``si_graphite`` the same cell over 4 sheets,
68 atoms). Here graphite is cut to its top AB pair (28 C, 40 atoms): the Si–C contact sees the sheets
below only through dispersion, which the D3 baseline carries, and the C–C interlayer is lisic's.

``sio2_graphene``: the recipe's α-quartz (0001) film (2 layers, Si6 O12, bare O-terminated faces) on 2×2
graphene (4.93 Å; film strain +0.2 %): 26 atoms.

Bulk 3C-SiC (8 atoms) gives Si–C bonds at their bulk length (the covalent limit of the Si/C contact, recipe
``sic_si``) and Li at interface voids gives Li–Si, Li–C and Li–O distances.

Cells are sized for CP2K on 2 cores with ``cp2k:pbe-d3`` (2×2×1 k-grid for the 6.5 Å and 4.9 Å sheets).
Per-cell cost measured: see ``potentials/mlp/sico/NOTES.md``.
"""

from collections.abc import Sequence

import numpy as np
from ase import Atoms
from pymatgen.core import Structure

from contactflow.mlp import sampling
from contactflow.mlp.plans_oxides import _atoms, _others, _stack, _unique, li_in_gap, onto_lattice

VACUUM_A = 15.0
LI_GAP_A = 4.2  # opening at which Li is put into the Si/C gap (room for Li at 1.7–3.5 Å from both sides)
QUARTZ_LI_GAP_A = 4.0  # the same for the SiO2/C gap
SI_FILM_SUPERCELL = ((1, 1), (-1, 2))  # √3×√3 R30° of the Si(111) 1×1 cell (60° convention)
GRAPHENE_UNDER_SI = ((2, 1), (-1, 3))  # √7×√7 R19.1° of graphene (60° convention)
HEX120_TO_60 = ((1, 0), (1, 1))  # a hexagonal 120° cell (quartz, graphite) → the same cell in the 60° convention


def graphene_sqrt7() -> Structure:
    from contactflow.structures import graphene_sheet

    return graphene_sheet(np.array(GRAPHENE_UNDER_SI))


def graphite_sqrt7() -> Structure:
    """AB graphite (0001), 2 layers, in the √7×√7 cell (the recipe ``si_graphite``'s substrate, 28 C)."""
    from contactflow.structures import load_bulk, make_slabs

    slab = make_slabs(load_bulk("graphite"), (0, 0, 1), layers=1, vacuum_A=VACUUM_A)[0].slab  # 2 sheets, 120°
    m = np.array(GRAPHENE_UNDER_SI) @ np.array(HEX120_TO_60)  # the √7 cell in graphite's 120° basis
    return onto_lattice(slab, m.tolist(), graphene_sqrt7())


def si111_film() -> Structure:
    """The recipes' Si(111) film (2 layers, termination 1: 2 bilayers, 4 Si per 1×1) in √3×√3, strained onto
    the graphene √7×√7 cell (12 Si)."""
    from contactflow.structures import load_bulk, make_slabs

    slab = make_slabs(load_bulk("Si"), (1, 1, 1), layers=2, vacuum_A=VACUUM_A, termination=1)[0].slab
    return onto_lattice(slab, SI_FILM_SUPERCELL, graphene_sqrt7())


def quartz_film() -> Structure:
    """The recipe ``sio2_graphene``'s film (α-quartz (0001), 2 layers, Si6 O12) on the 2×2 graphene cell."""
    from contactflow.structures import graphene_sheet, load_bulk, make_slabs

    slab = make_slabs(load_bulk("SiO2"), (0, 0, 1), layers=2, vacuum_A=VACUUM_A)[0].slab
    return onto_lattice(slab, HEX120_TO_60, graphene_sheet((2, 2)))


def si_on_carbon(gap_A: float = 3.0, shift_frac: Sequence[float] = (0.0, 0.0), graphite: bool = False
                 ) -> tuple[Atoms, list[int]]:
    """Si(111) √3 on graphene √7 (26 atoms) or on AB graphite (40), ``gap_A`` above, shifted by ``shift_frac``."""
    sub = graphite_sqrt7() if graphite else graphene_sqrt7()
    return _stack(sub, si111_film(), gap_A, shift_frac=shift_frac)


def quartz_on_graphene(gap_A: float = 3.0, shift_frac: Sequence[float] = (0.0, 0.0)) -> tuple[Atoms, list[int]]:
    from contactflow.structures import graphene_sheet

    return _stack(graphene_sheet((2, 2)), quartz_film(), gap_A, shift_frac=shift_frac)


def sico(split: str = "train", seed: int = 0, md_engine: str = "chgnet", md: bool = True) -> list[Atoms]:
    """Configurations of the ``sico`` data set (Si, O, C, Li); ``test`` uses other seeds, gaps, shifts."""
    from contactflow.structures import load_bulk

    test = split == "test"
    s0 = seed + (1000 if test else 0)
    out: list[Atoms] = []
    tag = sampling._tag
    # Si(111)/graphene: openings (covalent contact at 2 Å to separated), registries, strain, rattles, MD, Li
    sy = "Si/graphene"
    for g in ([2.3, 3.1, 4.5] if test else [1.9, 2.2, 2.5, 2.8, 3.2, 3.8, 5.0, 8.0]):
        out.append(tag(si_on_carbon(g)[0], "traction", sy))
    for sh in ([(0.4, 0.15)] if test else [(1 / 3, 0.0), (0.5, 0.5)]):
        out.append(tag(si_on_carbon(2.8, sh)[0], "registry", sy))
    eq, film = si_on_carbon(2.8)
    if not test:
        out += sampling.strained_cells(eq, (-2.0, 2.0), (), system=sy, axes=(0, 1))[::3]
    out += sampling.rattled(eq, 0.05, 1 if test else 2, seed=s0 + 1, system=sy)
    if not test:
        out += sampling.rattled(si_on_carbon(2.2)[0], 0.06, 1, seed=s0 + 2, system=sy)
    if md and not test:
        out += sampling.md_snapshots(eq, md_engine, 700.0, n_frames=2, interval=20, seed=s0 + 3, system=sy)
    sites = _unique(li_in_gap(*si_on_carbon(LI_GAP_A), n=6))
    out += [tag(a, "li_insertion", sy) for a in (sites[-1:] if test else sites[:2])]
    if test:  # the host without Li: Li insertion energy E(host + Li) − E(host) − μ_Li on held-out cells
        out.append(tag(si_on_carbon(LI_GAP_A)[0], "traction", sy))
    # the film and the sheet alone in the same cell (W_sep references)
    out += sampling.rattled(eq[film], 0.04, 1 if test else 2, seed=s0 + 4, system=sy)
    sheet = eq[_others(len(eq), film)]
    out += sampling.rattled(sheet, 0.04, 1, seed=s0 + 5, system=sy)
    # Si(111)/AB graphite (recipe si_graphite): one opening each (40 atoms; the second sheet is lisic's)
    out.append(tag(si_on_carbon(2.6 if test else 2.8, graphite=True)[0], "traction", "Si/graphite"))
    # α-quartz (0001)/graphene (recipe sio2_graphene): openings, rattle, Li; film alone (no registry scan: the
    # 2×2 sheet under one quartz cell offers one registry per graphene lattice vector, a half-cell shift is none)
    sy = "SiO2/graphene"
    for g in ([2.5] if test else [1.9, 2.3, 2.8, 3.5, 5.0]):
        out.append(tag(quartz_on_graphene(g)[0], "traction", sy))
    qeq, qfilm = quartz_on_graphene(2.8)
    out += sampling.rattled(qeq, 0.05, 1, seed=s0 + 7, system=sy)
    qsites = _unique(li_in_gap(*quartz_on_graphene(QUARTZ_LI_GAP_A), n=6))
    out += [tag(a, "li_insertion", sy) for a in (qsites[1:2] if test else qsites[:1])]
    if test:
        out.append(tag(quartz_on_graphene(QUARTZ_LI_GAP_A)[0], "traction", sy))
    else:
        out += sampling.rattled(qeq[qfilm], 0.04, 1, seed=s0 + 8, system=sy)
    if test:  # the separated pieces, unrattled: rigid W_sep = (E_film + E_substrate − E_interface) / A on test cells
        gt = si_on_carbon(2.6, graphite=True)
        out += [tag(a, "traction", s) for a, s in ((eq[film], "Si/graphene"), (sheet, "Si/graphene"),
                                                     (gt[0][_others(len(gt[0]), gt[1])], "Si/graphite"),
                                                     (qeq[qfilm], "SiO2/graphene"),
                                                     (qeq[_others(len(qeq), qfilm)], "SiO2/graphene"))]
    # bcc Li (a = 3.44 Å): μ_Li for the insertion energies (test: the ideal cell; train: strained, rattled)
    from ase.build import bulk

    li = bulk("Li", "bcc", a=3.44, cubic=True)
    out += [tag(li, "strain", "Li")] if test else (sampling.strained_cells(li, (-3.0, 3.0), (), system="Li")[::4]
                                                  + sampling.rattled(li, 0.05, 1, seed=s0 + 11, system="Li"))
    # 3C-SiC bulk: Si–C bonds (the covalent limit)
    sic = _atoms(load_bulk("SiC_3C"))
    out += sampling.rattled(sic, 0.05, 1 if test else 2, seed=s0 + 9, system="SiC")
    if not test:
        out += sampling.strained_cells(sic, (-2.5, 2.5), (), system="SiC")[::4]
    return _unique(out)


PLANS = {"sico": sico}
