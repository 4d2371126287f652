"""Pydantic documents that land in the store. Units are in the field names."""

from contactflow.schemas.adhesion import AdhesionDoc
from contactflow.schemas.barrier import BarrierDoc, LiAdsorptionDoc, LiSiteEnergy
from contactflow.schemas.interface import InterfaceDoc
from contactflow.schemas.provenance import Provenance

__all__ = ["AdhesionDoc", "BarrierDoc", "LiAdsorptionDoc", "LiSiteEnergy", "InterfaceDoc", "Provenance"]
