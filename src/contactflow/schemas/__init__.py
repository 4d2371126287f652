"""Pydantic documents that land in the store. Units are in the field names."""

from contactflow.schemas.adhesion import AdhesionConvergenceDoc, AdhesionDoc
from contactflow.schemas.barrier import BarrierDoc, LiAdsorptionDoc, LiSiteEnergy
from contactflow.schemas.interface import InterfaceDoc
from contactflow.schemas.md import DescriptorDoc, DiffusionDoc, LithiationDoc, MDDoc, PullOffDoc
from contactflow.schemas.prepared import PreparedInterfaceDoc
from contactflow.schemas.provenance import Provenance
from contactflow.schemas.result import STATES, InterfaceResultDoc
from contactflow.schemas.screening import ScreeningDoc, ScreeningEvaluation
from contactflow.schemas.traction import TractionSeparationDoc
from contactflow.schemas.training import ActiveLearningRoundDoc, LabelledConfigDoc, ModelDoc, SystemErrors

__all__ = ["PreparedInterfaceDoc", "InterfaceResultDoc", "STATES", "AdhesionConvergenceDoc", "AdhesionDoc", "TractionSeparationDoc", "BarrierDoc", "LiAdsorptionDoc", "LiSiteEnergy", "InterfaceDoc", "Provenance",
           "MDDoc", "PullOffDoc", "LithiationDoc", "DiffusionDoc", "DescriptorDoc",
           "LabelledConfigDoc", "ModelDoc", "ActiveLearningRoundDoc", "SystemErrors",
           "ScreeningDoc", "ScreeningEvaluation"]
