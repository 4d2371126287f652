"""AdhesionDoc: work of separation of one interface with one engine and one set of settings."""

from typing import Any, Literal

from pydantic import BaseModel, Field

from contactflow.schemas.provenance import Provenance
from contactflow.schemas.types import InterfaceField, StructureField  # noqa: F401
from contactflow.schemas.interface import InterfaceDoc
from contactflow.schemas.result import InterfaceResultDoc, State


class AdhesionDoc(InterfaceResultDoc):
    """Work of separation W_sep = (E_film + E_substrate − E_interface)/A, positive for bound interfaces."""

    state: State = Field(..., description="failed documents carry no W_sep numbers; unbound: W_sep ≤ 0")
    failure_reason: str | None = Field(None, description="why the calculation failed or did not converge")
    area_A2: float = Field(..., description="interface area used to normalise W_sep, Å²")
    strain_pct: float | None = Field(None, description="largest principal in-plane film strain of the match, %")
    n_atoms: int = Field(..., description="atoms in the interface cell")
    committee_w_sep_rigid_std_J_per_m2: float | None = Field(
        None, description="committee engines only: std of the rigid W_sep over the committee members, J/m²")
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
    relax_max_force_eV_per_A: dict[str, float | None] = Field(
        default_factory=dict, description="largest force on a free atom after each relaxation (measured), eV/Å")
    relaxed_interface_from: str | None = Field(
        None, description="'prepared' when the relaxed interface is the preparation's (relaxed once for all tasks)")
    structure: InterfaceField | None = Field(None, description="the interface W_sep_rigid was computed on")
    relaxed_structure: StructureField | None = Field(None, description="the relaxed interface (relaxed runs)")
    relaxed_film_structure: StructureField | None = Field(None, description="the relaxed free film slab")
    relaxed_substrate_structure: StructureField | None = Field(None, description="the relaxed free substrate slab")
    fmax_eV_per_A: float | None = Field(None, description="force convergence criterion of the relaxations, eV/Å")
    interface_gap_A: float | None = Field(None, description="film–substrate gap after relaxation, Å")
    e_film_unstrained_eV: float | None = Field(
        None, description="energy of the free film at its own (unstrained) in-plane lattice, eV"
    )
    film_strain_energy_J_per_m2: float | None = Field(
        None, description="elastic energy of the film from the lattice match, (E_film − E_film,unstrained)/A, J/m²"
    )
    w_sep_strain_corrected_J_per_m2: float | None = Field(
        None,
        description="W_sep referenced to the unstrained film, w_sep_J_per_m2 − film_strain_energy_J_per_m2, J/m²",
    )
    registry_grid: int | None = Field(None, description="n of the n × n registry scan (None: no scan)")
    registry_shifts_frac: list[list[float]] = Field(
        default_factory=list, description="in-plane film shifts of the scan, fractions of the a and b cell vectors"
    )
    registry_w_sep_J_per_m2: list[float] = Field(
        default_factory=list, description="rigid W_sep at each scanned shift, J/m²"
    )
    registry_best_shift_frac: list[float] | None = Field(
        None, description="shift with the lowest interface energy (largest rigid W_sep), fractions of a and b"
    )
    registry_w_sep_max_J_per_m2: float | None = Field(None, description="largest rigid W_sep over the scan, J/m²")
    registry_w_sep_min_J_per_m2: float | None = Field(None, description="smallest rigid W_sep over the scan, J/m²")
    registry_spread_J_per_m2: float | None = Field(
        None, description="max − min of rigid W_sep over the scanned stackings, J/m²"
    )
    evaluation_mode: str | None = Field(None, description="how the registry scan was evaluated (batched, …)")
    provenance: Provenance = Field(default_factory=Provenance, description="code, model, host, timings, uuids")


class AdhesionConvergenceDoc(BaseModel):
    """A convergence series of W_sep in one parameter (job output; each step is its own AdhesionDoc)."""

    recipe_name: str = Field(..., description="recipe that was varied")
    engine: str = Field(..., description="engine spec of every step")
    parameter: str = Field(..., description="film_layers, substrate_layers, layers, vacuum_A or area")
    tol_J_per_m2: float = Field(..., description="stop when successive W_sep differ by less than this, J/m²")
    steps: list[dict[str, Any]] = Field(
        default_factory=list,
        description="per value: value, interface_id, n_atoms, area_A2, strain_pct, w_sep_J_per_m2 (J/m²), state, doc_key",
    )
    converged: bool = Field(..., description="whether two successive values agreed within tol_J_per_m2")
    interfaces: list[InterfaceDoc] = Field(default_factory=list, description="the interface built at each step")
    documents: list[AdhesionDoc] = Field(default_factory=list, description="the AdhesionDoc of each step")
    converged_value: Any = Field(None, description="the first value whose W_sep agreed with the previous one")
    w_sep_J_per_m2: float | None = Field(None, description="W_sep at converged_value, J/m²")
    failure_reason: str | None = Field(None, description="why the series did not converge")
