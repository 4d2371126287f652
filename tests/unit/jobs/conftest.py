"""Small interfaces for the adhesion and traction tests: a graphene/graphene AB bilayer (4 atoms)."""

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.core.interface import Interface
from pymatgen.core.surface import Slab

A_GRAPHENE = 2.46  # Å, graphite in-plane lattice constant (experiment 2.461 Å)


def graphene_slab(a: float = A_GRAPHENE) -> Slab:
    """One graphene layer as a pymatgen Slab (2 atoms, c = 20 Å)."""
    ouc = Structure(Lattice.hexagonal(a, 6.7), ["C", "C"], [[0, 0, 0], [1 / 3, 2 / 3, 0]])
    return Slab(Lattice.hexagonal(a, 20.0), ["C", "C"], [[0, 0, 0.5], [1 / 3, 2 / 3, 0.5]],
                miller_index=(0, 0, 1), oriented_unit_cell=ouc, shift=0, scale_factor=np.eye(3, dtype=int))


def graphene_bilayer(gap_A: float = 3.35, vacuum_A: float = 15.0, stacking: str = "AB",
                     a: float = A_GRAPHENE) -> Interface:
    """Graphene film on graphene substrate; AB (Bernal, as in graphite) or AA stacking."""
    iface = Interface.from_slabs(graphene_slab(a), graphene_slab(a), gap=gap_A, vacuum_over_film=vacuum_A)
    # from_slabs records but does not apply in_plane_offset; the setter moves the film
    iface.in_plane_offset = (1 / 3, 2 / 3) if stacking == "AB" else (0.0, 0.0)
    return iface


@pytest.fixture
def bilayer() -> Interface:
    return graphene_bilayer()


def run_job(job, store):
    """Run a Maker's job (or flow) with jobflow against ``store`` and return the job's output document:
    the JobStore writes it and the typed collections are derived from it (as in every real run)."""
    from contactflow.dispatch import run_flow_locally

    responses = run_flow_locally(job, store)
    return responses[job.uuid][1].output
