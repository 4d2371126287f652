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

Sanity (the document's ``state``): the cell is equilibrated in NVT before pulling and judged on the last
half of that run (:func:`equilibration_check`); a pull whose cell was not equilibrated, or whose numbers
are out of proportion to the interface's W_sep (:func:`proportion_check`), is stored ``suspect`` with the
reason and the figures — a cell still relaxing releases its strain energy into the pulled layer and gives
tens of GPa and J/m² that say nothing about separation.
"""

import logging
import math
from dataclasses import dataclass, field

import numpy as np
from jobflow import Maker

from contactflow.analysis.descriptors import split_sides
from contactflow.analysis.dynamics import fracture_energy_J_per_m2, moving_average, traction_GPa
from contactflow.engines.cost import Stages
from contactflow.jobs.base import (
    contactflow_job, doc_key_for, make_provenance, preparation_failure, resolve_prepared, timed,
)
from contactflow.jobs.md import (
    MDInputError, MDMaker, _check_md_fields, bottom_indices, structure_to_atoms, top_indices,
)
from contactflow.schemas.md import PullOffDoc

log = logging.getLogger(__name__)
MODES = ("velocity", "steps")
K_B_EV = 8.617333262e-5
#: equilibration bounds over the last half of the NVT run before pulling (see :func:`equilibration_check`)
EQ_TEMPERATURE_TOL_FRAC = 0.2
EQ_EPOT_DRIFT_KT = 1.0
#: proportion bounds against W_sep (see :func:`proportion_check`)
G_MAX_FACTOR, G_MAX_OFFSET_J_PER_M2 = 5.0, 1.0
ROSE_LENGTH_MIN_A, PEAK_OFFSET_GPA = 0.3, 1.0


def equilibration_check(thermo: dict, temperature_K: float, n_atoms: int, n_free: int) -> dict:
    """Whether an NVT run reached a stationary state at ``temperature_K``, judged on its last half.

    Two bounds, both scaled by the temperature so they mean the same at 10 K and at 1000 K:

    - ⟨T⟩ within ``max(20 %, 2·sqrt(2/(3 N_free)))`` of the target: the second term is two canonical
      standard deviations of the instantaneous temperature of ``N_free`` atoms (33 % for 24 atoms), so a
      small cell is not failed for its natural fluctuations;
    - the potential energy's linear trend across the window, per atom, within 1 k_B·T: an equilibrated
      cell fluctuates about a constant (for 32 atoms the fitted change from noise alone is ~0.2 k_B·T);
      a cell still relaxing from its as-built geometry keeps releasing far more than k_B·T per atom.

    Returns
    -------
    dict
        ``equilibrated``, ``mean_temperature_K``, ``epot_drift_eV_per_atom`` and ``reason`` (``None`` when
        equilibrated, else which bound failed with the figures).
    """
    t = np.asarray(thermo.get("time_ps", []), float)
    half = len(t) // 2
    if len(t) - half < 3:
        return {"equilibrated": False, "mean_temperature_K": None, "epot_drift_eV_per_atom": None,
                "reason": f"equilibration too short to judge ({len(t)} samples; need ≥ 6)"}
    T = np.asarray(thermo["temperature_K"], float)[half:]
    E = np.asarray(thermo["potential_eV"], float)[half:]
    tt = t[half:]
    mean_T = float(T.mean())
    drift = float(np.polyfit(tt, E, 1)[0] * (tt[-1] - tt[0]) / n_atoms)
    t_tol = max(EQ_TEMPERATURE_TOL_FRAC, 2.0 * math.sqrt(2.0 / (3.0 * max(n_free, 1)))) * temperature_K
    e_tol = EQ_EPOT_DRIFT_KT * K_B_EV * temperature_K
    reasons = []
    if abs(mean_T - temperature_K) > t_tol:
        reasons.append(f"⟨T⟩ {mean_T:.1f} K over the last half is not within {t_tol:.1f} K of {temperature_K:g} K")
    if abs(drift) > e_tol:
        reasons.append(f"potential energy still drifting by {drift:+.4f} eV/atom over the last half "
                       f"(bound ±{e_tol:.4f} eV/atom = {EQ_EPOT_DRIFT_KT:g} k_B·T)")
    return {"equilibrated": not reasons, "mean_temperature_K": mean_T, "epot_drift_eV_per_atom": drift,
            "reason": "; ".join(reasons) or None}


def proportion_check(fracture_energy_J_per_m2: float, peak_traction_GPa: float, w_sep_J_per_m2: float) -> list[str]:
    """Reasons a pull-off is out of proportion to the interface's W_sep (empty when it is not).

    - G > 5·|W_sep| + 1 J/m²: opening an interface costs W_sep plus the viscous/kinetic work of pulling
      at MD rates; measured here G/W_sep ≈ 1.0 (ReaxFF graphite, 20 Å/ps, 10 K) and 1.05 (EMT Cu), so a
      fivefold excess (and 1 J/m² for weak contacts whose W_sep is a few tenths) means the work came from
      elsewhere (a relaxing cell, bonds breaking inside a side, heating).
    - σ_peak > W_sep/(e·ℓ)·10 GPa + 1 GPa with ℓ = 0.3 Å: the universal binding-energy relation gives
      σ_max = W_sep/(e·ℓ) for a Rose length ℓ; 0.3 Å is at the short end of the lengths fitted for
      metallic and covalent interfaces (0.3–1 Å), so this is the strongest interface of that W_sep
      (1 J/m²/Å = 10 GPa); the 1 GPa allowance covers thermal force noise on a small cell's traction.
    """
    w = abs(w_sep_J_per_m2)
    out = []
    g_max = G_MAX_FACTOR * w + G_MAX_OFFSET_J_PER_M2
    if fracture_energy_J_per_m2 is not None and fracture_energy_J_per_m2 > g_max:
        out.append(f"fracture energy {fracture_energy_J_per_m2:.3f} J/m² exceeds 5·|W_sep| + 1 = {g_max:.3f} J/m² "
                   f"(W_sep {w_sep_J_per_m2:.3f} J/m²)")
    s_max = w / (math.e * ROSE_LENGTH_MIN_A) * 10.0 + PEAK_OFFSET_GPA
    if peak_traction_GPa is not None and peak_traction_GPa > s_max:
        out.append(f"peak traction {peak_traction_GPa:.3f} GPa exceeds the UBER bound W_sep/(e·0.3 Å) + 1 GPa "
                   f"= {s_max:.3f} GPa (W_sep {w_sep_J_per_m2:.3f} J/m²)")
    return out


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
    from contactflow.engines.properties import ENERGY
    from contactflow.jobs.adhesion import work_of_separation_J_per_m2

    atoms = structure_to_atoms(structure)
    e = {}
    for name, idx in (("interface", list(range(len(atoms)))), ("film", film), ("substrate", sub)):
        part = atoms[idx]
        part.calc = get_calculator(engine, device, ENERGY)  # single points: the energy is all they need
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
        NVT steps at ``temperature_K`` before pulling with only the substrate bottom fixed, so the film
        relaxes to its own equilibrium spacing and the pull starts near zero traction. Its last half is
        judged by :func:`equilibration_check`; 0 (none) or a failed check makes the result ``suspect``.
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
    md_kwargs: dict = field(default_factory=dict)

    def __post_init__(self):
        _check_md_fields(
            self, at_least_one=("steps_per_increment", "block"),
            positive=("temperature_K", "pull_velocity_A_per_ps", "max_opening_A", "displacement_step_A",
                      "relax_fmax", "fix_bottom_A", "pull_top_A", "thermostat_damping_fs"),
            counts=("relax_steps", "equilibrate_steps"), integers=("seed",), choices={"mode": MODES})
        if not isinstance(self.md_kwargs, dict):
            raise MDInputError(f"PullOffMaker: md_kwargs must be a dict of MDMaker fields, got {self.md_kwargs!r}")

    def _md(self, n_steps: int, seed: int, **extra) -> MDMaker:
        kw = {"check_interval": 10, "sample_interval": 50, "thermostat_damping_fs": self.thermostat_damping_fs,
              **self.md_kwargs, **extra}
        return MDMaker(engine=self.engine, device=self.device, ensemble="nvt", temperature_K=self.temperature_K,
                       n_steps=n_steps, seed=seed, **kw)

    def execute(self, prepared, interface_id: str | None = None, recipe_name: str | None = None) -> PullOffDoc:
        """Equilibrate, pull, judge and build the :class:`PullOffDoc` (nothing is written); no jobflow needed.

        ``prepared``: a :class:`~contactflow.schemas.PreparedInterfaceDoc` (the pull starts from its
        relaxed geometry when there is one, and its rigid W_sep sets the sanity bounds) or an interface.
        """
        from contactflow.engines import engine_info
        from contactflow.jobs.md import _system_of
        from contactflow.structures.interfaces import interface_area

        interface, pdoc = resolve_prepared(prepared, relaxed=True)
        interface_id = interface_id or (pdoc.interface_id if pdoc else None) or "unnamed"
        recipe_name = recipe_name or (pdoc.recipe_name if pdoc else None)
        film, sub = film_substrate_indices(interface)
        atoms = structure_to_atoms(interface)
        area = interface_area(interface)
        info = engine_info(self.engine, self.device)
        settings = {"mode": self.mode, "temperature_K": self.temperature_K, "v_A_per_ps": self.pull_velocity_A_per_ps,
                    "max_opening_A": self.max_opening_A, "step_A": self.displacement_step_A,
                    "steps_per_increment": self.steps_per_increment, "equilibrate_steps": self.equilibrate_steps,
                    "fix_bottom_A": self.fix_bottom_A, "pull_top_A": self.pull_top_A, "block": self.block,
                    "relax_steps": self.relax_steps, "relax_fmax": self.relax_fmax,
                    "seed": self.seed, "thermostat_damping_fs": self.thermostat_damping_fs,
                    "md_kwargs": self.md_kwargs}
        system = _system_of(interface, atoms)
        pkey = pdoc.doc_key if pdoc else None
        base = dict(doc_key=doc_key_for("po", {"interface_id": interface_id, "engine": info.spec, "settings": settings,
                                               "prepared_key": pkey}),
                    interface_id=interface_id, recipe_name=recipe_name, prepared_key=pkey, system=system,
                    engine=info.spec, settings=settings, mode=self.mode, temperature_K=self.temperature_K,
                    area_A2=area, n_atoms=len(atoms), equilibrate_steps=self.equilibrate_steps)
        notes = []
        w_prep = pdoc.w_sep_rigid_J_per_m2 if pdoc else None
        if w_prep is not None and w_prep <= 0:
            notes.append(f"the prepared interface is unbound (rigid W_sep {w_prep:.3f} J/m² ≤ 0); pulled anyway")
        failure = preparation_failure(pdoc)
        if failure:
            with timed() as timer:
                return self._failed(base, info, timer, failure)
        fixed = bottom_indices(atoms, self.fix_bottom_A, sub)
        pulled = top_indices(atoms, self.pull_top_A, film)
        if not fixed or not pulled:
            raise MDInputError("no atoms to fix or to pull: increase fix_bottom_A / pull_top_A")
        if len(set(film) - set(pulled)) == 0 and len(set(sub) - set(fixed)) == 0:
            raise MDInputError("every atom is fixed or pulled; thicken the slabs or thin fix_bottom_A/pull_top_A")
        probe = self._md(1, self.seed + 1)
        dt = probe.validate(atoms)  # before any compute
        chunk = probe.check_interval
        if self.mode == "velocity":
            v = self.pull_velocity_A_per_ps * 1e-3  # Å/fs
            n_pull = int(np.ceil(self.max_opening_A / (v * dt)))
        else:
            per = int(np.ceil(self.steps_per_increment / chunk) * chunk)
            n_inc = int(np.ceil(self.max_opening_A / self.displacement_step_A)) + 1
            n_pull = per * n_inc
        estimate = self.estimate(atoms, n_pull, probe)
        estimate.announce(log)
        stages = Stages(estimate, log)
        with timed() as timer:
            timer.estimate = estimate
            start, eq_doc, eq = atoms, None, None
            n_relax = 0
            if self.relax_steps > 0:
                stages.begin("relaxation")
                start, n_relax = self._relax(atoms, fixed)
            if self.equilibrate_steps > 0:
                stages.begin("equilibration")
                # sampled every chunk so that the last half holds enough points to judge
                eq_maker = self._md(self.equilibrate_steps, self.seed,
                                    sample_interval=self.md_kwargs.get("check_interval", 10))
                eq_doc, eq_run = eq_maker.execute(
                    start, interface_id, recipe_name, task="pull_off_equilibration", fixed=fixed, pulled=(),
                    system=system, prepared_key=pkey)  # the pulled layer is free here: pulling starts from zero traction
                if eq_run is None:
                    return self._failed(base, info, timer, f"equilibration failed: {eq_doc.failure_reason}",
                                        equilibration_md=eq_doc)
                eq = equilibration_check(eq_run.thermo, self.temperature_K, len(atoms), len(atoms) - len(fixed))
                start = atoms.copy()
                start.positions = eq_run.final_positions
            stages.begin("pull")
            if self.mode == "velocity":
                doc, run = self._md(n_pull, self.seed + 1).execute(
                    start, interface_id, recipe_name, task="pull_off", fixed=fixed, pulled=pulled,
                    pull_velocity_A_per_fs=v, system=system, prepared_key=pkey)
            else:
                doc, run = self._md(n_pull, self.seed + 1).execute(
                    start, interface_id, recipe_name, task="pull_off", fixed=fixed, pulled=pulled,
                    pull_increment_A=self.displacement_step_A, pull_increment_steps=per, system=system,
                    prepared_key=pkey)
            if run is None:
                return self._failed(base, info, timer, f"pull-off MD failed: {doc.failure_reason}", doc.doc_key,
                                    md=doc, equilibration_md=eq_doc)
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
            if self.compare_static:
                stages.begin("static W_sep")
            w_static = static_w_sep_J_per_m2(interface, self.engine, film, sub, area, self.device) \
                if self.compare_static else None
        stages.end(timer.wall_time_s)
        timer.evaluation = {"computed_properties": sorted(
            {p for d in (eq_doc, doc) if d is not None for p in (d.provenance.computed_properties or [])}
            | ({"energy"} if self.compare_static else set()), key=("energy", "forces", "stress", "magmoms").index),
            "n_evaluations": n_relax + sum(d.provenance.n_evaluations or 0 for d in (eq_doc, doc) if d is not None)
            + (3 if self.compare_static else 0)}
        w_ref = w_prep if w_prep is not None else w_static
        suspect = []
        if eq is None:
            suspect.append("the cell was not equilibrated before pulling (equilibrate_steps = 0)")
        elif not eq["equilibrated"]:
            suspect.append(f"the cell was not equilibrated before pulling: {eq['reason']} "
                           f"after {self.equilibrate_steps} steps")
        if w_ref is not None:
            suspect += proportion_check(curve["fracture_energy_J_per_m2"], curve["peak_traction_GPa"], w_ref)
        else:
            notes.append("no W_sep to compare with (no prepared interface, compare_static off): proportion not checked")
        return PullOffDoc(**base, **curve, state="suspect" if suspect else "successful",
                          failure_reason="; ".join(suspect) or None, notes=notes, pull_velocity_A_per_ps=rate,
                          w_sep_static_J_per_m2=w_static, w_sep_reference_J_per_m2=w_ref,
                          equilibrated=eq["equilibrated"] if eq else False,
                          equilibration_mean_temperature_K=eq["mean_temperature_K"] if eq else None,
                          equilibration_epot_drift_eV_per_atom=eq["epot_drift_eV_per_atom"] if eq else None,
                          md_doc_key=doc.doc_key, md=doc, equilibration_md=eq_doc,
                          provenance=make_provenance(info, timer))

    def estimate(self, atoms, n_pull: int, md: MDMaker):
        """The cost of :meth:`execute` (relaxation at most ``relax_steps``, equilibration, pull, three single
        points), at the time per MD step measured on ``atoms`` on this device."""
        from contactflow.engines import resolve_device
        from contactflow.engines.cost import CostEstimate

        per = md.time_per_step_s(atoms)
        parts = {"relaxation": self.relax_steps, "equilibration": self.equilibrate_steps + 1 if self.equilibrate_steps
                 else 0, "pull": n_pull + 1, "static W_sep": 3 if self.compare_static else 0}
        device = "cpu" if md.is_reaxff else resolve_device(self.device)
        return CostEstimate(f"pull_off {atoms.get_chemical_formula()}", self.engine, device, len(atoms),
                            sum(parts.values()), per, parts={k: v for k, v in parts.items() if v})

    def _relax(self, atoms, fixed):
        from ase.constraints import FixAtoms

        from contactflow.engines import get_calculator
        from contactflow.engines.properties import ENERGY_FORCES
        from contactflow.jobs.relax import relax_fixed_cell

        work = atoms.copy()
        work.set_constraint(FixAtoms(indices=fixed))
        calc = get_calculator(self.engine, self.device, ENERGY_FORCES)
        out = relax_fixed_cell(work, calc, self.relax_fmax, self.relax_steps).atoms
        out.set_constraint()
        close = getattr(calc, "close", None)
        if close:
            close()
        return out, int(getattr(calc, "n_evaluations", 0) or 0)

    @staticmethod
    def md_timestep_ratio(dt_requested: float, dt_used: float) -> float:
        """Steps per increment scale with dt_requested/dt_used after a half-timestep retry."""
        return dt_requested / dt_used

    def _failed(self, base, info, timer, reason, md_key=None, md=None, equilibration_md=None) -> PullOffDoc:
        timer.stop()
        return PullOffDoc(**base, state="failed", failure_reason=reason, md_doc_key=md_key, md=md,
                          equilibration_md=equilibration_md, provenance=make_provenance(info, timer))

    @contactflow_job
    def make(self, prepared, interface_id: str | None = None, recipe_name: str | None = None) -> PullOffDoc:
        """Pull the film off the prepared interface (a ``PreparedInterfaceDoc`` by reference, or an
        interface) and return the :class:`PullOffDoc` carrying its MD runs (jobflow stores them)."""
        return self.execute(prepared, interface_id, recipe_name)
