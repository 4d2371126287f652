"""PreparedInterfaceDoc: the one prepared interface (registry, gap, optional relaxation) that every
property job of a recipe starts from."""

from typing import Literal

from pydantic import Field

from contactflow.schemas.provenance import Provenance
from contactflow.schemas.types import InterfaceField, StructureField  # noqa: F401
from contactflow.schemas.result import InterfaceResultDoc


class PreparedInterfaceDoc(InterfaceResultDoc):
    """An interface at the lowest-energy in-plane registry and gap of one engine, optionally relaxed."""

    state: Literal["successful", "failed"] = Field(
        ..., description="failed: the preparation did not finish (see failure_reason); tasks do not start from it")
    failure_reason: str | None = Field(None, description="why the preparation failed")
    n_atoms: int = Field(..., description="atoms in the interface cell")
    area_A2: float = Field(..., description="in-plane interface area, Å²")
    registry_grid: int = Field(0, description="n of the n × n registry scan (0: no scan)")
    registry_shifts_frac: list[list[float]] = Field(default_factory=list,
                                                    description="scanned in-plane film shifts, fractions of a and b")
    registry_energies_eV: list[float] = Field(default_factory=list,
                                              description="interface energy at each scanned shift (as-built gap), eV")
    registry_shift_frac: list[float] = Field(default_factory=lambda: [0.0, 0.0],
                                             description="chosen shift (lowest energy), fractions of a and b")
    registry_as_built_is_best: bool = Field(True, description="whether the as-built registry was already the lowest")
    as_built_gap_A: float = Field(..., description="film–substrate gap as built, Å")
    gap_scan_A: list[float] = Field(default_factory=list, description="gaps of the short E(d) scan, Å")
    gap_scan_energies_eV: list[float] = Field(default_factory=list, description="interface energies of the scan, eV")
    gap_A: float = Field(..., description="prepared gap: minimum of the E(d) scan (parabolic refinement), Å")
    gap_at_scan_edge: bool = Field(
        False, description="the lowest energy of the E(d) scan lies at an end of the scan: the gap is a bound, not a "
                           "minimum (at the far end: this engine does not bind the interface)")
    e_interface_eV: float | None = Field(None, description="interface energy at the prepared registry and gap, eV")
    e_film_eV: float | None = Field(None, description="free film slab energy in the same cell (rigid), eV")
    e_substrate_eV: float | None = Field(None, description="free substrate slab energy in the same cell (rigid), eV")
    w_sep_rigid_J_per_m2: float | None = Field(
        None, description="rigid W_sep at the prepared registry and gap, J/m² (≤ 0: unbound)")
    relaxed: bool = Field(False, description="whether a fixed-cell relaxation was run on the prepared geometry")
    relax_converged: bool | None = Field(
        None, description="the relaxation reached fmax (None: not run); a task that needs a relaxed interface "
                          "(relaxed W_sep) fails when it did not")
    notes: list[str] = Field(default_factory=list, description="what a user should know (an unconverged relaxation)")
    relax_steps: int | None = Field(None, description="optimizer steps the relaxation took")
    relax_max_force_eV_per_A: float | None = Field(None, description="largest force on a free atom after relaxing, eV/Å")
    e_interface_relaxed_eV: float | None = Field(None, description="energy of the relaxed interface, eV")
    structure: InterfaceField = Field(..., description="the prepared interface (registry and gap applied, not relaxed)")
    relaxed_structure: InterfaceField | None = Field(None, description="the relaxed prepared interface, when relaxed")
    provenance: Provenance = Field(default_factory=Provenance, description="code, model, host, timings, uuids")

    @property
    def geometry(self):
        """The geometry tasks that want the best available structure start from (relaxed if relaxed)."""
        return self.relaxed_structure if self.relaxed_structure is not None else self.structure
