"""Slabs: explicit terminations, stoichiometry, thickness, vacuum, symmetric option, fixed bottom tags."""

import numpy as np
import pytest

from contactflow.errors import RecipeError
from contactflow.structures import check_miller, load_bulk, make_slabs


def test_fe3o4_111_terminations_are_all_enumerated_and_labelled():
    models = make_slabs(load_bulk("Fe3O4"), (1, 1, 1), layers=1)
    labels = [m.termination for m in models]
    assert len(models) >= 3
    assert [int(lab.split("_")[0]) for lab in labels] == list(range(1, len(models) + 1))
    assert {lab.split("_")[1] for lab in labels} >= {"Fe", "O2"}  # Fe- and O-terminated planes
    for m in models:  # every termination keeps the bulk stoichiometry
        assert m.slab.composition.reduced_formula == "Fe3O4"


def test_choosing_one_termination_and_out_of_range():
    one = make_slabs(load_bulk("SiC_4H"), (0, 0, 1), layers=1, termination=2)
    assert len(one) == 1 and one[0].index == 2 and one[0].termination.startswith("2_C")
    with pytest.raises(RecipeError, match=r"termination: index 9 out of range; .* 1\.\.4"):
        make_slabs(load_bulk("SiC_4H"), (0, 0, 1), layers=1, termination=9)


def test_thickness_vacuum_and_cell_orientation():
    s = make_slabs(load_bulk("Si"), (1, 1, 1), thickness_A=12.0, vacuum_A=15.0, termination=1)[0].slab
    m = s.lattice.matrix
    assert np.allclose(m[:2, 2], 0) and np.allclose(m[2, :2], 0)  # a, b in plane; c along z
    z = s.cart_coords[:, 2]
    assert np.ptp(z) >= 12.0 - 3.2  # whole Si(111) cells (3 bilayers, 9.4 Å) stacked to >= 12 Å
    assert s.lattice.c - np.ptp(z) >= 15.0 - 1e-6
    assert s.composition.reduced_formula == "Si"


def test_fixed_bottom_tags_are_the_lowest_atoms():
    s = make_slabs(load_bulk("SnO2"), (1, 1, 0), layers=3, fix_bottom_A=1.5, termination=1)[0].slab
    z = s.cart_coords[:, 2]
    fixed = np.array(s.site_properties["fixed"])
    assert fixed.any() and not fixed.all()
    assert np.all(z[fixed] <= z.min() + 1.5 + 1e-6) and np.all(z[~fixed] > z.min() + 1.5)


def test_symmetric_slab_has_equivalent_faces():
    for m in make_slabs(load_bulk("SnO2"), (1, 1, 0), layers=3, symmetric=True):
        s = m.slab
        assert s.is_symmetric()
        z = s.cart_coords[:, 2]
        top = sorted(x.species_string for x, zz in zip(s, z) if zz > z.max() - 0.3)
        bottom = sorted(x.species_string for x, zz in zip(s, z) if zz < z.min() + 0.3)
        assert top == bottom


def test_supercell_repeats_in_plane():
    one = make_slabs(load_bulk("LiF"), (0, 0, 1), layers=2)[0].slab
    big = make_slabs(load_bulk("LiF"), (0, 0, 1), layers=2, supercell=(2, 3))[0].slab
    assert len(big) == 6 * len(one)
    assert big.lattice.a == pytest.approx(2 * one.lattice.a) and big.lattice.b == pytest.approx(3 * one.lattice.b)


@pytest.mark.parametrize("miller,msg", [((0, 0, 0), "not a plane"), ((7, 1, 0), "supported range"),
                                        ((1.5, 0, 0), "three integers")])
def test_impossible_miller_index(miller, msg):
    with pytest.raises(RecipeError, match=msg):
        check_miller(miller)


def test_miller_is_reduced():
    assert check_miller((2, 2, 2)) == (1, 1, 1)
