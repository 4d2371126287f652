"""Molecular dynamics at interfaces: :class:`MDMaker` with two backends behind one interface.

- ``engine="reaxff:<ffield>"`` → ReaxFF integrated inside LAMMPS (``fix qeq/reaxff`` every step,
  Nosé–Hoover ``fix nvt``/``fix npt`` or ``fix langevin``; OPENMP styles when available). Defaults
  that are good practice for ReaxFF: timestep 0.25 fs (bound 1 fs), thermostat damping 100 fs.
- any MLP spec (``chgnet``, ``chgnet+d3``, ``mace:<file>``) → ASE dynamics with the calculator from
  :func:`contactflow.engines.get_calculator` on cuda when present, else cpu (Langevin, friction
  10 ps⁻¹ as in atomate2; timestep 1 fs, 0.5 fs with H; bound 5 fs, 2 fs with H).

Robustness (both backends, in :func:`run_md`): the run advances in chunks; after each chunk it checks for
non-finite numbers, a temperature explosion, atoms moving faster than any thermal speed (ejected /
lost), NVE energy drift, and LAMMPS errors (lost atoms). A blow-up stops the run; :func:`run_with_retry`
restarts it once with half the timestep (same simulated time); a second blow-up gives a failed
``MDDoc`` with both reasons. Checkpoints (positions, velocities, thermostat RNG, the trajectory so far)
are written every ``checkpoint_interval`` steps to ``checkpoint_dir``; running the same job again resumes
from the last one. Progress is logged with ns/day.

Trajectory storage (one place): the sampled frames go into a compressed ``.npz`` (format
``contactflow-npz/1``: ``numbers``, ``cell``, ``times_ps``, ``positions_A`` unwrapped float32, thermo
arrays), base64-encoded into ``MDDoc.trajectory`` (:func:`encode_trajectory`). The Maker is pure: it
returns the document and writes nothing; jobflow's JobStore routes the ``trajectory`` field to GridFS
(``jobs.base.DATA_FIELDS``) and leaves a blob reference in the job record and the ``md`` collection.
:func:`load_trajectory` reads either form back.
"""

import base64
import hashlib
import io
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from ase import Atoms, units
from jobflow import Maker

from contactflow.analysis.dynamics import (
    A2_PER_PS_TO_M2_PER_S, diffusivity_from_msd, energy_drift_eV_per_atom_per_ps, msd_A2, unwrap_positions,
)
from contactflow.engines.checks import CalculationFailedError
from contactflow.errors import ContactflowError
from contactflow.jobs.base import (
    contactflow_job, doc_key_for, make_provenance, preparation_failure, resolve_prepared, timed,
)
from contactflow.jobs.md_backends import (
    BAROSTATS, ENSEMBLES, THERMOSTATS, AseBackend, LammpsReaxFFBackend, MDBlowUp, MDConfig, kinetic_energy_eV,
    maxwell_boltzmann_velocities,
)
from contactflow.schemas.md import MDDoc

log = logging.getLogger(__name__)

TRAJECTORY_FORMAT = "contactflow-npz/1"
#: default timesteps and upper bounds (fs): ReaxFF; MLP without / with H
REAXFF_TIMESTEP_FS, REAXFF_MAX_TIMESTEP_FS = 0.25, 1.0
MLP_TIMESTEP_FS, MLP_MAX_TIMESTEP_FS = 1.0, 5.0
MLP_TIMESTEP_H_FS, MLP_MAX_TIMESTEP_H_FS = 0.5, 2.0
#: thermostat damping time (Nosé–Hoover) / inverse Langevin friction, fs
DEFAULT_DAMPING_FS = 100.0


class MDInputError(ContactflowError, ValueError):
    """MD settings or a structure that cannot start a run (checked before any compute)."""


# --------------------------------------------------------------------------------------------------
# structures
# --------------------------------------------------------------------------------------------------
def structure_to_atoms(structure) -> Atoms:
    """ASE Atoms from a pymatgen Structure/Interface (site properties dropped) or Atoms (copied)."""
    if isinstance(structure, Atoms):
        a = structure.copy()
        a.set_constraint()
        return a
    from pymatgen.io.ase import AseAtomsAdaptor

    plain = structure.copy()
    for key in list(plain.site_properties):
        plain.remove_site_property(key)
    return AseAtomsAdaptor.get_atoms(plain)


def apply_inplane_strain(atoms: Atoms, strain_pct: float) -> Atoms:
    """A copy with the two in-plane cell vectors scaled by (1 + strain) and atoms moved with the cell
    (biaxial in-plane strain; the out-of-plane vector is kept)."""
    out = atoms.copy()
    if strain_pct:
        cell = np.array(out.cell)
        cell[:2] *= 1.0 + strain_pct / 100.0
        out.set_cell(cell, scale_atoms=True)
    return out


def bottom_indices(atoms: Atoms, thickness_A: float, among=None) -> list[int]:
    """Atoms (of ``among``, default all) within ``thickness_A`` of the lowest of them."""
    idx = np.arange(len(atoms)) if among is None else np.asarray(among, int)
    if thickness_A <= 0 or len(idx) == 0:
        return []
    z = atoms.positions[idx, 2]
    return sorted(idx[z <= z.min() + thickness_A].tolist())


def top_indices(atoms: Atoms, thickness_A: float, among=None) -> list[int]:
    """Atoms (of ``among``, default all) within ``thickness_A`` of the highest of them."""
    idx = np.arange(len(atoms)) if among is None else np.asarray(among, int)
    if thickness_A <= 0 or len(idx) == 0:
        return []
    z = atoms.positions[idx, 2]
    return sorted(idx[z >= z.max() - thickness_A].tolist())


def atoms_key(atoms: Atoms) -> str:
    """Short hash of numbers, cell and positions (rounded to 1e-4 Å)."""
    h = hashlib.sha256()
    h.update(np.asarray(atoms.numbers, np.int64).tobytes())
    h.update(np.round(np.asarray(atoms.cell), 4).tobytes())
    h.update(np.round(atoms.positions, 4).tobytes())
    return h.hexdigest()[:16]


