"""BarrierDoc (Li migration barrier from a climbing-image NEB) and LiAdsorptionDoc (Li binding energies
at candidate sites)."""

from typing import Any, Literal

from pydantic import BaseModel, Field

from contactflow.schemas.provenance import Provenance
from contactflow.schemas.result import State
from contactflow.schemas.types import StructureField


class BarrierDoc(BaseModel):
    """One Li hop: relaxed endpoints, climbing-image NEB, barrier and energy profile.

    Barriers are only reported for a converged band (``converged`` true, ``state`` successful); an
    unconverged NEB is stored with ``state="failed"``, its reason and no barrier numbers.
    """

    doc_key: str = Field(..., description="unique key: hash of (interface_id, label, endpoints, engine, settings)")
    interface_id: str | None = Field(None, description="InterfaceDoc this hop belongs to (None for a bulk/free structure)")
    recipe_name: str | None = Field(None, description="recipe that built the host")
    system: str | None = Field(None, description="host formula(s), e.g. 'LiF/C' or 'Si'")
    label: str = Field(..., description="what hop this is, e.g. 'Si bulk Td-Hex-Td' or 'LiF/C interface'")
    region: str = Field("custom", description="where the hop is: bulk, surface, interface or custom")
    mechanism: str = Field("interstitial", description="interstitial (extra Li hops between voids) or given endpoints")
    engine: str = Field(..., description="canonical engine spec")
    settings: dict[str, Any] = Field(default_factory=dict, description="NEB settings that enter doc_key")
    state: State = Field(..., description="failed documents carry no barrier numbers; extrapolating: the "
                                          "committee's spread of the barrier exceeds its threshold")
    failure_reason: str | None = Field(None, description="why the NEB failed or did not converge")
    uncertainty: dict[str, Any] | None = Field(
        None, description="{source: committee|validation|unvalidated, value, unit, note} of the forward barrier")
    converged: bool = Field(False, description="band forces (climbing image included) reached fmax within max_steps")
    endpoints_relaxed: bool = Field(False, description="endpoints were relaxed before the NEB")
    endpoints_converged: bool | None = Field(None, description="both endpoint relaxations reached fmax")
    n_atoms: int = Field(..., description="atoms per image")
    n_images: int = Field(..., description="images including the two endpoints")
    moving_index: int = Field(..., description="index of the hopping Li atom")
    fixed_indices: list[int] = Field(default_factory=list, description="atoms held fixed (FixAtoms) in all images")
    fmax_eV_per_A: float = Field(..., description="force criterion of the NEB and endpoint relaxations, eV/Å")
    max_force_eV_per_A: float | None = Field(None, description="largest NEB force on any moving image at the end, eV/Å")
    climbing_image_max_force_eV_per_A: float | None = Field(
        None, description="largest atomic force on the climbing image at the end (tangential part inverted), eV/Å")
    neb_steps: int | None = Field(None, description="optimizer steps taken by the NEB")
    barrier_forward_eV: float | None = Field(None, description="E(saddle) − E(initial), eV")
    barrier_reverse_eV: float | None = Field(None, description="E(saddle) − E(final), eV")
    delta_E_eV: float | None = Field(None, description="E(final) − E(initial), eV")
    energies_eV: list[float] = Field(default_factory=list, description="image energies relative to the initial image, eV")
    reaction_coordinate_A: list[float] = Field(
        default_factory=list, description="cumulative 3N-dimensional distance along the band at each image, Å")
    path_length_A: float | None = Field(None, description="length of the moving Li's path through the images, Å")
    hop_distance_A: float | None = Field(None, description="straight-line distance between the Li endpoint positions, Å")
    min_approach_A: float | None = Field(None, description="closest distance of the moving Li to another atom along the band, Å")
    saddle_index: int | None = Field(None, description="index of the highest-energy image (the climbing image)")
    saddle_li_frac_coords: list[float] | None = Field(None, description="fractional coordinates of the Li at the saddle")
    saddle_li_min_dist_A: float | None = Field(None, description="distance of the saddle Li to its nearest atom, Å")
    saddle_structure: dict | None = Field(None, description="pymatgen Structure.as_dict() of the saddle image")
    initial_structure: StructureField | None = Field(None, description="the (relaxed) initial endpoint")
    final_structure: StructureField | None = Field(None, description="the (relaxed) final endpoint")
    band_images: list[dict[str, Any]] | dict[str, Any] | None = Field(
        None, description="every image of the converged band (Structure.as_dict); routed to GridFS by jobflow, "
                          "so the stored document holds its blob reference")
    prepared_key: str | None = Field(None, description="PreparedInterfaceDoc the host geometry came from")
    initial_li_frac_coords: list[float] | None = Field(None, description="fractional coordinates of the Li, initial image")
    final_li_frac_coords: list[float] | None = Field(None, description="fractional coordinates of the Li, final image")
    batch_mode: str | None = Field(None, description="how images were evaluated: batched or sequential (chosen per device)")
    batch_timings_s: dict[str, float] = Field(
        default_factory=dict, description="wall time per image of each evaluation path when batch='measure' timed them, s")
    committee_energy_std_eV: list[float] | None = Field(
        None, description="committee engines only: spread (std) of the members' energies per image, relative to the initial image, eV")
    committee_barrier_std_eV: float | None = Field(
        None, description="committee engines only: std of the forward barrier over the committee members, eV")
    committee_max_force_std_eV_per_A: float | None = Field(
        None, description="committee engines only: largest per-atom force spread over the band, eV/Å")
    reference_barrier_eV: float | None = Field(None, description="literature (usually DFT) barrier for this hop, eV")
    reference_source: str | None = Field(None, description="citation of reference_barrier_eV")
    deviation_from_reference_eV: float | None = Field(
        None, description="barrier_forward_eV − reference_barrier_eV, eV (measured, not tuned)")
    note: str | None = Field(None, description="free-text remark (e.g. known MLP deviation)")
    provenance: Provenance = Field(default_factory=Provenance, description="code, model, host, timings, uuids")


