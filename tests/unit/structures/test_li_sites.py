"""Li site finding: voids of diamond Si, adsorption sites of graphene, hop pairs, Li insertion."""

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from contactflow.structures import load_bulk
from contactflow.structures.li_sites import (
    SiteFindingError, find_adsorption_sites, find_interstitial_sites, hop_pairs, insert_li,
    path_min_distance_A, symmetry_classes,
)

A_SI = 5.431


def graphene(n: int = 3) -> Structure:
    return Structure(Lattice.hexagonal(2.46, 15.0), ["C", "C"], [[0, 0, 0.5], [1 / 3, 2 / 3, 0.5]]) * (n, n, 1)


def test_si_voids_are_the_tetrahedral_sites_with_their_multiplicity():
    sites = find_interstitial_sites(load_bulk("Si"))
    td = sites[0]
    # largest void of diamond Si: the tetrahedral interstitial, 4 Si at the bond length a*sqrt(3)/4
    assert td.min_dist_A == pytest.approx(A_SI * np.sqrt(3) / 4, abs=0.01)
    assert td.multiplicity == 8  # 8 Td sites per conventional cell (4 + 4, related by symmetry)
    # every kept site is distinct by symmetry: multiplicities add up to all voids found without reduction
    full = find_interstitial_sites(load_bulk("Si"), symmetry_reduce=False)
    assert sum(s.multiplicity for s in sites) == len(full)


def test_hexagonal_ring_centre_is_found_but_smaller_than_td():
    sites = find_interstitial_sites(load_bulk("Si"))
    kinds = sorted(round(s.min_dist_A, 2) for s in sites)
    assert kinds[0] < kinds[-1]
    assert all(s.min_dist_A >= 1.5 for s in sites)


def test_td_hop_pairs_in_supercell_are_symmetric_nearest_neighbours():
    si = load_bulk("Si") * (2, 2, 2)
    td = [s for s in find_interstitial_sites(si, symmetry_reduce=False) if s.min_dist_A > 2.3]
    assert len(td) == 64
    pairs = hop_pairs(si, td, max_hop_A=2.5, equivalent_only=True)
    # each Td site has 4 Td neighbours at a*sqrt(3)/4 (through a hexagonal ring): 64*4/2 pairs
    assert len(pairs) == 128
    assert pairs[0][2] == pytest.approx(A_SI * np.sqrt(3) / 4, abs=0.01)
    labels = symmetry_classes(si, td)
    assert len(set(labels)) == 1


def test_graphene_adsorption_sites_and_hollow_is_largest_void():
    sites = find_adsorption_sites(graphene(), height_A=1.7)
    kinds = {s.kind for s in sites}
    assert kinds == {"ontop", "bridge", "hollow"}
    hollow = next(s for s in sites if s.kind == "hollow")
    # hollow: 1.42 Å in plane from six C at 1.7 Å height
    assert hollow.min_dist_A == pytest.approx(np.hypot(2.46 / np.sqrt(3), 1.7), abs=0.01)
    assert hollow.cart_coords[2] == pytest.approx(7.5 + 1.7, abs=1e-6)


def test_path_through_an_atom_is_detected():
    si = load_bulk("Si")
    td = find_interstitial_sites(si, symmetry_reduce=False)
    td = [x for x in td if x.min_dist_A > 2.3]
    a, b, hop = hop_pairs(si, td, max_hop_A=2.5)[0]
    d, t = path_min_distance_A(si, a.frac_coords, b.frac_coords)
    # through the centre of a six-ring: never closer than ~2.2 Å to a Si (ring radius 2.25 Å)
    assert 2.0 < d <= 2.26
    x = si[0].frac_coords
    d2, t2 = path_min_distance_A(si, x - 0.1, x + 0.1)
    assert d2 < 0.01 and t2 == pytest.approx(0.5, abs=0.05)


def test_insert_li_appends_one_li_and_keeps_host():
    si = load_bulk("Si")
    out = insert_li(si, [0.5, 0.5, 0.5])
    assert len(out) == len(si) + 1 and out[-1].species_string == "Li"
    assert len(si) == 8


def test_no_void_raises_specific_error():
    with pytest.raises(SiteFindingError, match="no interstitial void"):
        find_interstitial_sites(load_bulk("Si"), min_dist_A=3.0)
