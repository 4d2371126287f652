"""Structure builders: bulk library, slabs, lattice matching, interface assembly. Pure, no I/O
beyond reading the shipped bulk CIFs."""

from contactflow.structures.bulk import available_bulks, load_bulk
from contactflow.structures.interfaces import InterfaceCandidate, build_interfaces

__all__ = ["InterfaceCandidate", "available_bulks", "build_interfaces", "load_bulk"]
