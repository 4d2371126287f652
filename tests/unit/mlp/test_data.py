"""Fingerprints, deduplication and extxyz round trips of labelled configurations."""

import numpy as np
import pytest
from ase.calculators.singlepoint import SinglePointCalculator

from contactflow.mlp import sampling
from contactflow.mlp.data import dedupe, fingerprint, fingerprint_distance, read_extxyz, write_extxyz
from contactflow.mlp.plans import graphene_bilayer, plan, si_td_hop


@pytest.fixture(scope="module")
def hop():
    return si_td_hop()


def test_fingerprint_invariant_to_order_translation_and_symmetry(hop):
    _, td0, td1 = hop
    fp = fingerprint(td0)
    shuffled = td0[np.random.default_rng(0).permutation(len(td0))]
    moved = td0.copy()
    moved.translate([0.37, -1.2, 2.9])
    moved.wrap()
    assert fingerprint_distance(fp, fingerprint(shuffled)) < 1e-12
    assert fingerprint_distance(fp, fingerprint(moved)) < 1e-9
    # the two Td endpoints of the symmetric hop are the same configuration up to symmetry
    assert fingerprint_distance(fp, fingerprint(td1)) < 1e-9


def test_dedupe_drops_mirror_images_and_keeps_rattles(hop):
    _, td0, td1 = hop
    band = sampling.neb_images(td0, td1, n_images=7)
    keep = dedupe(band)
    assert len(keep) == 4  # images 1-3 equal 7-5 by the hop's inversion symmetry; 4 is the midpoint
    rattles = sampling.rattled(td0, 0.05, 3, seed=1)
    assert dedupe(rattles) == [0, 1, 2]
    # and against existing data
    existing = [(td0.get_chemical_formula(), fingerprint(td0))]
    assert dedupe([td1, *rattles], existing) == [1, 2, 3]


def test_samplers_keep_atoms_and_tag_sources(hop):
    host, td0, _ = hop
    st = sampling.strained_cells(td0, (-2.0, 2.0), (1.0,), system="Li-Si")
    assert len(st) == 2 * 4 + 1 and all(len(a) == len(td0) for a in st)
    vols = sorted(a.get_volume() / td0.get_volume() for a in st)
    assert vols[0] == pytest.approx(0.98**3, rel=1e-9) and vols[-1] == pytest.approx(1.02**3, rel=1e-9)
    assert {a.info["source"] for a in st} == {"strain"}
    ab = graphene_bilayer()
    scan = sampling.traction_scan(ab, [2, 3], [3.35, 5.0])
    gaps = [a.positions[2:, 2].mean() - a.positions[:2, 2].mean() for a in scan]
    assert gaps == pytest.approx([3.35, 5.0], abs=1e-9)
    ins = sampling.li_insertions(host, n_sites=2, min_dist_A=2.2)
    assert all(a.get_chemical_symbols().count("Li") == 1 for a in ins)
    assert min(a.get_distances(len(a) - 1, range(len(a) - 1), mic=True).min() for a in ins) > 2.2


def test_plan_train_and_test_are_distinct_and_bad_names_named():
    with pytest.raises(ValueError, match="valid: lisic"):
        plan("nope")
    with pytest.raises(ValueError, match="split must be"):
        plan("lisic", "validation")


def test_extxyz_round_trip(tmp_path, hop):
    _, td0, _ = hop
    doc = {"doc_key": "lc-1", "state": "successful", "energy_eV": -12.5, "system": "Li-Si", "source": "rattle",
           "forces_eV_per_A": np.arange(3 * len(td0)).reshape(-1, 3).tolist(),
           "stress_eV_per_A3": [0.1, 0.2, 0.3, 0, 0, 0], "split": "train",
           "structure": __import__("pymatgen.io.ase", fromlist=["x"]).AseAtomsAdaptor.get_structure(td0).as_dict()}
    failed = {"doc_key": "lc-2", "state": "failed", "failure_reason": "SCF"}
    assert write_extxyz([doc, failed], tmp_path / "d.extxyz") == 1
    (back,) = read_extxyz(tmp_path / "d.extxyz")
    assert back.get_potential_energy() == pytest.approx(-12.5)
    assert np.allclose(back.get_forces(), np.arange(3 * len(td0)).reshape(-1, 3))
    assert np.allclose(back.positions, td0.positions) and back.info["system"] == "Li-Si"
    assert isinstance(back.calc, SinglePointCalculator)