# --------------------------------------------------------------------------------------------------
# the chunked driver
# --------------------------------------------------------------------------------------------------
@dataclass
class MDLimits:
    """Blow-up thresholds checked after every chunk."""

    max_temperature_factor: float = 5.0
    max_temperature_margin_K: float = 1500.0
    max_speed_A_per_fs: float = 1.0
    max_energy_drift_eV_per_atom: float = 0.1

    def max_temperature_K(self, reference_K: float) -> float:
        """Temperature above which the run is declared exploded: max(factor × T_ref, T_ref + margin)."""
        return max(self.max_temperature_factor * reference_K, reference_K + self.max_temperature_margin_K)


@dataclass
class MDRun:
    """What one (attempt of an) MD run produced."""

    timestep_fs: float
    n_steps_requested: int
    n_steps_done: int = 0
    restarted_from_step: int | None = None
    checkpoints_written: int = 0
    wall_s: float = 0.0
    thermo: dict = field(default_factory=lambda: {k: [] for k in ("step", "time_ps", "temperature_K", "potential_eV",
                                                                  "kinetic_eV", "total_eV")})
    frames: list = field(default_factory=list)
    frame_times_ps: list = field(default_factory=list)
    pull: dict = field(default_factory=lambda: {"time_ps": [], "opening_A": [], "force_z_eV_per_A": []})
    final_positions: np.ndarray | None = None
    final_velocities: np.ndarray | None = None
    final_cell: np.ndarray | None = None

    @property
    def ns_per_day(self) -> float | None:
        steps = self.n_steps_done - (self.restarted_from_step or 0)
        return steps * self.timestep_fs * 1e-6 / (self.wall_s / 86400.0) if self.wall_s > 0 and steps else None


def _checkpoint_save(path: Path, run: MDRun, step: int, positions, unwrapped, velocities, cell, rng_state,
                     signature: str, extra: dict) -> None:
    arrays = {
        "step": np.array(step), "positions": positions, "unwrapped": unwrapped, "velocities": velocities,
        "cell": cell, "frames": np.asarray(run.frames, np.float64) if run.frames else np.zeros((0,) + positions.shape),
        "frame_times_ps": np.asarray(run.frame_times_ps),
        "meta": np.array(json.dumps({"signature": signature, "rng_state": rng_state, "thermo": run.thermo,
                                     "pull": run.pull, "checkpoints_written": run.checkpoints_written,
                                     **extra}, default=float)),
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp.npz")
    os.close(fd)
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, path)  # atomic: a crash mid-write never leaves half a checkpoint


def _checkpoint_load(path: Path, signature: str) -> dict | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
        meta = json.loads(str(data["meta"]))
    except (OSError, ValueError, KeyError) as exc:
        log.warning("ignoring unreadable MD checkpoint %s (%s)", path, exc)
        return None
    if meta.get("signature") != signature:
        log.warning("ignoring MD checkpoint %s: it belongs to other settings or another structure", path)
        return None
    data["meta"] = meta
    return data


