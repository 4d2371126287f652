"""NEB input checks (specific errors before any compute) and the pure band helpers."""

import time

import numpy as np
import pytest
from ase.constraints import FixAtoms

from contactflow.errors import ContactflowError
from contactflow.jobs.neb import (
    LiMigrationNEBMaker, NEBInputError, barrier_numbers, interpolate_band, li_path_length, reaction_coordinate,
    to_atoms, validate_endpoints,
)
from contactflow.structures import load_bulk
from contactflow.structures.li_sites import insert_li

TD_A, TD_B = [0.25, 0.25, 0.25], [0.375, 0.375, 0.375]  # neighbouring Td sites of the 2x2x2 Si cell


@pytest.fixture(scope="module")
def si222():
    si = load_bulk("Si") * (2, 2, 2)
    # find the Td sites of this setting: the ones 2.35 Å from four Si
    from contactflow.structures.li_sites import find_interstitial_sites, hop_pairs

    td = [s for s in find_interstitial_sites(si, symmetry_reduce=False) if s.min_dist_A > 2.3]
    a, b, _ = hop_pairs(si, td, max_hop_A=2.5)[0]
    return si, a.frac_coords, b.frac_coords


def endpoints(si222):
    si, a, b = si222
    return to_atoms(insert_li(si, a)), to_atoms(insert_li(si, b))


def maker():
    return LiMigrationNEBMaker(engine="chgnet")


def test_valid_hop_returns_the_li_index(si222):
    a0, a1 = endpoints(si222)
    assert validate_endpoints(a0, a1) == len(a0) - 1


def test_error_is_a_contactflow_error():
    assert issubclass(NEBInputError, ContactflowError)


def test_different_atom_counts_rejected_before_compute(si222):
    si, a, b = si222
    ini = insert_li(si, a)
    fin = insert_li(si, b)
    fin.remove_sites([0])
    t = time.perf_counter()
    with pytest.raises(NEBInputError, match="different atom counts"):
        maker().compute(ini, fin)
    assert time.perf_counter() - t < 2.0  # nothing was evaluated


def test_different_orderings_rejected(si222):
    si, a, b = si222
    ini = insert_li(si, a)
    fin = si.copy()
    fin.insert(0, "Li", b)  # Li first instead of last
    with pytest.raises(NEBInputError, match="different orders"):
        maker().compute(ini, fin)


def test_permuted_same_species_rejected(si222):
    a0, a1 = endpoints(si222)
    p = a1.positions.copy()
    p[[0, 5]] = p[[5, 0]]  # two Si swapped: same species list, different order of positions
    a1.positions = p
    with pytest.raises(NEBInputError, match="ordered differently"):
        validate_endpoints(a0, a1)


def test_no_li_rejected(si222):
    si, _, _ = si222
    ini = si.copy()
    fin = si.copy()
    fin.translate_sites([0], [0.05, 0.05, 0.05])
    with pytest.raises(NEBInputError, match="no Li in the structure"):
        maker().compute(ini, fin)


def test_moving_atom_must_be_li(si222):
    a0, a1 = endpoints(si222)
    a1.positions[3] += [0.6, 0.0, 0.0]
    a1.positions[-1] = a0.positions[-1]
    with pytest.raises(NEBInputError, match="not Li"):
        validate_endpoints(a0, a1)


def test_path_closer_than_half_angstrom_rejected(si222):
    si, _, _ = si222
    x = si[0].frac_coords
    step = np.array([0.06, 0.06, 0.06])  # 1.1 Å either side of a Si atom, straight through it
    ini, fin = insert_li(si, x - step), insert_li(si, x + step)
    with pytest.raises(NEBInputError, match=r"passes 0\.\d\d Å from another atom"):
        maker().compute(ini, fin)


def test_bad_settings_rejected(si222):
    si, a, b = si222
    with pytest.raises(NEBInputError, match="batch mode"):
        LiMigrationNEBMaker(batch="gpu-ish").compute(insert_li(si, a), insert_li(si, b))
    with pytest.raises(NEBInputError, match="n_images"):
        LiMigrationNEBMaker(n_images=0).compute(insert_li(si, a), insert_li(si, b))


def test_idpp_band_puts_the_middle_image_on_the_ring_centre(si222):
    a0, a1 = endpoints(si222)
    band = interpolate_band(a0, a1, 3, "idpp")
    assert len(band) == 5
    mid = band[2].positions[-1]
    halfway = a0.positions[-1] + 0.5 * (a1.positions[-1] - a0.positions[-1])
    assert np.linalg.norm(mid - halfway) < 0.05  # symmetric hop: IDPP keeps the midpoint
    assert li_path_length(band, len(a0) - 1) == pytest.approx(5.431 * np.sqrt(3) / 4, abs=0.02)
    s = reaction_coordinate(band)
    assert np.all(np.diff(s) > 0)


def test_fixed_layers_are_copied_to_every_image(si222):
    si, a, b = si222
    a0 = to_atoms(insert_li(si, a), fix_bottom_A=1.0)
    fixed = a0.constraints[0].get_indices()
    assert len(fixed) > 0
    a1 = to_atoms(insert_li(si, b))
    a1.set_constraint(FixAtoms(indices=fixed))
    band = interpolate_band(a0, a1, 3)
    for im in band:
        assert np.allclose(im.positions[fixed], a0.positions[fixed])


def test_barrier_numbers_from_a_profile():
    n = barrier_numbers(np.array([-10.0, -9.8, -9.5, -9.7, -9.9]))
    assert n["barrier_forward_eV"] == pytest.approx(0.5)
    assert n["barrier_reverse_eV"] == pytest.approx(0.4)
    assert n["delta_E_eV"] == pytest.approx(0.1)
    assert n["saddle_index"] == 2
    assert n["energies_eV"][0] == 0.0


def test_fixed_site_property_and_selective_dynamics_become_fixatoms(si222):
    si, a, _ = si222
    s = insert_li(si, a)
    s.add_site_property("fixed", [i < 3 for i in range(len(s))])
    s.add_site_property("selective_dynamics", [[False] * 3 if i == 10 else [True] * 3 for i in range(len(s))])
    atoms = to_atoms(s)
    assert atoms.constraints[0].get_indices().tolist() == [0, 1, 2, 10]
    assert atoms.get_chemical_symbols()[-1] == "Li"
