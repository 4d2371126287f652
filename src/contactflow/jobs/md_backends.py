"""The two MD backends behind one interface: ReaxFF integrated inside LAMMPS, and any ASE calculator (MLP).

Both are driven in chunks of steps by :func:`contactflow.jobs.md.run_md`, which checks health, samples
frames and writes checkpoints between chunks. A backend holds one live simulation and exposes:

``run(n)``, ``positions()`` (Å, ASE frame), ``velocities()`` (Å/fs), ``cell()``, ``potential_energy()``
(eV), ``forces()`` (eV/Å), ``pulled_force_z()`` (mean z force on the pulled group over the last chunk, eV/Å),
``set_state(positions, velocities)``, ``rng_state()`` / ``set_rng_state()``, ``shift_pulled(dz)``, ``close()``.

Groups: ``fixed`` atoms never move (bottom of the substrate); ``pulled`` atoms move rigidly along +z at
``pull_velocity_A_per_fs`` (top of the film) and the force on them is the traction the interface
transmits; every other atom is integrated with the thermostat/barostat.

Why not atomate2's ``ForceFieldMDMaker``/``AseMDMaker``: their ``run_ase`` runs the whole trajectory in
one call, with no place to check for a blow-up between chunks, write checkpoints, resume, or move a
pulled group; the ASE integrators underneath are the same ones used here (Langevin, Nosé–Hoover chain,
velocity Verlet, Berendsen NPT) with atomate2's defaults (Langevin friction 10 ps⁻¹).
"""

import ctypes
from dataclasses import dataclass, field

import numpy as np
from ase import units
from ase.constraints import FixAtoms

from contactflow.engines.checks import CalculationFailedError

#: 1 GPa in atm (LAMMPS real units) and in ASE pressure units
GPA_TO_ATM = 9869.232667
ENSEMBLES = ("nve", "nvt", "npt")
THERMOSTATS = ("nose-hoover", "langevin")
BAROSTATS = ("iso", "xy")


class MDBlowUp(Exception):
    """The dynamics became unphysical (energy drift, temperature explosion, atoms lost, non-finite)."""

    def __init__(self, reason: str, step: int | None = None):
        super().__init__(reason)
        self.reason, self.step = reason, step


@dataclass
class MDConfig:
    """Integrator settings shared by both backends (units in the names)."""

    ensemble: str = "nvt"
    temperature_K: float = 300.0
    timestep_fs: float = 1.0
    thermostat: str = "nose-hoover"
    thermostat_damping_fs: float = 100.0
    pressure_GPa: float = 0.0
    barostat: str = "iso"
    barostat_damping_fs: float = 1000.0
    fixed: list[int] = field(default_factory=list)
    pulled: list[int] = field(default_factory=list)
    pull_velocity_A_per_fs: float = 0.0
    seed: int = 0
    omp_threads: int = 0


def kinetic_energy_eV(masses_amu: np.ndarray, velocities_A_per_fs: np.ndarray) -> float:
    """½ Σ m v² in eV (masses amu, velocities Å/fs)."""
    v = velocities_A_per_fs / units.fs  # Å per ASE time unit
    return float(0.5 * np.sum(masses_amu[:, None] * v * v))


def maxwell_boltzmann_velocities(masses_amu: np.ndarray, temperature_K: float, seed: int,
                                 frozen: list[int] = ()) -> np.ndarray:
    """Velocities (Å/fs) drawn from Maxwell–Boltzmann at ``temperature_K`` with zero total momentum and
    exactly that kinetic temperature over the free atoms; frozen atoms get zero."""
    rng = np.random.default_rng(seed)
    n = len(masses_amu)
    free = np.setdiff1d(np.arange(n), np.asarray(frozen, int))
    v = np.zeros((n, 3))
    if temperature_K <= 0 or len(free) == 0:
        return v
    sigma = np.sqrt(units.kB * temperature_K / masses_amu[free])[:, None]  # ASE velocity units
    v[free] = rng.standard_normal((len(free), 3)) * sigma
    if len(free) > 1:
        p = (masses_amu[free, None] * v[free]).sum(0)
        v[free] -= p / masses_amu[free].sum()
    ek = 0.5 * np.sum(masses_amu[free, None] * v[free] ** 2)
    if ek > 0:
        v[free] *= np.sqrt(1.5 * len(free) * units.kB * temperature_K / ek)
    return v * units.fs  # → Å/fs


