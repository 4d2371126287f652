"""Pydantic documents that land in the store. Units are in the field names."""

from contactflow.schemas.adhesion import AdhesionConvergenceDoc, AdhesionDoc
from contactflow.schemas.barrier import BarrierDoc, LiAdsorptionDoc, LiSiteEnergy
from contactflow.schemas.interface import InterfaceDoc
from contactflow.schemas.md import DescriptorDoc, DiffusionDoc, LithiationDoc, MDDoc, PullOffDoc
from contactflow.schemas.provenance import Provenance
from contactflow.schemas.traction import TractionSeparationDoc
from contactflow.schemas.training import ActiveLearningRoundDoc, LabelledConfigDoc, ModelDoc, SystemErrors

__all__ = ["AdhesionConvergenceDoc", "AdhesionDoc", "TractionSeparationDoc", "BarrierDoc", "LiAdsorptionDoc", "LiSiteEnergy", "InterfaceDoc", "Provenance",
           "MDDoc", "PullOffDoc", "LithiationDoc", "DiffusionDoc", "DescriptorDoc",
           "LabelledConfigDoc", "ModelDoc", "ActiveLearningRoundDoc", "SystemErrors"]
