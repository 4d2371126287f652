"""Hydroxylation of oxide slabs, Li insertion, Sn clusters and their placement on a support."""

import numpy as np
import pytest

from contactflow.errors import RecipeError
from contactflow.structures import (
    cluster_from_bulk,
    graphene_sheet,
    hydroxylate,
    lithiate,
    load_bulk,
    make_slabs,
    min_distance_A,
    place_on_support,
    structure_hash,
)


def _o_neighbours(s, site, cutoff):
    return [n for n in s.get_neighbors(site, cutoff) if n.species_string == "O"]


@pytest.mark.parametrize("termination", [1, 2])
def test_hydroxylated_quartz_is_fully_coordinated_and_adds_water(termination):
    slab = make_slabs(load_bulk("SiO2"), (0, 0, 1), layers=2, supercell=(2, 2), termination=termination)[0].slab
    s = hydroxylate(slab, "both")
    c = s.composition
    # each broken Si–O bond leaves one Si–OH and one O–H: the slab gains k H2O
    assert c["H"] > 0 and c["H"] == 2 * (c["O"] - 2 * c["Si"])
    for site in s:
        if site.species_string == "Si":
            assert len(_o_neighbours(s, site, 1.9)) == 4
        elif site.species_string == "O":  # every O is bonded twice (Si–O–Si or Si–O–H)
            assert len([n for n in s.get_neighbors(site, 1.9) if n.species_string in ("Si", "H")]) == 2
    assert min_distance_A(s) >= 0.96


def test_hydroxylation_needs_an_oxide():
    slab = make_slabs(load_bulk("Si"), (1, 1, 1), layers=2)[0].slab
    with pytest.raises(RecipeError, match="passivation: OH needs an oxide"):
        hydroxylate(slab)


def test_lithiation_fills_voids_at_the_requested_ratio():
    slab = make_slabs(load_bulk("Si"), (1, 1, 1), layers=3, supercell=(2, 2), termination=1)[0].slab
    s = lithiate(slab, 0.25, seed=1)
    n_si, n_li = s.composition["Si"], s.composition["Li"]
    assert n_li == round(0.25 * n_si)
    li = [i for i, x in enumerate(s) if x.species_string == "Li"]
    si = [i for i, x in enumerate(s) if x.species_string == "Si"]
    d = s.distance_matrix
    assert d[np.ix_(li, si)].min() >= 2.2 - 1e-9
    dl = d[np.ix_(li, li)] + np.eye(len(li)) * 9
    assert dl.min() >= 2.3 - 1e-9
    z = s.cart_coords[:, 2]
    assert z[li].min() >= z[si].min() and z[li].max() <= z[si].max()  # inside the slab
    assert structure_hash(lithiate(slab, 0.25, seed=1)) == structure_hash(s)
    with pytest.raises(RecipeError, match=r"lithiation.li_per_host: 2.0 is out of range; valid 0 < x <= 1"):
        lithiate(slab, 2.0)


@pytest.mark.parametrize("n", [4, 5, 10])
def test_sn_cluster_is_compact_with_bulk_bonds(n):
    mol = cluster_from_bulk(load_bulk("Sn"), n)
    assert len(mol) == n and mol.composition.reduced_formula == "Sn"
    d = mol.distance_matrix + np.eye(n) * 99
    assert d.min() == pytest.approx(3.02, abs=0.01)  # beta-Sn nearest neighbour
    # connected: every atom has a neighbour within 3.5 Å, and the cluster stays compact
    assert np.all(d.min(axis=1) < 3.5)
    assert np.max(np.linalg.norm(mol.cart_coords - mol.center_of_mass, axis=1)) < 2.2 * n ** (1 / 3) + 1.0


def test_cluster_placement_and_support_size():
    sheet = graphene_sheet((6, 6))
    film = place_on_support(cluster_from_bulk(load_bulk("Sn"), 10), sheet, 2.8)
    centre = 0.5 * (sheet.lattice.matrix[0] + sheet.lattice.matrix[1])
    assert np.allclose(film.cart_coords[:, :2].mean(axis=0), centre[:2], atol=1e-6)
    with pytest.raises(RecipeError, match="supercell: the support cell"):
        place_on_support(cluster_from_bulk(load_bulk("Sn"), 20), graphene_sheet((2, 2)), 2.8)
    with pytest.raises(RecipeError, match="n_atoms: 0 is out of range"):
        cluster_from_bulk(load_bulk("Sn"), 0)
