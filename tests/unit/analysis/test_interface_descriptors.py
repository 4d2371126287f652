"""Interface descriptors on hand-built structures with known answers."""

import numpy as np
import pytest
from ase import Atoms

from contactflow.analysis.descriptors import (
    DescriptorInputError, all_descriptors, contact_area_fraction, cross_coordination, cross_interface_bonds,
    interface_voids, interphase_thickness_A, split_sides,
)


def plane(symbol: str, n: int, a: float, z: float, shift=(0.0, 0.0)) -> Atoms:
    """An n×n square plane of atoms with spacing a at height z."""
    xy = np.array([(i * a + shift[0], j * a + shift[1]) for i in range(n) for j in range(n)])
    return Atoms(symbol * (n * n), positions=np.column_stack([xy, np.full(n * n, z)]))


def stack(*planes: Atoms, cell_xy: float, c: float = 40.0) -> Atoms:
    out = Atoms(cell=[cell_xy, cell_xy, c], pbc=True)
    for p in planes:
        out += p
    return out


def fe_on_oxide() -> tuple[Atoms, list[int], list[int]]:
    """C layer 2.5 Å below an O layer (substrate) and Fe directly above each O at 2.0 Å (film): 3×3 in a 9 Å cell."""
    a = stack(plane("C", 3, 3.0, 7.5), plane("O", 3, 3.0, 10.0), plane("Fe", 3, 3.0, 12.0), cell_xy=9.0)
    return a, list(range(18, 27)), list(range(18))


def test_bond_counts_across_a_constructed_interface():
    atoms, film, sub = fe_on_oxide()
    # Fe–O at 2.0 Å < (1.32 + 0.66) × 1.2 = 2.38 Å; next Fe–O at √(3² + 2²) = 3.6 Å; Fe–C at 4.5 Å
    assert cross_interface_bonds(atoms, film, sub) == {"Fe-O": 9}
    assert cross_coordination(atoms, film, sub) == {"film:Fe": 1.0, "substrate:O": 1.0}
    # remove one row of three Fe: six bonds left; an explicit cutoff below 2.0 Å removes them all
    keep = [i for i in range(len(atoms)) if i not in (18, 19, 20)]
    cut = atoms[keep]
    assert cross_interface_bonds(cut, list(range(18, 24)), sub) == {"Fe-O": 6}
    assert cross_interface_bonds(atoms, film, sub, cutoffs={"O-Fe": 1.9}) == {}
    # periodic images count: Fe shifted half a cell still bonds to the image O
    shifted = atoms.copy()
    shifted.positions[film, 0] += 9.0 * 0.999999999
    assert cross_interface_bonds(shifted, film, sub) == {"Fe-O": 9}


def test_split_sides_uses_the_widest_gap():
    atoms, film, sub = fe_on_oxide()
    atoms.positions[film, 2] += 1.0  # gap 3 Å above O vs 2 Å between C and O
    assert split_sides(atoms) == (film, sub)


def test_contact_area_fraction_flat_full_contact_island_and_gap():
    a, n = 1.5, 8  # dense planes: every grid point is within 1.06 Å of an atom laterally
    L = a * n
    full = stack(plane("C", n, a, 10.0), plane("C", n, a, 13.35, (0.75, 0.75)), cell_xy=L)
    film, sub = list(range(64, 128)), list(range(64))
    assert contact_area_fraction(full, film, sub) == 1.0
    far = full.copy()
    far.positions[film, 2] += 3.0  # 6.35 Å apart: nothing within the 4 Å contact distance
    assert contact_area_fraction(far, film, sub) == 0.0
    # an island: film rows only for x in [0, 3a] → covered band (3a + 2 R) / L with R = 2 Å probe
    island = [i for i in film if full.positions[i, 0] < 3 * a + 0.8]
    isl = full[sub + island]
    frac = contact_area_fraction(isl, list(range(64, 64 + len(island))), sub, grid_A=0.1)
    expected = (3 * a + 2 * 2.0) / L
    assert frac == pytest.approx(expected, abs=0.02)


def test_interphase_thickness_sharp_and_intermixed():
    a, n = 1.5, 4
    sharp = stack(*[plane("Si", n, a, z) for z in np.arange(0, 10.0, 1.0)],
                  *[plane("C", n, a, z, (0.75, 0.75)) for z in np.arange(12.35, 22.0, 1.0)], cell_xy=a * n)
    ns = n * n * 10
    side = [i for i in range(len(sharp)) if sharp[i].symbol == "C"], list(range(ns))
    assert interphase_thickness_A(sharp, *side) == 0.0
    # intermixed: substrate planes z = 0 … 10, film planes z = 6 … 16 (offset in-plane) → overlap 4 Å
    mixed = stack(*[plane("Si", n, a, z) for z in np.arange(0, 10.5, 1.0)],
                  *[plane("C", n, a, z, (0.75, 0.75)) for z in np.arange(6.0, 16.5, 1.0)], cell_xy=a * n)
    film = [i for i in range(len(mixed)) if mixed[i].symbol == "C"]
    sub = [i for i in range(len(mixed)) if mixed[i].symbol == "Si"]
    # each side's half-bulk-density boundary lies half a plane spacing (0.5 Å) beyond its last plane,
    # so the overlap of 4 Å between the outermost planes is 5 Å between the boundaries (± one bin)
    assert interphase_thickness_A(mixed, film, sub) == pytest.approx(5.0, abs=0.15)


def test_interface_voids_of_an_empty_gap():
    a, n = 0.5, 12  # dense planes: corrugation of the excluded volume is negligible
    gap = 6.0
    atoms = stack(plane("C", n, a, 10.0), plane("C", n, a, 10.0 + gap), cell_xy=a * n)
    sub, film = list(range(n * n)), list(range(n * n, 2 * n * n))
    v = interface_voids(atoms, film, sub, probe_radius_A=1.0)
    # excluded: C covalent radius 0.76 + probe 1.0 from each plane → empty layer 6 − 2 × 1.76 = 2.48 Å
    assert v["region_height_A"] == pytest.approx(gap)
    assert v["void_volume_per_area_A"] == pytest.approx(gap - 2 * 1.76, abs=0.2)
    assert v["void_fraction"] == pytest.approx((gap - 2 * 1.76) / gap, abs=0.04)
    closed = stack(plane("C", n, a, 10.0), plane("C", n, a, 12.0), cell_xy=a * n)
    assert interface_voids(closed, film, sub)["void_volume_A3"] == 0.0


def test_all_descriptors_and_bad_sides():
    atoms, film, sub = fe_on_oxide()
    d = all_descriptors(atoms, film, sub)
    assert d["n_cross_bonds"] == 9
    assert d["cross_bonds_per_nm2"] == pytest.approx(9 / 81.0 * 100)
    assert d["interface_gap_A"] == pytest.approx(2.0)
    with pytest.raises(DescriptorInputError, match="both"):
        cross_interface_bonds(atoms, film, film)
    with pytest.raises(DescriptorInputError, match="out of range"):
        cross_interface_bonds(atoms, [99], sub)
