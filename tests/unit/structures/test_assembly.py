"""Interface stacking: shared cell, gap, vacuum, fixed tags, minimum distance across, registry."""

import numpy as np
import pytest
from pymatgen.core import Structure

from contactflow.structures import (
    cross_min_distance_A,
    functionalise_rgo,
    graphene_sheet,
    registry_shift,
    stack_interface,
    stack_layers,
)


def _film_on(sheet, species, frac_xy, z=0.0):
    return Structure(sheet.lattice, [species] * len(frac_xy), [[x, y, z] for x, y in frac_xy])


def test_stack_sets_gap_vacuum_labels_and_fixed_bottom():
    sub = stack_layers(graphene_sheet((3, 3)), 3)
    film = _film_on(sub, "Si", [(0.1, 0.1), (0.5, 0.5)])
    iface = stack_interface(sub, film, gap_A=3.2, vacuum_A=16.0, fix_bottom_A=1.0)
    z = iface.cart_coords[:, 2]
    f, s = iface.film_indices, iface.substrate_indices
    assert len(f) == 2 and len(s) == len(sub)
    assert z[f].min() - z[s].max() == pytest.approx(3.2)
    assert iface.lattice.c - (z.max() - z.min()) == pytest.approx(16.0)
    assert np.allclose(iface.lattice.matrix[:2], sub.lattice.matrix[:2])  # film and substrate share the cell
    fixed = np.array(iface.site_properties["fixed"])
    assert fixed.sum() == 18 and np.all(z[fixed] < z[s].min() + 0.01)  # bottom graphene layer only
    assert not fixed[f].any()


def test_film_is_raised_until_nothing_is_closer_than_min_cross():
    sheet = graphene_sheet((4, 4))
    sub = functionalise_rgo(sheet, 0.1, ["hydroxyl"], side="top", seed=0)
    # film atoms directly above the H atoms, placed with a tiny gap: the stacker must lift them
    h = [i for i, site in enumerate(sub) if site.species_string == "H"]
    film = Structure(sub.lattice, ["Fe"] * len(h), sub.frac_coords[h])
    iface = stack_interface(sub, film, gap_A=0.6, min_cross_A=1.0)
    assert cross_min_distance_A(iface, iface.film_indices, iface.substrate_indices) >= 1.0
    assert iface.gap > 0.6


def test_coupled_registry_puts_the_lowest_cation_over_the_highest_oxygen():
    sub = functionalise_rgo(graphene_sheet((4, 4)), 0.125, ["epoxy"], side="top", seed=2)
    film = Structure(sub.lattice, ["Fe", "O"], [[0.3, 0.2, 0.0], [0.6, 0.6, 0.05]])
    t = registry_shift(sub, film, "coupled")
    iface = stack_interface(sub, film, gap_A=2.0, in_plane_shift=t)
    fe = [i for i, s in enumerate(iface) if s.species_string == "Fe"][0]
    o_sub = [i for i in iface.substrate_indices if iface[i].species_string == "O"]
    lat = iface.lattice
    xy = lambda i: np.array([*iface.frac_coords[i][:2], 0.0])  # noqa: E731
    lateral = min(lat.get_all_distances(xy(fe)[None], xy(j)[None])[0, 0] for j in o_sub)
    assert lateral < 1e-6


def test_non_aligned_registry_keeps_contact_atoms_away_from_oxygen():
    sub = functionalise_rgo(graphene_sheet((4, 4)), 0.125, ["epoxy"], side="top", seed=2)
    film = Structure(sub.lattice, ["Fe", "Fe"], [[0.3, 0.2, 0.0], [0.7, 0.6, 0.0]])
    t0 = registry_shift(sub, film, "coupled")
    t1 = registry_shift(sub, film, "non_aligned")
    o = sub.cart_coords[[i for i, s in enumerate(sub) if s.species_string == "O"]]

    def lateral_min(t):
        p = film.cart_coords + t
        p[:, 2] = 0
        q = o.copy()
        q[:, 2] = 0
        lat = sub.lattice
        return lat.get_all_distances(lat.get_fractional_coords(p), lat.get_fractional_coords(q)).min()

    assert lateral_min(t1) > 1.0 and lateral_min(t1) > lateral_min(t0)


def test_cells_must_agree():
    with pytest.raises(ValueError, match="share the in-plane cell"):
        stack_interface(graphene_sheet((3, 3)), graphene_sheet((4, 4)))
