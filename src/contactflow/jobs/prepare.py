"""Prepare an interface once for every property job: registry scan, gap from a short E(d), optional
relaxation. The lowest-energy registry and gap are chosen per engine and recorded.

No peer searches the in-plane registry of the two slabs (pymatgen issue 3618); the as-built gap of
a lattice-matching builder is a guess (3 Å here), not the engine's equilibrium. Every task of a recipe
flow starts from this job's :class:`~contactflow.schemas.PreparedInterfaceDoc` (by jobflow reference),
so adhesion, traction–separation, NEB and MD describe the same geometry, and a relaxation is done once.
"""

import logging
from dataclasses import dataclass

import numpy as np
from jobflow import Maker
from pymatgen.core.interface import Interface
from pymatgen.io.ase import AseAtomsAdaptor

from contactflow.engines.checks import CalculationFailedError
from contactflow.jobs.adhesion import work_of_separation_J_per_m2
from contactflow.jobs.base import check_fields, contactflow_job, doc_key_for, make_provenance, timed
from contactflow.jobs.relax import relax_fixed_cell
from contactflow.schemas.prepared import PreparedInterfaceDoc
from contactflow.structures.interfaces import interface_area
from contactflow.structures.separation import (
    interface_gap_A, parabola_minimum, registry_shifts, separation_images, shifted, split_atoms,
)

log = logging.getLogger(__name__)


def with_geometry(interface: Interface, atoms) -> Interface:
    """A copy of ``interface`` (labels, offsets, match record kept) with the positions of ``atoms``."""
    d = interface.as_dict()
    frac = interface.lattice.get_fractional_coords(atoms.positions)
    for site, xyz, abc in zip(d["sites"], atoms.positions, frac):
        site["xyz"], site["abc"] = [float(x) for x in xyz], [float(x) for x in abc]
    return Interface.from_dict(d)


def set_registry_and_gap(interface: Interface, shift_frac, gap_A: float) -> Interface:
    """A copy with the film shifted in plane by ``shift_frac`` (fractions of a, b) and moved along the
    normal to a film–substrate gap of ``gap_A`` (c lengthened or shortened by the same amount)."""
    out = interface.copy()
    if any(abs(s) > 1e-9 for s in shift_frac):
        out.in_plane_offset = np.asarray(out.in_plane_offset, dtype=float) + np.asarray(shift_frac, dtype=float)
    atoms = AseAtomsAdaptor.get_atoms(out)
    now = interface_gap_A(atoms, list(out.film_indices), list(out.substrate_indices))
    out.gap = max(0.0, float(out.gap) + (gap_A - now))
    return out