class LiSiteEnergy(BaseModel):
    """Li binding energy at one candidate site."""

    label: str = Field(..., description="site label, e.g. 'hollow0' or 'void3'")
    kind: str = Field(..., description="interstitial, ontop, bridge, hollow or interface")
    frac_coords: list[float] = Field(..., description="initial fractional coordinates of the Li")
    relaxed_frac_coords: list[float] | None = Field(None, description="fractional coordinates after relaxation")
    multiplicity: int = Field(1, description="symmetry-equivalent sites this one stands for")
    e_total_eV: float | None = Field(None, description="energy of host + Li at this site, eV")
    binding_energy_eV: float | None = Field(
        None, description="E(host+Li) − E(host) − E(Li reference), eV; negative = binding stronger than the reference")
    converged: bool | None = Field(None, description="relaxation reached fmax")
    displacement_A: float | None = Field(None, description="how far the Li moved during relaxation, Å")


class LiAdsorptionDoc(BaseModel):
    """Li binding energies at ranked candidate sites of one host (interface, slab or bulk)."""

    doc_key: str = Field(..., description="unique key: hash of (interface_id, label, engine, settings)")
    interface_id: str | None = Field(None, description="InterfaceDoc the host belongs to (None for a free host)")
    recipe_name: str | None = Field(None, description="recipe that built the host")
    system: str | None = Field(None, description="host formula(s)")
    label: str = Field(..., description="which host, e.g. 'Fe3O4/rGO interface' or 'bare graphene'")
    region: str = Field("custom", description="bulk, surface, interface or custom")
    engine: str = Field(..., description="canonical engine spec")
    settings: dict[str, Any] = Field(default_factory=dict, description="settings that enter doc_key")
    state: State = Field(..., description="failed documents carry no energies; extrapolating: the committee's "
                                          "spread of the best binding energy exceeds its threshold")
    failure_reason: str | None = Field(None, description="why it failed")
    committee_binding_std_eV: float | None = Field(
        None, description="committee engines: std over the members of the best site's binding energy, eV")
    uncertainty: dict[str, Any] | None = Field(
        None, description="{source: committee|validation|unvalidated, value, unit, note} of the best binding energy")
    li_reference: str = Field(..., description="what E(Li reference) is, e.g. 'bcc Li bulk, energy per atom'")
    e_li_reference_eV: float | None = Field(None, description="reference energy per Li atom, eV")
    e_host_eV: float | None = Field(None, description="energy of the relaxed host without Li, eV")
    n_atoms_host: int = Field(..., description="atoms in the host cell")
    fmax_eV_per_A: float = Field(..., description="relaxation force criterion, eV/Å")
    sites: list[LiSiteEnergy] = Field(default_factory=list, description="sites ranked by binding energy, lowest first")
    best_binding_energy_eV: float | None = Field(None, description="lowest binding energy over converged sites, eV")
    best_site: str | None = Field(None, description="label of the site with the lowest binding energy")
    reference_binding_energy_eV: float | None = Field(
        None, description="literature (usually DFT) binding energy of the best site vs the same Li reference, eV")
    reference_source: str | None = Field(None, description="citation of reference_binding_energy_eV")
    deviation_from_reference_eV: float | None = Field(
        None, description="best_binding_energy_eV − reference_binding_energy_eV, eV (measured, not tuned)")
    provenance: Provenance = Field(default_factory=Provenance, description="code, model, host, timings, uuids")