def run_md(atoms: Atoms, make_backend: Callable, config: MDConfig, n_steps: int, *, chunk: int = 10,
           sample_interval: int = 10, checkpoint_path: Path | None = None, checkpoint_interval: int = 1000,
           limits: MDLimits | None = None, signature: str = "", initial_temperature_K: float | None = None,
           on_chunk: Callable | None = None, label: str = "MD", pull_increment_A: float = 0.0,
           pull_increment_steps: int = 0) -> MDRun:
    """Run MD in chunks with health checks, sampling, checkpoints and progress.

    Parameters
    ----------
    atoms
        Starting structure (positions Å).
    make_backend
        ``make_backend(atoms, velocities_A_per_fs, start_step)`` → a backend
        (:class:`~contactflow.jobs.md_backends.AseBackend` or
        :class:`~contactflow.jobs.md_backends.LammpsReaxFFBackend`).
    config
        Integrator settings (its ``fixed``/``pulled`` groups do not count as free atoms).
    n_steps
        Steps to run; rounded up to a multiple of ``chunk``.
    chunk
        Steps between health checks; ``sample_interval`` and ``checkpoint_interval`` are rounded to
        multiples of it.
    checkpoint_path
        ``.npz`` written every ``checkpoint_interval`` steps; if it exists with the same ``signature``
        the run resumes from it.
    limits
        Blow-up thresholds.
    signature
        Identifies the run (structure, engine, settings) so a checkpoint is only reused by the same run.
    initial_temperature_K
        Maxwell–Boltzmann temperature of the initial velocities (default: the target temperature).
    on_chunk
        Called as ``on_chunk(step)`` after each chunk (tests use it to interrupt a run).
    pull_increment_A, pull_increment_steps
        Displacement-step pulling: every ``pull_increment_steps`` steps (a multiple of ``chunk``) the
        pulled group is translated by ``pull_increment_A`` along z.

    Raises
    ------
    MDBlowUp
        When a health check fails (the caller retries or stores a failed document).
    """
    limits = limits or MDLimits()
    chunk = max(1, int(chunk))
    n_steps = int(np.ceil(n_steps / chunk) * chunk)
    sample_every = max(1, int(round(sample_interval / chunk)))
    ckpt_every = max(1, int(round(checkpoint_interval / chunk)))
    masses = atoms.get_masses()
    frozen = sorted(set(config.fixed) | set(config.pulled))
    free = np.setdiff1d(np.arange(len(atoms)), frozen)
    if len(free) == 0:
        raise MDInputError("every atom is fixed or pulled; nothing would move")
    T0 = config.temperature_K if initial_temperature_K is None else initial_temperature_K
    T_ref = T0 if config.ensemble == "nve" else config.temperature_K
    t_max = limits.max_temperature_K(max(T_ref, 1.0))
    dt = config.timestep_fs
    run = MDRun(timestep_fs=dt, n_steps_requested=n_steps)
    pulled = np.asarray(config.pulled, int)

    ck = _checkpoint_load(checkpoint_path, signature) if checkpoint_path else None
    if ck is not None:
        step = int(ck["step"])
        meta = ck["meta"]
        start = atoms.copy()
        start.set_cell(ck["cell"], scale_atoms=False)
        start.positions = ck["positions"]
        velocities, unwrapped = ck["velocities"], ck["unwrapped"]
        run.thermo, run.pull = meta["thermo"], meta["pull"]
        run.frames = list(ck["frames"])
        run.frame_times_ps = list(ck["frame_times_ps"])
        run.checkpoints_written = int(meta["checkpoints_written"])
        run.restarted_from_step = step
        e_ref, z_pull0 = meta["e_ref"], meta["z_pull0"]
        log.info("%s: resuming from checkpoint %s at step %d of %d", label, checkpoint_path, step, n_steps)
    else:
        step, start = 0, atoms.copy()
        velocities = maxwell_boltzmann_velocities(masses, T0, config.seed, frozen)
        unwrapped = start.positions.copy()
        e_ref, z_pull0 = None, float(unwrapped[pulled, 2].mean()) if len(pulled) else 0.0
    backend = make_backend(start, velocities, step)
    if ck is not None:
        backend.set_rng_state(ck["meta"].get("rng_state"))

    def observe(step: int, positions: np.ndarray, v: np.ndarray, force_z: float | None) -> float:
        ekin_free = kinetic_energy_eV(masses[free], v[free])
        ekin = kinetic_energy_eV(masses, v)
        temp = 2.0 * ekin_free / (3.0 * len(free) * units.kB)
        epot = backend.potential_energy()
        t_ps = step * dt * 1e-3
        if not (np.isfinite(epot) and np.all(np.isfinite(positions)) and np.all(np.isfinite(v))):
            raise MDBlowUp(f"non-finite energy, positions or velocities at step {step}", step)
        if temp > t_max:
            raise MDBlowUp(f"temperature explosion: T = {temp:.0f} K exceeds {t_max:.0f} K "
                           f"(reference {T_ref:.0f} K) at step {step}", step)
        speed = np.linalg.norm(v[free], axis=1)
        if speed.max() > limits.max_speed_A_per_fs:
            k = int(free[np.argmax(speed)])
            raise MDBlowUp(f"atom {k} ({atoms[k].symbol}) moving at {speed.max():.2f} Å/fs "
                           f"(> {limits.max_speed_A_per_fs} Å/fs): atoms lost/ejected at step {step}", step)
        return t_ps, temp, epot, ekin

    t_start = time.perf_counter()
    try:
        if step == 0:
            pos = backend.positions()
            t_ps, temp, epot, ekin = observe(0, pos, backend.velocities(), None)
            e_ref = epot + ekin
            _append_sample(run, 0, t_ps, temp, epot, ekin, unwrapped)
        from contactflow.engines.cost import ProgressMeter

        meter = ProgressMeter(f"{label} ({len(atoms)} atoms)", n_steps, "steps", logger=log, start=step)
        while step < n_steps:
            if pull_increment_steps and step > 0 and step % pull_increment_steps == 0:
                backend.shift_pulled(pull_increment_A)
            backend.run(chunk)
            step += chunk
            pos, v, cell = backend.positions(), backend.velocities(), backend.cell()
            unwrapped = unwrap_positions(unwrapped, pos, cell)
            t_ps, temp, epot, ekin = observe(step, pos, v, None)
            if config.ensemble == "nve" and abs(epot + ekin - e_ref) / len(atoms) > limits.max_energy_drift_eV_per_atom:
                raise MDBlowUp(f"energy drift: total energy changed by {(epot + ekin - e_ref) / len(atoms):+.3f} "
                               f"eV/atom (> {limits.max_energy_drift_eV_per_atom}) at step {step}", step)
            if len(pulled):
                run.pull["time_ps"].append(t_ps)
                run.pull["opening_A"].append(float(unwrapped[pulled, 2].mean() - z_pull0))
                run.pull["force_z_eV_per_A"].append(backend.pulled_force_z())
            k = step // chunk
            if k % sample_every == 0 or step >= n_steps:
                _append_sample(run, step, t_ps, temp, epot, ekin, unwrapped)
            run.n_steps_done = step
            if checkpoint_path is not None and k % ckpt_every == 0 and step < n_steps:
                run.checkpoints_written += 1
                _checkpoint_save(checkpoint_path, run, step, pos, unwrapped, v, cell, backend.rng_state(),
                                 signature, {"e_ref": e_ref, "z_pull0": z_pull0})
            if meter.due(step):
                wall = time.perf_counter() - t_start
                done = step - (run.restarted_from_step or 0)
                nsd = done * dt * 1e-6 / (wall / 86400.0) if wall > 0 else float("nan")
                meter.update(step, f"t={t_ps:.3f} ps T={temp:.0f} K E_pot={epot:.3f} eV {nsd:.3g} ns/day")
            if on_chunk is not None:
                on_chunk(step)
        run.final_positions, run.final_velocities, run.final_cell = (backend.positions(), backend.velocities(),
                                                                     backend.cell())
    finally:
        run.wall_s = time.perf_counter() - t_start
        backend.close()
    run.n_steps_done = step
    return run


def _append_sample(run: MDRun, step: int, t_ps: float, temp: float, epot: float, ekin: float, unwrapped) -> None:
    th = run.thermo
    for k, v in (("step", step), ("time_ps", t_ps), ("temperature_K", temp), ("potential_eV", epot),
                 ("kinetic_eV", ekin), ("total_eV", epot + ekin)):
        th[k].append(float(v))
    run.frames.append(np.array(unwrapped, dtype=np.float64))
    run.frame_times_ps.append(float(t_ps))


# --------------------------------------------------------------------------------------------------
# trajectories in GridFS
# --------------------------------------------------------------------------------------------------
def trajectory_bytes(numbers, cell, run: MDRun) -> bytes:
    """The compressed ``contactflow-npz/1`` trajectory of a run."""
    buf = io.BytesIO()
    frames = np.asarray(run.frames, np.float32) if run.frames else np.zeros((0, len(numbers), 3), np.float32)
    np.savez_compressed(buf, format=np.array(TRAJECTORY_FORMAT), numbers=np.asarray(numbers, np.int16),
                        cell=np.asarray(cell, float), times_ps=np.asarray(run.frame_times_ps, float),
                        positions_A=frames, **{f"thermo_{k}": np.asarray(v, float) for k, v in run.thermo.items()})
    return buf.getvalue()


