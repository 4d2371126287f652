"""TractionSeparationDoc: a cohesive-zone law from the rigid separation curve of one interface."""

from typing import Any, Literal

from pydantic import Field

from contactflow.schemas.provenance import Provenance
from contactflow.schemas.types import InterfaceField, StructureField  # noqa: F401
from contactflow.schemas.result import InterfaceResultDoc, State


class TractionSeparationDoc(InterfaceResultDoc):
    """Rigid separation curve E(d) and its UBER fit E(d) = −W_sep (1 + d/ℓ) exp(−d/ℓ).

    d is the opening measured from the fitted equilibrium gap; the traction is σ(d) = dE/dd per area,
    peaking at d = ℓ with σ_max = W_sep/(e ℓ). These are the cohesive-zone parameters (exponential
    Xu–Needleman law: W_sep = e σ_max δ_c) that FEA and phase-field models take.
    """

    state: State = Field(..., description="failed documents carry no fitted numbers; unbound: E_b(d) ≥ 0 everywhere")
    structure: InterfaceField | None = Field(None, description="the interface at the gap the scan is built around")
    failure_reason: str | None = Field(None, description="why the calculation or the fit failed")
    area_A2: float = Field(..., description="interface area used to normalise energies, Å²")
    strain_pct: float | None = Field(None, description="largest principal in-plane film strain of the match, %")
    n_atoms: int = Field(..., description="atoms in the interface cell")
    w_sep_J_per_m2: float | None = Field(None, description="work of separation from the UBER fit (well depth), J/m²")
    w_sep_curve_J_per_m2: float | None = Field(
        None, description="work of separation read off the raw curve: minus its lowest binding energy, J/m²"
    )
    sigma_max_GPa: float | None = Field(None, description="peak traction of the fitted law, W_sep/(e ℓ), GPa")
    delta_c_A: float | None = Field(
        None, description="critical opening: opening at peak traction (= ℓ for UBER; W_sep = e σ_max δ_c), Å"
    )
    uber_length_A: float | None = Field(None, description="UBER length scale ℓ, Å")
    equilibrium_gap_A: float | None = Field(None, description="fitted equilibrium film–substrate gap d0, Å")
    fit_r2: float | None = Field(None, description="coefficient of determination of the UBER fit on the fitted points")
    fit_rms_residual_J_per_m2: float | None = Field(None, description="root-mean-square fit residual, J/m²")
    n_points_fitted: int | None = Field(None, description="curve points used in the fit")
    gaps_A: list[float] = Field(default_factory=list, description="film–substrate gaps of the curve, Å")
    binding_energy_J_per_m2: list[float | None] = Field(
        default_factory=list,
        description="(E_interface(d) − E_film − E_substrate)/A per gap, J/m² (negative when bound)",
    )
    e_film_eV: float | None = Field(None, description="energy of the free film slab (same cell), eV")
    e_substrate_eV: float | None = Field(None, description="energy of the free substrate slab (same cell), eV")
    evaluation_mode: str | None = Field(
        None, description="how the configurations were evaluated: batched, energy-only or sequential"
    )
    evaluation_wall_s: float | None = Field(None, description="wall time of evaluating the curve, s")
    raw_curve_data: dict[str, Any] = Field(
        default_factory=dict, description="raw curve: gaps_A, e_interface_eV (total energies, eV) per gap"
    )
    provenance: Provenance = Field(default_factory=Provenance, description="code, model, host, timings, uuids")
