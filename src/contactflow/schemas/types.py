"""Typed pymatgen fields for documents: validated from ``as_dict`` dicts or objects (monty's pydantic
hooks), serialised back to ``as_dict`` dicts so the store and JSON receive plain data."""

from typing import Annotated

from pydantic import PlainSerializer
from pymatgen.core import Structure
from pymatgen.core.interface import Interface


def _as_dict(obj) -> dict:
    return obj.as_dict() if hasattr(obj, "as_dict") else obj


#: a pymatgen ``Structure`` field (stored as ``Structure.as_dict()``)
StructureField = Annotated[Structure, PlainSerializer(_as_dict, return_type=dict)]
#: a pymatgen ``Interface`` field (film/substrate labels, offsets and the lattice match kept)
InterfaceField = Annotated[Interface, PlainSerializer(_as_dict, return_type=dict)]