class AseBackend:
    """MD through ASE with any calculator (CHGNet, MACE, …): Langevin or Nosé–Hoover chain NVT,
    velocity-Verlet NVE, Berendsen NPT (isotropic, or in-plane only with ``barostat='xy'``).

    The pulled group is held by ``FixAtoms`` and translated by ``v·dt·n`` before each chunk of ``n``
    steps (a piecewise-constant approximation of constant velocity with one shift per chunk).
    """

    name = "ase"

    def __init__(self, atoms, calculator, config: MDConfig, velocities_A_per_fs: np.ndarray):
        self.cfg = config
        self.atoms = atoms.copy()
        self.atoms.set_constraint()
        frozen = sorted(set(config.fixed) | set(config.pulled))
        if frozen:
            self.atoms.set_constraint(FixAtoms(indices=frozen))
        self.atoms.calc = calculator
        self.atoms.set_velocities(velocities_A_per_fs / units.fs)
        self._pulled = np.asarray(config.pulled, int)
        self._fz = 0.0
        self.dyn = self._dynamics()

    def _dynamics(self):
        c, a = self.cfg, self.atoms
        dt = c.timestep_fs * units.fs
        if c.ensemble == "nve":
            from ase.md.verlet import VelocityVerlet

            return VelocityVerlet(a, timestep=dt)
        if c.ensemble == "nvt":
            if c.thermostat == "langevin":
                from ase.md.langevin import Langevin

                self._rng = np.random.default_rng(c.seed)
                # fixcm=False (ASE ≥ 3.28 deprecates fixcm=True: it biases small systems); the centre-of-mass
                # random walk this allows is removed from MSDs in the analysis instead
                return Langevin(a, timestep=dt, temperature_K=c.temperature_K, fixcm=False,
                                friction=1.0 / (c.thermostat_damping_fs * units.fs), rng=self._rng)
            from ase.md.nose_hoover_chain import NoseHooverChainNVT

            return NoseHooverChainNVT(a, timestep=dt, temperature_K=c.temperature_K,
                                      tdamp=c.thermostat_damping_fs * units.fs)
        from ase.md.nptberendsen import Inhomogeneous_NPTBerendsen, NPTBerendsen

        kw = dict(timestep=dt, temperature_K=c.temperature_K, pressure_au=c.pressure_GPa * units.GPa,
                  taut=c.thermostat_damping_fs * units.fs, taup=c.barostat_damping_fs * units.fs,
                  compressibility_au=1.0 / (100.0 * units.GPa))  # ~ a 100 GPa bulk modulus
        if c.barostat == "xy":
            return Inhomogeneous_NPTBerendsen(a, mask=(1, 1, 0), **kw)
        return NPTBerendsen(a, **kw)

    def run(self, n: int) -> None:
        """Advance ``n`` steps (shifting the pulled group first) and average the pulled group's z force."""
        if len(self._pulled) and self.cfg.pull_velocity_A_per_fs:
            self.shift_pulled(self.cfg.pull_velocity_A_per_fs * self.cfg.timestep_fs * n)
        fz = 0.0
        for _ in range(n):
            self.dyn.step()
            if len(self._pulled):
                fz += float(self.atoms.get_forces(apply_constraint=False)[self._pulled, 2].sum())
        self._fz = fz / max(n, 1)

    def shift_pulled(self, dz_A: float) -> None:
        """Translate the pulled group by ``dz_A`` along z (bypassing the FixAtoms constraint)."""
        self.atoms.positions[self._pulled, 2] += dz_A

    def positions(self) -> np.ndarray:
        return self.atoms.positions.copy()

    def velocities(self) -> np.ndarray:
        return self.atoms.get_velocities() * units.fs

    def cell(self) -> np.ndarray:
        return np.array(self.atoms.cell)

    def potential_energy(self) -> float:
        return float(self.atoms.get_potential_energy())

    def forces(self) -> np.ndarray:
        """Forces of the current step on every atom (constraints not applied), eV/Å."""
        return self.atoms.get_forces(apply_constraint=False)

    def pulled_force_z(self) -> float:
        return self._fz

    def set_state(self, positions: np.ndarray, velocities_A_per_fs: np.ndarray, cell: np.ndarray | None = None) -> None:
        if cell is not None:
            self.atoms.set_cell(cell, scale_atoms=False)
        self.atoms.set_positions(positions, apply_constraint=False)
        self.atoms.set_velocities(velocities_A_per_fs / units.fs)

    def rng_state(self) -> dict | None:
        rng = getattr(self, "_rng", None)
        return rng.bit_generator.state if rng is not None else None

    def set_rng_state(self, state: dict | None) -> None:
        if state and getattr(self, "_rng", None) is not None:
            self._rng.bit_generator.state = state

    def close(self) -> None:
        self.atoms.calc = None


