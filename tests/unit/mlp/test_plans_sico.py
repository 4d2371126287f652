"""Sampling plan ``sico`` (Si/C contacts with SiOx and Li): the recipes' films cut to CP2K-sized coincidence
cells with the strain the recipes allow, elements, held-out test split, the separated pieces for W_sep."""

from collections import Counter

import numpy as np
import pytest

from contactflow.mlp.data import dedupe, fingerprint
from contactflow.mlp.plans import PLANS, plan
from contactflow.mlp import plans_sico as P


@pytest.fixture(scope="module")
def sico():
    return {s: plan("sico", s, md=False) for s in ("train", "test")}


def _nn(atoms, idx):
    d = atoms.get_all_distances(mic=True)[np.ix_(idx, idx)]
    np.fill_diagonal(d, 99)
    return d.min(axis=1)


def test_sico_is_registered_with_elements_and_systems(sico):
    assert "sico" in PLANS
    for split, cfg in sico.items():
        assert cfg and all(len(a) <= 41 for a in cfg)  # CP2K on 2 cores
        assert {e for a in cfg for e in a.get_chemical_symbols()} == {"Si", "O", "C", "Li"}
        assert dedupe(cfg) == list(range(len(cfg)))
    systems = Counter(a.info["system"] for a in sico["train"])
    assert {"Si/graphene", "Si/graphite", "SiO2/graphene", "SiC", "Li"} <= set(systems)
    assert {"traction", "registry", "strain", "rattle", "li_insertion"} <= {a.info["source"] for a in sico["train"]}


def test_coincidence_cells_strain_only_the_film():
    at, film = P.si_on_carbon(2.8)
    assert at.get_chemical_formula() == "C14Si12" and len(film) == 12
    sub = [i for i in range(len(at)) if i not in film]
    assert np.allclose(_nn(at, sub), 1.423, atol=2e-3)  # graphene unstrained
    si_nn = _nn(at, film)  # Si–Si 2.352 Å in bulk; the √3 film on √7 graphene is compressed by 2.0 %
    assert np.allclose(si_nn, 2.352 * (1 - 0.020), atol=0.01)
    gap = at.positions[film, 2].min() - at.positions[sub, 2].max()
    assert gap == pytest.approx(2.8, abs=1e-6)
    gt, gfilm = P.si_on_carbon(2.8, graphite=True)
    assert gt.get_chemical_formula() == "C28Si12"
    csub = [i for i in range(len(gt)) if i not in gfilm]
    zs = np.unique(gt.positions[csub, 2].round(2))
    assert len(zs) == 2 and zs[1] - zs[0] == pytest.approx(3.35, abs=0.03)  # AB graphite interlayer
    q, qfilm = P.quartz_on_graphene(2.8)
    assert q.get_chemical_formula() == "C8O12Si6"
    assert np.allclose(_nn(q, qfilm), 1.61, atol=0.01)  # Si–O of quartz (0.2 % strain)


def test_test_split_is_held_out_and_holds_the_separated_pieces(sico):
    train_fp = [(a.get_chemical_formula(), fingerprint(a)) for a in sico["train"]]
    assert dedupe(sico["test"], train_fp) == list(range(len(sico["test"])))
    formulas = {a.get_chemical_formula() for a in sico["test"]}
    assert {"Si12", "C14", "C28", "O12Si6", "C8", "Li2"} <= formulas  # pieces and μ_Li (bcc Li)
