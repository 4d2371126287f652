"""Graphene, AB graphite, rGO at a target O/C, N-doped graphene and amorphous carbon."""

import numpy as np
import pytest
from pymatgen.core import Lattice

from contactflow.errors import RecipeError
from contactflow.structures import (
    amorphous_carbon,
    functionalise_rgo,
    graphene_sheet,
    min_distance_A,
    n_dope,
    o_to_c_ratio,
    plan_groups,
    stack_layers,
    structure_hash,
)


def _neighbours(s, i, cutoff=1.7):
    return [n for n in s.get_neighbors(s[i], cutoff)]


def test_graphene_is_threefold_with_the_graphite_bond_length():
    s = graphene_sheet((4, 3))
    assert len(s) == 24
    for i in range(len(s)):
        nb = _neighbours(s, i)
        assert len(nb) == 3
        assert all(n.nn_distance == pytest.approx(2.464 / np.sqrt(3), abs=1e-6) for n in nb)


def test_graphite_ab_stacking_and_interlayer():
    s = stack_layers(graphene_sheet((3, 3)), 4)
    z = np.sort(np.unique(np.round(s.cart_coords[:, 2], 3)))
    assert len(z) == 4
    assert np.diff(z) == pytest.approx([3.35] * 3, abs=0.1)
    # AB (Bernal): half of the atoms of a layer sit exactly above an atom of the next layer
    layers = [s.cart_coords[np.isclose(s.cart_coords[:, 2], zz, atol=1e-3)] for zz in z]
    for lo, hi in zip(layers[:-1], layers[1:]):
        lat = s.lattice
        above = 0
        for p in hi:
            q = lo.copy()
            q[:, 2] = p[2]
            d = lat.get_all_distances(lat.get_fractional_coords(p[None]), lat.get_fractional_coords(q))[0]
            above += int(d.min() < 1e-3)
        assert above == len(hi) // 2
    # layers 0 and 2 coincide (ABA)
    l0, l2 = layers[0].copy(), layers[2].copy()
    l2[:, 2] = l0[0, 2]
    assert sorted(map(tuple, np.round(l0[:, :2], 3))) == sorted(map(tuple, np.round(l2[:, :2], 3)))


@pytest.mark.parametrize("target,groups,vac,seed", [
    (0.10, ["hydroxyl", "epoxy"], 0, 0), (0.08, ["hydroxyl", "epoxy", "carboxyl"], 2, 1),
    (0.125, ["epoxy"], 0, 2), (0.20, ["hydroxyl"], 0, 3), (0.05, ["carboxyl"], 1, 4),
])
def test_rgo_reaches_the_target_o_to_c(target, groups, vac, seed):
    sheet = graphene_sheet((6, 6))
    s = functionalise_rgo(sheet, target, groups, vacancies=vac, seed=seed)
    assert abs(o_to_c_ratio(s) - target) <= 0.02
    comp = s.composition
    plan = s.properties["groups"]
    # bookkeeping: H from hydroxyl and carboxyl, extra C from carboxyl, vacancies removed
    assert comp["H"] == plan.get("hydroxyl", 0) + plan.get("carboxyl", 0)
    assert comp["C"] == 72 - vac + plan.get("carboxyl", 0)
    assert comp["O"] == plan.get("hydroxyl", 0) + plan.get("epoxy", 0) + 2 * plan.get("carboxyl", 0)
    assert min_distance_A(s) >= 0.95  # O–H is the shortest bond
    # groups do not crowd each other: the only pairs closer than 1.3 Å are O–H and carboxyl C=O bonds
    d = s.distance_matrix + np.eye(len(s)) * 9
    assert int((d < 1.3).sum() // 2) == comp["H"] + plan.get("carboxyl", 0)


def test_rgo_groups_on_one_side():
    s = functionalise_rgo(graphene_sheet((6, 6)), 0.1, ["hydroxyl", "epoxy"], side="top", seed=5)
    z = s.cart_coords[:, 2]
    z_sheet = np.median(z[[i for i, site in enumerate(s) if site.species_string == "C"]])
    assert np.all(z[[i for i, site in enumerate(s) if site.species_string in "OH"]] > z_sheet + 1.0)


def test_rgo_is_reproducible_with_a_seed_and_differs_between_seeds():
    sheet = graphene_sheet((6, 6))
    a = functionalise_rgo(sheet, 0.1, ["hydroxyl", "epoxy", "carboxyl"], vacancies=1, seed=11)
    b = functionalise_rgo(sheet, 0.1, ["hydroxyl", "epoxy", "carboxyl"], vacancies=1, seed=11)
    c = functionalise_rgo(sheet, 0.1, ["hydroxyl", "epoxy", "carboxyl"], vacancies=1, seed=12)
    assert structure_hash(a) == structure_hash(b)
    assert structure_hash(a) != structure_hash(c)


def test_rgo_bad_input_names_field_and_options():
    sheet = graphene_sheet((4, 4))
    with pytest.raises(RecipeError, match=r"groups: unknown functional group\(s\) \['amine'\]; valid: hydroxyl, epoxy, carboxyl"):
        functionalise_rgo(sheet, 0.1, ["amine"])
    with pytest.raises(RecipeError, match=r"o_to_c: 0.7 is out of range; valid 0 <= o_to_c <= 0.5"):
        functionalise_rgo(sheet, 0.7)
    with pytest.raises(RecipeError, match="o_to_c: .* larger supercell"):
        plan_groups(6, 0.09, ["carboxyl"])  # 6 C: O/C jumps 0 -> 0.29
    with pytest.raises(RecipeError, match="side: 'up' is not valid"):
        functionalise_rgo(sheet, 0.1, side="up")


@pytest.mark.parametrize("kind", ["graphitic", "pyridinic"])
def test_n_doping(kind):
    s = n_dope(graphene_sheet((6, 6)), 0.05, kind, seed=3)
    n_idx = [i for i, site in enumerate(s) if site.species_string == "N"]
    assert n_idx
    frac = len(n_idx) / len(s)
    assert frac == pytest.approx(0.05, abs=0.03)
    for i in n_idx:
        nb = _neighbours(s, i)
        assert all(n.species_string == "C" for n in nb)  # no N–N bonds
        assert len(nb) == (3 if kind == "graphitic" else 2)  # pyridinic N borders the vacancy
    if kind == "pyridinic":
        assert len(s) == 72 - len(n_idx) // 3
    with pytest.raises(RecipeError, match="kind: 'amino' is not a known N doping; valid: graphitic, pyridinic"):
        n_dope(graphene_sheet((4, 4)), 0.05, "amino")


def test_amorphous_carbon_density_and_separation():
    lat = Lattice([[12.0, 0, 0], [0, 12.0, 0], [0, 0, 30.0]])
    s = amorphous_carbon(lat, 8.0, 2.0, seed=4)
    area = 144.0
    rho = s.composition.weight * 1.66053906660e-24 / (area * 8.0 * 1e-24)
    assert rho == pytest.approx(2.0, rel=0.01)
    assert min_distance_A(s) >= 1.35 - 1e-9
    z = s.cart_coords[:, 2]
    assert np.ptp(z) <= 8.0
    assert structure_hash(amorphous_carbon(lat, 8.0, 2.0, seed=4)) == structure_hash(s)
    with pytest.raises(RecipeError, match="density_g_cm3: 5.0 is out of range"):
        amorphous_carbon(lat, 8.0, 5.0)