class LammpsReaxFFBackend:
    """ReaxFF integrated inside LAMMPS (``real`` units): ``fix qeq/reaxff`` every step, ``fix nvt`` /
    ``fix npt`` (Nosé–Hoover) or ``fix langevin`` + ``fix nve`` on the mobile group, ``fix move
    linear`` for the pulled group, OPENMP styles when ``omp_threads`` > 0.

    Chunks must be a fixed length (``chunk`` steps) so that ``fix ave/time`` averages the pulled force
    over exactly each chunk.
    """

    name = "lammps"

    def __init__(self, atoms, ffield: str, config: MDConfig, velocities_A_per_fs: np.ndarray, chunk: int,
                 start_step: int = 0, qeq_settings: dict | None = None):
        from contactflow.engines.reaxff import KCAL_PER_MOL_TO_EV, open_reaxff_lammps

        self.cfg, self.chunk, self._kcal = config, int(chunk), KCAL_PER_MOL_TO_EV
        self.n = len(atoms)
        self.masses = atoms.get_masses()
        self.lmp, self.prism, _ = open_reaxff_lammps(atoms, ffield, qeq=True, settings=qeq_settings,
                                                     omp_threads=config.omp_threads)
        self._qeq_maxiter = (qeq_settings or {}).get("qeq_maxiter")
        if self._qeq_maxiter is None:
            from contactflow.engines.reaxff import REAXFF_SETTINGS

            self._qeq_maxiter = REAXFF_SETTINGS["qeq_maxiter"]
        c = config
        cmds = [f"timestep {c.timestep_fs}", f"reset_timestep {int(start_step)}",
                "thermo_style custom step pe", "thermo_modify lost error flush no", f"thermo {self.chunk}"]
        fixed, pulled = list(c.fixed), list(c.pulled)
        if fixed:
            cmds.append("group fixed id " + " ".join(str(i + 1) for i in fixed))
        else:
            cmds.append("group fixed empty")
        if pulled:
            cmds.append("group pulled id " + " ".join(str(i + 1) for i in pulled))
        else:
            cmds.append("group pulled empty")
        cmds.append("group mobile subtract all fixed pulled")
        self.lmp.commands_list(cmds)
        self.set_state(atoms.positions, velocities_A_per_fs)
        cmds = []
        T, damp = c.temperature_K, c.thermostat_damping_fs
        if c.ensemble == "nve" or (c.ensemble == "nvt" and c.thermostat == "langevin"):
            cmds.append("fix integ mobile nve")
            if c.ensemble == "nvt":
                cmds.append(f"fix lang mobile langevin {T} {T} {damp} {c.seed % 900000 + 1} zero yes")
        elif c.ensemble == "nvt":
            cmds.append(f"fix integ mobile nvt temp {T} {T} {damp}")
        else:
            p = c.pressure_GPa * GPA_TO_ATM
            baro = f"iso {p} {p} {c.barostat_damping_fs}" if c.barostat == "iso" else \
                f"x {p} {p} {c.barostat_damping_fs} y {p} {p} {c.barostat_damping_fs} couple xy"
            cmds.append(f"fix integ mobile npt temp {T} {T} {damp} {baro}")
        if pulled:
            if c.pull_velocity_A_per_fs:
                # fix move only for a moving group: it resets positions to start + v·t, which would undo the
                # displacement steps of shift_pulled; a group held still is simply not integrated
                cmds.append(f"fix pull pulled move linear 0.0 0.0 {c.pull_velocity_A_per_fs}")
            cmds += ["compute fpz pulled reduce sum fz",
                     f"fix fpave all ave/time 1 {self.chunk} {self.chunk} c_fpz"]
        cmds.append("run 0 post no")  # set up neighbour lists, QEq charges and the step-0 energy
        self.lmp.commands_list(cmds)

    def run(self, n: int) -> None:
        """Advance ``n`` steps (``n`` equal to the chunk length); LAMMPS errors (lost atoms …) become
        :class:`MDBlowUp`, an unconverged QEq a :class:`CalculationFailedError`."""
        pre = "yes" if self._need_setup else "no"  # re-setup (neighbour lists, QEq) after atoms were moved
        self._need_setup = False
        try:
            self.lmp.command(f"run {int(n)} pre {pre} post no")
        except Exception as exc:  # noqa: BLE001 - the lammps module raises plain Exception
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise MDBlowUp(f"LAMMPS stopped: {msg}") from None
        iters = int(self.lmp.extract_fix("qeq", 0, 0))
        if iters >= self._qeq_maxiter:
            raise CalculationFailedError(f"ReaxFF QEq did not converge in {iters} iterations during MD")

    def _gather(self, name: str) -> np.ndarray:
        return np.ctypeslib.as_array(self.lmp.gather_atoms(name, 1, 3)).reshape(self.n, 3).copy()

    def positions(self) -> np.ndarray:
        return self.prism.vector_to_ase(self._gather("x"), wrap=False)

    def velocities(self) -> np.ndarray:
        return self.prism.vector_to_ase(self._gather("v"))  # real units: Å/fs

    def cell(self) -> np.ndarray:
        box = self.lmp.extract_box()
        lo, hi, xy, yz, xz = box[0], box[1], box[2], box[3], box[4]
        lmp_cell = np.array([[hi[0] - lo[0], 0, 0], [xy, hi[1] - lo[1], 0], [xz, yz, hi[2] - lo[2]]])
        return self.prism.vector_to_ase(lmp_cell)

    def potential_energy(self) -> float:
        return float(self.lmp.get_thermo("pe")) * self._kcal

    def forces(self) -> np.ndarray:
        """Forces of the current step on every atom, eV/Å (ASE frame)."""
        return self.prism.vector_to_ase(self._gather("f")) * self._kcal

    def pulled_force_z(self) -> float:
        if not self.cfg.pulled:
            return 0.0
        # z is unchanged by the Prism rotation (it only rotates about z to align a with x)
        return float(self.lmp.extract_fix("fpave", 0, 0)) * self._kcal

    def shift_pulled(self, dz_A: float) -> None:
        self.lmp.command(f"displace_atoms pulled move 0 0 {dz_A} units box")
        self._need_setup = True

    def set_state(self, positions: np.ndarray, velocities_A_per_fs: np.ndarray, cell: np.ndarray | None = None) -> None:
        x = self.prism.vector_to_lammps(np.asarray(positions, float), wrap=True)
        v = self.prism.vector_to_lammps(np.asarray(velocities_A_per_fs, float))
        self.lmp.scatter_atoms("x", 1, 3, (ctypes.c_double * x.size)(*x.ravel()))
        self.lmp.scatter_atoms("v", 1, 3, (ctypes.c_double * v.size)(*v.ravel()))
        self._need_setup = True

    def rng_state(self) -> dict | None:
        return None

    def set_rng_state(self, state: dict | None) -> None:
        return None

    def close(self) -> None:
        if self.lmp is not None:
            self.lmp.close()
            self.lmp = None
