"""Molecular-dynamics documents: one MD run (``MDDoc``), pull-off, lithiation, diffusion and descriptors.

A job returns one document; the MD runs it made travel inside it (``PullOffDoc.md``,
``LithiationDoc.md_runs``), and :func:`contactflow.store.views.sync_views` derives each of them into its
own collection. The trajectory of a run is the ``MDDoc.trajectory`` field (a base64 ``.npz``, see
:mod:`contactflow.jobs.md`), which jobflow's JobStore routes to GridFS (``jobs.base.DATA_FIELDS``); in
the stored documents it is the JobStore's blob reference, read back with
:func:`contactflow.jobs.md.load_trajectory`.
"""

from typing import Any, Literal

from pydantic import BaseModel, Field, field_serializer, field_validator

from contactflow.schemas.provenance import Provenance
from contactflow.schemas.result import State


def _tagged(value, handler):
    """Serialise nested documents with ``@module``/``@class`` (pydantic drops them for nested models),
    so that the views sync finds them inside a job output and monty decodes them back."""
    out = handler(value)

    def tag(obj, d):
        if isinstance(obj, BaseModel) and isinstance(d, dict):
            return {"@module": type(obj).__module__, "@class": type(obj).__name__, **d}
        return d

    if isinstance(value, list):
        return [tag(o, d) for o, d in zip(value, out)]
    return tag(value, out)


def _structure_dict(v):
    """Keep structures as plain dicts: jobflow/monty decode a stored ``Structure.as_dict()`` back into a
    ``Structure`` when a job output is read, so accept either."""
    return v.as_dict() if hasattr(v, "as_dict") else v


class MDDoc(BaseModel):
    """One MD run (ReaxFF in LAMMPS or an MLP through ASE): settings, thermodynamics, health, diffusivity."""

    doc_key: str = Field(..., description="unique key: hash of (structure, engine, task, settings)")
    interface_id: str | None = Field(None, description="InterfaceDoc the run started from (None for other structures)")
    recipe_name: str | None = Field(None, description="recipe that built the structure")
    prepared_key: str | None = Field(None, description="PreparedInterfaceDoc the run started from")
    system: str | None = Field(None, description="formula(s), e.g. 'Fe3O4/C' or 'Li'")
    task: str = Field("md", description="what the run was for: md, pull_off, lithiation, diffusion")
    engine: str = Field(..., description="canonical engine spec, e.g. 'reaxff:Fe_O_C_H' or 'chgnet'")
    backend: Literal["lammps", "ase"] = Field(..., description="lammps: ReaxFF integrated inside LAMMPS; ase: MLP through ASE")
    settings: dict[str, Any] = Field(default_factory=dict, description="MD settings that enter doc_key")
    state: State = Field(..., description="failed runs carry the reason and no derived numbers")
    failure_reason: str | None = Field(None, description="why the run failed (blow-up, QEq, …) after its retry")
    attempts: int = Field(1, description="runs made: 2 when the first blew up and was retried at half the timestep")
    ensemble: str = Field(..., description="nve, nvt or npt")
    timestep_fs: float = Field(..., description="timestep of the (last) attempt, fs")
    temperature_K: float | None = Field(None, description="target temperature, K (None for NVE)")
    pressure_GPa: float | None = Field(None, description="target pressure for NPT, GPa")
    strain_pct: float = Field(0.0, description="applied biaxial in-plane strain of the cell, %")
    n_atoms: int = Field(..., description="atoms in the cell")
    n_steps_requested: int = Field(..., description="steps asked for (of the last attempt)")
    n_steps_done: int = Field(..., description="steps completed")
    simulated_time_ps: float = Field(..., description="simulated time completed, ps")
    restarted_from_step: int | None = Field(None, description="checkpoint step the run resumed from, if any")
    checkpoints_written: int = Field(0, description="checkpoints written during the run")
    mean_temperature_K: float | None = Field(None, description="mean instantaneous temperature over the second half, K")
    std_temperature_K: float | None = Field(None, description="its standard deviation, K")
    mean_potential_energy_eV: float | None = Field(None, description="mean potential energy over the second half, eV")
    energy_drift_eV_per_atom_per_ps: float | None = Field(
        None, description="NVE only: slope of total energy vs time per atom, eV/atom/ps")
    diffusivity_m2_per_s: dict[str, float] | None = Field(
        None, description="tracer diffusion coefficient per species from the MSD (Einstein relation), m²/s")
    diffusivity_stderr_m2_per_s: dict[str, float] | None = Field(
        None, description="standard error of the MSD slope fit per species, m²/s")
    msd_final_A2: dict[str, float] | None = Field(None, description="MSD per species at the largest lag fitted, Å²")
    ns_per_day: float | None = Field(None, description="throughput: simulated ns per day of wall time")
    atom_steps_per_s: float | None = Field(None, description="throughput: atoms × steps per wall second")
    n_frames: int = Field(0, description="frames in the stored trajectory")
    trajectory: dict[str, Any] | None = Field(
        None, description="the run's frames: {'format', 'npz_base64'} as made; in the store the JobStore's GridFS "
                          "blob reference {'blob_uuid', 'store'} (read with contactflow.jobs.md.load_trajectory)")
    trajectory_format: str | None = Field(None, description="'contactflow-npz/1': numbers, cell, times_ps, positions_A (unwrapped, float32), thermo")
    thermo: dict[str, list[float]] = Field(
        default_factory=dict, description="sampled time_ps, temperature_K, potential_eV, kinetic_eV, total_eV")
    final_structure: dict | None = Field(None, description="pymatgen Structure.as_dict() of the last frame")
    provenance: Provenance = Field(default_factory=Provenance, description="code, model, host, timings, uuids")

    _structure = field_validator("final_structure", mode="before")(_structure_dict)


