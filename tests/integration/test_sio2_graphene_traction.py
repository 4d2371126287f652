"""The sio2_graphene recipe (alpha-quartz (0001) on graphene, 26 atoms) against the review's range.

Review reference (DOMAIN.md, DFT): graphene / crystalline SiO2 0.31–0.35 J/m². The rigid separation
curve of the termination with a single O layer at the contact (O, then Si) with chgnet+d3 gives W_sep = 0.311 J/m² (UBER
fit) and 0.313 J/m² (lowest computed point) — inside the range. Measured but not asserted here (too slow
for CI): relaxing film and interface with chgnet+d3 lowers it to 0.13 J/m² (the bare quartz surface
reconstructs when relaxed alone), and the other termination (two O at the contact) binds at 0.66 J/m² (UBER).
"""

import math

import pytest

from contactflow.jobs.traction import TractionSeparationMaker
from contactflow.dispatch import run_flow_locally

REVIEW_RANGE_J_PER_M2 = (0.31, 0.35)


def _contact_species(cand) -> list[str]:
    """Species of the two film atoms nearest the graphene (the film sits above the substrate).

    The termination is picked by this geometry, not by pymatgen's label: the labels '1_…'/'2_…' of the two
    O-terminated quartz (0001) surfaces swapped between runs (measured), the geometry does not."""
    iface = cand.interface
    film = sorted(iface.film_indices, key=lambda k: iface[k].coords[2])
    return [iface[k].species_string for k in film[:2]]


@pytest.mark.slow
def test_sio2_graphene_rigid_work_of_separation_in_the_review_range(store):
    from contactflow.recipes import load_recipe
    from contactflow.schemas import InterfaceDoc

    rec = load_recipe("sio2_graphene")
    cand = next(c for c in rec.build() if _contact_species(c) == ["O", "Si"])
    assert cand.n_atoms == 26
    store.upsert(InterfaceDoc.from_candidate(cand, rec.name, rec.recipe_hash))
    job = TractionSeparationMaker(engine="chgnet+d3", device="cpu").make(cand.interface, cand.interface_id, rec.name)
    run_flow_locally(job, store)
    (d,) = store.find("traction_separation", {"interface_id": cand.interface_id})
    assert d["state"] == "successful" and d["fit_r2"] > 0.98
    lo, hi = REVIEW_RANGE_J_PER_M2
    assert lo <= d["w_sep_J_per_m2"] <= hi
    assert lo <= d["w_sep_curve_J_per_m2"] <= hi
    assert d["sigma_max_GPa"] == pytest.approx(10 * d["w_sep_J_per_m2"] / (math.e * d["delta_c_A"]))
    assert 2.0 < d["equilibrium_gap_A"] < 3.5
