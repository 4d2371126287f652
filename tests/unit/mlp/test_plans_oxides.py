"""Sampling plans ``snoc`` and ``feoc``: sizes for 2 cores, elements, determinism, no duplicates, splits."""

from collections import Counter

import numpy as np
import pytest

from contactflow.mlp.data import dedupe, fingerprint, fingerprint_distance
from contactflow.mlp.plans import PLANS, plan
from contactflow.mlp import plans_oxides as P


@pytest.fixture(scope="module")
def snoc():
    return {s: plan("snoc", s, md=False) for s in ("train", "test")}


@pytest.fixture(scope="module")
def feoc():
    return {s: plan("feoc", s, md=False) for s in ("train", "test")}


def _check(configs, elements, max_atoms):
    assert configs and all(len(a) <= max_atoms for a in configs)
    have = {e for a in configs for e in a.get_chemical_symbols()}
    assert have == set(elements)
    assert all(a.info["system"] and a.info["source"] for a in configs)
    assert dedupe(configs) == list(range(len(configs)))  # duplicates already dropped
    for a in configs:  # slabs and sheets: vacuum axis ≥ 15 Å so the k-grid has one point along z
        if any(e in a.get_chemical_symbols() for e in ("C",)):
            assert a.cell[2, 2] >= 15.0


def test_plans_are_registered():
    assert {"lisic", "snoc", "feoc"} <= set(PLANS)


def test_snoc_cells_elements_and_systems(snoc):
    for split, cfg in snoc.items():
        _check(cfg, {"Sn", "O", "C", "N", "Li"}, 55)
    systems = Counter(a.info["system"] for a in snoc["train"])
    assert {"SnO2/graphene", "Sn cluster/graphene", "Sn cluster/N-graphene", "SnO2"} <= set(systems)
    sources = {a.info["source"] for a in snoc["train"]}
    assert {"traction", "registry", "strain", "rattle", "li_insertion"} <= sources
    # the SnO2(110)/graphene contact: stoichiometric film (Sn8O16) on 30 C
    iface = [a for a in snoc["train"] if a.info["system"] == "SnO2/graphene" and len(a) == 54]
    assert iface and all(a.get_chemical_formula() == "C30O16Sn8" for a in iface)


def test_feoc_cells_carry_magnetite_order(feoc):
    for split, cfg in feoc.items():
        _check(cfg, {"Fe", "O", "C", "H", "Li"} if split == "train" else {"Fe", "O", "C", "H", "Li"}, 45)
    for a in feoc["train"] + feoc["test"]:
        sym = np.array(a.get_chemical_symbols())
        m = a.get_initial_magnetic_moments()
        if "Fe" in sym:
            assert set(np.unique(m[sym == "Fe"])) == {-4.0, 4.0}  # Fe(A) − and Fe(B) + in every Fe cell
        assert np.all(m[sym != "Fe"] == 0.0)
    prim = P.fe3o4_primitive()
    m = prim.get_initial_magnetic_moments()
    assert prim.get_chemical_formula() == "Fe6O8" and sorted(m[m != 0]) == [-4, -4, 4, 4, 4, 4]
    sys_ = {a.info["system"] for a in feoc["train"]}
    assert {"Fe3O4 fragment", "Fe3O4/graphene", "rGO", "Fe3O4/rGO"} <= sys_
    for a in feoc["train"] + feoc["test"]:  # CP2K 2023.1 runs DFT+U at Γ only: every Fe cell ≥ 8 Å in-plane
        if "Fe" in a.get_chemical_symbols():
            assert min(np.linalg.norm(a.cell[:2], axis=1)) >= 8.0


def test_coupled_and_non_aligned_registries_differ():
    c, film_c = P.fragment_on_rgo("coupled", 2.0)
    n, film_n = P.fragment_on_rgo("non_aligned", 2.0)
    assert c.get_chemical_formula() == n.get_chemical_formula() == "C32H2Fe3O7"
    o_rgo = [i for i in range(len(c)) if i not in film_c and c[i].symbol == "O"]
    fe = [i for i in film_c if c[i].symbol == "Fe"]
    top_o = [i for i in o_rgo if c.positions[i, 2] > max(c.positions[o_rgo, 2]) - 0.05]
    low_fe = [i for i in fe if c.positions[i, 2] < min(c.positions[fe, 2]) + 0.05]

    def lateral(x, i, j):
        return min(np.linalg.norm(x.get_distance(a, b, mic=True, vector=True)[:2]) for a in i for b in j)

    assert lateral(c, low_fe, top_o) < 0.1  # coupled: a contact Fe right above an rGO oxygen (Fe–O–C)
    fe_n = [i for i in film_n if n[i].symbol == "Fe"]
    low_n = [i for i in fe_n if n.positions[i, 2] < min(n.positions[fe_n, 2]) + 0.05]
    o_n = [i for i in range(len(n)) if i not in film_n and n[i].symbol == "O"]
    assert lateral(n, low_n, o_n) > 1.0  # non-aligned: contact Fe laterally away from every rGO O
    assert fingerprint_distance(fingerprint(c), fingerprint(n)) > 1e-3


def test_plans_are_deterministic_and_splits_disjoint(feoc):
    again = plan("feoc", "train", md=False)
    assert len(again) == len(feoc["train"])
    assert all(np.allclose(a.positions, b.positions) and (a.numbers == b.numbers).all()
               for a, b in zip(again, feoc["train"]))
    train_fp = [(a.get_chemical_formula(), fingerprint(a)) for a in feoc["train"]]
    assert dedupe(feoc["test"], train_fp) == list(range(len(feoc["test"])))  # no test cell is a train cell


def test_snoc_test_split_is_held_out(snoc):
    train_fp = [(a.get_chemical_formula(), fingerprint(a)) for a in snoc["train"]]
    assert dedupe(snoc["test"], train_fp) == list(range(len(snoc["test"])))
