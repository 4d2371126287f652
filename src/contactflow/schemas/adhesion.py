"""AdhesionDoc: work of separation of one interface with one engine and one set of settings."""

from typing import Any, Literal

from pydantic import BaseModel, Field

from contactflow.schemas.provenance import Provenance


class AdhesionDoc(BaseModel):
    """Work of separation W_sep = (E_film + E_substrate − E_interface)/A, positive for bound interfaces."""

    doc_key: str = Field(..., description="unique key: hash of (interface_id, engine, settings)")
    interface_id: str = Field(..., description="InterfaceDoc this result belongs to")
    recipe_name: str | None = Field(None, description="recipe that built the interface")
    system: str | None = Field(None, description="film/substrate formulas, e.g. 'Si/C'")
    engine: str = Field(..., description="canonical engine spec")
    settings: dict[str, Any] = Field(default_factory=dict, description="calculation settings that enter doc_key")
    state: Literal["successful", "failed"] = Field(..., description="failed documents carry no W_sep numbers")
    failure_reason: str | None = Field(None, description="why the calculation failed or did not converge")
    area_A2: float = Field(..., description="interface area used to normalise W_sep, Å²")
    strain_pct: float | None = Field(None, description="largest principal in-plane film strain of the match, %")
    n_atoms: int = Field(..., description="atoms in the interface cell")
    w_sep_rigid_J_per_m2: float | None = Field(
        None, description="rigid W_sep: slabs cut from the interface geometry without relaxing, J/m²"
    )
    w_sep_J_per_m2: float | None = Field(
        None, description="relaxed W_sep (interface and each free slab relaxed) when relaxed, else rigid, J/m²"
    )
    e_interface_eV: float | None = Field(None, description="energy of the interface cell, eV")
    e_film_eV: float | None = Field(None, description="energy of the free film slab, eV")
    e_substrate_eV: float | None = Field(None, description="energy of the free substrate slab, eV")
    relaxed: bool = Field(..., description="whether W_sep_J_per_m2 comes from relaxed structures")
    relax_converged: bool | None = Field(None, description="all three relaxations reached fmax")
    relax_steps: dict[str, int] = Field(default_factory=dict, description="optimizer steps used per structure")
    fmax_eV_per_A: float | None = Field(None, description="force convergence criterion of the relaxations, eV/Å")
    interface_gap_A: float | None = Field(None, description="film–substrate gap after relaxation, Å")
    provenance: Provenance = Field(default_factory=Provenance, description="code, model, host, timings, uuids")