class PullOffDoc(BaseModel):
    """Steered separation of the film from the substrate: traction vs opening, peak traction, fracture energy."""

    doc_key: str = Field(..., description="unique key: hash of (interface, engine, settings)")
    interface_id: str = Field(..., description="InterfaceDoc pulled apart")
    recipe_name: str | None = Field(None, description="recipe that built the interface")
    prepared_key: str | None = Field(None, description="PreparedInterfaceDoc the pull started from")
    system: str | None = Field(None, description="film/substrate formulas")
    engine: str = Field(..., description="canonical engine spec")
    settings: dict[str, Any] = Field(default_factory=dict, description="pull-off settings that enter doc_key")
    state: State = Field(..., description="failed: no traction numbers; suspect: numbers out of proportion to "
                                           "W_sep or a cell not equilibrated before pulling (see failure_reason)")
    failure_reason: str | None = Field(None, description="why the pull-off failed or is suspect, with the figures")
    notes: list[str] = Field(default_factory=list, description="remarks that do not change the state (e.g. W_sep ≤ 0)")
    mode: Literal["velocity", "steps"] = Field(..., description="constant velocity or displacement steps")
    pull_velocity_A_per_ps: float | None = Field(None, description="mean opening rate, Å/ps")
    temperature_K: float = Field(..., description="thermostat temperature of the mobile atoms, K")
    area_A2: float = Field(..., description="interface area the traction is normalised by, Å²")
    n_atoms: int = Field(..., description="atoms in the cell")
    peak_traction_GPa: float | None = Field(None, description="largest (smoothed) traction, GPa")
    opening_at_peak_A: float | None = Field(None, description="opening at the peak traction, Å")
    fracture_energy_J_per_m2: float | None = Field(None, description="∫ traction d(opening) over the curve, J/m²")
    final_opening_A: float | None = Field(None, description="opening at the end of the pull, Å")
    final_traction_GPa: float | None = Field(None, description="traction at the end (≈ 0 once separated), GPa")
    separated: bool | None = Field(None, description="traction fell below 5 % of its peak by the end")
    w_sep_static_J_per_m2: float | None = Field(
        None, description="rigid static W_sep of the same interface and engine, for comparison, J/m²")
    w_sep_reference_J_per_m2: float | None = Field(
        None, description="W_sep the sanity bounds used: the prepared interface's rigid W_sep, else the static one")
    equilibrate_steps: int = Field(0, description="NVT steps run before pulling (0: none)")
    equilibrated: bool | None = Field(
        None, description="the equilibration's last half had ⟨T⟩ and a potential-energy drift within bounds")
    equilibration_mean_temperature_K: float | None = Field(None, description="⟨T⟩ over the equilibration's last half, K")
    equilibration_epot_drift_eV_per_atom: float | None = Field(
        None, description="change of the fitted potential energy across the equilibration's last half, eV/atom")
    opening_A: list[float] = Field(default_factory=list, description="opening of the pulled layer, Å")
    traction_GPa: list[float] = Field(default_factory=list, description="traction at each opening (block-averaged), GPa")
    md_doc_key: str | None = Field(None, description="MDDoc of the run (trajectory, thermodynamics)")
    md: MDDoc | None = Field(None, description="the pulling run (derived into the md collection)")
    equilibration_md: MDDoc | None = Field(None, description="the equilibration run before pulling")
    provenance: Provenance = Field(default_factory=Provenance, description="code, model, host, timings, uuids")

    _nested = field_serializer("md", "equilibration_md", mode="wrap")(lambda self, v, h: _tagged(v, h))


