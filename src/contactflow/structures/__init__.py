"""Structure builders: bulk library, slabs, lattice matching, carbon builders (graphene, AB graphite,
rGO, N-doped graphene, a-C), amorphous and lithiated phases, clusters, surface chemistry and interface
assembly. Pure pymatgen/numpy, no I/O beyond reading the shipped bulk CIFs."""

from contactflow.structures.assembly import registry_shift, stack_interface
from contactflow.structures.bulk import available_bulks, load_bulk
from contactflow.structures.carbon import (
    amorphous_carbon,
    functionalise_rgo,
    graphene_sheet,
    n_dope,
    plan_groups,
    stack_layers,
)
from contactflow.structures.amorphous import amorphous_slab, random_packing
from contactflow.structures.clusters import cluster_from_bulk, place_on_support
from contactflow.structures.geometry import cross_min_distance_A, min_distance_A, o_to_c_ratio
from contactflow.structures.interfaces import (
    InterfaceCandidate,
    build_interfaces,
    coherent_builder,
    interface_area,
    principal_strain_pct,
    structure_hash,
)
from contactflow.structures.slabs import SlabModel, check_miller, make_slabs
from contactflow.structures.surface_chem import hydroxylate, lithiate

__all__ = [
    "InterfaceCandidate", "SlabModel", "amorphous_carbon", "amorphous_slab", "available_bulks", "build_interfaces",
    "check_miller", "cluster_from_bulk", "coherent_builder", "cross_min_distance_A", "functionalise_rgo",
    "graphene_sheet", "hydroxylate", "interface_area", "lithiate", "load_bulk", "make_slabs",
    "min_distance_A", "n_dope", "o_to_c_ratio", "place_on_support", "plan_groups", "principal_strain_pct",
    "random_packing", "registry_shift", "stack_interface", "stack_layers", "structure_hash",
]
