"""From the store up to continuum models: cohesive-zone and diffusivity exporters and a small
reference consumer (delamination of a swelling core from its shell)."""

from contactflow.continuum.czm import CohesiveLaw, ExportError, export_czm, laws_from_json, load_laws
from contactflow.continuum.delamination import (
    CoreShellParticle, DelaminationResult, predict_delamination,
)

__all__ = ["CohesiveLaw", "CoreShellParticle", "DelaminationResult", "ExportError", "export_czm",
           "laws_from_json", "load_laws", "predict_delamination"]