def encode_trajectory(data: bytes) -> dict:
    """The ``MDDoc.trajectory`` value of a ``.npz`` (JSON-safe, so GridFS stores it as it is)."""
    return {"format": TRAJECTORY_FORMAT, "npz_base64": base64.b64encode(data).decode("ascii")}


def load_trajectory(store, doc) -> dict[str, np.ndarray]:
    """A run's trajectory: ``numbers``, ``cell``, ``times_ps``, ``positions_A``, ``thermo_*``.

    ``doc`` is an ``MDDoc`` (or its stored dict). Its ``trajectory`` is either the data itself (a
    document as a Maker returned it) or the JobStore's GridFS blob reference (a document read from the
    store), which is loaded through ``store.jobstore()``'s data store.
    """
    traj = doc.get("trajectory") if isinstance(doc, dict) else getattr(doc, "trajectory", None)
    key = doc.get("doc_key") if isinstance(doc, dict) else getattr(doc, "doc_key", None)
    if not traj:
        raise ContactflowError(f"MD document {key} has no trajectory (failed runs keep none)")
    if "blob_uuid" in traj:
        if store is None:
            raise ContactflowError(f"the trajectory of {key} is in the store; give the store to read it")
        data_store = store.jobstore().additional_stores[traj.get("store") or "data"]
        with store._errors(f"reading the trajectory of {key}"):
            data_store.connect()
            try:
                blob = data_store.query_one({"blob_uuid": traj["blob_uuid"]})
            finally:
                data_store.close()
        if blob is None:
            raise ContactflowError(f"the trajectory blob {traj['blob_uuid']} of {key} is not in the store")
        traj = blob["data"]
    if traj.get("format") != TRAJECTORY_FORMAT or "npz_base64" not in traj:
        raise ContactflowError(f"trajectory of {key} is not in format {TRAJECTORY_FORMAT}")
    with np.load(io.BytesIO(base64.b64decode(traj["npz_base64"])), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


# --------------------------------------------------------------------------------------------------
# the maker
# --------------------------------------------------------------------------------------------------
@dataclass
class MDMaker(Maker):
    """Molecular dynamics of a structure with ReaxFF (in LAMMPS) or an MLP (through ASE).

    Parameters
    ----------
    name
        Job name.
    task
        Label stored in ``MDDoc.task`` (md, diffusion, …).
    engine
        ``reaxff:<ffield>`` (LAMMPS backend) or an MLP spec such as ``chgnet`` (ASE backend).
    device
        ``auto`` (cuda when present, else cpu), ``cpu`` or ``cuda``; MLP only.
    ensemble
        ``nvt``, ``npt`` or ``nve``.
    temperature_K
        Target temperature (NVT/NPT) or initial Maxwell–Boltzmann temperature (NVE), K; > 0.
    pressure_GPa
        NPT target pressure, GPa.
    barostat
        ``iso`` (all cell vectors) or ``xy`` (in-plane only, for slabs with vacuum).
    timestep_fs
        ``None``: 0.25 fs for ReaxFF; 1 fs for MLPs (0.5 fs with H).
    max_timestep_fs
        Safety bound checked before the run (``None``: 1 fs ReaxFF; 5 fs MLP, 2 fs with H). Raise it
        only on purpose.
    n_steps
        Steps to run (rounded up to a multiple of ``check_interval``).
    thermostat
        ``nose-hoover`` or ``langevin``; ``None``: Nosé–Hoover for ReaxFF, Langevin for MLPs.
    thermostat_damping_fs
        Nosé–Hoover damping time or inverse Langevin friction, fs (default 100 fs).
    barostat_damping_fs
        Barostat damping time, fs.
    strain_pct
        Biaxial in-plane strain applied to the cell before the run, %.
    fix_bottom_A
        Atoms within this height of the lowest atom are fixed (0: none).
    seed
        Seed of the initial velocities and the Langevin noise.
    check_interval
        Steps per chunk: health checks (and LAMMPS force averages) happen between chunks.
    sample_interval
        Steps between stored frames and thermo samples.
    checkpoint_interval
        Steps between checkpoints.
    checkpoint_dir
        Where checkpoints go (default: the job's working directory); must be writable.
    trajectory_dir
        Optional directory for a local copy of the ``.npz`` trajectory; must be writable.
    diffusion_species
        Species whose tracer diffusion coefficient is computed from the MSD (e.g. ``("Li",)``).
    msd_skip_fraction
        Leading fraction of the frames treated as equilibration and left out of the MSD.
    limits
        Blow-up thresholds (temperature factor/margin, speed, NVE drift per atom).
    omp_threads
        LAMMPS OPENMP threads (``None``: :func:`default_omp_threads`; 0: plain styles).
    calculator_kwargs
        Reserved for engine options (ReaxFF: QEq settings such as ``qeq_tolerance``).
    """

    name: str = "md"
    task: str = "md"
    engine: str = "chgnet"
    device: str = "auto"
    ensemble: str = "nvt"
    temperature_K: float = 300.0
    pressure_GPa: float = 0.0
    barostat: str = "iso"
    timestep_fs: float | None = None
    max_timestep_fs: float | None = None
    n_steps: int = 1000
    thermostat: str | None = None
    thermostat_damping_fs: float = DEFAULT_DAMPING_FS
    barostat_damping_fs: float = 1000.0
    strain_pct: float = 0.0
    fix_bottom_A: float = 0.0
    seed: int = 0
    check_interval: int = 10
    sample_interval: int = 10
    checkpoint_interval: int = 1000
    checkpoint_dir: str | None = None
    trajectory_dir: str | None = None
    diffusion_species: tuple[str, ...] = ()
    msd_skip_fraction: float = 0.2
    limits: MDLimits = field(default_factory=MDLimits)
    omp_threads: int | None = None
    calculator_kwargs: dict = field(default_factory=dict)

    def __post_init__(self):
        _check_md_fields(
            self, at_least_one=("n_steps", "check_interval", "sample_interval", "checkpoint_interval"),
            positive=("temperature_K", "thermostat_damping_fs", "barostat_damping_fs"),
            optional_positive=("timestep_fs", "max_timestep_fs"), non_negative=("fix_bottom_A",),
            integers=("seed",), optional_integers=("omp_threads",), real=("pressure_GPa",),
            ranges={"strain_pct": (-50.0, 100.0, "(-50, 100) %"), "msd_skip_fraction": (0.0, 1.0, "[0, 1)")},
            choices={"ensemble": ENSEMBLES, "barostat": BAROSTATS,
                     "thermostat": (*THERMOSTATS, None)})

    # -- checks -------------------------------------------------------------------------------
    @property
    def is_reaxff(self) -> bool:
        from contactflow.engines.registry import backend

        return backend(self.engine).kind == "reactive"

    def resolved_timestep_fs(self, symbols) -> tuple[float, float]:
        """(timestep, bound) in fs for this engine and structure."""
        has_h = "H" in set(symbols)
        if self.is_reaxff:
            dt, bound = REAXFF_TIMESTEP_FS, REAXFF_MAX_TIMESTEP_FS
        elif has_h:
            dt, bound = MLP_TIMESTEP_H_FS, MLP_MAX_TIMESTEP_H_FS
        else:
            dt, bound = MLP_TIMESTEP_FS, MLP_MAX_TIMESTEP_FS
        return (self.timestep_fs if self.timestep_fs is not None else dt,
                self.max_timestep_fs if self.max_timestep_fs is not None else bound)

    def validate(self, atoms: Atoms) -> float:
        """Raise :class:`MDInputError` (or the engine's own error) before any compute; returns the timestep.

        Checks: engine spec and element coverage, ensemble/thermostat/barostat names, temperature > 0,
        0 < timestep ≤ bound, n_steps ≥ 1, intervals ≥ 1, writable checkpoint/trajectory directories.
        """
        from contactflow.engines.checks import check_elements

        check_elements(self.engine, atoms.get_chemical_symbols())
        if self.ensemble not in ENSEMBLES:
            raise MDInputError(f"unknown ensemble {self.ensemble!r}; valid: {', '.join(ENSEMBLES)}")
        if self.thermostat is not None and self.thermostat not in THERMOSTATS:
            raise MDInputError(f"unknown thermostat {self.thermostat!r}; valid: {', '.join(THERMOSTATS)}")
        if self.barostat not in BAROSTATS:
            raise MDInputError(f"unknown barostat {self.barostat!r}; valid: {', '.join(BAROSTATS)}")
        if not (self.temperature_K > 0 and np.isfinite(self.temperature_K)):
            raise MDInputError(f"temperature_K must be > 0 K, got {self.temperature_K}")
        dt, bound = self.resolved_timestep_fs(atoms.get_chemical_symbols())
        if not dt > 0:
            raise MDInputError(f"timestep_fs must be > 0, got {dt}")
        if dt > bound:
            what = "ReaxFF" if self.is_reaxff else ("an MLP with H present" if "H" in atoms.get_chemical_symbols() else "an MLP")
            raise MDInputError(f"timestep {dt} fs is above the safe bound {bound} fs for {what} "
                               "(set max_timestep_fs to go beyond it deliberately)")
        for name in ("n_steps", "check_interval", "sample_interval", "checkpoint_interval"):
            if int(getattr(self, name)) < 1:
                raise MDInputError(f"{name} must be ≥ 1, got {getattr(self, name)}")
        if not self.thermostat_damping_fs > 0 or not self.barostat_damping_fs > 0:
            raise MDInputError("thermostat_damping_fs and barostat_damping_fs must be > 0 fs")
        if not 0 <= self.msd_skip_fraction < 1:
            raise MDInputError(f"msd_skip_fraction must be in [0, 1), got {self.msd_skip_fraction}")
        if not -50 < self.strain_pct < 100:
            raise MDInputError(f"strain_pct must be in (-50, 100) %, got {self.strain_pct}")
        for label, d in (("checkpoint_dir", self.checkpoint_dir), ("trajectory_dir", self.trajectory_dir)):
            if d is not None:
                check_writable_dir(Path(d), label)
        return dt

    # -- running ------------------------------------------------------------------------------
    def _config(self, dt: float, fixed, pulled, pull_velocity_A_per_fs: float) -> MDConfig:
        return MDConfig(
            ensemble=self.ensemble, temperature_K=self.temperature_K, timestep_fs=dt,
            thermostat=self.thermostat or ("nose-hoover" if self.is_reaxff else "langevin"),
            thermostat_damping_fs=self.thermostat_damping_fs, pressure_GPa=self.pressure_GPa,
            barostat=self.barostat, barostat_damping_fs=self.barostat_damping_fs, fixed=list(fixed),
            pulled=list(pulled), pull_velocity_A_per_fs=pull_velocity_A_per_fs, seed=self.seed,
            omp_threads=self.omp_threads if self.omp_threads is not None else default_omp_threads(),
        )

    def settings(self) -> dict:
        """The settings that define the run (enter doc keys and checkpoint signatures)."""
        return {
            "ensemble": self.ensemble, "temperature_K": self.temperature_K, "pressure_GPa": self.pressure_GPa,
            "barostat": self.barostat, "timestep_fs": self.timestep_fs, "n_steps": self.n_steps,
            "thermostat": self.thermostat, "thermostat_damping_fs": self.thermostat_damping_fs,
            "strain_pct": self.strain_pct, "fix_bottom_A": self.fix_bottom_A, "seed": self.seed,
            "check_interval": self.check_interval, "sample_interval": self.sample_interval,
            "diffusion_species": list(self.diffusion_species), "calculator_kwargs": self.calculator_kwargs,
        }

    def md_properties(self) -> tuple[str, ...]:
        """What the engine computes per step: energy and forces, and the stress only for NPT (the barostat)."""
        from contactflow.engines.properties import job_properties

        return job_properties(stress=self.ensemble == "npt")

    def calculator(self):
        """The MLP calculator of this run, computing only :meth:`md_properties` (``None`` for ReaxFF)."""
        if self.is_reaxff:
            return None
        from contactflow.engines import get_calculator

        return get_calculator(self.engine, self.device, self.md_properties())

    def backend_factory(self, config: MDConfig, chunk: int, calculator=None) -> Callable:
        """``make_backend(atoms, velocities, start_step)`` for :func:`run_md` (MLP: ``calculator`` or
        :meth:`calculator`)."""
        if self.is_reaxff:
            from contactflow.engines.calculators import parse_spec
            from contactflow.engines.reaxff import resolve_ffield

            ffield = str(resolve_ffield(parse_spec(self.engine).arg))
            return lambda a, v, s: LammpsReaxFFBackend(a, ffield, config, v, chunk, s,
                                                       qeq_settings=self.calculator_kwargs or None)
        calc = calculator if calculator is not None else self.calculator()
        return lambda a, v, s: AseBackend(a, calc, config, v)

    def time_per_step_s(self, atoms: Atoms, calculator=None) -> float:
        """One MD step's engine cost on this device, s, measured on ``atoms``: an MLP evaluation of the
        run's property set, or (ReaxFF) one chunk of LAMMPS steps with QEq divided by its length."""
        from contactflow.engines.cost import time_per_evaluation_s

        if not self.is_reaxff:
            from contactflow.engines import parse_spec, resolve_device

            calc = calculator if calculator is not None else self.calculator()
            return time_per_evaluation_s(calc, atoms, key=(parse_spec(self.engine).canonical,
                                                           resolve_device(self.device), self.md_properties()))
        key = (self.engine, len(atoms), atoms_key(atoms))
        if key not in _REAXFF_STEP_S:
            dt, _ = self.resolved_timestep_fs(atoms.get_chemical_symbols())
            backend = self.backend_factory(self._config(dt, [], [], 0.0), self.check_interval)(
                atoms, np.zeros((len(atoms), 3)), 0)
            try:
                t0 = time.perf_counter()
                backend.run(self.check_interval)
                _REAXFF_STEP_S[key] = (time.perf_counter() - t0) / self.check_interval
            finally:
                backend.close()
        return _REAXFF_STEP_S[key]

    def estimate(self, atoms: Atoms, n_steps: int | None = None, calculator=None, what: str = "md"):
        """The :class:`~contactflow.engines.cost.CostEstimate` of ``n_steps`` (default ``n_steps``) on ``atoms``."""
        from contactflow.engines.cost import CostEstimate

        n = int(self.n_steps if n_steps is None else n_steps)
        per = self.time_per_step_s(atoms, calculator)
        device = "cpu" if self.is_reaxff else _resolved(self.device)
        return CostEstimate(f"{what} {atoms.get_chemical_formula()}", self.engine, device, len(atoms), n + 1, per)

    def run_with_retry(self, atoms: Atoms, *, fixed=(), pulled=(), pull_velocity_A_per_fs: float = 0.0,
                       label: str = "MD", on_chunk: Callable | None = None, extra_signature: dict | None = None,
                       pull_increment_A: float = 0.0, pull_increment_steps: int = 0, calculator=None,
                       ) -> tuple[MDRun | None, int, str | None, float]:
        """Validate, run, and on a blow-up retry once with half the timestep (same simulated time).

        Returns
        -------
        tuple
            ``(run, attempts, failure_reason, timestep_fs)``; ``run`` is ``None`` when both attempts failed.
        """
        dt = self.validate(atoms)
        ckdir = Path(self.checkpoint_dir) if self.checkpoint_dir else Path.cwd()
        check_writable_dir(ckdir, "checkpoint_dir")
        n_steps, sample, reasons, inc_steps = self.n_steps, self.sample_interval, [], int(pull_increment_steps)
        for attempt in (1, 2):
            sig = doc_key_for("ck", {"atoms": atoms_key(atoms), "engine": self.engine, "settings": self.settings(),
                                     "dt": dt, "fixed": list(fixed), "pulled": list(pulled),
                                     "v": pull_velocity_A_per_fs, "inc": [pull_increment_A, inc_steps],
                                     **(extra_signature or {})})
            path = ckdir / f"md_checkpoint_{sig}.npz"
            config = self._config(dt, fixed, pulled, pull_velocity_A_per_fs)
            try:
                run = run_md(atoms, self.backend_factory(config, self.check_interval, calculator), config, n_steps,
                             chunk=self.check_interval, sample_interval=sample, checkpoint_path=path,
                             checkpoint_interval=self.checkpoint_interval, limits=self.limits, signature=sig,
                             on_chunk=on_chunk, label=label, pull_increment_A=pull_increment_A,
                             pull_increment_steps=inc_steps)
            except (MDBlowUp, CalculationFailedError) as exc:
                reasons.append(f"attempt {attempt} (timestep {dt:g} fs): {exc}")
                log.warning("%s blew up: %s", label, reasons[-1])
                path.unlink(missing_ok=True)
                dt, n_steps, sample, inc_steps = dt / 2.0, n_steps * 2, sample * 2, inc_steps * 2
                continue
            path.unlink(missing_ok=True)
            return run, attempt, None, dt
        return None, 2, "MD blew up twice; " + "; ".join(reasons), dt * 2.0

    def execute(self, structure, interface_id: str | None = None, recipe_name: str | None = None, *,
                task: str = "md", fixed=None, pulled=(), pull_velocity_A_per_fs: float = 0.0,
                pull_increment_A: float = 0.0, pull_increment_steps: int = 0,
                on_chunk: Callable | None = None, system: str | None = None,
                prepared_key: str | None = None) -> tuple[MDDoc, MDRun | None]:
        """Run MD on ``structure`` and build its :class:`MDDoc` (nothing is written); no jobflow needed."""
        from contactflow.engines import engine_info

        atoms = apply_inplane_strain(structure_to_atoms(structure), self.strain_pct)
        if fixed is None:
            fixed = bottom_indices(atoms, self.fix_bottom_A)
        info = engine_info(self.engine, "cpu" if self.is_reaxff else self.device)
        settings = {**self.settings(), "fixed": len(fixed), "pulled": len(pulled),
                    "pull_velocity_A_per_fs": pull_velocity_A_per_fs, "pull_increment_A": pull_increment_A,
                    "pull_increment_steps": pull_increment_steps}
        key = doc_key_for("md", {"atoms": atoms_key(atoms), "engine": info.spec, "task": task, "settings": settings,
                                 "interface_id": interface_id})
        from contactflow.engines.properties import evaluation_record

        self.validate(atoms)  # before any compute, also the estimate's
        calc = self.calculator()
        estimate = self.estimate(atoms, calculator=calc, what=task)
        estimate.announce(log)
        with timed() as timer:
            timer.estimate = estimate
            run, attempts, reason, dt = self.run_with_retry(
                atoms, fixed=fixed, pulled=pulled, pull_velocity_A_per_fs=pull_velocity_A_per_fs,
                label=f"{task} {atoms.get_chemical_formula()}", on_chunk=on_chunk,
                pull_increment_A=pull_increment_A, pull_increment_steps=pull_increment_steps, calculator=calc)
        timer.evaluation = evaluation_record(calc)
        doc = self._doc(atoms, run, key, info, timer, attempts=attempts, reason=reason, dt=dt, task=task,
                        interface_id=interface_id, recipe_name=recipe_name, settings=settings,
                        system=system or _system_of(structure, atoms))
        doc.prepared_key = prepared_key
        return doc, run

    def _doc(self, atoms, run, key, info, timer, *, attempts, reason, dt, task, interface_id, recipe_name,
             settings, system) -> MDDoc:
        from pymatgen.io.ase import AseAtomsAdaptor

        base = dict(doc_key=key, interface_id=interface_id, recipe_name=recipe_name, system=system, task=task,
                    engine=info.spec, backend="lammps" if self.is_reaxff else "ase", settings=settings,
                    attempts=attempts, ensemble=self.ensemble, timestep_fs=dt,
                    temperature_K=None if self.ensemble == "nve" else self.temperature_K,
                    pressure_GPa=self.pressure_GPa if self.ensemble == "npt" else None,
                    strain_pct=self.strain_pct, n_atoms=len(atoms), provenance=make_provenance(info, timer))
        if run is None:
            return MDDoc(**base, state="failed", failure_reason=reason, n_steps_requested=self.n_steps * 2,
                         n_steps_done=0, simulated_time_ps=0.0)
        th = run.thermo
        half = len(th["time_ps"]) // 2
        tail_T, tail_E = np.asarray(th["temperature_K"][half:]), np.asarray(th["potential_eV"][half:])
        fields = dict(
            n_steps_requested=run.n_steps_requested, n_steps_done=run.n_steps_done,
            simulated_time_ps=run.n_steps_done * dt * 1e-3, restarted_from_step=run.restarted_from_step,
            checkpoints_written=run.checkpoints_written, mean_temperature_K=float(tail_T.mean()),
            std_temperature_K=float(tail_T.std()), mean_potential_energy_eV=float(tail_E.mean()),
            ns_per_day=run.ns_per_day,
            atom_steps_per_s=(len(atoms) * (run.n_steps_done - (run.restarted_from_step or 0)) / run.wall_s
                              if run.wall_s > 0 else None),
            n_frames=len(run.frames), thermo=_thin(th), trajectory_format=TRAJECTORY_FORMAT,
        )
        if self.ensemble == "nve":
            fields["energy_drift_eV_per_atom_per_ps"] = energy_drift_eV_per_atom_per_ps(
                th["time_ps"], th["total_eV"], len(atoms))
        if self.diffusion_species:
            # no fixed or pulled atoms: the whole cell may drift, so MSDs are taken about the centre of mass
            free_cell = not settings.get("fixed") and not settings.get("pulled")
            fields.update(diffusion_from_run(run, atoms.get_chemical_symbols(), self.diffusion_species,
                                             self.msd_skip_fraction,
                                             masses=atoms.get_masses() if free_cell else None))
        final = atoms.copy()
        final.set_cell(run.final_cell, scale_atoms=False)
        final.positions = run.final_positions
        final.wrap()
        fields["final_structure"] = AseAtomsAdaptor.get_structure(final).as_dict()
        data = trajectory_bytes(atoms.numbers, atoms.cell, run)
        if self.trajectory_dir:
            Path(self.trajectory_dir, f"{key}.npz").write_bytes(data)
        return MDDoc(**base, **fields, trajectory=encode_trajectory(data), state="successful")

    def run_prepared(self, prepared, interface_id: str | None = None, recipe_name: str | None = None,
                     prepared_key: str | None = None) -> MDDoc:
        """:meth:`make` without jobflow: MD from the prepared interface (its relaxed geometry when there is
        one) or a bare structure; a failed preparation gives a failed document and no compute."""
        structure, pdoc = resolve_prepared(prepared, relaxed=True)
        interface_id = interface_id or (pdoc.interface_id if pdoc else None)
        recipe_name = recipe_name or (pdoc.recipe_name if pdoc else None)
        pkey = pdoc.doc_key if pdoc else prepared_key
        failure = preparation_failure(pdoc)
        if failure:
            return failed_md_doc(self, structure, failure, task=self.task, interface_id=interface_id,
                                 recipe_name=recipe_name, prepared_key=pkey)
        return self.execute(structure, interface_id, recipe_name, task=self.task, prepared_key=pkey)[0]

    @contactflow_job
    def make(self, prepared, interface_id: str | None = None, recipe_name: str | None = None,
             prepared_key: str | None = None) -> MDDoc:
        """Run MD on a :class:`~contactflow.schemas.PreparedInterfaceDoc` (by reference) or a pymatgen
        Structure/Interface; returns the :class:`MDDoc` (jobflow stores it, trajectory to GridFS).
        ``prepared_key`` records where a bare structure came from (e.g. the diffusion runs)."""
        return self.run_prepared(prepared, interface_id, recipe_name, prepared_key)


def _resolved(device: str) -> str:
    from contactflow.engines import resolve_device

    return resolve_device(device)


#: measured ReaxFF seconds per MD step, per (engine, atom count, structure)
_REAXFF_STEP_S: dict[tuple, float] = {}


def failed_md_doc(maker: MDMaker, structure, reason: str, *, task: str, interface_id=None, recipe_name=None,
                  prepared_key=None) -> MDDoc:
    """A failed :class:`MDDoc` made without running anything (e.g. the preparation failed)."""
    from contactflow.engines import engine_info

    atoms = structure_to_atoms(structure)
    info = engine_info(maker.engine, "cpu" if maker.is_reaxff else maker.device)
    with timed() as timer:
        pass
    key = doc_key_for("md", {"atoms": atoms_key(atoms), "engine": info.spec, "task": task,
                             "settings": maker.settings(), "interface_id": interface_id, "failed": reason})
    return MDDoc(doc_key=key, interface_id=interface_id, recipe_name=recipe_name, prepared_key=prepared_key,
                 system=_system_of(structure, atoms), task=task, engine=info.spec,
                 backend="lammps" if maker.is_reaxff else "ase", settings=maker.settings(), state="failed",
                 failure_reason=reason, attempts=0, ensemble=maker.ensemble,
                 timestep_fs=maker.resolved_timestep_fs(atoms.get_chemical_symbols())[0],
                 n_atoms=len(atoms), n_steps_requested=maker.n_steps, n_steps_done=0, simulated_time_ps=0.0,
                 provenance=make_provenance(info, timer))


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _is_real(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and bool(np.isfinite(v))


def _check_md_fields(maker, *, at_least_one=(), counts=(), positive=(), optional_positive=(), non_negative=(),
                     integers=(), optional_integers=(), real=(), ranges=None, choices=None) -> None:
    """Validate a Maker's fields when it is made: raise :class:`MDInputError` (a ``ContactflowError`` and
    ``ValueError``) with one line naming the Maker, the field, the value and what is valid.

    ``at_least_one``: integers ≥ 1; ``counts``: integers ≥ 0; ``positive``: finite numbers > 0; ``optional_positive``: ``None`` or
    > 0; ``non_negative``: finite numbers ≥ 0; ``integers``: any integer; ``real``: any finite number;
    ``ranges``: ``{field: (lo, hi, text)}`` with lo ≤ value < hi; ``choices``: ``{field: valid values}``.
    """
    cls = type(maker).__name__

    def bad(name, what):
        raise MDInputError(f"{cls}: {name} must be {what}, got {getattr(maker, name)!r}")

    for name in at_least_one:
        v = getattr(maker, name)
        if not _is_int(v) or v < 1:
            bad(name, "an integer ≥ 1")
    for name in counts:
        v = getattr(maker, name)
        if not _is_int(v) or v < 0:
            bad(name, "an integer ≥ 0")
    for name in integers:
        if not _is_int(getattr(maker, name)):
            bad(name, "an integer")
    for name in optional_integers:
        v = getattr(maker, name)
        if v is not None and (not _is_int(v) or v < 0):
            bad(name, "None or an integer ≥ 0")
    for name in positive:
        v = getattr(maker, name)
        if not _is_real(v) or not v > 0:
            bad(name, "> 0 (a finite number)")
    for name in optional_positive:
        v = getattr(maker, name)
        if v is not None and (not _is_real(v) or not v > 0):
            bad(name, "None or > 0 (a finite number)")
    for name in non_negative:
        v = getattr(maker, name)
        if not _is_real(v) or v < 0:
            bad(name, "≥ 0 (a finite number)")
    for name in real:
        if not _is_real(getattr(maker, name)):
            bad(name, "a finite number")
    for name, (lo, hi, text) in (ranges or {}).items():
        v = getattr(maker, name)
        if not _is_real(v) or not lo <= v < hi:
            bad(name, f"in {text}")
    for name, valid in (choices or {}).items():
        v = getattr(maker, name)
        if v not in valid:
            shown = ", ".join("None" if x is None else str(x) for x in valid)
            raise MDInputError(f"{cls}: unknown {name} {v!r}; valid: {shown}")


def diffusion_from_run(run: MDRun, symbols: list[str], species, skip_fraction: float = 0.2,
                       masses: np.ndarray | None = None) -> dict:
    """Tracer D per species from a run's unwrapped frames (multi-origin MSD, Einstein relation, 3-D).

    With ``masses`` the frames are first taken relative to the system's centre of mass (removing the
    drift a Langevin thermostat lets the whole cell make, which would otherwise add to every MSD).
    """
    frames = np.asarray(run.frames)
    times = np.asarray(run.frame_times_ps)
    if masses is not None and len(frames):
        w = np.asarray(masses, float) / float(np.sum(masses))
        frames = frames - np.einsum("i,fij->fj", w, frames)[:, None, :]
    start = int(len(frames) * skip_fraction)
    frames, times = frames[start:], times[start:]
    D, err, msd_end = {}, {}, {}
    sym = np.asarray(symbols)
    for sp in species:
        idx = np.nonzero(sym == sp)[0]
        if len(idx) == 0 or len(frames) < 8:
            continue
        msd = msd_A2(frames, idx)
        lags = times[: len(msd)] - times[0]
        d, e = diffusivity_from_msd(lags, msd)
        D[sp], err[sp], msd_end[sp] = d * A2_PER_PS_TO_M2_PER_S, e * A2_PER_PS_TO_M2_PER_S, float(msd[-1])
    return {"diffusivity_m2_per_s": D or None, "diffusivity_stderr_m2_per_s": err or None,
            "msd_final_A2": msd_end or None}


def _thin(thermo: dict, max_points: int = 2000) -> dict:
    n = len(thermo["time_ps"])
    stride = max(1, int(np.ceil(n / max_points)))
    return {k: [float(x) for x in v[::stride]] for k, v in thermo.items() if k != "step"}


def _system_of(structure, atoms: Atoms) -> str:
    labels = getattr(structure, "site_properties", {}).get("interface_label") if structure is not None else None
    if labels:
        from pymatgen.core import Composition

        sym = atoms.get_chemical_symbols()
        f = Composition("".join(s for s, lab in zip(sym, labels) if lab == "film")).reduced_formula
        s = Composition("".join(s for s, lab in zip(sym, labels) if lab == "substrate")).reduced_formula
        return f"{f}/{s}"
    from pymatgen.core import Composition

    return Composition(atoms.get_chemical_formula()).reduced_formula


def check_writable_dir(path: Path, what: str) -> None:
    """Create ``path`` if needed and make sure a file can be written there."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path, prefix=".cf-write-test")
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise MDInputError(f"{what} {path} is not writable ({exc.strerror or exc}); give a directory you can write to") from None


def default_omp_threads() -> int:
    """OPENMP threads for LAMMPS when not set: all usable CPUs when there are at least 4, else 0 (plain
    styles). Measured on a shared 2-core machine (load ≈ 10): ReaxFF with ``package omp 2`` ran 10×
    slower than without (112 s vs 11 s for 800 steps of 12 atoms), so small machines run single-threaded."""
    n = _usable_cpus()
    return n if n >= 4 else 0


def _usable_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)