class LithiationStep(BaseModel):
    """The interface after one Li insertion step (relaxed and equilibrated)."""

    n_li: int = Field(..., description="Li atoms inserted so far")
    li_per_film_atom: float = Field(..., description="inserted Li per (non-Li) film atom")
    film_volume_A3: float = Field(..., description="film volume: area × film thickness, Å³")
    volume_strain_pct: float = Field(..., description="film volume change vs the unlithiated film, %")
    film_thickness_A: float = Field(..., description="z extent of the film (with its Li), Å")
    interface_gap_A: float = Field(..., description="lowest film atom minus highest substrate atom, Å")
    contact_area_fraction: float = Field(..., description="real contact-area fraction, 0–1")
    n_cross_bonds: int = Field(..., description="bonds across the interface (Li counted with the film)")
    potential_energy_per_atom_eV: float | None = Field(None, description="mean potential energy per atom, eV")
    intact: bool = Field(..., description="contact kept: contact fraction ≥ threshold and gap below the debond gap")


class LithiationDoc(BaseModel):
    """Stepwise lithiation of an interface: volume strain and interface integrity vs Li content."""

    doc_key: str = Field(..., description="unique key")
    interface_id: str = Field(..., description="InterfaceDoc lithiated")
    recipe_name: str | None = Field(None, description="recipe that built the interface")
    prepared_key: str | None = Field(None, description="PreparedInterfaceDoc lithiated")
    system: str | None = Field(None, description="film/substrate formulas")
    engine: str = Field(..., description="canonical engine spec")
    settings: dict[str, Any] = Field(default_factory=dict, description="settings that enter doc_key")
    state: State = Field(..., description="failed documents keep the steps done before the failure")
    failure_reason: str | None = Field(None, description="why it stopped")
    n_atoms_initial: int = Field(..., description="atoms before lithiation")
    steps: list[LithiationStep] = Field(default_factory=list, description="one entry per Li content, the first with 0 Li")
    max_volume_strain_pct: float | None = Field(None, description="largest film volume strain reached, %")
    integrity_lost_at_n_li: int | None = Field(None, description="first Li count at which the contact was no longer intact")
    final_structure: dict | None = Field(None, description="pymatgen Structure.as_dict() after the last step")
    md_runs: list[MDDoc] = Field(default_factory=list, description="the MD run after each insertion (derived into md)")
    provenance: Provenance = Field(default_factory=Provenance, description="code, model, host, timings, uuids")

    _structure = field_validator("final_structure", mode="before")(_structure_dict)
    _nested = field_serializer("md_runs", mode="wrap")(lambda self, v, h: _tagged(v, h))


class DiffusionPoint(BaseModel):
    """D at one temperature and in-plane strain."""

    temperature_K: float = Field(..., description="temperature, K")
    strain_pct: float = Field(..., description="applied biaxial in-plane strain, %")
    diffusivity_m2_per_s: float | None = Field(None, description="tracer D of the species, m²/s")
    diffusivity_stderr_m2_per_s: float | None = Field(None, description="standard error of D from the MSD fit, m²/s")
    md_doc_key: str | None = Field(None, description="MDDoc of the run")
    state: Literal["successful", "failed"] = Field("successful", description="state of that MD run")