@dataclass
class PrepareMaker(Maker):
    """Registry scan → gap from a short E(d) scan → optional fixed-cell relaxation, for one engine.

    Parameters
    ----------
    name
        Job name.
    engine
        Engine spec.
    device
        ``auto``, ``cpu`` or ``cuda``.
    registry_grid
        n ≥ 2 scans the film's in-plane shift on an n × n grid of the interface cell (rigid single
        points at the as-built gap); 0 or 1: keep the as-built registry. 3 includes the AB shifts
        (1/3, 2/3) of a hexagonal cell.
    registry_tol_meV_per_atom
        Another registry replaces the as-built one only when it is lower by more than this per atom of
        the cell (numerical noise of the engines is far below 0.01 meV/atom; registry differences of
        stacked sheets are ≥ 0.1 meV/atom).
    gap_below_A, gap_above_A, gap_points
        The E(d) scan: ``gap_points`` gaps from the as-built gap − below to + above, Å.
    gap_min_A
        Smallest gap ever scanned, Å.
    relax
        Relax the prepared interface at fixed cell (bottom substrate layer fixed); every task that needs
        a relaxed interface reuses it.
    fmax, max_steps, optimizer, fix_bottom_A
        Relaxation settings (eV/Å, steps, ASE optimizer, fixed bottom layer in Å).
    evaluation
        Single-point path of the scans: ``auto``, ``batched``, ``energy-only`` or ``sequential``.
    registry_relax_steps
        0: the registry scan compares rigid single points. n ≥ 1: each registry is first relaxed at fixed
        cell (substrate bottom fixed, ``fmax``, ``optimizer``, at most n steps) and the relaxed energies are
        compared; the registries are relaxed in lockstep (:func:`~contactflow.jobs.relax.relax_many`), as one
        batch per step where that is measured faster (a GPU).
    """

    name: str = "prepare"
    engine: str = "chgnet+d3"
    device: str = "auto"
    registry_grid: int = 3
    registry_tol_meV_per_atom: float = 0.01
    gap_below_A: float = 0.6
    gap_above_A: float = 1.2
    gap_points: int = 7
    gap_min_A: float = 1.2
    relax: bool = False
    fmax: float = 0.05
    max_steps: int = 300
    optimizer: str = "FIRE"
    fix_bottom_A: float = 1.0
    evaluation: str = "auto"
    registry_relax_steps: int = 0
    engine_reason: str | None = None

    def __post_init__(self):
        check_fields(self, registry_grid=(0, 12), registry_tol_meV_per_atom=(0.0, 100.0), gap_below_A=(0.0, 3.0), gap_above_A=(0.0, 6.0),
                     gap_points=(3, 41), gap_min_A=(0.5, 5.0), fmax=(1e-4, 5.0, "open_low"), max_steps=(1, 100000),
                     fix_bottom_A=(0.0, 10.0), registry_relax_steps=(0, 100000))
        check_fields(self, optimizer=("FIRE", "BFGS", "LBFGS", "BFGSLineSearch", "MDMin"),
                     evaluation=("auto", "batched", "energy-only", "sequential"), relax=bool)

    def settings(self) -> dict:
        """The settings that enter the document key."""
        return {"registry_grid": self.registry_grid if self.registry_grid > 1 else 0,
                "registry_tol_meV_per_atom": self.registry_tol_meV_per_atom,
                "gap_below_A": self.gap_below_A, "gap_above_A": self.gap_above_A, "gap_points": self.gap_points,
                "gap_min_A": self.gap_min_A, "relax": self.relax,
                **({"registry_relax_steps": self.registry_relax_steps, "fmax": self.fmax, "optimizer": self.optimizer,
                    "fix_bottom_A": self.fix_bottom_A} if self.registry_relax_steps and self.registry_grid > 1 else {}),
                **({"fmax": self.fmax, "max_steps": self.max_steps, "optimizer": self.optimizer,
                    "fix_bottom_A": self.fix_bottom_A} if self.relax else {})}

    @contactflow_job
    def make(self, interface: Interface, interface_id: str, recipe_name: str | None = None) -> PreparedInterfaceDoc:
        """Prepare ``interface`` (an ``Interface``, or an InterfaceDoc's ``structure`` by reference)."""
        return self.compute(interface, interface_id, recipe_name)

    def compute(self, interface: Interface, interface_id: str, recipe_name: str | None = None) -> PreparedInterfaceDoc:
        """The job body, callable outside jobflow."""
        from contactflow.engines import check_elements, engine_info

        if isinstance(interface, dict):
            interface = Interface.from_dict(interface)
        check_elements(self.engine, [s.specie.symbol for s in interface])  # before any compute
        info = engine_info(self.engine, self.device)
        film_f = interface.film.composition.reduced_formula
        sub_f = interface.substrate.composition.reduced_formula
        atoms = AseAtomsAdaptor.get_atoms(interface)
        atoms.set_constraint()
        film_idx, sub_idx = list(interface.film_indices), list(interface.substrate_indices)
        g0 = interface_gap_A(atoms, film_idx, sub_idx)
        settings = self.settings()
        base = dict(doc_key=doc_key_for("pr", {"interface_id": interface_id, "engine": info.spec, "settings": settings}),
                    interface_id=interface_id, recipe_name=recipe_name, system=f"{film_f}/{sub_f}", engine=info.spec,
                    settings=settings, n_atoms=len(interface), area_A2=interface_area(interface), as_built_gap_A=g0,
                    engine_reason=self.engine_reason)
        result: dict = {"structure": interface, "gap_A": g0}
        from contactflow.engines import get_calculator
        from contactflow.engines.properties import ENERGY_FORCES, evaluation_record

        # energy and forces: what the relaxation uses (the scans ask the engine for energies alone)
        from contactflow.engines.energies import EnergyEvaluator

        calc = get_calculator(self.engine, self.device, ENERGY_FORCES)
        ev = EnergyEvaluator(self.engine, self.device, self.evaluation)
        estimate = self.estimate(atoms, calc)
        estimate.announce(log)
        with timed() as timer:
            timer.estimate = estimate
            try:
                self._run(interface, atoms, film_idx, sub_idx, g0, base["area_A2"], result, calc, ev)
            except CalculationFailedError as exc:
                result["failure_reason"] = str(exc)
        timer.evaluation = evaluation_record(calc, ev.energy_calculator if ev.mode != "sequential" else ev._calc)
        state = "failed" if result.get("failure_reason") else "successful"
        return PreparedInterfaceDoc(**base, **result, state=state, provenance=make_provenance(info, timer))

    def estimate(self, atoms, calculator):
        """The cost of the preparation at most: scan single points and ``max_steps`` relaxation steps, at the
        energy-and-forces time measured on ``atoms`` (an upper bound for the energy-only scans)."""
        from contactflow.engines import parse_spec, resolve_device
        from contactflow.engines.cost import CostEstimate, time_per_evaluation_s
        from contactflow.engines.properties import ENERGY_FORCES

        dev = resolve_device(self.device)
        per = time_per_evaluation_s(calculator, atoms, key=(parse_spec(self.engine).canonical, dev, ENERGY_FORCES))
        n_reg = self.registry_grid ** 2 if self.registry_grid > 1 else 0
        parts = {"scans": (0 if self.registry_relax_steps else n_reg) + self.gap_points + 5,
                 "registry relaxations": n_reg * (self.registry_relax_steps + 1) if self.registry_relax_steps else 0,
                 "relaxation": self.max_steps if self.relax else 0}
        return CostEstimate(f"prepare {atoms.get_chemical_formula()}", self.engine, dev, len(atoms),
                            sum(parts.values()), per, parts={k: v for k, v in parts.items() if v})

    def _relaxed_energies(self, configs, film_idx, sub_idx) -> list[float]:
        """Energies of the registries after a fixed-cell relaxation of each (lockstep, batched per device)."""
        from contactflow.engines import resolve_device
        from contactflow.engines.batch import BatchChooser, get_evaluator
        from contactflow.jobs.relax import relax_many

        starts = [split_atoms(c, film_idx, sub_idx, self.fix_bottom_A)[0] for c in configs]
        out = relax_many(starts, get_evaluator(self.engine, self.device), BatchChooser("auto", resolve_device(self.device)),
                         self.fmax, self.registry_relax_steps, self.optimizer, label="relaxed registry scan")
        return [o.energy_eV for o in out]

    def _run(self, interface, atoms, film_idx, sub_idx, g0, area, result, calc, ev) -> None:
        shift = (0.0, 0.0)
        if self.registry_grid > 1:
            shifts = registry_shifts(self.registry_grid)
            configs = [shifted(atoms, film_idx, s) for s in shifts]
            if self.registry_relax_steps > 0:
                e_reg = self._relaxed_energies(configs, film_idx, sub_idx)
            else:
                e_reg = ev.energies(configs, label="registry scan")
            i_best = int(np.argmin(e_reg))
            # keep the as-built registry unless another is lower by more than numerical noise
            if e_reg[i_best] < e_reg[0] - self.registry_tol_meV_per_atom * 1e-3 * len(atoms):
                shift = shifts[i_best]
            result.update(registry_grid=self.registry_grid, registry_shifts_frac=[list(s) for s in shifts],
                          registry_energies_eV=[float(e) for e in e_reg], registry_shift_frac=list(shift),
                          registry_as_built_is_best=shift == (0.0, 0.0))
        reg_atoms = shifted(atoms, film_idx, shift)
        gaps = [float(g) for g in np.linspace(max(self.gap_min_A, g0 - self.gap_below_A), g0 + self.gap_above_A,
                                              self.gap_points)]
        images, base_cell = separation_images(reg_atoms, film_idx, gaps)
        e_gap = ev.energies(images, label="gap scan")
        e_film, e_sub = ev.energies([base_cell[film_idx], base_cell[sub_idx]])
        gap, e_min = parabola_minimum(gaps, e_gap)
        result.update(gap_scan_A=gaps, gap_scan_energies_eV=[float(e) for e in e_gap], gap_A=gap,
                      e_film_eV=float(e_film), e_substrate_eV=float(e_sub))
        i_low = int(np.argmin(e_gap))
        if i_low in (0, len(gaps) - 1):
            result["gap_at_scan_edge"] = True
            result.setdefault("notes", []).append(
                f"the E(d) scan has its lowest energy at its {'far' if i_low else 'near'} end ({gap:.2f} Å): "
                + ("this engine does not bind the interface in the scanned range (no dispersion?)" if i_low
                   else "the gap is an upper bound; widen gap_below_A"))
        prepared = set_registry_and_gap(interface, shift, gap)
        p_atoms = AseAtomsAdaptor.get_atoms(prepared)
        p_atoms.set_constraint()
        # the prepared cell's energy and W_sep, with the slabs in the same cell (same vacuum)
        e_int, e_f, e_s = ev.energies([p_atoms, p_atoms[film_idx], p_atoms[sub_idx]])
        result.update(structure=prepared, e_interface_eV=float(e_int), e_film_eV=float(e_f), e_substrate_eV=float(e_s),
                      w_sep_rigid_J_per_m2=work_of_separation_J_per_m2(e_f, e_s, e_int, area))
        if self.relax:
            start, _, _ = split_atoms(p_atoms, film_idx, sub_idx, self.fix_bottom_A)
            out = relax_fixed_cell(start, calc, self.fmax, self.max_steps, self.optimizer)
            result.update(relaxed=True, relax_converged=out.converged, relax_steps=out.steps,
                          relax_max_force_eV_per_A=out.max_force_eV_per_A, e_interface_relaxed_eV=out.energy_eV,
                          relaxed_structure=with_geometry(prepared, out.atoms))
            if not out.converged:  # registry and gap stand; tasks that need a converged relaxation say so
                result.setdefault("notes", []).extend([
                    f"relaxation of the prepared interface did not reach fmax={self.fmax} eV/Å in {self.max_steps} "
                    f"steps (largest force {out.max_force_eV_per_A:.3f} eV/Å): relax_converged is false"])


@contactflow_job
def record_interface(doc):
    """The flow's first job: the built :class:`~contactflow.schemas.InterfaceDoc`, written by the JobStore
    like every result (its ``structure`` is what the preparation takes by reference)."""
    return doc
