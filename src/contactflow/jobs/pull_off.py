"""MD pull-off: steered separation of the film from the substrate → traction–opening curve, peak traction,
fracture energy (the dynamic counterpart of the static traction–separation law).

The substrate's bottom ``fix_bottom_A`` is fixed; the film's top ``pull_top_A`` is moved rigidly along +z,
either at constant velocity (``mode="velocity"``: LAMMPS ``fix move``; ASE: one shift per chunk) or in
displacement steps (``mode="steps"``: shift by ``displacement_step_A``, hold for ``steps_per_increment``,
average the force over the second half of the hold). Every other atom is thermostatted.

Traction σ = −F_z/A, with F_z the total z force on the pulled group (the film below pulls it back) and A
the in-plane area: positive while the interface holds. Opening δ = displacement of the pulled group.
Fracture energy G = ∫ σ dδ over the stored (block-averaged) curve, so the stored curve integrates to the
reported number exactly. Fast pulling adds viscous/kinetic work: G ≥ W_sep is expected, converging to the
static W_sep (reported alongside, rigid, same engine) as the rate goes to zero and T to 0.
"""

from dataclasses import dataclass, field

import numpy as np
from jobflow import Maker

from contactflow.analysis.descriptors import split_sides
from contactflow.analysis.dynamics import fracture_energy_J_per_m2, moving_average, traction_GPa
from contactflow.jobs.base import contactflow_job, doc_key_for, make_provenance, persist, timed
from contactflow.jobs.md import (
    MDInputError, MDMaker, bottom_indices, structure_to_atoms, top_indices,
)
from contactflow.schemas.md import PullOffDoc

MODES = ("velocity", "steps")


def film_substrate_indices(structure) -> tuple[list[int], list[int]]:
    """Film and substrate indices of a pymatgen ``Interface`` (or any structure, split at the widest z gap)."""
    film = getattr(structure, "film_indices", None)
    sub = getattr(structure, "substrate_indices", None)
    if film and sub:
        return list(film), list(sub)
    return split_sides(structure)


def block_average(x: np.ndarray, n: int) -> np.ndarray:
    """Means of consecutive blocks of ``n`` values (a last partial block is kept)."""
    x = np.asarray(x, float)
    if n <= 1:
        return x.copy()
    return np.array([x[i:i + n].mean() for i in range(0, len(x), n)])