class ArrheniusFit(BaseModel):
    """ln D = ln D0 − E_a/(k_B T) at one strain."""

    strain_pct: float = Field(..., description="applied biaxial in-plane strain, %")
    activation_energy_eV: float = Field(..., description="E_a, eV")
    activation_energy_stderr_eV: float | None = Field(None, description="standard error of E_a from the fit (None with 2 points), eV")
    D0_m2_per_s: float = Field(..., description="prefactor, m²/s")
    temperatures_K: list[float] = Field(..., description="temperatures fitted, K")


class DiffusionDoc(BaseModel):
    """D(T, strain) of one species from MD MSDs, with an Arrhenius fit per strain."""

    doc_key: str = Field(..., description="unique key")
    interface_id: str | None = Field(None, description="InterfaceDoc (None for other structures)")
    recipe_name: str | None = Field(None, description="recipe that built the structure")
    prepared_key: str | None = Field(None, description="PreparedInterfaceDoc the runs started from")
    system: str | None = Field(None, description="formula(s)")
    engine: str = Field(..., description="canonical engine spec")
    species: str = Field(..., description="diffusing species, e.g. Li")
    settings: dict[str, Any] = Field(default_factory=dict, description="settings that enter doc_key")
    state: State = Field(..., description="failed when no Arrhenius fit could be made")
    failure_reason: str | None = Field(None, description="why")
    points: list[DiffusionPoint] = Field(default_factory=list, description="one per (T, strain) run")
    fits: list[ArrheniusFit] = Field(default_factory=list, description="one per strain with ≥ 2 temperatures")
    activation_energy_eV: float | None = Field(None, description="E_a at the strain closest to 0, eV")
    activation_energy_stderr_eV: float | None = Field(None, description="its standard error, eV")
    provenance: Provenance = Field(default_factory=Provenance, description="code, model, host, timings, uuids")


class DescriptorDoc(BaseModel):
    """Contact descriptors of one interface structure (as built, relaxed, or an MD frame)."""

    doc_key: str = Field(..., description="unique key: hash of (interface_id, source, settings)")
    interface_id: str | None = Field(None, description="InterfaceDoc described")
    recipe_name: str | None = Field(None, description="recipe that built the interface")
    system: str | None = Field(None, description="film/substrate formulas")
    engine: str = Field("none", description="engine that produced the structure ('none' for an as-built interface)")
    source: str = Field("interface", description="which structure: interface (as built), prepared, md_final, …")
    prepared_key: str | None = Field(
        None, description="doc_key of the PreparedInterfaceDoc described (source 'prepared')")
    settings: dict[str, Any] = Field(default_factory=dict, description="descriptor settings (cutoffs, probe radii)")
    state: State = Field("successful", description="failed when the structure could not be analysed")
    failure_reason: str | None = Field(None, description="why")
    n_atoms: int = Field(..., description="atoms in the structure")
    area_A2: float | None = Field(None, description="in-plane area, Å²")
    contact_area_fraction: float | None = Field(None, description="real contact-area fraction, 0–1")
    n_cross_bonds: int | None = Field(None, description="bonds across the interface")
    cross_bonds_per_nm2: float | None = Field(None, description="bonds across the interface per nm² of interface")
    bonds_by_pair: dict[str, int] = Field(default_factory=dict, description="cross bonds by '<film el>-<substrate el>'")
    cross_coordination: dict[str, float] = Field(
        default_factory=dict, description="mean cross-interface bonds per contact-layer atom, keyed 'film:Fe'")
    interphase_thickness_A: float | None = Field(None, description="z extent where both sides exceed half their bulk density, Å")
    interface_gap_A: float | None = Field(None, description="lowest film atom minus highest substrate atom, Å")
    void_volume_A3: float | None = Field(None, description="empty volume between the contact layers, Å³")
    void_fraction: float | None = Field(None, description="void volume / region volume, 0–1")
    void_volume_per_area_A: float | None = Field(None, description="void volume per interface area (empty-layer thickness), Å")
    region_height_A: float | None = Field(None, description="height of the region searched for voids, Å")
    provenance: Provenance = Field(default_factory=Provenance, description="code versions, host, timings")
