"""Validation reference cases and the ValidationDoc: one engine measured against one reference.

A case is data (``src/contactflow/validation/cases/*.yaml``): a small structure builder, the property it
computes, and the reference (value, unit, method, citation, tolerance and why). A ``ValidationDoc`` is one
(case, engine): the engine's value, the signed error, pass/fail/skipped, the committee's spread where the
engine is a committee, and provenance. Tolerances come from the reference's own uncertainty and are never
widened to make an engine pass.
"""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from contactflow.schemas.provenance import Provenance

#: what a case computes (see contactflow.validation.properties)
PROPERTIES = ("w_sep_rigid", "energy_difference", "neb_barrier", "li_binding", "interface_gap_neb", "bulk_li_hop")
Status = Literal["pass", "fail", "skipped", "failed"]


class Reference(BaseModel):
    """A published or contactflow-CP2K reference number and how far an engine may be from it."""

    model_config = ConfigDict(extra="forbid")

    value: float = Field(..., description="reference value, in `unit`")
    unit: str = Field(..., description="J/m2, eV, eV/cell …")
    method: str = Field(..., min_length=3, description="how the reference was obtained (DFT functional, expt. …)")
    citation: str = Field(..., min_length=5, description="where the number comes from (paper, or contactflow CP2K "
                                                          "document with its settings)")
    source: Literal["literature", "cp2k"] = Field(..., description="published, or contactflow's own CP2K run")
    tolerance: float = Field(..., gt=0, description="largest |engine − reference| that passes, in `unit`")
    tolerance_why: str = Field(..., min_length=10, description="why this tolerance (the reference's own spread)")
    settings: dict[str, Any] = Field(default_factory=dict, description="DFT settings of a cp2k reference")


class ValidationCase(BaseModel):
    """One reference case: structure builder + property + reference."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(..., pattern=r"^[a-z0-9_]+$")
    title: str
    system: str = Field(..., description="product system, e.g. 'C/C', 'Li in Si', 'Fe3O4/rGO'")
    chemistry: list[str] = Field(..., min_length=1, description="elements of the structure")
    task: str = Field(..., description="the recipe task whose number this checks (adhesion, neb, li_adsorption …)")
    property: str = Field(..., description=f"one of {', '.join(PROPERTIES)}")
    builder: str = Field(..., description="builder name in contactflow.validation.builders")
    builder_args: dict[str, Any] = Field(default_factory=dict)
    compute: dict[str, Any] = Field(default_factory=dict, description="property settings (images, fmax …)")
    fast: bool = Field(False, description="part of the default (CI) subset")
    reference: Reference
    notes: str = ""


class ValidationDoc(BaseModel):
    """One engine on one reference case."""

    doc_key: str = Field(..., description="hash of (case, engine, case definition)")
    case_id: str
    title: str
    system: str
    chemistry: list[str]
    task: str
    property: str
    engine: str = Field(..., description="canonical engine spec")
    status: Status = Field(..., description="pass/fail against the tolerance; skipped: engine lacks the "
                                            "case's elements; failed: the calculation failed")
    reason: str | None = Field(None, description="why skipped or failed")
    value: float | None = Field(None, description="the engine's value, in `unit`")
    unit: str
    reference_value: float
    reference: Reference
    signed_error: float | None = Field(None, description="value − reference, in `unit`")
    relative_error: float | None = Field(None, description="signed_error / |reference|")
    tolerance: float
    committee_std: float | None = Field(None, description="committee engines: std of the property over the members")
    within_2sigma: bool | None = Field(None, description="|signed_error| ≤ 2 committee_std (calibration)")
    n_atoms: int | None = None
    wall_time_s: float | None = None
    details: dict[str, Any] = Field(default_factory=dict, description="per-structure energies, settings")
    provenance: Provenance = Field(default_factory=Provenance)