def pull_off_curve(opening_A, force_z_eV_per_A, area_A2: float, block: int = 1, smooth: int = 3,
                   start_traction_GPa: float | None = None) -> dict:
    """Traction–opening curve and its numbers from per-chunk openings and pulled-group forces.

    ``start_traction_GPa``: traction at zero opening to put in front of the first block (0 when the
    pull starts from a relaxed/equilibrated interface, where the mean force on the pulled layer vanishes);
    ``None`` adds no point.

    Returns
    -------
    dict
        ``opening_A``, ``traction_GPa`` (block-averaged, starting at δ = 0), ``peak_traction_GPa`` and
        ``opening_at_peak_A`` (on the curve smoothed over ``smooth`` points), ``fracture_energy_J_per_m2``
        (trapezoid integral of the stored curve), ``final_traction_GPa``, ``separated``.
    """
    d = block_average(opening_A, block)
    s = block_average(traction_GPa(force_z_eV_per_A, area_A2), block)
    if start_traction_GPa is not None and len(d) and d[0] > 0:
        d, s = np.concatenate([[0.0], d]), np.concatenate([[start_traction_GPa], s])
    sm = moving_average(s, smooth)
    k = int(np.argmax(sm))
    peak = float(sm[k])
    tail = float(np.mean(s[-max(1, len(s) // 10):]))
    return {"opening_A": d.tolist(), "traction_GPa": s.tolist(), "peak_traction_GPa": peak,
            "opening_at_peak_A": float(d[k]), "fracture_energy_J_per_m2": fracture_energy_J_per_m2(d, s),
            "final_opening_A": float(d[-1]), "final_traction_GPa": tail, "separated": bool(abs(tail) < 0.05 * peak)}


def steps_curve(run, chunk: int, steps_per_increment: int, increment_A: float) -> tuple[list[float], list[float]]:
    """Displacement-step pulling: opening of each hold and the z force averaged over its second half."""
    f = np.asarray(run.pull["force_z_eV_per_A"], float)
    per = steps_per_increment // chunk
    openings, forces = [], []
    for k in range(len(f) // per):
        window = f[k * per:(k + 1) * per]
        forces.append(float(window[len(window) // 2:].mean()))
        openings.append(k * increment_A)
    return openings, forces


def static_w_sep_J_per_m2(structure, engine: str, film, sub, area_A2: float, device: str = "auto") -> float:
    """Rigid W_sep = (E_film + E_substrate − E_interface)/A with the same engine, single points, J/m²."""
    from contactflow.engines import get_calculator
    from contactflow.jobs.adhesion import work_of_separation_J_per_m2

    atoms = structure_to_atoms(structure)
    e = {}
    for name, idx in (("interface", list(range(len(atoms)))), ("film", film), ("substrate", sub)):
        part = atoms[idx]
        part.calc = get_calculator(engine, device)
        e[name] = float(part.get_potential_energy())
        close = getattr(part.calc, "close", None)
        if close:
            close()
    return work_of_separation_J_per_m2(e["film"], e["substrate"], e["interface"], area_A2)


@dataclass
class PullOffMaker(Maker):
    """Steered MD separation of an interface: traction vs opening, peak traction (GPa), fracture energy (J/m²).

    Parameters
    ----------
    name
        Job name.
    engine
        Engine spec; ``reaxff:<ffield>`` runs inside LAMMPS, MLPs through ASE.
    device
        MLP device (``auto``: cuda when present).
    mode
        ``velocity`` (constant pulling rate) or ``steps`` (displacement steps with holds).
    temperature_K
        Thermostat temperature of the mobile atoms, K.
    pull_velocity_A_per_ps
        Pulling rate in velocity mode, Å/ps (10 Å/ps = 1000 m/s; MD rates are far above experiment, so
        report the rate with the result).
    max_opening_A
        Total displacement of the pulled layer, Å (several times the interaction range).
    displacement_step_A, steps_per_increment
        Steps mode: shift per increment, Å, and MD steps held at each opening.
    relax_steps, relax_fmax
        FIRE relaxation (substrate bottom fixed) before the MD, so the film starts at its equilibrium
        spacing (0 steps: none); fmax in eV/Å.
    equilibrate_steps
        NVT steps before pulling with only the substrate bottom fixed, so the film relaxes to its own
        equilibrium spacing and the pull starts near zero traction (0: none).
    fix_bottom_A, pull_top_A
        Thickness of the fixed substrate bottom and of the pulled film top, Å.
    thermostat_damping_fs
        Thermostat damping of the mobile atoms, fs. 25 fs (100 ReaxFF steps, the shortest LAMMPS advises)
        rather than MDMaker's 100 fs: the pulling work must leave as heat as fast as it comes in; with
        100 fs the 188-atom Fe3O4/rGO cell went from 300 to 1850 K in 50 fs of pulling at 20 Å/ps.
    block
        Chunks averaged per point of the stored velocity-mode curve.
    compare_static
        Also compute the rigid static W_sep with the same engine (three single points).
    store_result
        Upsert the documents.
    md_kwargs
        Further :class:`~contactflow.jobs.md.MDMaker` fields (timestep_fs, check_interval, thermostat …).
    """

    name: str = "pull_off"
    engine: str = "reaxff:Fe_O_C_H"
    device: str = "auto"
    mode: str = "velocity"
    temperature_K: float = 300.0
    pull_velocity_A_per_ps: float = 10.0
    max_opening_A: float = 8.0
    displacement_step_A: float = 0.25
    steps_per_increment: int = 200
    relax_steps: int = 300
    relax_fmax: float = 0.01
    equilibrate_steps: int = 400
    fix_bottom_A: float = 1.5
    pull_top_A: float = 1.5
    thermostat_damping_fs: float = 25.0
    block: int = 5
    seed: int = 0
    compare_static: bool = True
    store_result: bool = True
    md_kwargs: dict = field(default_factory=dict)

    def _md(self, n_steps: int, seed: int) -> MDMaker:
        kw = {"check_interval": 10, "sample_interval": 50, "thermostat_damping_fs": self.thermostat_damping_fs,
              **self.md_kwargs}
        return MDMaker(engine=self.engine, device=self.device, ensemble="nvt", temperature_K=self.temperature_K,
                       n_steps=n_steps, seed=seed, store_result=self.store_result, **kw)

    def execute(self, interface, interface_id: str, recipe_name: str | None = None) -> PullOffDoc:
        """Equilibrate, pull, build (and store) the :class:`PullOffDoc`; no jobflow needed."""
        from contactflow.engines import engine_info
        from contactflow.structures.interfaces import interface_area

        if self.mode not in MODES:
            raise MDInputError(f"unknown pull-off mode {self.mode!r}; valid: {', '.join(MODES)}")
        if not self.max_opening_A > 0 or not self.pull_velocity_A_per_ps > 0 or not self.displacement_step_A > 0:
            raise MDInputError("max_opening_A, pull_velocity_A_per_ps and displacement_step_A must be > 0")
        film, sub = film_substrate_indices(interface)
        atoms = structure_to_atoms(interface)
        fixed = bottom_indices(atoms, self.fix_bottom_A, sub)
        pulled = top_indices(atoms, self.pull_top_A, film)
        if not fixed or not pulled:
            raise MDInputError("no atoms to fix or to pull: increase fix_bottom_A / pull_top_A")
        if len(set(film) - set(pulled)) == 0 and len(set(sub) - set(fixed)) == 0:
            raise MDInputError("every atom is fixed or pulled; thicken the slabs or thin fix_bottom_A/pull_top_A")
        area = interface_area(interface)
        info = engine_info(self.engine, self.device)
        settings = {"mode": self.mode, "temperature_K": self.temperature_K, "v_A_per_ps": self.pull_velocity_A_per_ps,
                    "max_opening_A": self.max_opening_A, "step_A": self.displacement_step_A,
                    "steps_per_increment": self.steps_per_increment, "equilibrate_steps": self.equilibrate_steps,
                    "fix_bottom_A": self.fix_bottom_A, "pull_top_A": self.pull_top_A, "block": self.block,
                    "relax_steps": self.relax_steps, "relax_fmax": self.relax_fmax,
                    "seed": self.seed, "thermostat_damping_fs": self.thermostat_damping_fs,
                    "md_kwargs": self.md_kwargs}
        from contactflow.jobs.md import _system_of

        system = _system_of(interface, atoms)
        base = dict(doc_key=doc_key_for("po", {"interface_id": interface_id, "engine": info.spec, "settings": settings}),
                    interface_id=interface_id, recipe_name=recipe_name, system=system, engine=info.spec,
                    settings=settings, mode=self.mode, temperature_K=self.temperature_K, area_A2=area,
                    n_atoms=len(atoms))
        with timed() as timer:
            start = atoms
            if self.relax_steps > 0:
                start = self._relax(atoms, fixed)
            if self.equilibrate_steps > 0:
                eq_doc, eq_run = self._md(self.equilibrate_steps, self.seed).execute(
                    start, interface_id, recipe_name, task="pull_off_equilibration", fixed=fixed, pulled=(),
                    system=system)  # the pulled layer is free here, so pulling starts from zero traction
                if eq_run is None:
                    return self._failed(base, info, timer, f"equilibration failed: {eq_doc.failure_reason}")
                start = atoms.copy()
                start.positions = eq_run.final_positions
            probe = self._md(1, self.seed + 1)
            dt = probe.validate(atoms)
            chunk = probe.check_interval
            if self.mode == "velocity":
                v = self.pull_velocity_A_per_ps * 1e-3  # Å/fs
                n_steps = int(np.ceil(self.max_opening_A / (v * dt)))
                doc, run = self._md(n_steps, self.seed + 1).execute(
                    start, interface_id, recipe_name, task="pull_off", fixed=fixed, pulled=pulled,
                    pull_velocity_A_per_fs=v, system=system)
            else:
                per = int(np.ceil(self.steps_per_increment / chunk) * chunk)
                n_inc = int(np.ceil(self.max_opening_A / self.displacement_step_A)) + 1
                doc, run = self._md(per * n_inc, self.seed + 1).execute(
                    start, interface_id, recipe_name, task="pull_off", fixed=fixed, pulled=pulled,
                    pull_increment_A=self.displacement_step_A, pull_increment_steps=per, system=system)
            if run is None:
                return self._failed(base, info, timer, f"pull-off MD failed: {doc.failure_reason}", doc.doc_key)
            if self.mode == "velocity":
                curve = pull_off_curve(run.pull["opening_A"], run.pull["force_z_eV_per_A"], area, self.block,
                                       start_traction_GPa=0.0 if self.relax_steps or self.equilibrate_steps else None)
                rate = self.pull_velocity_A_per_ps
            else:
                # the retry may have halved the timestep and doubled the steps per increment
                per_run = int(round(per * self.md_timestep_ratio(dt, doc.timestep_fs)))
                d, f = steps_curve(run, chunk, per_run, self.displacement_step_A)
                curve = pull_off_curve(d, f, area, 1, smooth=1)
                rate = self.displacement_step_A / (per_run * doc.timestep_fs * 1e-3)
            w_static = static_w_sep_J_per_m2(interface, self.engine, film, sub, area, self.device) \
                if self.compare_static else None
        out = PullOffDoc(**base, **curve, state="successful", pull_velocity_A_per_ps=rate,
                         w_sep_static_J_per_m2=w_static, md_doc_key=doc.doc_key,
                         provenance=make_provenance(info, timer))
        if self.store_result:
            persist(out)
        return out

    def _relax(self, atoms, fixed):
        from ase.constraints import FixAtoms

        from contactflow.engines import get_calculator
        from contactflow.jobs.relax import relax_fixed_cell

        work = atoms.copy()
        work.set_constraint(FixAtoms(indices=fixed))
        calc = get_calculator(self.engine, self.device)
        out = relax_fixed_cell(work, calc, self.relax_fmax, self.relax_steps).atoms
        out.set_constraint()
        close = getattr(calc, "close", None)
        if close:
            close()
        return out

    @staticmethod
    def md_timestep_ratio(dt_requested: float, dt_used: float) -> float:
        """Steps per increment scale with dt_requested/dt_used after a half-timestep retry."""
        return dt_requested / dt_used

    def _failed(self, base, info, timer, reason, md_key=None) -> PullOffDoc:
        timer.stop()
        doc = PullOffDoc(**base, state="failed", failure_reason=reason, md_doc_key=md_key,
                         provenance=make_provenance(info, timer))
        if self.store_result:
            persist(doc)
        return doc

    @contactflow_job
    def make(self, interface, interface_id: str, recipe_name: str | None = None) -> PullOffDoc:
        """Pull the film off the substrate and return (and store) a :class:`PullOffDoc`."""
        return self.execute(interface, interface_id, recipe_name)
