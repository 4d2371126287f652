"""The shipped bulk CIFs: composition, symmetry and nearest-neighbour distances against the literature."""

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from contactflow.errors import RecipeError
from contactflow.structures import available_bulks, load_bulk

# (name, formula, space group, [(A, B, literature A–B nearest distance Å)], literature density g/cm³)
REFERENCE = [
    ("Si", "Si", "Fd-3m", [("Si", "Si", 2.352)], 2.329),
    ("graphite", "C", "P6_3/mmc", [("C", "C", 1.422)], 2.26),
    ("SnO2", "SnO2", "P4_2/mnm", [("Sn", "O", 2.05)], 6.99),
    ("Fe3O4", "Fe3O4", "Fd-3m", [("Fe", "O", 1.89)], 5.20),
    ("LiF", "LiF", "Fm-3m", [("Li", "F", 2.013)], 2.64),
    ("SiO2", "SiO2", "P3_221", [("Si", "O", 1.61)], 2.65),
    ("SiC_3C", "SiC", "F-43m", [("Si", "C", 1.888)], 3.21),
    ("SiC_4H", "SiC", "P6_3mc", [("Si", "C", 1.885)], 3.21),
    ("Li15Si4", "Li15Si4", "I-43d", [("Li", "Si", 2.63)], 1.18),
    ("Sn", "Sn", "I4_1/amd", [("Sn", "Sn", 3.02)], 7.29),
]


def _nearest(s: Structure, a: str, b: str) -> float:
    best = np.inf
    for site in s:
        if site.species_string != a:
            continue
        for n in s.get_neighbors(site, 3.5):
            if n.species_string == b:
                best = min(best, n.nn_distance)
    return best


@pytest.mark.parametrize("name,formula,sg,pairs,density", REFERENCE)
def test_shipped_bulk_matches_literature(name, formula, sg, pairs, density):
    s = load_bulk(name)
    assert s.composition.reduced_formula == formula
    assert s.get_space_group_info(symprec=0.01)[0] == sg
    for a, b, d_ref in pairs:
        assert _nearest(s, a, b) == pytest.approx(d_ref, abs=0.02)
    assert s.density == pytest.approx(density, rel=0.02)


def test_fe3o4_is_inverse_spinel_with_tetrahedral_and_octahedral_iron():
    s = load_bulk("magnetite")  # alias
    coordination = sorted(
        sum(1 for n in s.get_neighbors(site, 2.3) if n.species_string == "O") for site in s if site.species_string == "Fe"
    )
    # 8 tetrahedral (4 O) and 16 octahedral (6 O) Fe in the conventional cell
    assert coordination.count(4) == 8 and coordination.count(6) == 16


def test_every_shipped_cif_has_a_source_line():
    readme = (load_bulk.__globals__["STRUCTURES_DIR"] / "README.md").read_text()
    for name in available_bulks():
        assert f"| {name}.cif |" in readme


def test_load_bulk_accepts_structure_and_path(tmp_path):
    s = Structure(Lattice.cubic(4.0), ["Cu"], [[0, 0, 0]])
    copy = load_bulk(s)
    assert copy == s and copy is not s
    p = tmp_path / "POSCAR"
    s.to(filename=str(p), fmt="poscar")
    assert load_bulk(p).composition.reduced_formula == "Cu"


def test_unknown_bulk_names_the_shipped_ones():
    with pytest.raises(RecipeError) as e:
        load_bulk("unobtainium")
    assert "unobtainium" in str(e.value) and "Fe3O4" in str(e.value) and "LiF" in str(e.value)


def test_unreadable_file_is_a_recipe_error(tmp_path):
    p = tmp_path / "bad.cif"
    p.write_text("this is not a CIF\n")
    with pytest.raises(RecipeError, match="cannot read"):
        load_bulk(p)
