"""Multi-replica MLP MD in lockstep: every step evaluates all replicas' forces in one call to the engine
layer's :class:`~contactflow.engines.batch.ImageEvaluator` (one batched CHGNet graph on a GPU; on a CPU
:class:`~contactflow.engines.batch.BatchChooser` keeps whichever of batched/sequential it measured faster).

Replicas are independent systems (other temperatures, strains or seeds, e.g. the runs of a diffusion
study). The integrator is Langevin BAOAB (Leimkuhler & Matthews, Appl. Math. Res. Express 2013), which
for friction 0 is velocity Verlet; one force evaluation per step. ASE's integrators step one ``Atoms``
at a time with its own calculator, which leaves no place to gather the replicas into one batch, so the
~40 lines of BAOAB live here.
"""

from dataclasses import dataclass, field

import numpy as np
from ase import Atoms, units

from contactflow.engines.batch import BatchChooser, get_evaluator
from contactflow.engines.calculators import resolve_device
from contactflow.jobs.md_backends import MDBlowUp, kinetic_energy_eV, maxwell_boltzmann_velocities


@dataclass
class ReplicaRun:
    """Per-replica samples of a lockstep run."""

    times_ps: list = field(default_factory=list)
    temperature_K: list = field(default_factory=list)
    potential_eV: list = field(default_factory=list)
    total_eV: list = field(default_factory=list)
    frames: list = field(default_factory=list)


def run_replicas(replicas: list[Atoms], engine: str, temperatures_K: list[float], n_steps: int, *,
                 timestep_fs: float = 1.0, friction_per_fs: float = 0.01, device: str = "auto",
                 batch: str = "auto", sample_interval: int = 10, seeds: list[int] | None = None,
                 max_speed_A_per_fs: float = 1.0) -> tuple[list[ReplicaRun], BatchChooser]:
    """Langevin (or, with ``friction_per_fs=0``, NVE) MD of several replicas advanced together.

    Parameters
    ----------
    replicas
        Structures (any sizes); not modified.
    engine
        MLP engine spec (``chgnet`` or ``chgnet+d3`` have a batched path; others run one by one).
    temperatures_K
        Target (or initial, for NVE) temperature per replica, K.
    n_steps
        Steps per replica.
    timestep_fs, friction_per_fs
        Timestep, fs; Langevin friction, 1/fs (0.01 = 10 ps⁻¹, atomate2's default).
    batch
        ``auto``, ``batched`` or ``sequential`` (see :class:`~contactflow.engines.batch.BatchChooser`).
    sample_interval
        Steps between samples (unwrapped frames and thermo).
    seeds
        Seeds of the initial velocities and noise per replica.

    Returns
    -------
    tuple
        One :class:`ReplicaRun` per replica and the chooser (its ``decided`` path and timings).

    Raises
    ------
    MDBlowUp
        If a replica's numbers become non-finite or an atom exceeds ``max_speed_A_per_fs``.
    """
    dev = resolve_device(device)
    evaluator = get_evaluator(engine, dev)
    chooser = BatchChooser(batch, dev)
    seeds = list(seeds) if seeds is not None else list(range(len(replicas)))
    atoms = [a.copy() for a in replicas]
    for a in atoms:
        a.set_constraint()
    m = [a.get_masses()[:, None] for a in atoms]
    rngs = [np.random.default_rng(s + 7919) for s in seeds]
    # momenta in ASE units (amu · Å / ASE time); ASE time unit = units.fs fs
    p = [maxwell_boltzmann_velocities(a.get_masses(), T, s) / units.fs * mm
         for a, T, s, mm in zip(atoms, temperatures_K, seeds, m)]
    dt = timestep_fs * units.fs
    c1 = np.exp(-friction_per_fs * timestep_fs)
    c2 = np.sqrt(1.0 - c1 * c1)
    kT = [units.kB * T for T in temperatures_K]
    res = chooser.evaluate(evaluator, atoms)
    forces = [r.forces for r in res]
    runs = [ReplicaRun() for _ in atoms]

    def sample(step, energies):
        for k, a in enumerate(atoms):
            ek = kinetic_energy_eV(a.get_masses(), p[k] / m[k] * units.fs)
            r = runs[k]
            r.times_ps.append(step * timestep_fs * 1e-3)
            r.temperature_K.append(2 * ek / (3 * len(a) * units.kB))
            r.potential_eV.append(energies[k])
            r.total_eV.append(energies[k] + ek)
            r.frames.append(a.positions.copy())  # never wrapped here, so already unwrapped

    sample(0, [r.energy_eV for r in res])
    for step in range(1, n_steps + 1):
        for k, a in enumerate(atoms):
            p[k] = p[k] + 0.5 * dt * forces[k]
            a.positions = a.positions + 0.5 * dt * p[k] / m[k]
            if c1 < 1.0:
                p[k] = c1 * p[k] + c2 * np.sqrt(m[k] * kT[k]) * rngs[k].standard_normal(p[k].shape)
            a.positions = a.positions + 0.5 * dt * p[k] / m[k]
        res = chooser.evaluate(evaluator, atoms)
        for k, a in enumerate(atoms):
            forces[k] = res[k].forces
            p[k] = p[k] + 0.5 * dt * forces[k]
            v = p[k] / m[k] * units.fs
            if not (np.isfinite(res[k].energy_eV) and np.all(np.isfinite(v))):
                raise MDBlowUp(f"replica {k}: non-finite energy or velocities at step {step}", step)
            if np.linalg.norm(v, axis=1).max() > max_speed_A_per_fs:
                raise MDBlowUp(f"replica {k}: an atom moves faster than {max_speed_A_per_fs} Å/fs at step {step}", step)
        if step % sample_interval == 0 or step == n_steps:
            sample(step, [r.energy_eV for r in res])
    return runs, chooser
